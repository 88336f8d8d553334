"""Sequence detector: planted routines of synthetic homes, hand-made chains, support on the stream, determinism."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.pattern.detectors.sequence import detect_sequences
from homeiq_ai.training.synthetic import GroundTruth
from pattern.homes import synthetic_frame, synthetic_home

CONFIG = DetectorConfig()
START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 30

Steps = tuple[tuple[str, str], ...]


class Change(NamedTuple):
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def steps_of(c: PatternCandidate) -> Steps:
    return tuple((s["entity_id"], s["state"]) for s in c.details["steps"])


def score(found: list[PatternCandidate], truth: GroundTruth) -> tuple[int, int, int, int]:
    """(right, wrong, required, required found): a finding is right when its ordered steps are a planted sequence's."""
    planted = {tuple((s.entity_id, s.state) for s in q.steps): q for q in truth.sequences}
    required = {k for k, q in planted.items() if len(q.occurrences) >= 3}
    steps = [steps_of(c) for c in found]
    right = sum(1 for s in steps if s in planted)
    return right, len(steps) - right, len(required), len(required & set(steps))


def pulse(entity_id: str, at: datetime, seconds: float) -> list[Change]:
    return [Change(entity_id, "off", "on", at), Change(entity_id, "on", "off", at + timedelta(seconds=seconds))]


def evenings(rng: random.Random, per_day: int) -> list[datetime]:
    """Random start times between 17:00 and 23:00 (UTC), at least 30 minutes apart."""
    out = []
    for day in range(DAYS):
        times = sorted(rng.uniform(17 * 3600, 23 * 3600) for _ in range(per_day))
        last = -1e9
        for s in times:
            if s - last >= 1800:
                out.append(START + timedelta(days=day, seconds=s))
                last = s
    return out


def make_frame(changes: list[Change]) -> EventFrame:
    motion = EntityInfo("binary_sensor.hall_motion", "binary_sensor", device_class="motion")
    return frame_from_events(
        sorted(changes, key=lambda c: (c.time, c.entity_id)),
        time_zone="UTC",
        start=START,
        end=START + timedelta(days=DAYS),
        entities={motion.entity_id: motion},
    )


def hall_to_kitchen(rng: random.Random, complete: float = 1.0) -> list[Change]:
    """Hall motion -> hall light (1-3 s) -> kitchen light (20-60 s), the last step in `complete` of the cases."""
    changes: list[Change] = []
    for t in evenings(rng, per_day=3):
        t_hall = t + timedelta(seconds=rng.uniform(1, 3))
        changes += pulse("binary_sensor.hall_motion", t, rng.uniform(30, 90))
        changes += pulse("light.hall", t_hall, 600)
        if rng.random() < complete:
            changes += pulse("light.kitchen", t_hall + timedelta(seconds=rng.uniform(20, 60)), 1200)
    return changes


@pytest.mark.parametrize("home_type", ["single_family", "apartment", "townhouse"])
def test_planted_sequences_of_synthetic_homes(home_type: str) -> None:
    """Five seeds: recall >= 0.8 and precision >= 0.85 (mean over homes and pooled), steps in planted order."""
    precisions, recalls = [], []
    pooled = [0, 0, 0, 0]
    for seed in range(1, 6):
        found = detect_sequences(synthetic_frame(seed, home_type, 30), CONFIG)
        right, wrong, required, required_found = score(found, synthetic_home(seed, home_type, 30).truth)
        precisions.append(right / max(1, right + wrong))
        recalls.append(required_found / max(1, required))
        for i, value in enumerate((right, wrong, required, required_found)):
            pooled[i] += value
    assert statistics.mean(recalls) >= 0.8 and pooled[3] / pooled[2] >= 0.8
    assert statistics.mean(precisions) >= 0.85 and pooled[0] / max(1, pooled[0] + pooled[1]) >= 0.85


def test_a_sequence_carries_its_evidence() -> None:
    """The evening TV of a synthetic home: steps, support, gaps within the planted bound, occurrence times."""
    home = synthetic_home(1, "single_family", 30)
    planted = next(q for q in home.truth.sequences if q.sequence_id == "evening_tv")
    found = {steps_of(c): c for c in detect_sequences(synthetic_frame(1, "single_family", 30), CONFIG)}
    c = found[tuple((s.entity_id, s.state) for s in planted.steps)]
    assert c.pattern_type == "sequence"
    assert c.identity == ("sequence", *steps_of(c))
    assert c.entity_ids == [s.entity_id for s in planted.steps]
    assert c.occurrences == c.details["support"] >= 0.9 * len(planted.occurrences)
    assert 0.9 <= c.confidence <= 1.0
    assert len(c.details["gap_median_s"]) == len(c.details["gap_p90_s"]) == 2
    assert all(0 < g <= planted.max_gap_s for g in c.details["gap_p90_s"])
    assert 0 < len(c.details["occurrence_times"]) <= 20
    assert c.description.count(", then ") == 2


def test_a_hand_made_chain_is_found_in_causal_order() -> None:
    """Hall motion -> hall light -> kitchen light, reported once, whole (not also as its two-step parts)."""
    found = detect_sequences(make_frame(hall_to_kitchen(random.Random(1))), CONFIG)
    assert [steps_of(c) for c in found] == [
        (("binary_sensor.hall_motion", "on"), ("light.hall", "on"), ("light.kitchen", "on"))
    ]
    c = found[0]
    assert c.confidence >= 0.95
    first, second = c.details["gap_median_s"]
    assert 1 <= first <= 3 and 20 <= second <= 60
    assert c.description.startswith("Hall motion detects motion, then hall turns on")


def test_support_counts_complete_chains_on_the_stream() -> None:
    """When the last step follows only 75 % of the time, support and confidence say so."""
    changes = hall_to_kitchen(random.Random(2), complete=0.75)
    found = detect_sequences(make_frame(changes), CONFIG)
    assert len(found) == 1
    c = found[0]
    starts = sum(1 for x in changes if x.entity_id == "binary_sensor.hall_motion" and x.new_state == "on")
    assert c.details["trigger_count"] == starts
    assert 0.6 <= c.confidence <= 0.9
    assert c.occurrences == round(c.confidence * starts)


def test_steps_too_far_apart_are_no_sequence() -> None:
    """A step that comes later than the co-occurrence window is not part of the chain."""
    rng = random.Random(3)
    changes: list[Change] = []
    for t in evenings(rng, per_day=3):
        changes += pulse("binary_sensor.hall_motion", t, 60)
        changes += pulse("light.hall", t + timedelta(seconds=2), 900)
        changes += pulse("light.kitchen", t + timedelta(seconds=rng.uniform(400, 500)), 900)
    assert detect_sequences(make_frame(changes), CONFIG) == []


def test_the_same_events_give_the_same_sequences() -> None:
    """Deterministic: two runs on the same events give identical candidates."""
    changes = hall_to_kitchen(random.Random(4))
    a = detect_sequences(make_frame(changes), CONFIG)
    b = detect_sequences(make_frame(list(reversed(changes))), CONFIG)
    assert a and [(c.identity, c.confidence, c.details) for c in a] == [
        (c.identity, c.confidence, c.details) for c in b
    ]


def test_an_empty_frame_has_no_sequences() -> None:
    """No events, no sequence."""
    assert detect_sequences(make_frame([]), CONFIG) == []
