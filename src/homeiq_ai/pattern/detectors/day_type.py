"""Day type: behaviour that differs between weekdays and weekends (public holidays count as weekends).

Two kinds, per entity and state:

- timing: a time-of-day routine of weekdays only or weekends only. A weekday routine and a weekend
  routine of the same entity and state are paired into one difference (the alarm at 06:45 on
  weekdays and 08:30 on weekends); a routine of one kind of day with no counterpart is reported as
  happening on that kind of day only (leaving for work at 07:40 on weekdays).
- frequency: the same transition happens several times as often on one kind of day (a coffee
  machine used five times a day at weekends and once on weekdays), where no timing difference
  already covers the entity and state.
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.noise import select_events
from homeiq_ai.pattern.detectors.time_of_day import (
    RoutineCluster,
    TimeOfDaySettings,
    entity_name,
    find_routines,
    hhmm,
    state_phrase,
    weekend_days,
)

__all__ = ["DayTypeSettings", "detect_day_type"]


@dataclass(frozen=True, slots=True)
class DayTypeSettings:
    """Thresholds of the day-type detector."""

    max_pair_distance_minutes: float = 360.0
    """A weekday and a weekend routine further apart than this are two differences, not one."""
    min_frequency_ratio: float = 3.0
    """A frequency difference: one kind of day has at least this many times the other's daily rate..."""
    min_daily_rate: float = 1.0
    """...the busier kind of day at least this many transitions a day..."""
    min_frequency_z: float = 4.0
    """...and the difference is this many standard errors (Poisson) from none."""
    burst_minutes: float = 10.0
    """Transitions within this many minutes of the previous one count once."""
    resting_states: frozenset[str] = frozenset({"off", "closed", "locked", "idle", "standby", "docked", "home"})
    """States an entity returns to after use: a frequency difference is told by the state it is used in."""


def _side(r: RoutineCluster) -> dict[str, object]:
    return {
        "time": hhmm(r.typical),
        "minute_of_day": round(r.typical, 1),
        "spread_minutes": round(r.clock_spread, 1),
        "days_observed": r.days_observed,
        "days_with_occurrence": r.days_with_occurrence,
        "rate": round(r.days_with_occurrence / max(r.days_observed, 1), 3),
    }


def _pairs(
    routines: list[RoutineCluster], s: DayTypeSettings
) -> list[tuple[RoutineCluster | None, RoutineCluster | None]]:
    """Weekday and weekend routines of one entity and state, nearest first, paired within the distance."""
    weekday = [r for r in routines if r.day_set == "weekdays"]
    weekend = [r for r in routines if r.day_set == "weekends"]
    options = []
    for i, a in enumerate(weekday):
        for j, b in enumerate(weekend):
            d = abs((a.minute - b.minute + 720) % 1440 - 720)
            if d <= s.max_pair_distance_minutes:
                options.append((d, i, j))
    options.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    out: list[tuple[RoutineCluster | None, RoutineCluster | None]] = []
    for _, i, j in options:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((weekday[i], weekend[j]))
    out += [(a, None) for i, a in enumerate(weekday) if i not in used_a]
    out += [(None, b) for j, b in enumerate(weekend) if j not in used_b]
    return out


def _hours(t: np.ndarray, tz: zoneinfo.ZoneInfo) -> list[int]:
    hours = [datetime.fromtimestamp(float(x), tz=tz).hour for x in t]
    return np.bincount(np.asarray(hours, dtype=np.int64), minlength=24)[:24].astype(int).tolist()


