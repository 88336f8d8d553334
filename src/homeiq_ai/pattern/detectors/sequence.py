"""Sequences: routines of three or more changes in causal order within a window (hall motion -> hall light -> ...).

Chains are built from the co-occurrence pairs that survive explaining-away (A -> B and B -> C, each step a
different entity), plus the links a near-simultaneous earlier change only tied with (hall motion and hall
light both precede the kitchen light: motion -> hall light -> kitchen light), so the search space is the small
graph of strong pairs, never the events. Each chain is then verified on the event stream: from every event
of the first step the next step must follow within `co_occurrence_window_s` (the window the pairs were mined
with), and so on, the whole chain within `sequence_window_s`. Support is the number of first-step events
that start a complete chain; confidence is support over the first step's events. A chain that is part of a
longer reported chain with nearly the same support is left out: the longer chain says it all.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.co_occurrence import (
    OCCURRENCE_SAMPLE,
    ItemEvents,
    PairStats,
    change_phrase,
    entity_name,
    local_iso,
    mine_pair_graph,
)

__all__ = ["MAX_STEPS", "MIN_SEQUENCE_CONFIDENCE", "detect_sequences", "verify_chain"]

MAX_STEPS = 6
"""Longest chain searched for."""

MIN_SEQUENCE_CONFIDENCE = 0.3
"""Share of the first step's events that must start the whole chain (each step is already a strong pair)."""

SUBSUMED_SUPPORT = 0.8
"""A chain inside a longer reported chain is dropped when the longer one keeps this share of its support."""


