"""Synergy detection on hand-built registries and patterns: rules, evidence, chains, coverage, model scores, ids."""

from __future__ import annotations

import itertools
import random

from homeiq_ai.pattern.detectors.base import EntityInfo, PatternCandidate
from homeiq_ai.pattern.synergies.detect import SynergyCandidate, candidate_pairs, detect_synergies, synergy_id
from homeiq_ai.pattern.synergies.rules import best_rule, rule_pairs

MOTION, HALL_LIGHT, PORCH_LIGHT = "binary_sensor.hall_motion", "light.hall", "light.porch"
DOOR, LOCK = "binary_sensor.front_door", "lock.front_door"
BATH_LIGHT, BATH_FAN = "light.bathroom", "fan.bathroom"
LAMP, TV, SOUNDBAR = "light.living_lamp", "media_player.tv", "media_player.soundbar"


def _e(entity_id: str, area: str | None, device_class: str | None = None, category: str | None = None) -> EntityInfo:
    return EntityInfo(
        entity_id=entity_id,
        domain=entity_id.split(".")[0],
        area_id=area,
        device_class=device_class,
        entity_category=category,
        friendly_name=entity_id.split(".")[1].replace("_", " ").title(),
    )


ENTITIES = {
    e.entity_id: e
    for e in (
        _e(MOTION, "hallway", "motion"),
        _e(HALL_LIGHT, "hallway"),
        _e(DOOR, "hallway", "door"),
        _e(LOCK, "hallway"),
        _e("sensor.hall_motion_battery", "hallway", "battery", "diagnostic"),
        _e(PORCH_LIGHT, "porch"),
        _e(BATH_LIGHT, "bathroom"),
        _e(BATH_FAN, "bathroom"),
        _e("sensor.bathroom_humidity", "bathroom", "humidity"),
        _e(LAMP, "living_room"),
        _e(TV, "living_room", "tv"),
        _e(SOUNDBAR, "living_room", "speaker"),
        _e("sensor.living_room_temperature", "living_room", "temperature"),
        _e("climate.living_room", "living_room"),
        _e("binary_sensor.living_room_window", "living_room", "window"),
        _e("person.anna", None),
        _e("sun.sun", None),
    )
}


def co(
    a: str,
    b: str,
    ts: str = "on",
    rs: str = "on",
    n: int = 27,
    conf: float = 0.95,
    lift: float = 12.0,
    delay: float = 2.0,
):
    """A co-occurrence candidate as the detector reports it."""
    return PatternCandidate(
        pattern_type="co_occurrence",
        entity_ids=[a, b],
        identity=("co_occurrence", a, ts, b, rs),
        description=f"{b} follows {a}",
        confidence=conf,
        occurrences=n,
        first_seen=None,
        last_seen=None,
        details={
            "trigger_state": ts,
            "response_state": rs,
            "support": n,
            "confidence": conf,
            "lift": lift,
            "delay_median_s": delay,
        },
    )


def seq(*steps: tuple[str, str], n: int = 20, conf: float = 0.8) -> PatternCandidate:
    """A sequence candidate as the detector reports it."""
    return PatternCandidate(
        pattern_type="sequence",
        entity_ids=[s[0] for s in steps],
        identity=("sequence", *itertools.chain.from_iterable(steps)),
        description="a routine",
        confidence=conf,
        occurrences=n,
        first_seen=None,
        last_seen=None,
        details={
            "steps": [{"entity_id": e, "state": s} for e, s in steps],
            "support": n,
            "confidence": conf,
            "gap_median_s": [5.0 * (i + 1) for i in range(len(steps) - 1)],
        },
    )


PATTERNS = [
    co(MOTION, HALL_LIGHT, n=27, delay=1.6),
    co(MOTION, HALL_LIGHT, ts="off", rs="off", n=25, conf=0.8, lift=6.0, delay=60.0),
    co(DOOR, PORCH_LIGHT, n=14, conf=0.9, lift=8.0, delay=3.0),
    co(BATH_LIGHT, BATH_FAN, n=30, conf=1.0, lift=20.0, delay=28.0),
    seq((LAMP, "on"), (TV, "on"), (SOUNDBAR, "on"), n=20, conf=0.8),
    co(HALL_LIGHT, MOTION, n=40, conf=0.9, lift=5.0, delay=1.0),  # a sensor cannot be the response
    co(MOTION, "sensor.hall_motion_battery", n=40),
]


def by_ids(result: list[SynergyCandidate]) -> dict[tuple[str, ...], SynergyCandidate]:
    return {tuple(s.entity_ids): s for s in result}


