"""What every detector reads (EventFrame) and returns (PatternCandidate), and the Detector signature."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

__all__ = ["Detector", "DetectorConfig", "EntityInfo", "EventFrame", "PatternCandidate"]

NO_STATE = -1


@dataclass(frozen=True, slots=True)
class EntityInfo:
    """What the detectors know of an entity besides its events."""

    entity_id: str
    domain: str
    area_id: str | None = None
    device_class: str | None = None
    entity_category: str | None = None
    friendly_name: str | None = None
    unit_of_measurement: str | None = None
    """A sensor with a unit is a measurement (Home Assistant requires its states to be numbers)."""


@dataclass(frozen=True, slots=True)
class EventFrame:
    """The state changes of one analysis window as numpy columns, sorted by time.

    Every event i has `entity[i]` (index into `entity_ids`), `new_state[i]` and `old_state[i]`
    (indexes into `states`; NO_STATE for None), `t[i]` (seconds since the Unix epoch, UTC, float64),
    and, in the home's time zone, `minute[i]` (minute of the local day, 0..1439), `day[i]` (local
    date as days since 1970-01-01) and `weekday[i]` (0 = Monday).

    `sunrise[d]` / `sunset[d]` give the local minute of sunrise/sunset for local day `first_day + d`
    (NaN where the sun does not rise or set, or where the location is unknown).
    """

    entity_ids: list[str]
    states: list[str]
    entity: np.ndarray
    new_state: np.ndarray
    old_state: np.ndarray
    t: np.ndarray
    minute: np.ndarray
    day: np.ndarray
    weekday: np.ndarray
    time_zone: str
    start: datetime
    end: datetime
    first_day: int
    n_days: int
    sunrise: np.ndarray
    sunset: np.ndarray
    entities: Mapping[str, EntityInfo] = field(default_factory=dict)
    holidays: frozenset[int] = frozenset()
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """What detectors derive from this frame and share (the time-of-day routines day_type builds on).

    It lives and dies with the frame; a frame made from another (`select`, `replace`) starts empty.
    """

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def select(self, mask: np.ndarray) -> EventFrame:
        """The same frame with only the events where `mask` is true (indexes and sun times unchanged)."""
        return replace(
            self,
            entity=self.entity[mask],
            new_state=self.new_state[mask],
            old_state=self.old_state[mask],
            t=self.t[mask],
            minute=self.minute[mask],
            day=self.day[mask],
            weekday=self.weekday[mask],
        )

    def entity_index(self, entity_id: str) -> int | None:
        """Index of an entity in `entity_ids`, or None when it has no event in the window."""
        try:
            return self.entity_ids.index(entity_id)
        except ValueError:
            return None

    def state_index(self, state: str) -> int | None:
        """Index of a state string in `states`, or None when no event has it."""
        try:
            return self.states.index(state)
        except ValueError:
            return None


@dataclass(slots=True)
class PatternCandidate:
    """A pattern a detector found, before it is matched with stored patterns and scored.

    `identity` is what makes two runs' candidates the same pattern (type, entities, states, day
    set...); for time-of-day routines the orchestrator also matches the time within a tolerance, so a
    routine that drifts by a few minutes keeps its id. `details` holds the evidence a person can check:
    at least `occurrence_times` (ISO-8601 local) where there are occurrences, and for time-based
    patterns a 24-bin `histogram`.
    """

    pattern_type: str
    entity_ids: list[str]
    identity: tuple[Any, ...]
    description: str
    confidence: float
    occurrences: int
    first_seen: datetime | None
    last_seen: datetime | None
    area_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds shared by the detectors; every value can be overridden per run."""

    min_occurrences: int = 4
    min_confidence: float = 0.5
    co_occurrence_window_s: float = 120.0
    sequence_window_s: float = 300.0
    chatty_events_per_day: float = 200.0
    ignore_states: frozenset[str] = frozenset({"unavailable", "unknown", ""})
    ignore_domains: frozenset[str] = frozenset({"sun", "weather", "update", "zone"})
    ignore_entity_categories: frozenset[str] = frozenset({"diagnostic", "config"})


Detector = Callable[[EventFrame, DetectorConfig], Sequence[PatternCandidate]]
