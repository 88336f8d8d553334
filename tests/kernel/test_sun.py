"""The NOAA sunrise/sunset algorithm against published times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from homeiq_ai.kernel.sun import solar_elevation, sun_times


def _minutes_apart(a: datetime, hh: int, mm: int, tz: str) -> float:
    local = a.astimezone(ZoneInfo(tz))
    return abs(local.hour * 60 + local.minute + local.second / 60 - (hh * 60 + mm))


@pytest.mark.parametrize(
    ("lat", "lon", "day", "tz", "sunrise", "sunset"),
    [
        (52.52, 13.405, date(2026, 6, 21), "Europe/Berlin", (4, 43), (21, 33)),
        (51.5074, -0.1278, date(2026, 12, 21), "Europe/London", (8, 4), (15, 53)),
        (-33.8688, 151.2093, date(2026, 12, 21), "Australia/Sydney", (5, 41), (20, 5)),
        (40.7128, -74.0060, date(2026, 3, 20), "America/New_York", (6, 59), (19, 9)),
    ],
)
def test_sunrise_and_sunset_match_published_times(lat, lon, day, tz, sunrise, sunset) -> None:
    """Sunrise and sunset are within 3 minutes of published local times."""
    st = sun_times(lat, lon, day)
    assert st.sunrise is not None and st.sunset is not None
    assert st.sunrise.tzinfo is not None
    assert _minutes_apart(st.sunrise, *sunrise, tz) <= 3
    assert _minutes_apart(st.sunset, *sunset, tz) <= 3


def test_polar_day_and_polar_night() -> None:
    """Tromsø has no sunrise or sunset at midsummer (day) and midwinter (night)."""
    summer = sun_times(69.65, 18.96, date(2026, 6, 21))
    winter = sun_times(69.65, 18.96, date(2026, 12, 21))
    assert (summer.sunrise, summer.sunset, summer.polar) == (None, None, "day")
    assert (winter.sunrise, winter.sunset, winter.polar) == (None, None, "night")


def test_solar_elevation_at_noon_and_midnight() -> None:
    """Berlin's midsummer noon sun stands about 61 degrees high; at midnight it is below the horizon."""
    noon = datetime(2026, 6, 21, 11, 8, tzinfo=UTC).timestamp()
    midnight = datetime(2026, 6, 21, 23, 8, tzinfo=UTC).timestamp()
    elev = solar_elevation(52.52, 13.405, np.asarray([noon, midnight]))
    assert abs(elev[0] - 60.9) < 0.5
    assert elev[1] < -5