def test_rule_pairs_stay_inside_an_area_or_follow_a_home_wide_rule() -> None:
    """Without evidence, pairs are same-area (or person/sun under a home-wide rule), never across areas."""
    pairs = list(rule_pairs(ENTITIES))
    assert (MOTION, HALL_LIGHT) in {(a, b) for a, b, _ in pairs}
    for trigger, response, rule in pairs:
        ta, ra = ENTITIES[trigger].area_id, ENTITIES[response].area_id
        assert ta == ra or (ta is None and rule.home_wide), (trigger, response, rule.rule_id)
        assert ENTITIES[response].domain not in ("sensor", "binary_sensor", "person", "sun")
        assert "battery" not in trigger and "battery" not in response
    assert ("person.anna", LOCK) in {(a, b) for a, b, _ in pairs}
    assert ("person.anna", HALL_LIGHT) not in {(a, b) for a, b, _ in pairs}
    assert (
        best_rule(ENTITIES["binary_sensor.living_room_window"], ENTITIES["climate.living_room"]).rule_id
        == "window_climate"
    )
    assert best_rule(ENTITIES[HALL_LIGHT], ENTITIES[MOTION]) is None


def test_evidence_ranks_above_rules_alone_and_is_explained() -> None:
    """Evidence-backed pairs outrank rule-only ones; the explanation gives the rule, the count and the delay."""
    result = detect_synergies(ENTITIES, PATTERNS)
    found = by_ids(result)
    motion_light = found[(MOTION, HALL_LIGHT)]
    assert motion_light.synergy_type == "device_pair" and motion_light.depth == 2 and motion_light.area_id == "hallway"
    assert "Hall (on) followed Hall Motion (on) 27 times within ~2 s" in motion_light.explanation
    assert "motion or presence can switch the light on" in motion_light.explanation
    assert motion_light.details["rule"] == "motion_light"
    assert motion_light.details["evidence"]["co_occurrence"]["occurrences"] == 27
    rule_only = found[("binary_sensor.living_room_window", "climate.living_room")]
    assert rule_only.details["evidence"] == {} and "No history backs it yet" in rule_only.explanation
    evidence_backed = [s for s in result if s.synergy_type == "device_pair" and s.details["evidence"]]
    assert min(s.score for s in evidence_backed) > max(
        s.score for s in result if s.synergy_type == "device_pair" and not s.details["evidence"]
    )
    assert all(0.0 <= s.score <= 1.0 for s in result)


def test_cross_area_only_with_evidence_and_never_towards_a_sensor() -> None:
    """The door-porch pair exists only because of its evidence; sensors and diagnostics are never responses."""
    without = by_ids(detect_synergies(ENTITIES, []))
    assert (DOOR, PORCH_LIGHT) not in without
    found = by_ids(detect_synergies(ENTITIES, PATTERNS))
    door_porch = found[(DOOR, PORCH_LIGHT)]
    assert "different areas (hallway, porch)" in door_porch.explanation
    assert door_porch.area_id == "porch"
    assert (HALL_LIGHT, MOTION) not in found
    assert (MOTION, "sensor.hall_motion_battery") not in found


def test_chains_have_distinct_entities_in_causal_order() -> None:
    """Chains are 3-4 distinct entities; every link is an evidence-backed pair in the same order."""
    patterns = [
        *(p for p in PATTERNS if p.details.get("trigger_state") != "off"),
        co(HALL_LIGHT, PORCH_LIGHT, n=20, conf=0.7, lift=4.0, delay=5.0),
        co(PORCH_LIGHT, LAMP, n=10, conf=0.6, lift=3.0, delay=40.0),
        co(PORCH_LIGHT, HALL_LIGHT, n=10, conf=0.6, lift=3.0, delay=40.0),  # a cycle must not repeat an entity
        co(HALL_LIGHT, BATH_LIGHT, ts="off", rs="on", n=10),  # the light never went "off" after motion
    ]
    result = detect_synergies(ENTITIES, patterns)
    pairs = {tuple(s.entity_ids) for s in result if s.synergy_type == "device_pair" and s.details["evidence"]}
    chains = [s for s in result if s.synergy_type == "chain"]
    assert chains
    for chain in chains:
        ids = chain.entity_ids
        assert chain.depth == len(ids) and 3 <= len(ids) <= 4
        assert len(set(ids)) == len(ids)
        assert all(link in pairs for link in itertools.pairwise(ids)), ids
        assert chain.identity == ("chain", *ids)
    found = {tuple(c.entity_ids): c for c in chains}
    assert (MOTION, HALL_LIGHT, PORCH_LIGHT) in found
    assert (MOTION, HALL_LIGHT, PORCH_LIGHT, LAMP) in found
    assert (MOTION, HALL_LIGHT, BATH_LIGHT) not in found
    sequence_chain = found[(LAMP, TV, SOUNDBAR)]
    assert sequence_chain.details["from_sequence"] is True
    assert sequence_chain.area_id == "living_room"
    assert "Living Lamp → Tv → Soundbar" in sequence_chain.explanation


def test_covered_synergies_are_flagged_and_ranked_last() -> None:
    """A pair an automation already links keeps its place in the list, flagged, after every uncovered one."""
    covered = {(MOTION, HALL_LIGHT), (LAMP, TV), (TV, SOUNDBAR)}
    result = detect_synergies(ENTITIES, PATTERNS, covered=covered)
    flags = [s.covered_by_automation for s in result]
    assert flags == sorted(flags)  # all False first, then all True
    found = by_ids(result)
    assert found[(MOTION, HALL_LIGHT)].covered_by_automation
    assert "already links them" in found[(MOTION, HALL_LIGHT)].explanation
    assert found[(LAMP, TV, SOUNDBAR)].covered_by_automation
    assert not found[(BATH_LIGHT, BATH_FAN)].covered_by_automation
    uncovered = [s for s in result if not s.covered_by_automation]
    assert [s.score for s in uncovered] == sorted((s.score for s in uncovered), reverse=True)


