"""Synergy detection: rule pairs and evidence pairs, scored, explained, chained and ranked.

Pure computation over the registry (EntityInfo), the patterns of one analysis run, the pairs that
existing automations already link and, optionally, the pair scores of a trained GNN model.

Score of a pair (0..1):
    base = W_PRIOR * prior + W_EVIDENCE * evidence
where `prior` is the capability rule's weight times an area factor (same area 1, a home-wide trigger
0.7, different areas 0.5; a pair no rule covers gets a small generic prior) and `evidence` is the
strongest of: co-occurrence confidence x lift saturation x support saturation, and a sequence
link's confidence x support saturation (both kinds together combine as a noisy OR). With a model
score m: score = (1 - W_MODEL) * base + W_MODEL * m. Rule-only pairs therefore stay below every
pair with real evidence, and a planted automation-like pair (confidence ~1, high lift, dozens of
occurrences) lands near the top.

A chain (3 or 4 distinct entities, causal order) is built from evidence-backed links whose states
connect (what the first link's response became is what the next link's trigger did) and from
sequence patterns; its score is the geometric mean of its links' scores, times CHAIN_STEP_FACTOR per
step beyond a pair unless a sequence pattern shows the whole chain.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeiq_ai.pattern.detectors.base import EntityInfo, PatternCandidate
from homeiq_ai.pattern.synergies.rules import CapabilityRule, best_rule, is_actionable, is_trigger_candidate, rule_pairs

__all__ = ["SynergyCandidate", "candidate_pairs", "detect_synergies", "synergy_id"]

W_PRIOR = 0.3
W_EVIDENCE = 0.7
W_MODEL = 0.5
SAME_AREA = 1.0
HOME_WIDE = 0.7
CROSS_AREA = 0.5
GENERIC_PRIOR_SAME_AREA = 0.2
GENERIC_PRIOR_OTHER = 0.05
SEQUENCE_LINK_FACTOR = 0.9
SUPPORT_SCALE = 8.0
UNKNOWN_LIFT_FACTOR = 0.6
MODEL_ONLY_MIN = 0.7
CHAIN_STEP_FACTOR = 0.9
CHAIN_FANOUT = 4
MAX_CHAIN = 4


@dataclass(slots=True)
class SynergyCandidate:
    """A synergy before it is stored: a pair or a chain in causal order, scored and explained.

    `identity` is what makes two runs' synergies the same one (type and entity ids in order; states
    and numbers are left out so that the id survives a slightly different window); `id` is derived
    from it. `details` holds plain JSON values: the rule, the evidence numbers and the model used.
    """

    synergy_type: str
    entity_ids: list[str]
    identity: tuple[str, ...]
    depth: int
    area_id: str | None
    score: float
    explanation: str
    covered_by_automation: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The stable id of this synergy (see `synergy_id`)."""
        return synergy_id(self.identity)


def synergy_id(identity: Sequence[str]) -> str:
    """A stable, short id for a synergy identity: "syn_" and 24 hex digits of its SHA-256."""
    digest = hashlib.sha256("\x1f".join(identity).encode()).hexdigest()
    return f"syn_{digest[:24]}"


@dataclass(slots=True)
class _Evidence:
    kind: str  # "co_occurrence" | "sequence"
    trigger_state: str | None
    response_state: str | None
    count: int
    confidence: float
    lift: float | None
    delay_s: float | None
    strength: float


@dataclass(slots=True)
class _Pair:
    trigger: str
    response: str
    rule: CapabilityRule | None
    evidence: list[_Evidence] = field(default_factory=list)
    model_score: float | None = None
    prior: float = 0.0
    evidence_score: float = 0.0
    score: float = 0.0

    def states(self) -> tuple[set[str], set[str]]:
        """Trigger states and response states seen in the evidence."""
        ts = {e.trigger_state for e in self.evidence if e.trigger_state}
        rs = {e.response_state for e in self.evidence if e.response_state}
        return ts, rs

    def best(self, kind: str | None = None) -> _Evidence | None:
        pool = [e for e in self.evidence if kind is None or e.kind == kind]
        return max(pool, key=lambda e: (e.strength, e.count), default=None)


def _saturate_support(count: float) -> float:
    return 1.0 - math.exp(-max(count, 0.0) / SUPPORT_SCALE)


