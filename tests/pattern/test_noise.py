"""Noise filters: unavailable/unknown states, ignored domains and categories, numbers and chatty entities go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo, EventFrame
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.pattern.detectors.noise import DROP_REASONS, filter_noise, numeric_states, select_events
from pattern.homes import synthetic_frame, synthetic_home

START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def _noisy_frame() -> EventFrame:
    """Two days of a light, a chatty sensor, a diagnostic sensor, a power meter, the sun and a mode selector."""
    events: list[Change] = []
    for day in range(2):
        base = START + timedelta(days=day)
        events += [
            Change("light.kitchen", "off", "on", base + timedelta(hours=7)),
            Change("light.kitchen", "on", "unavailable", base + timedelta(hours=8)),
            Change("light.kitchen", "unavailable", "unknown", base + timedelta(hours=8, minutes=1)),
            Change("light.kitchen", "unknown", "off", base + timedelta(hours=9)),
            Change("sensor.hall_battery", "ok", "low", base + timedelta(hours=3)),
            Change("sun.sun", "below_horizon", "above_horizon", base + timedelta(hours=8)),
            Change("input_select.mode", "away", "home", base + timedelta(hours=18)),
            Change("input_select.mode", "home", "3", base + timedelta(hours=19)),
            Change("input_select.mode", "3", "away", base + timedelta(hours=20)),
        ]
        # 300 changes a day: chatty, though its states are words.
        for k in range(300):
            state = "on" if k % 2 else "off"
            events.append(Change("binary_sensor.vibration", None, state, base + timedelta(minutes=4 * k + 1)))
        # A power meter: few reports, all numbers.
        for k in range(24):
            events.append(Change("sensor.fridge_power", None, f"{50 + k % 7}.{k % 10}", base + timedelta(hours=k)))
    events.sort(key=lambda e: e.time)
    entities = {
        "sensor.hall_battery": EntityInfo("sensor.hall_battery", "sensor", entity_category="diagnostic"),
    }
    return frame_from_events(
        events, time_zone="Europe/Berlin", start=START, end=START + timedelta(days=2), entities=entities
    )


def _kept(frame: EventFrame, mask: np.ndarray) -> set[tuple[str, str]]:
    return {
        (frame.entity_ids[e], frame.states[s]) for e, s in zip(frame.entity[mask], frame.new_state[mask], strict=True)
    }


def test_unavailable_diagnostic_chatty_numeric_and_sun_are_dropped() -> None:
    """Only the light's on/off and the mode selector's words survive; each reason is counted."""
    frame = _noisy_frame()
    report = filter_noise(frame, DetectorConfig())
    assert _kept(frame, report.mask) == {
        ("light.kitchen", "on"),
        ("light.kitchen", "off"),
        ("input_select.mode", "home"),
        ("input_select.mode", "away"),
    }
    assert report.kept_events == 8
    assert set(report.dropped_events) == set(DROP_REASONS)
    assert report.dropped_events["ignored_domain"] == 2
    assert report.dropped_events["ignored_category"] == 2
    assert report.dropped_events["chatty_entity"] == 600
    assert report.dropped_events["numeric_entity"] == 48
    assert report.dropped_events["ignored_state"] == 4
    assert report.dropped_events["numeric_state"] == 2
    assert report.dropped_entities["chatty_entity"] == ["binary_sensor.vibration"]
    assert report.dropped_entities["ignored_category"] == ["sensor.hall_battery"]
    assert report.dropped_entities["numeric_entity"] == ["sensor.fridge_power"]
    assert report.dropped_entities["ignored_domain"] == ["sun.sun"]
    assert sum(report.dropped_events.values()) + report.kept_events == len(frame)
    assert report.summary()["kept_events"] == 8
    assert np.array_equal(select_events(frame, DetectorConfig()), report.mask)


def test_filters_follow_the_config() -> None:
    """A higher chatty threshold keeps the vibration sensor; an empty ignore list keeps 'unknown'."""
    frame = _noisy_frame()
    config = DetectorConfig(
        chatty_events_per_day=1000, ignore_states=frozenset({"unavailable"}), ignore_entity_categories=frozenset()
    )
    kept = _kept(frame, select_events(frame, config))
    assert ("binary_sensor.vibration", "on") in kept
    assert ("light.kitchen", "unknown") in kept
    assert ("light.kitchen", "unavailable") not in kept
    assert ("sensor.hall_battery", "low") in kept


def test_numbers_are_recognised_once_per_state_string() -> None:
    """Plain numbers are numeric; words, 'nan' and malformed numbers are not."""
    states = ["21.5", "-3", "1e3", " 7 ", "+0.25", "on", "nan", "inf", "1.2.3", "", "12:30"]
    assert numeric_states(states).tolist() == [True] * 5 + [False] * 6


def test_empty_frame_keeps_nothing() -> None:
    """A frame without events gives an empty mask and zero counts."""
    frame = frame_from_events([], time_zone="UTC", start=START, end=START + timedelta(days=1))
    report = filter_noise(frame, DetectorConfig())
    assert report.mask.shape == (0,)
    assert report.kept_events == 0
    assert all(v == 0 for v in report.dropped_events.values())


def test_synthetic_home_noise_goes_and_behaviour_stays() -> None:
    """Every planted chatty and diagnostic entity is dropped, no entity carrying a routine is, nor state noise."""
    for seed, home_type in ((1, "single_family"), (2, "apartment")):
        home = synthetic_home(seed, home_type, 30)
        frame = synthetic_frame(seed, home_type, 30)
        report = filter_noise(frame, DetectorConfig())
        dropped = {e for entities in report.dropped_entities.values() for e in entities}
        noisy = set(home.truth.noise.chatty_entities) | set(home.truth.noise.diagnostic_entities)
        assert noisy <= dropped
        behaviour = {r.entity_id for r in home.truth.routines} | {r.entity_id for r in home.truth.sun_routines}
        assert behaviour & dropped == {"sun.sun"}
        kept_states = {frame.states[s] for s in np.unique(frame.new_state[report.mask])}
        assert not kept_states & {"unavailable", "unknown", ""}
        assert not any(numeric_states(sorted(kept_states)))
        # Most of a home's events are chatty sensors' numbers.
        assert report.kept_events < 0.1 * len(frame)


def test_a_sensor_with_a_unit_is_a_measurement_from_the_registry_alone() -> None:
    """A sensor with a unit is dropped before its states are counted, and the frame's filter agrees."""
    from homeiq_ai.pattern.detectors.noise import classify_entities

    entities = {
        "sensor.plug_power": EntityInfo("sensor.plug_power", "sensor", unit_of_measurement="W"),
        "sensor.mode": EntityInfo("sensor.mode", "sensor"),
        "light.hall": EntityInfo("light.hall", "light"),
    }
    counts = {"sensor.plug_power": 90, "sensor.mode": 10, "light.hall": 20}
    triage = classify_entities(counts, None, entities, DetectorConfig(), 3.0)
    assert triage.dropped_entities["numeric_entity"] == ["sensor.plug_power"]
    assert triage.kept == ["light.hall", "sensor.mode"]  # only these need their states counted

    events = [Change("sensor.plug_power", None, "standby", START + timedelta(minutes=k)) for k in range(5)] + [
        Change("light.hall", "off", "on", START + timedelta(hours=1))
    ]
    frame = frame_from_events(
        events, time_zone="Europe/Berlin", start=START, end=START + timedelta(days=1), entities=entities
    )
    report = filter_noise(frame, DetectorConfig())
    assert "sensor.plug_power" in report.dropped_entities["numeric_entity"]
    assert _kept(frame, report.mask) == {("light.hall", "on")}
