"""First and last of the day: the change that opens (or closes) an area's day, e.g. the bedroom door first opens.

A home day runs from 04:00 to 04:00 local time, so going to bed after midnight still ends the day before.
Per area, and per home day on which the area saw any change worth mining, the first and the last change
of the area's entities (numbers and sensors left out by the noise filter) is taken. An entity's change to
a state is a pattern when it is that first (last) change on at least `MIN_SHARE` of the area's days in a
day set, and on at least `min_occurrences` days. The day set is the widest that holds it: every day, else
weekdays, else weekends (public holidays count as weekend days). People recognise these marks of getting
up and going to bed better than clock times, and they hold even when the clock time drifts by an hour.

`details` is self-describing, for the suggestion generator (a state trigger with a time-window condition):
entity_id, state (the to-state), area_id, edge ("first" or "last"), time (typical local "HH:MM", the
median), window_start / window_end (local "HH:MM" holding the middle 80% of the days' times), weekdays
(0 = Monday), days ("all", "weekdays" or "weekends"), share_of_days, days_observed, days_with_occurrence,
occurrence_times (ISO-8601 local) and a 24-bin histogram.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.co_occurrence import change_phrase, entity_name
from homeiq_ai.pattern.detectors.noise import select_events

__all__ = ["DAY_START_MINUTE", "MIN_SHARE", "detect_first_last_of_day"]

DAY_START_MINUTE = 4 * 60
"""The home day starts at 04:00 local time."""

MIN_SHARE = 0.6
"""Share of the area's days (in the day set) on which the change must be the first (last) one."""

MAX_WINDOW_MINUTES = 180.0
"""A mark whose middle 80% spreads wider than this is no time a person recognises (a sensor used all day)."""

WINDOW_QUANTILES = (0.1, 0.9)
"""The reported window holds the days' times between these quantiles (the middle 80%)."""

_SKIP_DOMAINS = frozenset({"sensor", "person", "device_tracker", "weather", "sun", "update", "zone"})
_DAY_SETS = (
    ("all", [0, 1, 2, 3, 4, 5, 6], "every day"),
    ("weekdays", [0, 1, 2, 3, 4], "on weekdays"),
    ("weekends", [5, 6], "on weekends"),
)


def _hhmm(minute: float) -> str:
    m = round(minute) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _area_name(frame: EventFrame, area_id: str) -> str:
    return area_id.replace("_", " ")