def _timing_candidate(
    frame: EventFrame, weekday: RoutineCluster | None, weekend: RoutineCluster | None
) -> PatternCandidate:
    base = weekday if weekday is not None else weekend
    assert base is not None
    entity_id = frame.entity_ids[base.entity]
    state = frame.states[base.state]
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    name = entity_name(frame, entity_id)
    what = state_phrase(frame, entity_id, state)
    times = np.sort(np.concatenate([r.times for r in (weekday, weekend) if r is not None]))
    local_days = np.asarray([_local_day(x, tz) for x in base.all_times], dtype=np.int64)
    weekend_mask = weekend_days(local_days, frame.holidays)
    details: dict[str, object] = {
        "state": state,
        "kind": "timing",
        "weekday": _side(weekday) if weekday is not None else None,
        "weekend": _side(weekend) if weekend is not None else None,
        "occurrence_times": [datetime.fromtimestamp(float(x), tz=tz).isoformat(timespec="seconds") for x in times],
        "histogram": _hours(base.all_times, tz),
        "histogram_weekdays": _hours(base.all_times[~weekend_mask], tz),
        "histogram_weekends": _hours(base.all_times[weekend_mask], tz),
    }
    if weekday is not None and weekend is not None:
        shift = (weekend.typical - weekday.typical + 720) % 1440 - 720
        details["difference_minutes"] = round(shift, 1)
        description = (
            f"{name} {what} around {hhmm(weekday.typical)} on weekdays and around {hhmm(weekend.typical)} on weekends"
        )
        confidence = min(weekday.confidence, weekend.confidence)
        identity = ("day_type", entity_id, state, "both")
    elif weekday is not None:
        details["rate_on_weekends"] = round(weekday.rate_outside, 3)
        description = f"{name} {what} around {hhmm(weekday.typical)} on weekdays, not on weekends"
        confidence = weekday.confidence * (1.0 - weekday.rate_outside)
        identity = ("day_type", entity_id, state, "weekdays_only")
    else:
        assert weekend is not None
        details["rate_on_weekdays"] = round(weekend.rate_outside, 3)
        description = f"{name} {what} around {hhmm(weekend.typical)} on weekends, not on weekdays"
        confidence = weekend.confidence * (1.0 - weekend.rate_outside)
        identity = ("day_type", entity_id, state, "weekends_only")
    info = frame.entities.get(entity_id)
    return PatternCandidate(
        pattern_type="day_type",
        entity_ids=[entity_id],
        identity=identity,
        description=description,
        confidence=round(float(confidence), 4),
        occurrences=int(times.size),
        first_seen=datetime.fromtimestamp(float(times[0]), tz=UTC),
        last_seen=datetime.fromtimestamp(float(times[-1]), tz=UTC),
        area_id=info.area_id if info is not None else None,
        details=details,
    )


def _local_day(t: float, tz: zoneinfo.ZoneInfo) -> int:
    local = datetime.fromtimestamp(t, tz=tz)
    return (local.date() - datetime(1970, 1, 1).date()).days


