"""A compact, columnar, time-sorted log of state changes, and the buffer the generator fills it from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from homeiq_ai.training.synthetic.spec import Event

__all__ = ["EPOCH", "EventBuffer", "EventLog", "from_us", "to_us"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(t: datetime) -> int:
    """Microseconds since the unix epoch of an aware datetime (exact)."""
    return (t - EPOCH) // _US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the unix epoch (exact)."""
    return EPOCH + timedelta(microseconds=int(us))


class EventLog:
    """State changes as parallel numpy columns, sorted by time (ties keep generation order).

    `entity`, `new_state` and `old_state` index `entity_ids` and `states`; `old_state` is -1 where
    no earlier state is known. `attr` indexes `attributes` (-1: none). Iterating yields `Event`s;
    `to_events()` builds the whole list (a year of a large home is millions: prefer iterating).
    """

    __slots__ = ("attr", "attributes", "entity", "entity_ids", "new_state", "old_state", "states", "time_us")

    def __init__(
        self,
        time_us: np.ndarray,
        entity: np.ndarray,
        new_state: np.ndarray,
        old_state: np.ndarray,
        attr: np.ndarray,
        entity_ids: list[str],
        states: list[str],
        attributes: list[dict[str, Any]],
    ) -> None:
        self.time_us = time_us
        self.entity = entity
        self.new_state = new_state
        self.old_state = old_state
        self.attr = attr
        self.entity_ids = entity_ids
        self.states = states
        self.attributes = attributes

    def __len__(self) -> int:
        return int(self.time_us.shape[0])

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events, {len(self.entity_ids)} entities)"

    def __iter__(self) -> Iterator[Event]:
        ids, states, attrs = self.entity_ids, self.states, self.attributes
        for t, e, n, o, a in zip(
            self.time_us.tolist(),
            self.entity.tolist(),
            self.new_state.tolist(),
            self.old_state.tolist(),
            self.attr.tolist(),
            strict=True,
        ):
            yield Event(
                entity_id=ids[e],
                old_state=states[o] if o >= 0 else None,
                new_state=states[n],
                time=EPOCH + timedelta(microseconds=t),
                attributes=attrs[a] if a >= 0 else None,
            )

    def to_events(self) -> list[Event]:
        """Every event as an `Event`, in time order."""
        return list(self)

    def times(self) -> list[datetime]:
        """The event times as aware UTC datetimes."""
        return [EPOCH + timedelta(microseconds=t) for t in self.time_us.tolist()]

    def entity_id_column(self) -> np.ndarray:
        """The entity id of every event, as a numpy array of str."""
        return (
            np.asarray(self.entity_ids, dtype=object)[self.entity]
            if len(self)
            else np.array([], dtype=object)
        )

    def state_column(self, old: bool = False) -> np.ndarray:
        """The new (or old) state of every event as a numpy array of str (None where unknown)."""
        table = np.asarray([*self.states, None], dtype=object)
        return table[self.old_state if old else self.new_state]

    def mask(self, keep: np.ndarray) -> EventLog:
        """The events where the boolean array `keep` is true, sharing the tables."""
        return EventLog(
            self.time_us[keep],
            self.entity[keep],
            self.new_state[keep],
            self.old_state[keep],
            self.attr[keep],
            self.entity_ids,
            self.states,
            self.attributes,
        )

    def for_entity(self, entity_id: str) -> EventLog:
        """The events of one entity (empty when it has none)."""
        try:
            index = self.entity_ids.index(entity_id)
        except ValueError:
            return self.mask(np.zeros(len(self), dtype=bool))
        return self.mask(self.entity == index)

    def state_index(self, state: str) -> int:
        """The index of a state string in the table, -2 when it never occurs."""
        try:
            return self.states.index(state)
        except ValueError:
            return -2

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventLog):
            return NotImplemented
        if len(self) != len(other) or not np.array_equal(self.time_us, other.time_us):
            return False
        if not np.array_equal(self.entity_id_column(), other.entity_id_column()):
            return False
        if not np.array_equal(self.state_column(), other.state_column()):
            return False
        if not np.array_equal(self.state_column(old=True), other.state_column(old=True)):
            return False
        mine = [self.attributes[a] if a >= 0 else None for a in self.attr.tolist()]
        theirs = [other.attributes[a] if a >= 0 else None for a in other.attr.tolist()]
        return mine == theirs

    __hash__ = None  # type: ignore[assignment]


