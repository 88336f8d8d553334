"""Typical durations: how long entities stay in a state, on synthetic homes and hand-made stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame
from homeiq_ai.pattern.detectors.duration import detect_duration, format_minutes
from homeiq_ai.pattern.detectors.frame import frame_from_events
from pattern.homes import synthetic_frame, synthetic_home

CONFIG = DetectorConfig()
START = datetime(2026, 1, 5, 6, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def frame(events: list[Change]) -> EventFrame:
    return frame_from_events(
        sorted(events, key=lambda e: e.time), time_zone="Europe/Berlin", start=START, end=START + timedelta(days=11)
    )


def stays(
    entity_id: str, minutes: list[float], on: str = "on", off: str = "off", end: str | None = None
) -> list[Change]:
    """One stay per value, three hours apart; `end` replaces the closing state (e.g. "unavailable")."""
    out = []
    for k, length in enumerate(minutes):
        at = START + timedelta(hours=3 * k)
        out.append(Change(entity_id, off, on, at))
        out.append(Change(entity_id, on, end or off, at + timedelta(minutes=length)))
    return out


@pytest.mark.parametrize("home_type", ["single_family", "apartment", "townhouse"])
def test_planted_durations_are_found(home_type: str) -> None:
    """Five seeds: >= 90 % of planted durations (5+ periods) found within 25 %; no wrong finding of a planted state."""
    required = found = wrong = 0
    for seed in range(1, 6):
        truth = synthetic_home(seed, home_type, 30).truth
        result = {
            (c.entity_ids[0], c.details["state"]): c.details["median_minutes"]
            for c in detect_duration(synthetic_frame(seed, home_type, 30), CONFIG)
        }
        for d in truth.durations:
            median = result.get((d.entity_id, d.state))
            close = median is not None and abs(median - d.observed_mean_minutes) <= max(
                1.0, 0.25 * d.observed_mean_minutes
            )
            wrong += median is not None and not close
            if len(d.occurrences) >= 5:
                required += 1
                found += close
    assert found / required >= 0.9
    assert wrong <= 0.05 * required


def test_bathroom_fan_runs_about_twenty_minutes() -> None:
    """Thirty fan runs of 20 +- 2 minutes give a median near 20 with its quartiles and every run as evidence."""
    rng = np.random.default_rng(1)
    lengths = [float(x) for x in rng.normal(20, 2, 30)]
    found = detect_duration(frame(stays("fan.bathroom", lengths)), CONFIG)
    assert len(found) == 1
    c = found[0]
    assert c.pattern_type == "duration" and c.identity == ("duration", "fan.bathroom", "on")
    assert abs(c.details["median_minutes"] - float(np.median(lengths))) < 0.05
    assert c.details["p25"] < c.details["median_minutes"] < c.details["p75"]
    assert c.details["occurrences"] == c.occurrences == 30 == len(c.details["occurrence_times"])
    assert c.description == "Bathroom stays on for about 20 minutes"
    assert 0 < c.confidence <= 1


def test_unfinished_and_unavailable_stays_are_left_out() -> None:
    """A stay that ends in 'unavailable' or never ends says nothing about its length."""
    events = stays("fan.bathroom", [20.0] * 10) + stays("light.attic", [30.0] * 10, end="unavailable")
    events.append(Change("fan.bathroom", "off", "on", START + timedelta(days=10)))
    found = detect_duration(frame(events), CONFIG)
    assert [(c.entity_ids[0], c.occurrences) for c in found] == [("fan.bathroom", 10)]


def test_scattered_lengths_and_resting_states_are_not_typical() -> None:
    """Lengths from a few seconds to hours have no typical duration; the gaps a light spends off are not measured."""
    rng = np.random.default_rng(3)
    lengths = [float(x) for x in np.exp(rng.normal(np.log(12), 1.2, 40))]
    found = detect_duration(frame(stays("light.toilet", lengths)), CONFIG)
    assert found == []


def test_a_repeated_state_does_not_cut_a_stay() -> None:
    """on, on again (an attribute change), off: one stay from the first on."""
    events = []
    for k in range(8):
        at = START + timedelta(hours=3 * k)
        events += [
            Change("switch.kettle", "off", "on", at),
            Change("switch.kettle", "on", "on", at + timedelta(minutes=2)),
            Change("switch.kettle", "on", "off", at + timedelta(minutes=4)),
        ]
    found = detect_duration(frame(events), CONFIG)
    assert [(c.occurrences, c.details["median_minutes"]) for c in found] == [(8, 4.0)]


def test_durations_read_as_words() -> None:
    """Seconds, minutes and hours, as a person says them."""
    assert [format_minutes(m) for m in (0.5, 1.0, 20.2, 150.0)] == ["30 seconds", "1 minute", "20 minutes", "2.5 hours"]
