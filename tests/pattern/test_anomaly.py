"""Anomaly detector: injected anomalies of synthetic and hand-made homes, leave-one-day-out baselines, vacations."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from homeiq_ai.pattern.detectors.anomaly import detect_anomalies
from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.training.synthetic.scoring import score_anomalies
from pattern.homes import synthetic_frame, synthetic_home

CONFIG = DetectorConfig()
START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 28


class Change(NamedTuple):
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def at(day: int, hour: float) -> datetime:
    return START + timedelta(days=day, hours=hour)


def pulse(entity_id: str, start: datetime, minutes: float) -> list[Change]:
    return [Change(entity_id, "off", "on", start), Change(entity_id, "on", "off", start + timedelta(minutes=minutes))]


def regular_home(seed: int = 1, away: range = range(0), coffee_skipped: set[int] | None = None) -> list[Change]:
    """A household with steady habits: morning coffee, kitchen light, hall motion, evening TV, bedtime light.

    Nothing happens on the `away` days (a vacation); the coffee is not made on `coffee_skipped` days.
    """
    rng = random.Random(seed)
    changes: list[Change] = []
    for day in range(DAYS):
        if day in away:
            continue
        if day not in (coffee_skipped or set()):
            changes += pulse("switch.coffee", at(day, 7 + rng.gauss(0, 0.08)), rng.uniform(6, 10))
        changes += pulse("light.kitchen", at(day, 7.1 + rng.gauss(0, 0.15)), rng.uniform(15, 25))
        changes += pulse("light.kitchen", at(day, 18.5 + rng.gauss(0, 0.3)), rng.uniform(45, 75))
        for _ in range(rng.randint(6, 12)):
            changes += pulse("binary_sensor.hall_motion", at(day, rng.uniform(7, 22.5)), rng.uniform(1, 2))
        changes += pulse("media_player.tv", at(day, 20 + rng.gauss(0, 0.4)), rng.uniform(80, 120))
        changes += pulse("light.bedroom", at(day, 22.5 + rng.gauss(0, 0.15)), rng.uniform(15, 25))
    return changes


def make_frame(changes: list[Change]) -> EventFrame:
    motion = EntityInfo("binary_sensor.hall_motion", "binary_sensor", device_class="motion")
    # A change at the same instant as another of the same entity would be ambiguous: keep them in order.
    return frame_from_events(
        sorted(changes, key=lambda c: (c.time, c.entity_id)),
        time_zone="UTC",
        start=START,
        end=START + timedelta(days=DAYS),
        entities={motion.entity_id: motion},
    )


def kinds(found: list[PatternCandidate]) -> list[tuple[str, str, int]]:
    """(kind, entity, day) of each anomaly."""
    assert all(c.first_seen is not None for c in found)
    return [(c.details["kind"], c.entity_ids[0], (c.first_seen - START).days) for c in found]  # type: ignore[operator]


def test_a_steady_home_has_no_anomalies() -> None:
    """Four weeks of steady habits, with their ordinary jitter: nothing to report."""
    assert detect_anomalies(make_frame(regular_home()), CONFIG) == []


def test_each_kind_of_injected_anomaly_is_found_once() -> None:
    """Coffee at 03:10, the TV on for 8 h, a burst of 30 kitchen-light changes, no coffee for three days."""
    changes = regular_home(coffee_skipped={5, 6, 7})
    changes += pulse("switch.coffee", at(12, 3 + 10 / 60), 8)
    tv_on = next(c.time for c in changes if c.entity_id == "media_player.tv" and c.time.date() == at(18, 0).date())
    changes = [c for c in changes if not (c.entity_id == "media_player.tv" and c.time.date() == tv_on.date())]
    changes += pulse("media_player.tv", tv_on, 8 * 60)
    for k in range(30):
        t = at(22, 14) + timedelta(seconds=30 * k)
        changes.append(Change("light.kitchen", "off" if k % 2 == 0 else "on", "on" if k % 2 == 0 else "off", t))
    found = detect_anomalies(make_frame(changes), CONFIG)
    assert sorted(kinds(found)) == [
        ("left_on_too_long", "media_player.tv", 18),
        ("missing_activity", "switch.coffee", 5),
        ("unusual_frequency", "light.kitchen", 22),
        ("unusual_time", "switch.coffee", 12),
    ]
    by_kind = {c.details["kind"]: c for c in found}
    left_on = by_kind["left_on_too_long"]
    assert left_on.details["observed"] == pytest.approx(480, abs=1)
    assert 80 <= left_on.details["expected"] <= 120
    assert left_on.first_seen == tv_on and left_on.last_seen == tv_on + timedelta(hours=8)
    missing = by_kind["missing_activity"]
    assert (missing.first_seen, missing.last_seen) == (at(5, 0), at(8, 0))
    assert missing.details["observed"] == 0 and missing.details["expected"] == pytest.approx(6, abs=0.5)
    burst = by_kind["unusual_frequency"]
    assert burst.details["observed"] >= 30
    assert at(22, 14) <= burst.first_seen <= burst.last_seen <= at(22, 14.5)  # type: ignore[operator]
    night = by_kind["unusual_time"]
    assert night.details["window_start"] == "2026-01-17T03:10:00+00:00"
    assert night.details["occurrence_times"] == ["2026-01-17T03:10:00+00:00"]
    for c in found:
        assert c.pattern_type == "anomaly"
        assert c.identity[:3] == ("anomaly", c.details["kind"], c.entity_ids[0])
        assert 0 < c.confidence < 1
        assert {"kind", "entity_id", "window_start", "window_end", "observed", "expected", "score"} <= set(c.details)


def test_the_judged_day_is_never_its_own_baseline() -> None:
    """Coffee at 03:10 once is unusual; on two days each is judged against the other, which has it: not unusual."""
    once = regular_home() + pulse("switch.coffee", at(12, 3 + 10 / 60), 8)
    assert kinds(detect_anomalies(make_frame(once), CONFIG)) == [("unusual_time", "switch.coffee", 12)]
    twice = once + pulse("switch.coffee", at(20, 3 + 15 / 60), 8)
    assert detect_anomalies(make_frame(twice), CONFIG) == []


def test_a_long_period_is_measured_against_the_other_days_only() -> None:
    """The TV on for 8 h is flagged; were that day in its own baseline, its longest period would be itself."""
    changes = [c for c in regular_home() if not (c.entity_id == "media_player.tv" and c.time.date() == at(9, 0).date())]
    changes += pulse("media_player.tv", at(9, 20), 8 * 60)
    assert kinds(detect_anomalies(make_frame(changes), CONFIG)) == [("left_on_too_long", "media_player.tv", 9)]


def test_a_vacation_is_not_missing_activity() -> None:
    """Five days when the whole home is quiet are no entity's missing activity, and nothing else either."""
    assert detect_anomalies(make_frame(regular_home(away=range(10, 15))), CONFIG) == []