def _saturate_lift(lift: float | None) -> float:
    if lift is None or not math.isfinite(lift):
        return UNKNOWN_LIFT_FACTOR
    return 1.0 - 1.0 / max(lift, 1.0)


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _count(candidate: PatternCandidate) -> int:
    if candidate.occurrences > 0:
        return int(candidate.occurrences)
    support = _float(candidate.details.get("support"))
    return int(support) if support is not None and support >= 1 else 0


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _info(entities: Mapping[str, EntityInfo], entity_id: str) -> EntityInfo:
    known = entities.get(entity_id)
    return known if known is not None else EntityInfo(entity_id=entity_id, domain=entity_id.split(".", 1)[0])


def _sequence_steps(candidate: PatternCandidate) -> list[tuple[str, str | None, float | None]]:
    """(entity, state, gap before this step in s) for each step, whatever shape the detector used."""
    raw = candidate.details.get("steps")
    steps: list[tuple[str, str | None, float | None]] = []
    if isinstance(raw, list) and raw:
        for step in raw:
            if isinstance(step, Mapping) and isinstance(step.get("entity_id"), str):
                gap = step.get("gap_median_s", step.get("delay_median_s", step.get("gap_s")))
                state = step.get("state")
                steps.append((step["entity_id"], state if isinstance(state, str) else None, _float(gap)))
            elif isinstance(step, list | tuple) and step and isinstance(step[0], str):
                state = step[1] if len(step) > 1 and isinstance(step[1], str) else None
                steps.append((step[0], state, None))
            elif isinstance(step, str):
                steps.append((step, None, None))
    if not steps or len(steps) != len(raw or []):
        steps = [(entity_id, None, None) for entity_id in candidate.entity_ids]
    gaps = candidate.details.get("gap_median_s")
    if isinstance(gaps, list) and len(gaps) == len(steps) - 1:
        # The detector's layout: one median gap per step after the first.
        steps = [steps[0], *((e, s, _float(g)) for (e, s, _), g in zip(steps[1:], gaps, strict=True))]
    return steps


class _Builder:
    """Collects pairs from rules, evidence and the model, then scores them."""

    def __init__(self, entities: Mapping[str, EntityInfo]) -> None:
        self.entities = entities
        self.pairs: dict[tuple[str, str], _Pair] = {}

    def info(self, entity_id: str) -> EntityInfo:
        return _info(self.entities, entity_id)

    def linkable(self, trigger: str, response: str) -> bool:
        if trigger == response:
            return False
        return is_trigger_candidate(self.info(trigger)) and is_actionable(self.info(response))

    def pair(self, trigger: str, response: str) -> _Pair:
        key = (trigger, response)
        found = self.pairs.get(key)
        if found is None:
            found = _Pair(trigger, response, best_rule(self.info(trigger), self.info(response)))
            self.pairs[key] = found
        return found

    def add_co_occurrence(self, candidate: PatternCandidate) -> None:
        if len(candidate.entity_ids) != 2:
            return
        trigger, response = candidate.entity_ids
        if not self.linkable(trigger, response):
            return
        details = candidate.details
        confidence = _clip(_float(details.get("confidence")) or candidate.confidence)
        lift = _float(details.get("lift"))
        count = _count(candidate)
        strength = confidence * _saturate_lift(lift) * _saturate_support(count)
        self.pair(trigger, response).evidence.append(
            _Evidence(
                kind="co_occurrence",
                trigger_state=details.get("trigger_state"),
                response_state=details.get("response_state"),
                count=count,
                confidence=confidence,
                lift=lift,
                delay_s=_float(details.get("delay_median_s")),
                strength=strength,
            )
        )

    def add_sequence(self, candidate: PatternCandidate) -> list[list[tuple[str, str | None]]]:
        """Adds each consecutive link's evidence; returns the chains (3-4 steps) the sequence shows whole."""
        steps = _sequence_steps(candidate)
        if len(steps) < 2:
            return []
        confidence = _clip(_float(candidate.details.get("confidence")) or candidate.confidence)
        count = _count(candidate)
        strength = SEQUENCE_LINK_FACTOR * confidence * _saturate_support(count)
        all_linked = True
        for (a, a_state, _), (b, b_state, gap) in itertools.pairwise(steps):
            if not self.linkable(a, b):
                all_linked = False
                continue
            self.pair(a, b).evidence.append(
                _Evidence("sequence", a_state, b_state, count, confidence, None, gap, strength)
            )
        ids = [s[0] for s in steps]
        if not all_linked or len(steps) < 3 or len(set(ids)) != len(ids):
            return []
        # A longer routine shows every run of MAX_CHAIN consecutive steps as a whole chain.
        width = min(len(steps), MAX_CHAIN)
        return [[(e, st) for e, st, _ in steps[i : i + width]] for i in range(len(steps) - width + 1)]

    def area_factor(self, trigger: str, response: str) -> float:
        a, b = self.info(trigger).area_id, self.info(response).area_id
        if a is None or b is None:
            return HOME_WIDE
        return SAME_AREA if a == b else CROSS_AREA

    def score(self, pair: _Pair) -> None:
        a, b = self.info(pair.trigger).area_id, self.info(pair.response).area_id
        if pair.rule is not None:
            pair.prior = pair.rule.weight * self.area_factor(pair.trigger, pair.response)
        else:
            pair.prior = GENERIC_PRIOR_SAME_AREA if a is not None and a == b else GENERIC_PRIOR_OTHER
        co = pair.best("co_occurrence")
        seq = pair.best("sequence")
        strengths = [e.strength for e in (co, seq) if e is not None]
        pair.evidence_score = 1.0 - math.prod(1.0 - s for s in strengths) if strengths else 0.0
        base = W_PRIOR * pair.prior + W_EVIDENCE * pair.evidence_score
        if pair.model_score is not None:
            base = (1.0 - W_MODEL) * base + W_MODEL * pair.model_score
        pair.score = _clip(base)


