"""Co-occurrence detector: planted pairs of synthetic homes, direction, busy entities, siblings, chains, the clock."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.co_occurrence import detect_co_occurrences, mine_pairs
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.training.synthetic.scoring import score_causal_pairs
from pattern.homes import synthetic_frame, synthetic_home

CONFIG = DetectorConfig()
START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 30


class Change(NamedTuple):
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def pulse(entity_id: str, at: datetime, seconds: float, on: str = "on", off: str = "off") -> list[Change]:
    return [Change(entity_id, off, on, at), Change(entity_id, on, off, at + timedelta(seconds=seconds))]


def random_times(rng: random.Random, per_day: float, first_hour: int = 7, last_hour: int = 22) -> list[datetime]:
    """Poisson-like times between first_hour and last_hour (UTC) on every day, at least 10 minutes apart."""
    out: list[datetime] = []
    for day in range(DAYS):
        t = START + timedelta(days=day, hours=first_hour)
        end = START + timedelta(days=day, hours=last_hour)
        while True:
            t += timedelta(seconds=600 + rng.expovariate(per_day / ((last_hour - first_hour) * 3600.0)))
            if t >= end:
                break
            out.append(t)
    return out


def make_frame(changes: list[Change], entities: dict[str, EntityInfo] | None = None) -> EventFrame:
    return frame_from_events(
        sorted(changes, key=lambda c: (c.time, c.entity_id)),
        time_zone="UTC",
        start=START,
        end=START + timedelta(days=DAYS),
        entities=entities,
    )


def pairs_of(found: list[PatternCandidate]) -> dict[tuple[str, str, str, str], PatternCandidate]:
    return {(c.identity[1], c.identity[2], c.identity[3], c.identity[4]): c for c in found}


@pytest.mark.parametrize("home_type", ["single_family", "apartment", "townhouse"])
def test_planted_pairs_of_synthetic_homes(home_type: str) -> None:
    """Five seeds: recall >= 0.9 and precision >= 0.85 with score_causal_pairs (mean over homes and pooled)."""
    precisions, recalls = [], []
    tp = fp = fn = 0
    for seed in range(1, 6):
        found = detect_co_occurrences(synthetic_frame(seed, home_type, 30), CONFIG)
        score = score_causal_pairs(pairs_of(found), synthetic_home(seed, home_type, 30).truth)
        precisions.append(score.precision)
        recalls.append(score.recall)
        tp, fp, fn = tp + score.true_positives, fp + score.false_positives, fn + score.false_negatives
    assert statistics.mean(recalls) >= 0.9
    assert statistics.mean(precisions) >= 0.85
    assert tp / (tp + fp) >= 0.85
    planted = sum(
        1
        for seed in range(1, 6)
        for p in synthetic_home(seed, home_type, 30).truth.causal_pairs
        if len(p.occurrences) >= 3
    )
    assert (planted - fn) / planted >= 0.9


def test_a_pair_carries_evidence_a_person_can_check() -> None:
    """Support, confidence, lift, delays within the planted range, local occurrence times and a readable sentence."""
    home = synthetic_home(1, "single_family", 30)
    planted = next(p for p in home.truth.causal_pairs if p.trigger_entity_id == "binary_sensor.hallway_motion")
    found = pairs_of(detect_co_occurrences(synthetic_frame(1, "single_family", 30), CONFIG))
    c = found[("binary_sensor.hallway_motion", "on", "light.hallway", "on")]
    assert c.pattern_type == "co_occurrence"
    assert c.entity_ids == ["binary_sensor.hallway_motion", "light.hallway"]
    assert c.identity == ("co_occurrence", "binary_sensor.hallway_motion", "on", "light.hallway", "on")
    d = c.details
    assert d["support"] == c.occurrences >= 0.95 * len(planted.occurrences)
    assert d["confidence"] == c.confidence >= 0.95
    assert d["lift"] > 10
    assert planted.delay_min_s - 0.01 <= d["delay_median_s"] <= d["delay_p90_s"] <= planted.delay_max_s + 0.01
    assert 0 < len(d["occurrence_times"]) <= 20
    assert all(datetime.fromisoformat(x).utcoffset() == timedelta(hours=1) for x in d["occurrence_times"])
    assert c.first_seen is not None and c.last_seen is not None and c.first_seen < c.last_seen
    assert "after" in c.description and "motion" in c.description.lower()


def test_the_reverse_direction_is_not_reported_as_strongly() -> None:
    """B follows A 2 s later: A -> B is found with full confidence, B -> A at most by chance and much weaker."""
    rng = random.Random(7)
    changes: list[Change] = []
    for t in random_times(rng, per_day=12):
        changes += pulse("switch.a", t, 60)
        changes += pulse("light.b", t + timedelta(seconds=2), 90)
    frame = make_frame(changes)
    found = pairs_of(detect_co_occurrences(frame, CONFIG))
    forward = found[("switch.a", "on", "light.b", "on")]
    assert forward.confidence >= 0.99
    assert 1.9 <= forward.details["delay_median_s"] <= 2.1
    assert ("light.b", "on", "switch.a", "on") not in found
    # Even before the strongest direction is chosen, the reverse is far weaker.
    ev, stats = mine_pairs(frame, CONFIG, reduce=False)

    def name(item: int) -> str:
        return f"{frame.entity_ids[ev.item_entity[item]]} {frame.states[ev.item_state[item]]}"

    names = {(name(p.trigger), name(p.response)): p for p in stats}
    reverse = names.get(("light.b on", "switch.a on"))
    assert reverse is None or reverse.confidence < forward.confidence / 2


def test_a_busy_background_entity_is_not_paired_with_everything() -> None:
    """A motion sensor firing every few minutes all day follows and precedes everything by chance: no pair."""
    rng = random.Random(3)
    changes: list[Change] = []
    t = START
    while t < START + timedelta(days=DAYS):
        changes += pulse("binary_sensor.busy_motion", t, 45)
        t += timedelta(seconds=rng.uniform(300, 900))  # ~150 events a day: busy, yet under the chatty limit
    for t in random_times(rng, per_day=8):
        changes += pulse("binary_sensor.front_door", t, 20)
        changes += pulse("light.entrance", t + timedelta(seconds=rng.uniform(1, 4)), 180)
    for t in random_times(rng, per_day=4):
        changes += pulse("light.bathroom", t, 600)
        changes += pulse("fan.bathroom", t + timedelta(seconds=rng.uniform(10, 45)), 700)
    found = pairs_of(detect_co_occurrences(make_frame(changes), CONFIG))
    assert ("binary_sensor.front_door", "on", "light.entrance", "on") in found
    assert ("light.bathroom", "on", "fan.bathroom", "on") in found
    assert not [k for k in found if "binary_sensor.busy_motion" in (k[0], k[2])]


def test_sibling_responses_pair_with_the_trigger_not_with_each_other() -> None:
    """Two lights that both follow one switch are each a pair with it, but neither 'causes' the other."""
    rng = random.Random(11)
    changes: list[Change] = []
    for t in random_times(rng, per_day=10):
        off = t + timedelta(seconds=rng.uniform(120, 1800))
        changes += [Change("switch.wall", "off", "on", t), Change("switch.wall", "on", "off", off)]
        for light in ("light.left", "light.right"):
            on, out = (x + timedelta(seconds=rng.uniform(0.5, 2.0)) for x in (t, off))
            changes += [Change(light, "off", "on", on), Change(light, "on", "off", out)]
    found = pairs_of(detect_co_occurrences(make_frame(changes), CONFIG))
    assert ("switch.wall", "on", "light.left", "on") in found
    assert ("switch.wall", "on", "light.right", "on") in found
    assert ("switch.wall", "off", "light.left", "off") in found
    assert ("switch.wall", "off", "light.right", "off") in found
    assert not [k for k in found if {k[0], k[2]} == {"light.left", "light.right"}]


def test_a_chain_reports_its_direct_links_only() -> None:
    """Lamp -> TV (5-60 s) -> soundbar (2-15 s): the lamp does not switch the soundbar."""
    rng = random.Random(5)
    changes: list[Change] = []
    for t in random_times(rng, per_day=2, first_hour=18, last_hour=22):
        t_tv = t + timedelta(seconds=rng.uniform(5, 60))
        changes += pulse("light.lamp", t, 3600)
        changes += pulse("media_player.tv", t_tv, 3000)
        changes += pulse("media_player.soundbar", t_tv + timedelta(seconds=rng.uniform(2, 15)), 3000)
    found = pairs_of(detect_co_occurrences(make_frame(changes), CONFIG))
    assert ("light.lamp", "on", "media_player.tv", "on") in found
    assert ("media_player.tv", "on", "media_player.soundbar", "on") in found
    assert ("light.lamp", "on", "media_player.soundbar", "on") not in found


def test_a_response_does_not_cause_its_triggers_return() -> None:
    """Motion turns the light on; the light does not 'make' the motion sensor clear a minute later."""
    rng = random.Random(9)
    changes: list[Change] = []
    for t in random_times(rng, per_day=20):
        changes += pulse("binary_sensor.hall_motion", t, rng.uniform(45, 120))
        changes += pulse("light.hall", t + timedelta(seconds=rng.uniform(0.4, 2.5)), 240)
    motion = EntityInfo("binary_sensor.hall_motion", "binary_sensor", device_class="motion")
    entities = {motion.entity_id: motion}
    found = pairs_of(detect_co_occurrences(make_frame(changes, entities), CONFIG))
    assert ("binary_sensor.hall_motion", "on", "light.hall", "on") in found
    assert ("light.hall", "on", "binary_sensor.hall_motion", "off") not in found
    c = found[("binary_sensor.hall_motion", "on", "light.hall", "on")]
    assert c.description.startswith("Hall turns on about") and c.description.endswith("hall motion detects motion")


def test_two_entities_on_the_same_clock_are_not_a_pair() -> None:
    """Blinds that both close around 17:00 every day keep the same clock; neither follows the other."""
    rng = random.Random(2)
    changes: list[Change] = []
    for day in range(DAYS):
        base = START + timedelta(days=day, hours=17, minutes=day * 0.5)
        for blind in ("cover.bedroom", "cover.kids_room"):
            t = base + timedelta(seconds=rng.gauss(0, 60))
            changes += [Change(blind, "open", "closed", t), Change(blind, "closed", "open", t + timedelta(hours=14))]
    assert detect_co_occurrences(make_frame(changes), CONFIG) == []


def test_the_window_bounds_what_follows() -> None:
    """A response 200 s after its trigger is no pair with a 120 s window, and is one with a 300 s window."""
    rng = random.Random(4)
    changes: list[Change] = []
    for t in random_times(rng, per_day=6):
        changes += pulse("lock.front_door", t, 900, on="unlocked", off="locked")
        changes += pulse("light.hall", t + timedelta(seconds=rng.uniform(190, 210)), 1200)
    frame = make_frame(changes)
    assert detect_co_occurrences(frame, CONFIG) == []
    wide = pairs_of(detect_co_occurrences(frame, DetectorConfig(co_occurrence_window_s=300)))
    c = wide[("lock.front_door", "unlocked", "light.hall", "on")]
    assert c.description.startswith("Hall turns on about 3 min after front door unlocks")


def test_noise_takes_no_part() -> None:
    """Diagnostic entities and unavailable/unknown states never make a pair, however reliably they follow."""
    rng = random.Random(6)
    changes: list[Change] = []
    for t in random_times(rng, per_day=8):
        changes += pulse("switch.pump", t, 300)
        changes += pulse("sensor.pump_status", t + timedelta(seconds=1), 300, on="running", off="stopped")
        changes.append(Change("light.porch", "off", "unavailable", t + timedelta(seconds=2)))
        changes.append(Change("light.porch", "unavailable", "off", t + timedelta(seconds=30)))
    entities = {
        "sensor.pump_status": EntityInfo("sensor.pump_status", "sensor", entity_category="diagnostic"),
    }
    found = detect_co_occurrences(make_frame(changes, entities), CONFIG)
    assert not [c for c in found if {"sensor.pump_status", "light.porch"} & set(c.entity_ids)]


def test_the_same_events_give_the_same_pairs() -> None:
    """Deterministic: the same frame, or the same events listed in another order, give identical candidates."""
    rng = random.Random(8)
    changes: list[Change] = []
    for t in random_times(rng, per_day=10):
        changes += pulse("binary_sensor.door", t, 20)
        changes += pulse("light.entrance", t + timedelta(seconds=rng.uniform(1, 4)), 200)
        changes += pulse("switch.kettle", t + timedelta(seconds=rng.uniform(0, 3000)), 200)
    shuffled = list(changes)
    random.Random(1).shuffle(shuffled)
    first = detect_co_occurrences(make_frame(changes), CONFIG)
    again = detect_co_occurrences(make_frame(changes), CONFIG)
    other = detect_co_occurrences(
        frame_from_events(shuffled, time_zone="UTC", start=START, end=START + timedelta(days=DAYS)), CONFIG
    )
    assert first
    for a, b in ((first, again), (first, other)):
        assert [(c.identity, c.confidence, c.occurrences, c.details) for c in a] == [
            (c.identity, c.confidence, c.occurrences, c.details) for c in b
        ]


def test_an_empty_or_quiet_frame_has_no_pairs() -> None:
    """No events, or too few occurrences, give no pair."""
    assert detect_co_occurrences(make_frame([]), CONFIG) == []
    at = START + timedelta(hours=9)
    few = pulse("switch.a", at, 60) + pulse("light.b", at + timedelta(seconds=2), 60)
    assert detect_co_occurrences(make_frame(few), CONFIG) == []
