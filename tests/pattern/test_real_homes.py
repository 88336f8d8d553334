"""Detectors on loose (real-like) homes: drifting routines with windows, device-class words, the aggregate triage."""

from __future__ import annotations

from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo
from homeiq_ai.pattern.detectors.duration import detect_duration
from homeiq_ai.pattern.detectors.noise import classify_entities
from homeiq_ai.pattern.detectors.time_of_day import detect_time_of_day
from pattern.homes import synthetic_frame, synthetic_home


def test_drifting_routines_are_found_with_their_window() -> None:
    """On a loose home, wide routines are reported with the window that holds most occurrences."""
    frame = synthetic_frame(1, "single_family", 28, "loose")
    home = synthetic_home(1, "single_family", 28, "loose")
    found = detect_time_of_day(frame, DetectorConfig())
    wide = [c for c in found if not c.details["tight"]]
    assert wide
    for c in wide:
        assert "usually between" in c.description
        assert c.details["window_start"] and c.details["window_end"]
        assert 0 < c.details["share_of_days"] <= 1
    planted = {(r.entity_id, r.state) for r in home.truth.routines if r.spread_minutes > 10}
    assert planted & {(c.entity_ids[0], c.details["state"]) for c in wide}


def test_tight_routines_stay_tight() -> None:
    """A tight home's routines keep the short description: no window sentence."""
    found = detect_time_of_day(synthetic_frame(2, "apartment", 14), DetectorConfig())
    assert found
    assert all(c.details["tight"] for c in found if c.details["spread_minutes"] <= 10)


def test_descriptions_follow_the_device_class() -> None:
    """Doors open and stay open, motion sensors detect motion; nothing 'stays on' or has a blank state."""
    frame = synthetic_frame(1, "single_family", 28, "loose")
    config = DetectorConfig()
    texts = [c.description for c in [*detect_time_of_day(frame, config), *detect_duration(frame, config)]]
    for c in [*detect_time_of_day(frame, config), *detect_duration(frame, config)]:
        info = frame.entities[c.entity_ids[0]]
        if info.domain == "binary_sensor" and info.device_class in ("door", "motion", "window", "opening"):
            assert "stays on" not in c.description and "turns on" not in c.description, c.description
    assert all("''" not in t for t in texts)


def test_triage_drops_chatty_and_numeric_entities_from_counts() -> None:
    """Aggregates alone decide: chatty and numeric entities are never read; the rest are kept."""
    entities = {
        "sensor.plug_power": EntityInfo("sensor.plug_power", "sensor"),
        "sensor.temp": EntityInfo("sensor.temp", "sensor"),
        "light.hall": EntityInfo("light.hall", "light"),
        "sun.sun": EntityInfo("sun.sun", "sun"),
    }
    counts = {"sensor.plug_power": 90_000, "sensor.temp": 300, "light.hall": 120, "sun.sun": 60}
    first = classify_entities(counts, None, entities, DetectorConfig(), 30.0)
    assert first.kept == ["light.hall", "sensor.temp"]
    states = {"sensor.temp": {"21.5": 200, "22.0": 99, "unavailable": 1}, "light.hall": {"on": 60, "off": 60}}
    triage = classify_entities(counts, states, entities, DetectorConfig(), 30.0)
    assert triage.kept == ["light.hall"]
    assert triage.dropped_entities["chatty_entity"] == ["sensor.plug_power"]
    assert triage.dropped_entities["numeric_entity"] == ["sensor.temp"]
    assert triage.dropped_entities["ignored_domain"] == ["sun.sun"]
    assert triage.dropped_events["chatty_entity"] == 90_000
