"""Scoring a detector's findings against a synthetic home's ground truth: precision and recall."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from homeiq_ai.training.synthetic.spec import GroundTruth

__all__ = ["Score", "score_anomalies", "score_causal_pairs", "score_routines"]


class Score(NamedTuple):
    """Precision over the findings, recall over the planted items that must be found."""

    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def _minutes(hh_mm: str) -> int:
    h, m = hh_mm.split(":")
    return int(h) * 60 + int(m)


def _clock_distance(a: str, b: str) -> int:
    d = abs(_minutes(a) - _minutes(b)) % 1440
    return min(d, 1440 - d)


def _score(found: int, matched: int, required: int, required_matched: int) -> Score:
    precision = matched / found if found else 1.0
    recall = required_matched / required if required else 1.0
    return Score(precision, recall, matched, found - matched, required - required_matched)


def score_routines(
    detected: Iterable[tuple[str, str, str]],
    truth: GroundTruth,
    tolerance_minutes: int = 10,
    min_occurrences: int = 3,
) -> Score:
    """Score time-of-day routines found as (entity_id, state, local "HH:MM").

    Each finding matches at most one planted routine of the same entity and state whose local time
    is within the tolerance (closest first). Recall counts the routines that are not `derived_from`
    another and occurred at least `min_occurrences` times; a finding that matches a derived routine
    is right but not required.

    Args:
        detected: The detector's routines.
        truth: The ground truth.
        tolerance_minutes: How far the found local time may be from the planted one.
        min_occurrences: Planted routines seen fewer times are not required.

    Returns:
        The Score.
    """
    found = list(detected)
    candidates = [r for r in truth.routines if len(r.occurrences) >= 1]
    used: set[str] = set()
    matched = 0
    for entity_id, state, local_time in found:
        best = None
        for r in candidates:
            if r.routine_id in used or r.entity_id != entity_id or r.state != state:
                continue
            d = _clock_distance(r.local_time, local_time)
            if d <= tolerance_minutes and (best is None or d < best[0]):
                best = (d, r.routine_id)
        if best is not None:
            used.add(best[1])
            matched += 1
    required = [r for r in truth.routines if r.derived_from is None and len(r.occurrences) >= min_occurrences]
    return _score(len(found), matched, len(required), sum(1 for r in required if r.routine_id in used))


def score_causal_pairs(
    detected: Iterable[tuple[str, str, str, str]], truth: GroundTruth, min_occurrences: int = 3
) -> Score:
    """Score causal pairs found as (trigger entity, trigger state, response entity, response state).

    A finding is right when it is a planted pair or two consecutive steps of a planted sequence
    (`GroundTruth.implied_pairs`); recall counts the planted pairs seen at least `min_occurrences`
    times. Duplicates count once.

    Args:
        detected: The detector's pairs.
        truth: The ground truth.
        min_occurrences: Planted pairs seen fewer times are not required.

    Returns:
        The Score.
    """
    found = list(dict.fromkeys(detected))
    valid = {p[:4] for p in truth.implied_pairs()}
    matched = sum(1 for f in found if f in valid)
    required = {
        (p.trigger_entity_id, p.trigger_state, p.response_entity_id, p.response_state)
        for p in truth.causal_pairs
        if len(p.occurrences) >= min_occurrences
    }
    return _score(len(found), matched, len(required), len(required & set(found)))


def score_anomalies(
    detected: Iterable[tuple[str | None, datetime]],
    truth: GroundTruth,
    slack: timedelta = timedelta(minutes=30),
) -> Score:
    """Score anomalies found as (entity_id or None, time).

    A finding matches an injected anomaly when the entity agrees (or is None) and the time lies in
    the anomaly's window widened by `slack`; each anomaly is matched once.

    Args:
        detected: The detector's anomalies.
        truth: The ground truth.
        slack: Widening of each window on both sides.

    Returns:
        The Score.
    """
    found = list(detected)
    used: set[str] = set()
    matched = 0
    for entity_id, t in found:
        for a in truth.anomalies:
            if a.anomaly_id in used or (entity_id is not None and entity_id != a.entity_id):
                continue
            if a.start - slack <= t <= a.end + slack:
                used.add(a.anomaly_id)
                matched += 1
                break
    return _score(len(found), matched, len(truth.anomalies), len(used))