def test_model_scores_change_the_ranking_and_the_explanation() -> None:
    """With a GNN model's pair scores, a rule-only pair can overtake and the explanation names the model."""
    plain = detect_synergies(ENTITIES, PATTERNS)
    target = ("sensor.living_room_temperature", "climate.living_room")
    rank = [tuple(s.entity_ids) for s in plain].index(target)
    scores = {
        target: 0.99,
        (MOTION, HALL_LIGHT): 0.1,
        ("person.anna", HALL_LIGHT): 0.9,
        ("person.anna", PORCH_LIGHT): 0.2,
        (BATH_FAN, TV): 0.95,
    }
    scored = detect_synergies(ENTITIES, PATTERNS, pair_scores=scores, model_name="gnn_synergy v3")
    order = [tuple(s.entity_ids) for s in scored]
    assert order.index(target) < rank
    found = by_ids(scored)
    assert found[target].score > by_ids(plain)[target].score
    assert found[(MOTION, HALL_LIGHT)].score < by_ids(plain)[(MOTION, HALL_LIGHT)].score
    assert "Scored by the GNN synergy model gnn_synergy v3 (0.99)" in found[target].explanation
    assert found[target].details["model"] == {"name": "gnn_synergy v3", "score": 0.99}
    assert ("person.anna", HALL_LIGHT) in found  # a confident model score adds a pair on its own
    assert ("person.anna", PORCH_LIGHT) not in found  # a weak one does not
    model_only = found[(BATH_FAN, TV)]
    assert model_only.explanation.startswith("The GNN synergy model links Bathroom to Tv.")
    assert "linked by the history" not in model_only.explanation
    assert "GNN" not in by_ids(plain)[target].explanation


def test_identity_and_order_are_stable() -> None:
    """Slightly different evidence and shuffled input keep the same ids; the order is deterministic."""
    first = detect_synergies(ENTITIES, PATTERNS)
    shifted = [co(MOTION, HALL_LIGHT, n=25, conf=0.93, lift=11.0, delay=1.8), *PATTERNS[1:]]
    random.Random(7).shuffle(shifted)
    second = detect_synergies(dict(reversed(list(ENTITIES.items()))), shifted)
    assert {s.id for s in first} == {s.id for s in second}
    assert first == detect_synergies(ENTITIES, PATTERNS)
    ids = [s.id for s in first]
    assert len(set(ids)) == len(ids)
    assert by_ids(first)[(MOTION, HALL_LIGHT)].id == synergy_id(("device_pair", MOTION, HALL_LIGHT))
    assert synergy_id(("device_pair", MOTION, HALL_LIGHT)) != synergy_id(("device_pair", HALL_LIGHT, MOTION))


def test_max_results_cuts_the_tail() -> None:
    """At most max_results synergies come back, the best ones."""
    full = detect_synergies(ENTITIES, PATTERNS)
    assert detect_synergies(ENTITIES, PATTERNS, max_results=3) == full[:3]
    assert detect_synergies({}, []) == []


def test_candidate_pairs_are_the_pairs_a_model_is_asked_about() -> None:
    """candidate_pairs lists exactly the rule and evidence pairs detect_synergies scores."""
    pairs = candidate_pairs(ENTITIES, PATTERNS)
    assert pairs == sorted(pairs)
    assert (DOOR, PORCH_LIGHT) in pairs and (MOTION, HALL_LIGHT) in pairs
    detected = {tuple(s.entity_ids) for s in detect_synergies(ENTITIES, PATTERNS) if s.synergy_type == "device_pair"}
    assert set(pairs) == detected


def test_a_long_routine_shows_its_four_step_windows_as_chains() -> None:
    """A 5-step sequence gives its two 4-step windows as whole chains and evidence to each of its links."""
    steps = ((MOTION, "on"), (HALL_LIGHT, "on"), (PORCH_LIGHT, "on"), (LAMP, "on"), (TV, "on"))
    result = detect_synergies(ENTITIES, [seq(*steps, n=12, conf=0.6)])
    chains = {tuple(s.entity_ids): s for s in result if s.synergy_type == "chain"}
    assert chains[(MOTION, HALL_LIGHT, PORCH_LIGHT, LAMP)].details["from_sequence"] is True
    assert chains[(HALL_LIGHT, PORCH_LIGHT, LAMP, TV)].details["from_sequence"] is True
    assert all(len(ids) <= 4 for ids in chains)
    link = by_ids(result)[(PORCH_LIGHT, LAMP)]
    assert link.details["evidence"]["sequence"]["delay_median_s"] == 15.0
    assert "routine seen 12 times, the second within ~15 s after the first" in link.explanation
