"""Building an EventFrame: state changes as numpy columns with local-time fields and sun times."""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import numpy as np

from homeiq_ai.kernel.sun import sun_times
from homeiq_ai.pattern.detectors.base import NO_STATE, EntityInfo, EventFrame

__all__ = ["StateChange", "frame_from_columns", "frame_from_events", "frame_from_lists"]

EPOCH_DAY = date(1970, 1, 1)


class StateChange(Protocol):
    """Anything with the fields of a state change (kernel Event, synthetic Event, ingest line)."""

    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def _local_fields(t: np.ndarray, time_zone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local minute of day, local day number and weekday for UTC epoch seconds, DST-correct.

    The UTC offset is constant between transitions, so it is looked up once per distinct hour rather than
    per event.
    """
    tz = zoneinfo.ZoneInfo(time_zone)
    if t.size == 0:
        empty = np.zeros(0, dtype=np.int32)
        return empty.astype(np.int16), empty, empty.astype(np.int8)
    hours = np.floor(t / 3600.0).astype(np.int64)
    unique_hours, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [datetime.fromtimestamp(int(h) * 3600, tz=tz).utcoffset().total_seconds() for h in unique_hours],  # type: ignore[union-attr]
        dtype=np.float64,
    )
    local = t + offsets[inverse]
    day = np.floor(local / 86400.0).astype(np.int32)
    minute = np.floor((local - day * 86400.0) / 60.0).astype(np.int16)
    weekday = ((day + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday
    return minute, day, weekday


def _sun_minutes(first_day: int, n_days: int, time_zone: str, latitude: float | None, longitude: float | None):
    sunrise = np.full(n_days, np.nan)
    sunset = np.full(n_days, np.nan)
    if latitude is None or longitude is None:
        return sunrise, sunset
    tz = zoneinfo.ZoneInfo(time_zone)
    for d in range(n_days):
        day = EPOCH_DAY + timedelta(days=first_day + d)
        times = sun_times(latitude, longitude, day)
        for value, out in ((getattr(times, "sunrise", None), sunrise), (getattr(times, "sunset", None), sunset)):
            if isinstance(value, datetime):
                local = value.astimezone(tz)
                out[d] = local.hour * 60 + local.minute + local.second / 60.0
    return sunrise, sunset


def frame_from_columns(
    *,
    entity_ids: list[str],
    states: list[str],
    entity: np.ndarray,
    new_state: np.ndarray,
    old_state: np.ndarray,
    t: np.ndarray,
    time_zone: str,
    start: datetime,
    end: datetime,
    latitude: float | None = None,
    longitude: float | None = None,
    entities: Mapping[str, EntityInfo] | None = None,
    holidays: Iterable[date] = (),
) -> EventFrame:
    """Assemble a frame from columns that are already indexed; sorts by time if needed.

    Args:
        entity_ids: entity id of each entity index.
        states: state string of each state index.
        entity, new_state, old_state: int32 indexes per event (NO_STATE for a missing old state).
        t: float64 UTC epoch seconds per event.
        time_zone: the home's IANA time zone.
        start, end: the analysis window (timezone-aware).
        latitude, longitude: the home's location, for sunrise and sunset; None leaves them NaN.
        entities: what is known of each entity (domain, area, device class, category).
        holidays: local dates treated like weekend days by day-type logic.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    order = np.argsort(t, kind="stable")
    if t.size and not np.all(order == np.arange(t.size)):
        entity, new_state, old_state, t = entity[order], new_state[order], old_state[order], t[order]
    minute, day, weekday = _local_fields(t, time_zone)
    tz = zoneinfo.ZoneInfo(time_zone)
    first_day = (start.astimezone(tz).date() - EPOCH_DAY).days
    last_day = ((end - timedelta(microseconds=1)).astimezone(tz).date() - EPOCH_DAY).days
    n_days = max(1, last_day - first_day + 1)
    sunrise, sunset = _sun_minutes(first_day, n_days, time_zone, latitude, longitude)
    known = dict(entities or {})
    for entity_id in entity_ids:
        if entity_id not in known:
            known[entity_id] = EntityInfo(entity_id=entity_id, domain=entity_id.split(".", 1)[0])
    return EventFrame(
        entity_ids=entity_ids,
        states=states,
        entity=entity.astype(np.int32, copy=False),
        new_state=new_state.astype(np.int32, copy=False),
        old_state=old_state.astype(np.int32, copy=False),
        t=t.astype(np.float64, copy=False),
        minute=minute,
        day=day,
        weekday=weekday,
        time_zone=time_zone,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        first_day=first_day,
        n_days=n_days,
        sunrise=sunrise,
        sunset=sunset,
        entities=known,
        holidays=frozenset((d - EPOCH_DAY).days for d in holidays),
    )


def frame_from_events(
    events: Iterable[StateChange],
    *,
    time_zone: str,
    start: datetime | None = None,
    end: datetime | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    entities: Mapping[str, EntityInfo] | None = None,
    holidays: Iterable[date] = (),
) -> EventFrame:
    """Build a frame from state-change objects (for tests, small homes and non-SQL sources).

    Events with no new state are left out. `start`/`end` default to the first and last event.
    """
    entity_index: dict[str, int] = {}
    state_index: dict[str, int] = {}
    ent: list[int] = []
    new: list[int] = []
    old: list[int] = []
    times: list[float] = []
    for event in events:
        if event.new_state is None:
            continue
        ent.append(entity_index.setdefault(event.entity_id, len(entity_index)))
        new.append(state_index.setdefault(event.new_state, len(state_index)))
        old.append(NO_STATE if event.old_state is None else state_index.setdefault(event.old_state, len(state_index)))
        times.append(event.time.timestamp())
    t = np.asarray(times, dtype=np.float64)
    if start is None:
        start = datetime.fromtimestamp(float(t.min()) if t.size else 0.0, tz=UTC)
    if end is None:
        end = datetime.fromtimestamp(math.nextafter(float(t.max()), math.inf) if t.size else 1.0, tz=UTC)
    return frame_from_columns(
        entity_ids=list(entity_index),
        states=list(state_index),
        entity=np.asarray(ent, dtype=np.int32),
        new_state=np.asarray(new, dtype=np.int32),
        old_state=np.asarray(old, dtype=np.int32),
        t=t,
        time_zone=time_zone,
        start=start,
        end=end,
        latitude=latitude,
        longitude=longitude,
        entities=entities,
        holidays=holidays,
    )


def frame_from_lists(
    entity_id: list[str],
    old_state: list[str | None],
    new_state: list[str | None],
    t: np.ndarray,
    *,
    time_zone: str,
    start: datetime,
    end: datetime,
    latitude: float | None = None,
    longitude: float | None = None,
    entities: Mapping[str, EntityInfo] | None = None,
) -> EventFrame:
    """Build a frame from the parallel columns of the store's bulk read; rows without a new state are dropped."""
    entity_index: dict[str, int] = {}
    state_index: dict[str | None, int] = {None: NO_STATE}
    ent = np.fromiter((entity_index.setdefault(e, len(entity_index)) for e in entity_id), np.int32, len(entity_id))

    def _index(value: str | None) -> int:
        found = state_index.get(value)
        if found is None:
            found = state_index[value] = len(state_index) - 1
        return found

    new = np.fromiter((_index(v) for v in new_state), np.int32, len(new_state))
    old = np.fromiter((_index(v) for v in old_state), np.int32, len(old_state))
    keep = new != NO_STATE
    states = [s for s in state_index if s is not None]
    if not keep.all():
        ent, new, old, t = ent[keep], new[keep], old[keep], t[keep]
    return frame_from_columns(
        entity_ids=list(entity_index),
        states=states,
        entity=ent,
        new_state=new,
        old_state=old,
        t=np.asarray(t, dtype=np.float64),
        time_zone=time_zone,
        start=start,
        end=end,
        latitude=latitude,
        longitude=longitude,
        entities=entities,
    )