def verify_chain(
    ev: ItemEvents, chain: list[int], max_gap_s: float, max_span_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Occurrences of a chain of items on the event stream.

    From each event of the first item, the first event of the next item at or after it must come within
    `max_gap_s`, and so on; the last step must lie within `max_span_s` of the first.

    Args:
        ev: The events as items.
        chain: Item codes in order.
        max_gap_s: Longest wait between two consecutive steps.
        max_span_s: Longest time from the first step to the last.

    Returns:
        (complete, times): a boolean per first-item event, and the step times (events x steps, UTC seconds).
    """
    start = ev.t[ev.by_item[chain[0]]]
    times = np.full((start.shape[0], len(chain)), np.nan)
    times[:, 0] = start
    ok = np.ones(start.shape[0], dtype=bool)
    cur = start
    for k, item in enumerate(chain[1:], start=1):
        later = ev.t[ev.by_item[item]]
        pos = np.searchsorted(later, cur, side="left")
        inside = pos < later.shape[0]
        nxt = np.where(inside, later[np.minimum(pos, max(later.shape[0] - 1, 0))], np.inf)
        ok &= inside & (nxt - cur <= max_gap_s)
        cur = np.where(ok, nxt, cur)
        times[:, k] = np.where(ok, nxt, np.nan)
    ok &= (cur - start) <= max_span_s
    return ok, times


def _chains(ev: ItemEvents, pairs: list[PairStats], max_span_s: float) -> list[list[int]]:
    """Every simple path of 3..MAX_STEPS items through the pair graph, one entity per step, in a stable order."""
    out_edges: dict[int, list[PairStats]] = {}
    for p in sorted(pairs, key=lambda p: (p.trigger, p.response)):
        out_edges.setdefault(p.trigger, []).append(p)
    found: list[list[int]] = []

    def walk(path: list[int], entities: set[int], elapsed: float) -> None:
        if len(path) >= 3:
            found.append(list(path))
        if len(path) == MAX_STEPS:
            return
        for p in out_edges.get(path[-1], []):
            ent = int(ev.item_entity[p.response])
            step = float(np.median(p.delays))
            if ent in entities or elapsed + step > max_span_s:
                continue
            path.append(p.response)
            entities.add(ent)
            walk(path, entities, elapsed + step)
            path.pop()
            entities.discard(ent)

    for start in sorted(out_edges):
        walk([start], {int(ev.item_entity[start])}, 0.0)
    return found


def _is_inside(short: tuple[int, ...], long: tuple[int, ...]) -> bool:
    n = len(short)
    return any(long[i : i + n] == short for i in range(len(long) - n + 1))


def _about(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def detect_sequences(frame: EventFrame, config: DetectorConfig) -> list[PatternCandidate]:
    """Routines of three or more steps in causal order (a Detector).

    Args:
        frame: The analysis window.
        config: `co_occurrence_window_s` (gap between steps), `sequence_window_s` (whole chain),
            `min_occurrences`, `min_confidence` and the noise filter.

    Returns:
        One candidate per sequence, strongest first (support x confidence), ties by identity.
    """
    ev, _, edges = mine_pair_graph(frame, config)
    gap = float(config.co_occurrence_window_s)
    span = float(config.sequence_window_s)
    verified: list[tuple[tuple[int, ...], int, float, np.ndarray]] = []
    for chain in _chains(ev, edges, span):
        ok, times = verify_chain(ev, chain, gap, span)
        support = int(np.count_nonzero(ok))
        count = int(ok.shape[0])
        confidence = support / count if count else 0.0
        if support < config.min_occurrences or confidence < MIN_SEQUENCE_CONFIDENCE:
            continue
        verified.append((tuple(chain), support, confidence, times[ok]))
    verified.sort(key=lambda v: (-len(v[0]), v[0]))
    kept: list[tuple[tuple[int, ...], int, float, np.ndarray]] = []
    for v in verified:
        if any(_is_inside(v[0], k[0]) and k[1] >= SUBSUMED_SUPPORT * v[1] for k in kept):
            continue
        kept.append(v)
    out = [_candidate(frame, ev, chain, support, conf, times) for chain, support, conf, times in kept]
    out.sort(key=lambda c: (-c.occurrences * c.confidence, c.identity))
    return out


def _candidate(
    frame: EventFrame, ev: ItemEvents, chain: tuple[int, ...], support: int, confidence: float, times: np.ndarray
) -> PatternCandidate:
    steps = [(frame.entity_ids[int(ev.item_entity[i])], frame.states[int(ev.item_state[i])]) for i in chain]
    gaps = np.diff(times, axis=1)
    gap_median = [round(float(x), 2) for x in np.median(gaps, axis=0)]
    gap_p90 = [round(float(x), 2) for x in np.quantile(gaps, 0.9, axis=0)]
    parts = [f"{entity_name(frame, steps[0][0])} {change_phrase(frame, *steps[0])}"]
    for (entity_id, state), g in zip(steps[1:], gap_median, strict=True):
        parts.append(f"{entity_name(frame, entity_id)} {change_phrase(frame, entity_id, state)} ({_about(g)} later)")
    description = ", then ".join(parts)
    description = description[0].upper() + description[1:]
    entity_ids = [e for e, _ in steps]
    areas = {frame.entities[e].area_id for e in entity_ids if e in frame.entities}
    area = next(iter(areas)) if len(areas) == 1 else None
    starts = times[:, 0]
    return PatternCandidate(
        pattern_type="sequence",
        entity_ids=entity_ids,
        identity=("sequence", *steps),
        description=description,
        confidence=round(confidence, 4),
        occurrences=support,
        first_seen=datetime.fromtimestamp(float(starts[0]), tz=UTC),
        last_seen=datetime.fromtimestamp(float(starts[-1]), tz=UTC),
        area_id=area,
        details={
            "steps": [{"entity_id": e, "state": s} for e, s in steps],
            "support": support,
            "trigger_count": int(ev.counts[chain[0]]),
            "confidence": round(confidence, 4),
            "gap_median_s": gap_median,
            "gap_p90_s": gap_p90,
            "span_median_s": round(float(np.median(times[:, -1] - starts)), 2),
            "occurrence_times": [local_iso(frame, x) for x in starts[-OCCURRENCE_SAMPLE:]],
        },
    )
