"""True sunrise, sunset and solar elevation from the NOAA solar calculator's algorithm (~1 minute)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np

__all__ = ["SunTimes", "solar_elevation", "sun_times"]

_J2000 = 2451545.0
_UNIX_EPOCH_JD = 2440587.5
# The sun's centre is 0.833 degrees below the horizon at sunrise: refraction plus its radius.
_ZENITH_RISE_SET = 90.833


class SunTimes:
    """Sunrise and sunset (aware UTC datetimes) of one local date; None on polar days and nights."""

    __slots__ = ("polar", "sunrise", "sunset")

    def __init__(self, sunrise: datetime | None, sunset: datetime | None, polar: str | None) -> None:
        self.sunrise = sunrise
        self.sunset = sunset
        self.polar = polar

    def __repr__(self) -> str:
        return f"SunTimes(sunrise={self.sunrise!r}, sunset={self.sunset!r}, polar={self.polar!r})"


def _solar_terms(jd: float | np.ndarray) -> tuple[object, object]:
    """Declination (degrees) and equation of time (minutes) at Julian day(s) `jd`."""
    jc = (jd - _J2000) / 36525.0
    mean_long = np.mod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0)
    mean_anom = 357.52911 + jc * (35999.05029 - 0.0001537 * jc)
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    m = np.radians(mean_anom)
    centre = (
        np.sin(m) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
        + np.sin(2 * m) * (0.019993 - 0.000101 * jc)
        + np.sin(3 * m) * 0.000289
    )
    true_long = mean_long + centre
    omega = np.radians(125.04 - 1934.136 * jc)
    app_long = true_long - 0.00569 - 0.00478 * np.sin(omega)
    mean_obliq = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0
    obliq = mean_obliq + 0.00256 * np.cos(omega)
    decl = np.degrees(np.arcsin(np.sin(np.radians(obliq)) * np.sin(np.radians(app_long))))
    y = np.tan(np.radians(obliq / 2.0)) ** 2
    l0 = np.radians(mean_long)
    eq_time = 4.0 * np.degrees(
        y * np.sin(2 * l0)
        - 2 * ecc * np.sin(m)
        + 4 * ecc * y * np.sin(m) * np.cos(2 * l0)
        - 0.5 * y * y * np.sin(4 * l0)
        - 1.25 * ecc * ecc * np.sin(2 * m)
    )
    return decl, eq_time


def _event_minutes(lat: float, lon: float, day_jd: float, rising: bool) -> float | str:
    """Minutes after 00:00 UTC of the day at `day_jd` when the sun rises or sets; a polar marker if never."""
    # Two passes: the solar terms are evaluated first at noon, then at the event's own time.
    minutes = 720.0 - 4.0 * lon
    for _ in range(3):
        decl, eq_time = _solar_terms(day_jd + minutes / 1440.0)
        lat_r, decl_r = math.radians(lat), math.radians(float(decl))
        cos_ha = math.cos(math.radians(_ZENITH_RISE_SET)) / (math.cos(lat_r) * math.cos(decl_r)) - math.tan(
            lat_r
        ) * math.tan(decl_r)
        if cos_ha > 1.0:
            return "night"
        if cos_ha < -1.0:
            return "day"
        ha = math.degrees(math.acos(cos_ha))
        noon = 720.0 - 4.0 * lon - float(eq_time)
        minutes = noon - 4.0 * ha if rising else noon + 4.0 * ha
    return minutes


def sun_times(latitude: float, longitude: float, day: date) -> SunTimes:
    """Sunrise and sunset around the solar noon of `day` at a place (NOAA algorithm).

    Args:
        latitude: Degrees north (negative south).
        longitude: Degrees east (negative west).
        day: The local calendar date; its solar noon falls on this date for longitudes within 180.

    Returns:
        SunTimes with aware UTC datetimes, or None for both and `polar` "day"/"night" when the sun
        does not cross the horizon that day.
    """
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    day_jd = midnight.timestamp() / 86400.0 + _UNIX_EPOCH_JD
    rise = _event_minutes(latitude, longitude, day_jd, rising=True)
    set_ = _event_minutes(latitude, longitude, day_jd, rising=False)
    if isinstance(rise, str) or isinstance(set_, str):
        polar = rise if isinstance(rise, str) else set_
        return SunTimes(None, None, str(polar))
    assert isinstance(rise, float) and isinstance(set_, float)
    return SunTimes(
        midnight + timedelta(seconds=round(rise * 60.0)),
        midnight + timedelta(seconds=round(set_ * 60.0)),
        None,
    )


def solar_elevation(latitude: float, longitude: float, unix_seconds: np.ndarray) -> np.ndarray:
    """The sun's elevation above the horizon in degrees (no refraction) at each UTC unix time.

    Args:
        latitude: Degrees north.
        longitude: Degrees east.
        unix_seconds: Times as seconds since 1970-01-01 UTC.

    Returns:
        An array of elevations in degrees, same shape as `unix_seconds`.
    """
    t = np.asarray(unix_seconds, dtype=np.float64)
    jd = t / 86400.0 + _UNIX_EPOCH_JD
    decl, eq_time = _solar_terms(jd)
    minutes_utc = np.mod(t, 86400.0) / 60.0
    true_solar = np.mod(minutes_utc + np.asarray(eq_time) + 4.0 * longitude, 1440.0)
    hour_angle = np.radians(true_solar / 4.0 - 180.0)
    lat_r = math.radians(latitude)
    decl_r = np.radians(np.asarray(decl))
    cos_zen = np.sin(lat_r) * np.sin(decl_r) + np.cos(lat_r) * np.cos(decl_r) * np.cos(hour_angle)
    return 90.0 - np.degrees(np.arccos(np.clip(cos_zen, -1.0, 1.0)))
