"""Hourly weather by climate zone: seasonal and daily temperature cycles, humidity, clouds, condition."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from homeiq_ai.kernel.sun import solar_elevation

__all__ = ["CLIMATE_ZONES", "ClimateZone", "WeatherSeries", "generate_weather"]


class ClimateZone(NamedTuple):
    """Parameters of a climate zone (northern-hemisphere seasons; flipped south of the equator)."""

    mean_c: float  # annual mean temperature
    amplitude_c: float  # half the difference between the warmest and the coldest month
    diurnal_c: float  # typical day-night range on a clear day
    humidity: float  # mean relative humidity, %
    humidity_amp: float  # how much more humid winter is than summer, %
    wet_winter: float  # probability that a winter day has precipitation
    wet_summer: float
    day_sd: float  # day-to-day temperature anomaly standard deviation


CLIMATE_ZONES: dict[str, ClimateZone] = {
    "temperate": ClimateZone(10.0, 9.0, 8.0, 77.0, 9.0, 0.50, 0.40, 2.5),
    "continental": ClimateZone(8.5, 13.5, 10.0, 68.0, 10.0, 0.35, 0.40, 3.5),
    "mediterranean": ClimateZone(17.0, 7.5, 10.0, 62.0, 12.0, 0.40, 0.07, 1.8),
    "subtropical": ClimateZone(21.0, 5.5, 7.0, 74.0, -6.0, 0.25, 0.55, 1.5),
    "nordic": ClimateZone(5.5, 10.5, 6.0, 80.0, 8.0, 0.45, 0.45, 3.0),
}

HOUR = 3600.0


class WeatherSeries(NamedTuple):
    """Hourly weather: times (unix seconds, UTC) and the values at them."""

    t_s: np.ndarray
    temperature: np.ndarray  # °C
    humidity: np.ndarray  # %
    cloud: np.ndarray  # 0..1
    condition: list[str]  # Home Assistant weather conditions
    elevation: np.ndarray  # solar elevation, degrees
    wet_days: np.ndarray  # per generated day: precipitation that day

    def temperature_at(self, t_s: np.ndarray) -> np.ndarray:
        """Outdoor temperature interpolated at unix times."""
        return np.interp(t_s, self.t_s, self.temperature)

    def humidity_at(self, t_s: np.ndarray) -> np.ndarray:
        """Outdoor relative humidity interpolated at unix times."""
        return np.interp(t_s, self.t_s, self.humidity)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """An AR(1) series with stationary standard deviation `sd` (a short loop: n is hours or days)."""
    eps = rng.normal(0.0, sd * math.sqrt(1.0 - phi * phi), size=n)
    out = np.empty(n)
    x = rng.normal(0.0, sd)
    for i in range(n):
        x = phi * x + eps[i]
        out[i] = x
    return out


def generate_weather(
    zone_name: str, latitude: float, longitude: float, start_s: float, days: int, rng: np.random.Generator
) -> WeatherSeries:
    """Hourly weather from one hour before `start_s` to a day after the period.

    Args:
        zone_name: A key of CLIMATE_ZONES.
        latitude: Degrees north; south of the equator the seasons are flipped.
        longitude: Degrees east (for local solar time).
        start_s: Unix seconds of the period's first local midnight.
        days: Number of days.
        rng: The seeded generator for the weather.

    Returns:
        The WeatherSeries.

    Raises:
        ValueError: For an unknown climate zone.
    """
    if zone_name not in CLIMATE_ZONES:
        raise ValueError(f"unknown climate zone {zone_name!r}; choose one of {', '.join(CLIMATE_ZONES)}")
    zone = CLIMATE_ZONES[zone_name]
    n_days = days + 2
    n = n_days * 24 + 2
    t = start_s - HOUR + HOUR * np.arange(n)
    # Season phase: coldest around 20 January in the north, 20 July in the south.
    doy = np.mod(t / 86400.0 - 10957.0, 365.2425)  # days since 1 January 2000, wrapped
    phase = 2.0 * np.pi * (doy - 20.0) / 365.2425
    winter = np.cos(phase) if latitude >= 0 else -np.cos(phase)  # 1 in deep winter, -1 in high summer
    season_temp = zone.mean_c - zone.amplitude_c * winter

    day_index = np.clip(((t - start_s) // 86400.0).astype(np.int64) + 1, 0, n_days)
    day_anom = _ar1(rng, n_days + 1, 0.75, zone.day_sd)
    day_winter = np.cos(
        2.0
        * np.pi
        * (np.mod(start_s / 86400.0 - 10957.0, 365.2425) + np.arange(n_days + 1) - 21.0)
        / 365.2425
    )
    if latitude < 0:
        day_winter = -day_winter
    p_wet = zone.wet_summer + (zone.wet_winter - zone.wet_summer) * (day_winter + 1.0) / 2.0
    wet = np.zeros(n_days + 1, dtype=bool)
    u = rng.random(n_days + 1)
    for i in range(n_days + 1):
        p = p_wet[i]
        p_ww = p + 0.3 * (1.0 - p)
        p_dw = p * (1.0 - p_ww) / max(1e-6, 1.0 - p)
        wet[i] = u[i] < (p_ww if i and wet[i - 1] else p_dw)
    day_cloud = np.where(wet, rng.beta(5.0, 1.6, n_days + 1), rng.beta(1.3, 2.6, n_days + 1))

    cloud = np.clip(day_cloud[day_index] + _ar1(rng, n, 0.85, 0.12), 0.0, 1.0)
    solar_hour = np.mod(t / HOUR + longitude / 15.0, 24.0)
    diurnal = 0.5 * zone.diurnal_c * (1.0 - 0.6 * cloud) * np.cos(2.0 * np.pi * (solar_hour - 15.0) / 24.0)
    # Smooth the daily anomaly between day centres so that midnight shows no step.
    anom = np.interp(t, start_s + 86400.0 * (np.arange(n_days + 1) - 0.5), day_anom)
    temperature = season_temp + anom + diurnal - 1.5 * wet[day_index] + _ar1(rng, n, 0.9, 0.35)

    humidity = (
        zone.humidity
        + zone.humidity_amp * winter
        - 2.0 * (diurnal + 0.3 * _ar1(rng, n, 0.9, 1.0))
        + 6.0 * wet[day_index]
        + 4.0 * (cloud - 0.5)
    )
    humidity = np.clip(humidity, 18.0, 100.0)

    elevation = solar_elevation(latitude, longitude, t)
    raining = np.zeros(n, dtype=bool)
    r = rng.random(n)
    for i in range(1, n):
        if wet[day_index[i]]:
            raining[i] = r[i] < (0.7 if raining[i - 1] else 0.18)
    heavy = rng.random(n) < 0.25
    fog_roll = rng.random(n)
    condition: list[str] = []
    for i in range(n):
        temp = temperature[i]
        if raining[i]:
            if temp < 0.5:
                c = "snowy"
            elif temp < 2.0:
                c = "snowy-rainy"
            elif temp > 24.0 and heavy[i]:
                c = "lightning-rainy"
            else:
                c = "pouring" if heavy[i] else "rainy"
        elif humidity[i] > 96.0 and elevation[i] < 15.0 and fog_roll[i] < 0.5:
            c = "fog"
        elif cloud[i] > 0.8:
            c = "cloudy"
        elif cloud[i] > 0.4:
            c = "partlycloudy"
        else:
            c = "sunny" if elevation[i] > -0.833 else "clear-night"
        condition.append(c)
    return WeatherSeries(
        t_s=t,
        temperature=temperature,
        humidity=humidity,
        cloud=cloud,
        condition=condition,
        elevation=elevation,
        wet_days=wet[1 : days + 1],
    )
