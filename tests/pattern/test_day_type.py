"""Day type: weekday and weekend behaviour told apart, on synthetic homes and hand-made weeks."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.day_type import detect_day_type
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.training.synthetic import GroundTruth
from pattern.homes import synthetic_frame, synthetic_home

TZ = ZoneInfo("Europe/Berlin")
CONFIG = DetectorConfig()
MONDAY = date(2026, 1, 5)


@dataclass(frozen=True)
class Change:
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def local(day: date, minutes: float) -> datetime:
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=TZ).astimezone(UTC)


def pulse(entity_id: str, at: datetime, minutes: float = 5.0, on: str = "on", off: str = "off") -> list[Change]:
    return [Change(entity_id, off, on, at), Change(entity_id, on, off, at + timedelta(minutes=minutes))]


def frame(events: list[Change], days: int, holidays: tuple[date, ...] = ()) -> EventFrame:
    return frame_from_events(
        sorted(events, key=lambda e: e.time),
        time_zone="Europe/Berlin",
        start=local(MONDAY, 0),
        end=local(MONDAY + timedelta(days=days), 0),
        holidays=holidays,
    )


def minutes_of(hh_mm: str) -> int:
    h, m = hh_mm.split(":")
    return int(h) * 60 + int(m)


def near(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    d = abs(minutes_of(a) - minutes_of(b)) % 1440
    return min(d, 1440 - d) <= 10


def recall(found: list[PatternCandidate], truth: GroundTruth) -> float:
    """Share of the planted differences found: same entity and state, both sides' times within 10 minutes."""
    hits = 0
    for d in truth.day_type_differences:
        for c in found:
            if (c.entity_ids[0], c.details["state"]) != (d.entity_id, d.state) or c.details["kind"] != "timing":
                continue
            wd = (c.details["weekday"] or {}).get("time")
            we = (c.details["weekend"] or {}).get("time")
            if near(d.weekday_time, wd) and near(d.weekend_time, we):
                hits += 1
                break
    return hits / len(truth.day_type_differences) if truth.day_type_differences else 1.0


@pytest.mark.parametrize("home_type", ["single_family", "apartment", "townhouse"])
def test_recall_on_synthetic_homes(home_type: str) -> None:
    """Five seeds: at least 80 % of the planted weekday/weekend differences are found."""
    recalls = [
        recall(detect_day_type(synthetic_frame(seed, home_type, 30), CONFIG), synthetic_home(seed, home_type, 30).truth)
        for seed in range(1, 6)
    ]
    assert statistics.mean(recalls) >= 0.8


def test_weekday_and_weekend_times_are_one_difference() -> None:
    """An alarm light at 06:45 on weekdays and 08:30 on weekends is one difference with both times."""
    rng = np.random.default_rng(2)
    events = []
    for d in range(28):
        day = MONDAY + timedelta(days=d)
        minutes = (8 * 60 + 30 if day.weekday() >= 5 else 6 * 60 + 45) + float(rng.normal(0, 4))
        events += pulse("light.bedroom", local(day, minutes), minutes=20)
    found = [c for c in detect_day_type(frame(events, 28), CONFIG) if c.details["state"] == "on"]
    assert len(found) == 1
    c = found[0]
    assert c.pattern_type == "day_type" and c.details["kind"] == "timing"
    assert near(c.details["weekday"]["time"], "06:45") and near(c.details["weekend"]["time"], "08:30")
    assert 95 <= c.details["difference_minutes"] <= 115
    assert c.identity == ("day_type", "light.bedroom", "on", "both")
    assert c.description.startswith("Bedroom turns on around 06:4") and "on weekends" in c.description
    assert len(c.details["occurrence_times"]) == c.occurrences == 28
    assert sum(c.details["histogram_weekdays"]) == 20 and sum(c.details["histogram_weekends"]) == 8


def test_weekday_only_routine_and_holiday() -> None:
    """Leaving at 07:40 on weekdays only is a weekday-only difference; a holiday Monday counts as a weekend day."""
    rng = np.random.default_rng(4)
    holiday = MONDAY + timedelta(days=14)
    events = []
    for d in range(28):
        day = MONDAY + timedelta(days=d)
        if day.weekday() < 5 and day != holiday:
            leave = local(day, 7 * 60 + 40 + float(rng.normal(0, 4)))
            events += pulse("person.anna", leave, minutes=9 * 60, on="not_home", off="home")
    found = detect_day_type(frame(events, 28, holidays=(holiday,)), CONFIG)
    away = [c for c in found if c.details["state"] == "not_home"]
    assert len(away) == 1
    c = away[0]
    assert c.details["weekend"] is None and near(c.details["weekday"]["time"], "07:40")
    assert c.details["weekday"]["days_observed"] == 19 and c.details["weekday"]["days_with_occurrence"] == 19
    assert c.details["rate_on_weekends"] == 0.0
    # The description gives the reported (median) time: 07:41 for these draws.
    assert c.description == f"Anna leaves home around {c.details['weekday']['time']} on weekdays, not on weekends"


def test_every_day_routine_and_random_use_are_no_difference() -> None:
    """A routine kept every day and a light used at random are no day-type difference."""
    rng = np.random.default_rng(6)
    events = []
    for d in range(28):
        day = MONDAY + timedelta(days=d)
        events += pulse("switch.coffee", local(day, 7 * 60 + float(rng.normal(0, 5))), minutes=8)
        for _ in range(int(rng.poisson(3))):
            events += pulse("light.hall", local(day, float(rng.uniform(7 * 60, 23 * 60))), minutes=10)
    assert detect_day_type(frame(events, 28), CONFIG) == []


def test_use_several_times_as_often_at_weekends_is_a_frequency_difference() -> None:
    """A games console used about five times a day at weekends and rarely on weekdays differs in frequency."""
    rng = np.random.default_rng(8)
    events = []
    for d in range(28):
        day = MONDAY + timedelta(days=d)
        for _ in range(int(rng.poisson(5 if day.weekday() >= 5 else 0.3))):
            events += pulse("switch.console", local(day, float(rng.uniform(9 * 60, 22 * 60))), minutes=15)
    found = detect_day_type(frame(events, 28), CONFIG)
    assert [c.details["kind"] for c in found] == ["frequency"]
    c = found[0]
    assert c.details["weekend"]["per_day"] > 3 * c.details["weekday"]["per_day"]
    assert "on weekends" in c.description
    assert len(c.details["histogram"]) == 24