def detect_first_last_of_day(frame: EventFrame, config: DetectorConfig) -> list[PatternCandidate]:
    """First and last changes of the day per area (a Detector).

    Args:
        frame: The analysis window, in the home's local time.
        config: `min_occurrences` and the noise filter.

    Returns:
        One candidate per area, edge, entity, state and day set; most regular first.
    """
    if len(frame) == 0:
        return []
    keep = select_events(frame, config)
    area_of = np.full(len(frame.entity_ids), -1, dtype=np.int64)
    areas: list[str] = []
    for i, entity_id in enumerate(frame.entity_ids):
        info = frame.entities.get(entity_id)
        domain = info.domain if info is not None else entity_id.split(".", 1)[0]
        if info is None or info.area_id is None or domain in _SKIP_DOMAINS:
            continue
        if info.area_id not in areas:
            areas.append(info.area_id)
        area_of[i] = areas.index(info.area_id)
    idx = np.flatnonzero(keep & (area_of[frame.entity] >= 0))
    if idx.size == 0:
        return []
    local_minute = frame.day[idx].astype(np.int64) * 1440 + frame.minute[idx].astype(np.int64)
    home_day = (local_minute - DAY_START_MINUTE) // 1440
    # Minutes since midnight, counted on past 24:00 until 04:00, so that times around midnight average well.
    minute = (local_minute - DAY_START_MINUTE) % 1440 + DAY_START_MINUTE + np.mod(frame.t[idx], 60.0) / 60.0
    ev_area = area_of[frame.entity[idx]]
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    out: list[PatternCandidate] = []
    for a, area_id in enumerate(areas):
        sel = np.flatnonzero(ev_area == a)  # in time order, so home days ascend
        # An area with one entity has a trivial first and last change: it says nothing.
        if sel.size == 0 or np.unique(frame.entity[idx[sel]]).size < 2:
            continue
        days = home_day[sel]
        uniq, first_pos = np.unique(days, return_index=True)
        last_pos = np.r_[first_pos[1:], sel.size] - 1
        weekday = (uniq + 3) % 7
        day_off = (weekday >= 5) | np.isin(uniq, list(frame.holidays))
        for edge, pos in (("first", first_pos), ("last", last_pos)):
            picks = sel[pos]
            ev = idx[picks]
            keys = frame.entity[ev].astype(np.int64) * max(1, len(frame.states)) + frame.new_state[ev]
            for key in np.unique(keys).tolist():
                hit = keys == key
                for label, weekdays, words in _DAY_SETS:
                    in_set = {"all": np.ones(uniq.size, bool), "weekdays": ~day_off, "weekends": day_off}[label]
                    n, h = int(in_set.sum()), int((hit & in_set).sum())
                    if n == 0 or h < config.min_occurrences or h / n < MIN_SHARE:
                        continue
                    chosen = picks[hit & in_set]
                    lo, hi = np.quantile(minute[chosen], WINDOW_QUANTILES)
                    if hi - lo > MAX_WINDOW_MINUTES:
                        break
                    out.append(_candidate(frame, tz, edge, area_id, idx[chosen], minute[chosen], label, weekdays,
                                          words, h, n))
                    break
    out.sort(key=lambda c: (-c.confidence, c.identity))
    return out


def _candidate(
    frame: EventFrame,
    tz: zoneinfo.ZoneInfo,
    edge: str,
    area_id: str,
    events: np.ndarray,
    minutes: np.ndarray,
    label: str,
    weekdays: list[int],
    words: str,
    hits: int,
    days: int,
) -> PatternCandidate:
    e = int(frame.entity[events[0]])
    entity_id = frame.entity_ids[e]
    state = frame.states[int(frame.new_state[events[0]])]
    typical = float(np.median(minutes))
    lo, hi = (float(x) for x in np.quantile(minutes, WINDOW_QUANTILES))
    share = hits / days
    times = frame.t[events]
    name = entity_name(frame, entity_id)
    phrase = change_phrase(frame, entity_id, state)
    description = (
        f"{name} {edge} {phrase} of the day in the {_area_name(frame, area_id)} around {_hhmm(typical)} {words} "
        f"({round(100 * share)}% of days), usually between {_hhmm(lo)} and {_hhmm(hi)}"
    )
    description = description[0].upper() + description[1:]
    hours = [datetime.fromtimestamp(float(x), tz=tz).hour for x in times]
    return PatternCandidate(
        pattern_type="first_last_of_day",
        entity_ids=[entity_id],
        identity=("first_last_of_day", edge, area_id, entity_id, state, label),
        description=description,
        confidence=round(share, 4),
        occurrences=hits,
        first_seen=datetime.fromtimestamp(float(times[0]), tz=UTC),
        last_seen=datetime.fromtimestamp(float(times[-1]), tz=UTC),
        area_id=area_id,
        details={
            "edge": edge,
            "entity_id": entity_id,
            "state": state,
            "area_id": area_id,
            "time": _hhmm(typical),
            "window_start": _hhmm(lo),
            "window_end": _hhmm(hi),
            "weekdays": list(weekdays),
            "days": label,
            "share_of_days": round(share, 4),
            "days_observed": days,
            "days_with_occurrence": hits,
            "day_starts_at": _hhmm(DAY_START_MINUTE),
            "occurrence_times": [datetime.fromtimestamp(float(x), tz=tz).isoformat(timespec="seconds") for x in times],
            "histogram": np.bincount(np.asarray(hours, dtype=np.int64), minlength=24)[:24].astype(int).tolist(),
        },
    )