def test_a_single_skipped_day_is_not_missing_activity() -> None:
    """A habit skipped now and then (one day here and there) is normal; only a run of days is unusual."""
    assert detect_anomalies(make_frame(regular_home(coffee_skipped={4, 13, 21})), CONFIG) == []


def test_anomalies_of_synthetic_homes() -> None:
    """Three home types x five seeds, scored with score_anomalies: pooled precision and recall >= 0.85."""
    tp = fp = fn = 0
    found_kinds: Counter[str] = Counter()
    for home_type in ("single_family", "apartment", "townhouse"):
        for seed in range(1, 6):
            truth = synthetic_home(seed, home_type, 30).truth
            found = detect_anomalies(synthetic_frame(seed, home_type, 30), CONFIG)
            middle = [(c.entity_ids[0], c.first_seen + (c.last_seen - c.first_seen) / 2) for c in found]  # type: ignore[operator]
            score = score_anomalies(middle, truth)
            tp, fp, fn = tp + score.true_positives, fp + score.false_positives, fn + score.false_negatives
            found_kinds.update(c.details["kind"] for c in found)
    assert tp / (tp + fp) >= 0.85
    assert tp / (tp + fn) >= 0.85
    assert set(found_kinds) == {"unusual_time", "unusual_frequency", "left_on_too_long", "missing_activity"}


def test_one_incident_of_two_entities_is_one_anomaly() -> None:
    """The TV and the soundbar that follows it, both left on all night, are one anomaly named after the TV."""
    home = synthetic_home(1, "single_family", 30)
    planted = next(a for a in home.truth.anomalies if a.kind == "left_on_too_long")
    found = [
        c
        for c in detect_anomalies(synthetic_frame(1, "single_family", 30), CONFIG)
        if c.details["kind"] == "left_on_too_long"
    ]
    assert len(found) == 1
    assert found[0].entity_ids == [planted.entity_id, "media_player.living_room_soundbar"]
    assert found[0].details["together_with"] == ["media_player.living_room_soundbar"]


def test_the_same_events_give_the_same_anomalies() -> None:
    """Deterministic: two runs give identical candidates."""
    changes = regular_home(coffee_skipped={5, 6, 7}) + pulse("switch.coffee", at(12, 3), 8)
    a = detect_anomalies(make_frame(changes), CONFIG)
    b = detect_anomalies(make_frame(list(reversed(changes))), CONFIG)
    assert a and [(c.identity, c.confidence, c.details) for c in a] == [
        (c.identity, c.confidence, c.details) for c in b
    ]


def test_too_short_a_window_has_no_baseline() -> None:
    """A window of a few days cannot say what is usual: no anomaly is reported."""
    changes = [c for c in regular_home() if c.time < at(5, 0)] + pulse("switch.coffee", at(3, 3), 8)
    frame = frame_from_events(sorted(changes, key=lambda c: c.time), time_zone="UTC", start=START, end=at(5, 0))
    assert detect_anomalies(frame, CONFIG) == []
    assert detect_anomalies(make_frame([]), CONFIG) == []
