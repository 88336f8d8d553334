"""First and last of the day per area: found on a loose home, self-describing details, device-class words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo
from homeiq_ai.pattern.detectors.day_edges import detect_first_last_of_day
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.training.synthetic import Event
from pattern.homes import synthetic_frame, synthetic_home

KEYS = {"edge", "entity_id", "state", "area_id", "time", "window_start", "window_end", "weekdays", "days",
        "share_of_days", "days_observed", "days_with_occurrence", "occurrence_times", "histogram"}


def _frame(events, entities):
    return frame_from_events(events, time_zone="UTC", entities=entities)


def _home_of_doors(days: int = 14):
    """A bedroom whose door opens first at 07:30 +- 20 min on weekdays; a lamp follows; at night the door closes."""
    entities = {
        "binary_sensor.bedroom_door": EntityInfo("binary_sensor.bedroom_door", "binary_sensor", "bedroom", "door",
                                                 friendly_name="Bedroom Door"),
        "light.bedroom_lamp": EntityInfo("light.bedroom_lamp", "light", "bedroom", friendly_name="Bedroom Lamp"),
    }
    events = []
    base = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    for d in range(days):
        day = base + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        shift = timedelta(minutes=(d * 17) % 41 - 20)
        t = day + timedelta(hours=7, minutes=30) + shift
        events += [
            Event(entity_id="binary_sensor.bedroom_door", old_state="off", new_state="on", time=t),
            Event(entity_id="binary_sensor.bedroom_door", old_state="on", new_state="off",
                  time=t + timedelta(seconds=5)),
            Event(entity_id="binary_sensor.bedroom_door", old_state="off", new_state="on",
                  time=t + timedelta(seconds=9)),
            Event(entity_id="light.bedroom_lamp", old_state="off", new_state="on", time=t + timedelta(minutes=2)),
            Event(entity_id="light.bedroom_lamp", old_state="on", new_state="off", time=t + timedelta(hours=14)),
            Event(entity_id="binary_sensor.bedroom_door", old_state="on", new_state="off",
                  time=t + timedelta(hours=15)),
        ]
    return _frame(events, entities)


def test_first_opening_of_the_day_is_found_with_its_window() -> None:
    """The door first opens around 07:30 on weekdays (drifting by 20 min); bursts do not change that."""
    found = detect_first_last_of_day(_home_of_doors(), DetectorConfig())
    first = [c for c in found if c.details["edge"] == "first"]
    assert len(first) == 1
    c = first[0]
    assert c.pattern_type == "first_last_of_day"
    assert set(c.details) >= KEYS
    assert c.details["entity_id"] == "binary_sensor.bedroom_door"
    assert c.details["state"] == "on"
    assert c.details["area_id"] == "bedroom"
    assert c.details["share_of_days"] == 1.0
    assert "07:10" <= c.details["time"] <= "07:50"
    assert c.details["window_start"] <= c.details["time"] <= c.details["window_end"]
    assert "first opens" in c.description and "turns on" not in c.description
    assert "usually between" in c.description
    last = [c for c in found if c.details["edge"] == "last"]
    assert [c.details["state"] for c in last] == ["off"]
    assert "last closes" in last[0].description


def test_a_random_first_is_not_reported() -> None:
    """When no change is the area's first on most days, nothing is reported for that edge."""
    entities = {f"light.l{k}": EntityInfo(f"light.l{k}", "light", "office") for k in range(4)}
    events = []
    base = datetime(2026, 1, 5, 8, tzinfo=UTC)
    for d in range(12):
        k = d % 4
        events.append(Event(entity_id=f"light.l{k}", old_state="off", new_state="on", time=base + timedelta(days=d)))
    found = detect_first_last_of_day(_frame(events, entities), DetectorConfig())
    assert found == []


@pytest.mark.parametrize("seed", [1])
def test_loose_home_marks_are_recalled(seed: int) -> None:
    """Most planted firsts and lasts of a loose home are found, with the planted entity and state."""
    home = synthetic_home(seed, "single_family", 28, "loose")
    found = detect_first_last_of_day(synthetic_frame(seed, "single_family", 28, "loose"), DetectorConfig())
    got = {(c.details["edge"], c.details["entity_id"], c.details["state"]) for c in found}
    marks = {(m.kind, m.entity_id, m.state) for m in home.truth.day_marks}
    assert marks
    assert len(marks & got) / len(marks) >= 0.6