class EventBuffer:
    """Collects state changes from every part of the generator, then builds the sorted EventLog.

    Discrete changes are appended one by one; chatty sensors add whole numpy blocks. Building
    sorts by time (stable, so ties keep the order they were added in), drops changes that repeat
    the entity's current state with no attributes (Home Assistant records none), and fills
    `old_state` from each entity's previous state or its initial state.
    """

    def __init__(self, entity_ids: list[str]) -> None:
        self.entity_ids = entity_ids
        self.index = {e: i for i, e in enumerate(entity_ids)}
        self._states: dict[str, int] = {}
        self._state_list: list[str] = []
        self._attrs: list[dict[str, Any]] = []
        self._t: list[int] = []
        self._e: list[int] = []
        self._s: list[int] = []
        self._a: list[int] = []
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def state_code(self, state: str) -> int:
        """The table index of a state string, adding it when new."""
        code = self._states.get(state)
        if code is None:
            code = len(self._state_list)
            self._states[state] = code
            self._state_list.append(state)
        return code

    def add(self, time_us: int, entity_id: str, state: str, attributes: dict[str, Any] | None = None) -> None:
        """Append one state change."""
        self._t.append(time_us)
        self._e.append(self.index[entity_id])
        self._s.append(self.state_code(state))
        if attributes is None:
            self._a.append(-1)
        else:
            self._a.append(len(self._attrs))
            self._attrs.append(attributes)

    def discrete(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The one-by-one changes added so far as (time_us, entity index, state code) arrays (copies)."""
        return (
            np.asarray(self._t, dtype=np.int64),
            np.asarray(self._e, dtype=np.int32),
            np.asarray(self._s, dtype=np.int32),
        )

    def add_block(self, time_us: np.ndarray, entity_id: str, codes: np.ndarray) -> None:
        """Append many changes of one entity: `codes` are state_code() indices."""
        n = time_us.shape[0]
        self._blocks.append(
            (
                time_us.astype(np.int64, copy=False),
                np.full(n, self.index[entity_id], dtype=np.int32),
                codes.astype(np.int32, copy=False),
            )
        )

    def build(self, initial_states: dict[str, str], start_us: int, end_us: int) -> EventLog:
        """Sort, clip to [start_us, end_us), drop repeats and fill old states.

        Args:
            initial_states: Each entity's state when the period starts.
            start_us: First microsecond of the period.
            end_us: End of the period (exclusive).

        Returns:
            The EventLog.
        """
        parts = [
            (
                np.asarray(self._t, dtype=np.int64),
                np.asarray(self._e, dtype=np.int32),
                np.asarray(self._s, dtype=np.int32),
            ),
            *self._blocks,
        ]
        a = np.full(sum(p[0].shape[0] for p in parts), -1, dtype=np.int32)
        a[: len(self._a)] = self._a
        # Free the buffers as soon as they are joined: a year of a large home is millions of changes.
        self._blocks, self._t, self._e, self._s, self._a = [], [], [], [], []
        t = np.concatenate([p[0] for p in parts])
        order = np.argsort(t, kind="stable")
        t = t[order]
        a = a[order]
        e = np.concatenate([p[1] for p in parts])[order]
        s = np.concatenate([p[2] for p in parts])[order]
        del parts, order
        lo, hi = np.searchsorted(t, [start_us, end_us], side="left")
        t, e, s, a = t[lo:hi], e[lo:hi], s[lo:hi], a[lo:hi]
        init = np.asarray([self.state_code(initial_states[x]) for x in self.entity_ids], dtype=np.int32)
        # Previous state of the same entity: group by entity keeping time order.
        by_entity = np.argsort(e, kind="stable")
        e_sorted = e[by_entity]
        s_sorted = s[by_entity]
        prev = np.empty_like(s_sorted)
        if len(prev):
            prev[1:] = s_sorted[:-1]
            first = np.ones(len(prev), dtype=bool)
            first[1:] = e_sorted[1:] != e_sorted[:-1]
            prev[first] = init[e_sorted[first]]
            old = np.empty_like(s)
            old[by_entity] = prev
        else:
            old = np.empty(0, dtype=np.int32)
        # Repeats carry no change; a repeat is dropped, so the next change's previous state is unchanged.
        keep = (s != old) | (a >= 0)
        return EventLog(
            t[keep],
            e[keep],
            s[keep],
            old[keep],
            a[keep],
            list(self.entity_ids),
            list(self._state_list),
            list(self._attrs),
        )