def _name(info: EntityInfo) -> str:
    return info.friendly_name or info.entity_id


def _delay_words(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f" within ~{max(1, round(seconds))} s"
    return f" within ~{seconds / 60:.0f} min"


def _lift_words(lift: float) -> str:
    if lift < 10:
        return f"{lift:.1f}"
    return f"{lift:.0f}" if lift < 1000 else "over 1000"


def _state_words(name: str, state: str | None) -> str:
    return f"{name} ({state})" if state else name


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _evidence_details(e: _Evidence) -> dict[str, Any]:
    return {
        "trigger_state": e.trigger_state,
        "response_state": e.response_state,
        "occurrences": e.count,
        "confidence": _round(e.confidence),
        "lift": _round(e.lift),
        "delay_median_s": _round(e.delay_s, 1),
        "strength": _round(e.strength),
    }


class _Explainer:
    def __init__(self, builder: _Builder, model_name: str | None) -> None:
        self.builder = builder
        self.model_name = model_name

    def pair(self, pair: _Pair, covered: bool) -> tuple[str, dict[str, Any]]:
        t, r = self.builder.info(pair.trigger), self.builder.info(pair.response)
        sentences: list[str] = []
        co = pair.best("co_occurrence")
        seq = pair.best("sequence")
        if pair.rule is not None:
            sentences.append(f"{_name(t)} could drive {_name(r)}: {pair.rule.reason}.")
        elif co is not None or seq is not None:
            sentences.append(f"{_name(r)} is used right after {_name(t)}.")
        else:
            sentences.append(f"The GNN synergy model links {_name(t)} to {_name(r)}.")
        if co is not None:
            lift = f", lift {_lift_words(co.lift)}" if co.lift is not None else ""
            sentences.append(
                f"{_state_words(_name(r), co.response_state)} followed {_state_words(_name(t), co.trigger_state)} "
                f"{co.count} times{_delay_words(co.delay_s)} (confidence {co.confidence:.0%}{lift})."
            )
        if seq is not None:
            sentences.append(
                f"They are consecutive steps of a routine seen {seq.count} times, the second"
                f"{_delay_words(seq.delay_s) or ' soon'} after the first (confidence {seq.confidence:.0%})."
            )
        if co is None and seq is None and pair.model_score is None:
            sentences.append("No history backs it yet; the suggestion comes from what the devices can do.")
        if t.area_id is not None and t.area_id == r.area_id:
            sentences.append(f"Both are in the area {t.area_id}.")
        elif t.area_id is not None and r.area_id is not None:
            how = ", linked by the history" if co is not None or seq is not None else ""
            sentences.append(f"They are in different areas ({t.area_id}, {r.area_id}){how}.")
        if pair.model_score is not None:
            sentences.append(f"Scored by the GNN synergy model {self.model_name or 'in use'} ({pair.model_score:.2f}).")
        if covered:
            sentences.append("An existing automation already links them.")
        details: dict[str, Any] = {
            "rule": pair.rule.rule_id if pair.rule else None,
            "rule_reason": pair.rule.reason if pair.rule else None,
            "action": pair.rule.action if pair.rule else None,
            "trigger_area_id": t.area_id,
            "response_area_id": r.area_id,
            "prior": _round(pair.prior),
            "evidence_score": _round(pair.evidence_score),
            "evidence": {e.kind: _evidence_details(e) for e in (co, seq) if e is not None},
            "model": (
                {"name": self.model_name, "score": _round(pair.model_score)} if pair.model_score is not None else None
            ),
        }
        best = co or seq
        if best is not None:
            details["trigger_state"] = best.trigger_state
            details["response_state"] = best.response_state
        return " ".join(sentences), details

    def chain(self, ids: list[str], links: list[_Pair], from_sequence: bool, covered: list[bool]) -> tuple[str, dict]:
        names = [_name(self.builder.info(i)) for i in ids]
        sentences = [f"A chain of {len(ids)} steps: " + " → ".join(names) + "."]
        if from_sequence:
            sentences.append("The whole chain shows up as a routine in the history.")
        weakest = min(links, key=lambda p: p.score)
        counts = [p.best().count if p.best() is not None else 0 for p in links]
        sentences.append(
            f"Each step followed the one before ({', '.join(str(c) for c in counts)} times); "
            f"the weakest link is {_name(self.builder.info(weakest.trigger))} → "
            f"{_name(self.builder.info(weakest.response))}."
        )
        if any(p.model_score is not None for p in links):
            sentences.append(f"Scored by the GNN synergy model {self.model_name or 'in use'}.")
        if all(covered):
            sentences.append("Existing automations already link every step.")
        elif any(covered):
            sentences.append("Existing automations already link some of the steps.")
        details = {
            "links": [
                {
                    "trigger": p.trigger,
                    "response": p.response,
                    "score": _round(p.score),
                    "rule": p.rule.rule_id if p.rule else None,
                    "covered_by_automation": c,
                }
                for p, c in zip(links, covered, strict=True)
            ],
            "from_sequence": from_sequence,
            "model": {"name": self.model_name} if any(p.model_score is not None for p in links) else None,
        }
        return " ".join(sentences), details


def _connects(first: _Pair, second: _Pair) -> bool:
    """Whether what the first link's response became can be what the second link's trigger did."""
    _, responded = first.states()
    triggered, _ = second.states()
    return not responded or not triggered or bool(responded & triggered)


def _chain_area(builder: _Builder, ids: Sequence[str]) -> str | None:
    areas = [a for a in (builder.info(i).area_id for i in ids) if a is not None]
    if not areas:
        return None
    counts = Counter(areas)
    top = max(counts.values())
    return next(a for a in areas if counts[a] == top)


def _chain_score(builder: _Builder, ids: Sequence[str], from_sequence: bool) -> float:
    links = [builder.pairs[(a, b)].score for a, b in itertools.pairwise(ids)]
    geo = math.exp(sum(math.log(max(s, 1e-9)) for s in links) / len(links))
    return geo * (1.0 if from_sequence else CHAIN_STEP_FACTOR ** (len(ids) - 2))


def _chains(
    builder: _Builder, sequences: Iterable[list[tuple[str, str | None]]], max_chains: int
) -> list[tuple[list[str], bool, float]]:
    """Distinct-entity paths of 3-4 evidence-backed links, plus chains seen whole as sequences."""
    out: dict[tuple[str, ...], bool] = {}
    for steps in sequences:
        out[tuple(s[0] for s in steps)] = True
    outgoing: dict[str, list[_Pair]] = defaultdict(list)
    for pair in builder.pairs.values():
        if pair.evidence:
            outgoing[pair.trigger].append(pair)
    for trigger in outgoing:
        outgoing[trigger].sort(key=lambda p: (-p.score, p.response))
        del outgoing[trigger][CHAIN_FANOUT:]

    def extend(path: list[str], last: _Pair) -> None:
        for nxt in outgoing.get(last.response, []):
            if nxt.response in path or not _connects(last, nxt):
                continue
            new_path = [*path, nxt.response]
            out.setdefault(tuple(new_path), False)
            if len(new_path) < MAX_CHAIN:
                extend(new_path, nxt)

    for trigger in sorted(outgoing):
        for first in outgoing[trigger]:
            extend([first.trigger, first.response], first)
    chains = [(list(ids), seq, _chain_score(builder, ids, seq)) for ids, seq in out.items()]
    chains.sort(key=lambda item: (-item[2], item[0]))
    return chains[:max_chains]


def _collect(
    entities: Mapping[str, EntityInfo], patterns: Sequence[PatternCandidate]
) -> tuple[_Builder, list[list[tuple[str, str | None]]]]:
    builder = _Builder(entities)
    for trigger, response, _rule in rule_pairs(entities):
        builder.pair(trigger, response)
    sequences: list[list[tuple[str, str | None]]] = []
    for candidate in patterns:
        if candidate.pattern_type == "co_occurrence":
            builder.add_co_occurrence(candidate)
        elif candidate.pattern_type == "sequence":
            sequences.extend(builder.add_sequence(candidate))
    return builder, sequences


def candidate_pairs(entities: Mapping[str, EntityInfo], patterns: Sequence[PatternCandidate]) -> list[tuple[str, str]]:
    """The (trigger, response) pairs `detect_synergies` would score: rule pairs and evidence pairs, sorted.

    These are the pairs worth asking a GNN synergy model about.
    """
    builder, _ = _collect(entities, patterns)
    return sorted(builder.pairs)


def detect_synergies(
    entities: Mapping[str, EntityInfo],
    patterns: Sequence[PatternCandidate],
    *,
    covered: Iterable[tuple[str, str]] = frozenset(),
    pair_scores: Mapping[tuple[str, str], float] | None = None,
    model_name: str | None = None,
    max_results: int = 200,
    max_chains: int = 60,
) -> list[SynergyCandidate]:
    """Find, score, explain and rank the synergies of a home.

    Args:
        entities: The registry: what is known of every entity (domain, area, device class...).
        patterns: The run's patterns; co-occurrence and sequence candidates are the evidence, the
            other types are ignored.
        covered: (trigger, target) entity pairs that existing Home Assistant automations already
            link (see `automations.covered_pairs`). Such synergies are kept, flagged and ranked last.
        pair_scores: (trigger, response) -> 0..1 from an active GNN synergy model; blended into the
            scores of those pairs, and pairs scored at least MODEL_ONLY_MIN join even without a rule
            or evidence.
        model_name: The model's name or version, for the explanation.
        max_results: How many synergies to return at most (uncovered first).
        max_chains: How many chains to consider at most before ranking.

    Returns:
        Pairs and chains, uncovered before covered, each group by score (highest first), ties by
        identity, so the order is deterministic.
    """
    covered_set = {(str(a), str(b)) for a, b in covered}
    builder, sequences = _collect(entities, patterns)
    for (trigger, response), value in sorted((pair_scores or {}).items()):
        model_score = _float(value)
        if model_score is None or not builder.linkable(trigger, response):
            continue
        model_score = _clip(model_score)
        if (trigger, response) in builder.pairs or model_score >= MODEL_ONLY_MIN:
            builder.pair(trigger, response).model_score = model_score
    for pair in builder.pairs.values():
        builder.score(pair)

    explainer = _Explainer(builder, model_name)
    results: list[SynergyCandidate] = []
    for (trigger, response), pair in builder.pairs.items():
        is_covered = (trigger, response) in covered_set
        explanation, details = explainer.pair(pair, is_covered)
        t, r = builder.info(trigger), builder.info(response)
        results.append(
            SynergyCandidate(
                synergy_type="device_pair",
                entity_ids=[trigger, response],
                identity=("device_pair", trigger, response),
                depth=2,
                area_id=r.area_id if r.area_id is not None else t.area_id,
                score=round(pair.score, 4),
                explanation=explanation,
                covered_by_automation=is_covered,
                details=details,
            )
        )
    for ids, from_sequence, score in _chains(builder, sequences, max_chains):
        links = [builder.pairs[(a, b)] for a, b in itertools.pairwise(ids)]
        link_covered = [(p.trigger, p.response) in covered_set for p in links]
        explanation, details = explainer.chain(ids, links, from_sequence, link_covered)
        results.append(
            SynergyCandidate(
                synergy_type="chain",
                entity_ids=list(ids),
                identity=("chain", *ids),
                depth=len(ids),
                area_id=_chain_area(builder, ids),
                score=round(score, 4),
                explanation=explanation,
                covered_by_automation=all(link_covered),
                details=details,
            )
        )
    results.sort(key=lambda s: (s.covered_by_automation, -s.score, s.identity))
    return results[: max(0, max_results)]
