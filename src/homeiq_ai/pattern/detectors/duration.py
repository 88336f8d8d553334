"""Typical durations: how long an entity stays in a state (the bathroom fan runs about 15 minutes).

Each transition of an entity into a state is paired with its next change to another state; a stay
that ends in unavailable/unknown, or that has not ended when the window closes, tells nothing and
is left out. Resting states (off, closed, locked, at home...) are not measured: how long a light
stays off is the gap between its uses. An entity and state with enough stays whose lengths agree (a
small robust coefficient of variation: interquartile range over median) has a typical duration.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.noise import filter_noise
from homeiq_ai.pattern.detectors.time_of_day import entity_name

# Device classes whose on/off reads as open/closed, and those whose "on" means sensing something.
_CONTACT_CLASSES = frozenset({"door", "window", "opening", "garage_door"})
_SENSING_CLASSES = {"motion": "detects motion", "occupancy": "detects presence", "presence": "detects presence",
                    "moisture": "detects water", "smoke": "detects smoke"}

__all__ = ["DurationSettings", "detect_duration", "format_minutes"]

# IQR / 1.349 estimates the standard deviation of a normal distribution.
_IQR_TO_SD = 1.349


@dataclass(frozen=True, slots=True)
class DurationSettings:
    """Thresholds of the duration detector."""

    min_stays: int = 5
    """At least this many completed stays in the state (and never fewer than DetectorConfig.min_occurrences)."""
    max_robust_cv: float = 0.6
    """(p75 - p25) / 1.349 / median at most this: the stays agree on a length."""
    min_minutes: float = 0.1
    """Stays shorter than this (a bounce) are not behaviour."""
    max_minutes: float = 24 * 60.0
    """A typical stay longer than a day is a mode, not a duration."""
    max_states: int = 6
    """Entities with more distinct states than this (media players' sources, modes) are left out."""
    resting_states: frozenset[str] = frozenset({"off", "closed", "locked", "idle", "standby", "docked", "home"})
    """States an entity rests in between uses: their length is the gap between uses, not behaviour."""


def format_minutes(minutes: float) -> str:
    """A duration in plain words: "45 seconds", "20 minutes", "2.5 hours"."""
    if minutes < 1.0:
        return f"{round(minutes * 60)} seconds"
    if minutes < 90.0:
        return f"{round(minutes)} minutes" if round(minutes) != 1 else "1 minute"
    return f"{minutes / 60:.1f} hours"


_STATE_WORDS = {"on": "on", "off": "off", "open": "open", "closed": "closed", "home": "home", "not_home": "away"}


def detect_duration(
    frame: EventFrame, config: DetectorConfig, settings: DurationSettings | None = None
) -> list[PatternCandidate]:
    """Typical time in a state, per entity and state, where the stays agree on a length.

    Args:
        frame: The events of the analysis window.
        config: Shared thresholds and noise filters.
        settings: This detector's thresholds; defaults when None.

    Returns:
        One candidate per entity and state with a typical duration, in entity order.
    """
    s = settings or DurationSettings()
    if len(frame) == 0:
        return []
    report = filter_noise(frame, config)
    # Every event of the entities that are kept (a stay ending in "unavailable" must be seen to end),
    # grouped by entity in time order.
    dropped = set()
    for reason in ("ignored_domain", "ignored_category", "chatty_entity", "numeric_entity"):
        dropped.update(report.dropped_entities.get(reason, []))
    entity_ok = np.asarray([e not in dropped for e in frame.entity_ids], dtype=bool)
    idx = np.flatnonzero(entity_ok[frame.entity]) if len(frame.entity_ids) else np.zeros(0, dtype=np.int64)
    if idx.size == 0:
        return []
    order = np.argsort(frame.entity[idx], kind="stable")
    idx = idx[order]
    ent = frame.entity[idx]
    state = frame.new_state[idx]
    t = frame.t[idx]
    # Collapse repeats of the same state: a stay starts at the first event of a run.
    start = np.ones(idx.size, dtype=bool)
    start[1:] = (ent[1:] != ent[:-1]) | (state[1:] != state[:-1])
    ent, state, t, src = ent[start], state[start], t[start], idx[start]
    nxt_same = np.zeros(ent.size, dtype=bool)
    nxt_same[:-1] = ent[1:] == ent[:-1]
    ignored = np.asarray([x in config.ignore_states for x in frame.states] + [True], dtype=bool)
    resting = np.asarray([x in s.resting_states for x in frame.states] + [True], dtype=bool)
    kept_state = report.mask[src] & ~ignored[state]
    ends_known = np.zeros(ent.size, dtype=bool)
    ends_known[:-1] = nxt_same[:-1] & ~ignored[state[1:]]
    valid = kept_state & ends_known
    length = np.zeros(ent.size)
    length[:-1] = (t[1:] - t[:-1]) / 60.0
    valid &= (length >= s.min_minutes) & (length <= s.max_minutes * 3)
    n_states_per_entity = _distinct_states(ent[kept_state], state[kept_state], len(frame.entity_ids))
    sel = np.flatnonzero(valid & ~resting[state] & (n_states_per_entity[ent] <= s.max_states))
    if sel.size == 0:
        return []
    n_states = max(1, len(frame.states))
    key = ent[sel].astype(np.int64) * n_states + state[sel]
    order = np.argsort(key, kind="stable")
    sel, key = sel[order], key[order]
    bounds = np.flatnonzero(np.diff(key)) + 1
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    need = max(s.min_stays, config.min_occurrences)
    out = []
    for part in np.split(np.arange(sel.size), bounds):
        if part.size < need:
            continue
        rows = sel[part]
        minutes = length[rows]
        p25, median, p75 = (float(x) for x in np.percentile(minutes, [25, 50, 75]))
        if median <= 0 or median > s.max_minutes:
            continue
        cv = (p75 - p25) / _IQR_TO_SD / median
        if cv > s.max_robust_cv:
            continue
        entity_id = frame.entity_ids[int(ent[rows[0]])]
        state_name = frame.states[int(state[rows[0]])]
        starts = t[rows]
        info = frame.entities.get(entity_id)
        word = _STATE_WORDS.get(state_name, f"'{state_name}'" if state_name else "in its state")
        description = f"{entity_name(frame, entity_id)} stays {word} for about {format_minutes(median)}"
        cls = info.device_class if info is not None and info.domain == "binary_sensor" else None
        if cls in _CONTACT_CLASSES and state_name in ("on", "off"):
            word = "open" if state_name == "on" else "closed"
            description = f"{entity_name(frame, entity_id)} stays {word} for about {format_minutes(median)}"
        elif cls in _SENSING_CLASSES and state_name in ("on", "off"):
            what = _SENSING_CLASSES[cls] if state_name == "on" else "stays clear"
            description = f"{entity_name(frame, entity_id)} {what} for about {format_minutes(median)}"
        if state_name == "not_home":
            description = f"{entity_name(frame, entity_id)} is away for about {format_minutes(median)}"
        hist, edges = np.histogram(minutes, bins=min(12, max(4, part.size // 4)))
        out.append(
            PatternCandidate(
                pattern_type="duration",
                entity_ids=[entity_id],
                identity=("duration", entity_id, state_name),
                description=description,
                confidence=round(
                    float(max(0.0, 1.0 - cv / (2 * s.max_robust_cv)) * min(1.0, part.size / (2 * need))), 4
                ),
                occurrences=int(part.size),
                first_seen=datetime.fromtimestamp(float(starts[0]), tz=UTC),
                last_seen=datetime.fromtimestamp(float(starts[-1]), tz=UTC),
                area_id=info.area_id if info is not None else None,
                details={
                    "state": state_name,
                    "median_minutes": round(median, 2),
                    "p25": round(p25, 2),
                    "p75": round(p75, 2),
                    "mean_minutes": round(float(minutes.mean()), 2),
                    "robust_cv": round(cv, 3),
                    "occurrences": int(part.size),
                    "occurrence_times": [
                        datetime.fromtimestamp(float(x), tz=tz).isoformat(timespec="seconds") for x in starts
                    ],
                    "durations_minutes": [round(float(x), 2) for x in minutes],
                    "duration_histogram": {
                        "counts": hist.astype(int).tolist(),
                        "edges_minutes": [round(float(e), 2) for e in edges],
                    },
                    "histogram": np.bincount(
                        np.asarray([datetime.fromtimestamp(float(x), tz=tz).hour for x in starts], dtype=np.int64),
                        minlength=24,
                    )[:24]
                    .astype(int)
                    .tolist(),
                },
            )
        )
    out.sort(key=lambda c: (c.entity_ids[0], c.details["state"]))
    return out


def _distinct_states(ent: np.ndarray, state: np.ndarray, n_entities: int) -> np.ndarray:
    """Number of distinct states each entity takes (among the given events)."""
    if ent.size == 0:
        return np.zeros(max(n_entities, 1), dtype=np.int64)
    pairs = np.unique(ent.astype(np.int64) * (int(state.max()) + 2) + state + 1)
    return np.bincount(pairs // (int(state.max()) + 2), minlength=n_entities)