def _frequency_candidates(
    frame: EventFrame, config: DetectorConfig, mask: np.ndarray, covered: set[tuple[int, int]], s: DayTypeSettings
) -> list[PatternCandidate]:
    """Transitions that happen several times as often on one kind of day as on the other.

    One per entity, and none for an entity that already has a timing difference (`covered`).
    """
    idx = np.flatnonzero(mask & (frame.new_state != frame.old_state))
    if idx.size == 0:
        return []
    days = np.arange(frame.first_day, frame.first_day + frame.n_days, dtype=np.int64)
    weekend_day = weekend_days(days, frame.holidays)
    n_we, n_wd = int(weekend_day.sum()), int((~weekend_day).sum())
    if n_we < 2 or n_wd < 2:
        return []
    n_states = max(1, len(frame.states))
    key = frame.entity[idx].astype(np.int64) * n_states + frame.new_state[idx]
    order = np.argsort(key, kind="stable")
    idx, key = idx[order], key[order]
    t = frame.t[idx]
    gap = np.diff(t, prepend=-np.inf)
    first_of_group = np.diff(key, prepend=-1) != 0
    keep = first_of_group | (gap > s.burst_minutes * 60.0)
    idx, key = idx[keep], key[keep]
    weekend = weekend_days(frame.day[idx].astype(np.int64), frame.holidays)
    unique, inverse = np.unique(key, return_inverse=True)
    c_we = np.bincount(inverse, weights=weekend, minlength=unique.size)
    c_wd = np.bincount(inverse, weights=~weekend, minlength=unique.size)
    r_we, r_wd = c_we / n_we, c_wd / n_wd
    se = np.sqrt((c_we + 1) / n_we**2 + (c_wd + 1) / n_wd**2)
    z = np.abs(r_we - r_wd) / se
    high, low = np.maximum(r_we, r_wd), np.minimum(r_we, r_wd)
    chosen = np.flatnonzero(
        (high >= s.min_daily_rate)
        & (high >= s.min_frequency_ratio * np.maximum(low, 1e-9))
        & (z >= s.min_frequency_z)
        & (np.maximum(c_we, c_wd) >= config.min_occurrences)
    )
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    best_rank: dict[int, tuple[bool, float]] = {}
    # One per entity: its on-going state (a light's "on" rather than its "off") with the clearest difference.
    best: dict[int, int] = {}
    for k in chosen.tolist():
        entity, state = divmod(int(unique[k]), n_states)
        if any(entity == e for e, _ in covered):
            continue
        rank = (frame.states[state] not in s.resting_states, float(z[k]))
        if entity not in best or rank > best_rank[entity]:
            best[entity], best_rank[entity] = k, rank
    out = []
    for entity in sorted(best, key=lambda e: frame.entity_ids[e]):
        k = best[entity]
        state = int(unique[k]) % n_states
        entity_id, state_name = frame.entity_ids[entity], frame.states[state]
        sel = idx[inverse == k]
        times = frame.t[sel]
        is_we = weekend[inverse == k]
        busier = "weekends" if r_we[k] > r_wd[k] else "weekdays"
        name = entity_name(frame, entity_id)
        what = state_phrase(frame, entity_id, state_name)
        description = (
            f"{name} {what} about {high[k]:.1f} times a day on {busier} "
            f"and {low[k]:.1f} times on {'weekdays' if busier == 'weekends' else 'weekends'}"
        )
        info = frame.entities.get(entity_id)
        out.append(
            PatternCandidate(
                pattern_type="day_type",
                entity_ids=[entity_id],
                identity=("day_type", entity_id, state_name, "frequency"),
                description=description,
                confidence=round(float(1.0 - low[k] / high[k]) * min(1.0, float(z[k]) / (2 * s.min_frequency_z)), 4),
                occurrences=int(sel.size),
                first_seen=datetime.fromtimestamp(float(times[0]), tz=UTC),
                last_seen=datetime.fromtimestamp(float(times[-1]), tz=UTC),
                area_id=info.area_id if info is not None else None,
                details={
                    "state": state_name,
                    "kind": "frequency",
                    "weekday": {"per_day": round(float(r_wd[k]), 3), "days_observed": n_wd, "count": int(c_wd[k])},
                    "weekend": {"per_day": round(float(r_we[k]), 3), "days_observed": n_we, "count": int(c_we[k])},
                    "z": round(float(z[k]), 2) if math.isfinite(float(z[k])) else None,
                    "occurrence_times": [
                        datetime.fromtimestamp(float(x), tz=tz).isoformat(timespec="seconds") for x in times
                    ],
                    "histogram": _hours(times, tz),
                    "histogram_weekdays": _hours(times[~is_we], tz),
                    "histogram_weekends": _hours(times[is_we], tz),
                },
            )
        )
    return out


def detect_day_type(
    frame: EventFrame,
    config: DetectorConfig,
    settings: DayTypeSettings | None = None,
    routine_settings: TimeOfDaySettings | None = None,
) -> list[PatternCandidate]:
    """Behaviour that differs between weekdays and weekends, per entity and state.

    Args:
        frame: The events of the analysis window, in the home's local time.
        config: Shared thresholds and noise filters.
        settings: This detector's thresholds; defaults when None.
        routine_settings: Thresholds of the routines the timing differences are built from.

    Returns:
        Timing differences (paired weekday/weekend routines, or routines of one kind of day only),
        then frequency differences, in entity order.
    """
    s = settings or DayTypeSettings()
    if len(frame) == 0:
        return []
    mask = select_events(frame, config)
    routines = find_routines(frame, config, routine_settings, mask=mask)
    by_key: dict[tuple[int, int], list[RoutineCluster]] = {}
    for r in routines:
        if r.axis == "clock" and r.day_set in ("weekdays", "weekends"):
            by_key.setdefault((r.entity, r.state), []).append(r)
    out = []
    for key in sorted(by_key, key=lambda k: (frame.entity_ids[k[0]], frame.states[k[1]])):
        for weekday, weekend in _pairs(by_key[key], s):
            out.append(_timing_candidate(frame, weekday, weekend))
    out += _frequency_candidates(frame, config, mask, set(by_key), s)
    return out
