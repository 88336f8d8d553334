"""Stable identities, quality scores and feedback rules for patterns and synergies (pure functions)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "RESURFACE_CONFIDENCE_GAIN",
    "RESURFACE_OCCURRENCE_FACTOR",
    "TIME_MATCH_MINUTES",
    "circular_distance",
    "identity_key",
    "kind_factors",
    "match_time_of_day",
    "pattern_quality",
    "should_resurface",
    "stable_id",
]

# A routine found again within this many minutes of a stored one of the same identity is the same routine.
TIME_MATCH_MINUTES = 45
# A rejected finding comes back only when its evidence has clearly grown since the rejection.
RESURFACE_OCCURRENCE_FACTOR = 2.0
RESURFACE_CONFIDENCE_GAIN = 0.1


def identity_key(identity: Iterable[Any]) -> str:
    """A canonical text form of an identity tuple (nested tuples become lists)."""
    return json.dumps(list(identity), separators=(",", ":"), sort_keys=True, default=str)


def stable_id(prefix: str, key: str, minute_of_day: int | None = None) -> str:
    """An id derived from the identity (and, for routines, the time it was first seen at)."""
    text = key if minute_of_day is None else f"{key}@{minute_of_day}"
    return f"{prefix}_{hashlib.sha1(text.encode()).hexdigest()[:16]}"


def circular_distance(a: int, b: int, period: int = 1440) -> int:
    """Minutes between two times of day on the 24-hour circle."""
    d = abs(a - b) % period
    return min(d, period - d)


def match_time_of_day(
    stored: Iterable[tuple[str, int | None]], minute_of_day: int, tolerance: int = TIME_MATCH_MINUTES
) -> str | None:
    """The id of the stored routine (id, minute) nearest to `minute_of_day` within the tolerance, if any."""
    best: tuple[int, str] | None = None
    for pattern_id, minute in stored:
        if minute is None:
            continue
        d = circular_distance(minute, minute_of_day)
        if d <= tolerance and (best is None or d < best[0]):
            best = (d, pattern_id)
    return best[1] if best else None


def kind_factors(stats: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """Ranking factor per pattern type from feedback counts (accepted, rejected): 0.8 .. 1.2.

    Kinds a person keeps accepting rank higher, kinds they keep rejecting lower; a few votes move it
    a little, many votes up to +-20 %.
    """
    out: dict[str, float] = {}
    for kind, (accepted, rejected) in stats.items():
        total = accepted + rejected
        if total:
            out[kind] = 1.0 + 0.2 * (accepted - rejected) / (total + 2)
    return out


def pattern_quality(
    confidence: float,
    occurrences: int,
    *,
    feedback: str | None = None,
    rating: float | None = None,
    kind_factor: float = 1.0,
) -> float:
    """How much a finding is worth showing, 0..1: confidence, weighted by evidence and by feedback.

    Evidence saturates: 3 occurrences count half, 10 about 90 %. An accepted finding gains, a rating
    moves it by up to +-15 %, and the kind's factor applies.
    """
    evidence = 1.0 - math.exp(-max(occurrences, 0) / 4.5)
    score = confidence * (0.5 + 0.5 * evidence)
    if feedback == "accepted":
        score *= 1.15
    if rating is not None:
        score *= 1.0 + 0.075 * (rating - 3.0)
    return round(max(0.0, min(1.0, score * kind_factor)), 4)


def should_resurface(
    rejected_occurrences: int | None,
    rejected_confidence: float | None,
    occurrences: int,
    confidence: float,
) -> bool:
    """Whether a rejected finding's evidence has grown clearly enough to show it again."""
    if rejected_occurrences is None or rejected_confidence is None:
        return False
    return (
        occurrences >= RESURFACE_OCCURRENCE_FACTOR * max(rejected_occurrences, 1)
        and confidence >= rejected_confidence + RESURFACE_CONFIDENCE_GAIN
    )
