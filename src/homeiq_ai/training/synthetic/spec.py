"""Records of a synthetic home: its registry, residents, events and the ground truth planted in them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from homeiq_ai.training.synthetic.events import EventLog

__all__ = [
    "ANOMALY_KINDS",
    "DAY_SETS",
    "Anomaly",
    "Area",
    "CausalPair",
    "DayMark",
    "DayTypeDifference",
    "Device",
    "Entity",
    "Event",
    "GeneratedHome",
    "GroundTruth",
    "HomeSpec",
    "NoiseTruth",
    "Resident",
    "Routine",
    "Sequence",
    "SequenceStep",
    "SunRoutine",
    "TypicalDuration",
    "UnavailableWindow",
    "Vacation",
]

DaySet = Literal["all", "weekdays", "weekends", "specific"]
DAY_SETS = ("all", "weekdays", "weekends", "specific")
AnomalyKind = Literal["unusual_time", "unusual_frequency", "left_on_too_long", "missing_activity"]
ANOMALY_KINDS = ("unusual_time", "unusual_frequency", "left_on_too_long", "missing_activity")


class Area(msgspec.Struct, frozen=True, kw_only=True):
    """A room or outdoor space, as in Home Assistant's area registry."""

    area_id: str
    name: str
    floor: int = 0


class Device(msgspec.Struct, frozen=True, kw_only=True):
    """A physical device, as in Home Assistant's device registry."""

    device_id: str
    name: str
    area_id: str | None
    manufacturer: str
    model: str


class Entity(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One entity, as in Home Assistant's entity registry, with its state when the history starts."""

    entity_id: str
    domain: str
    friendly_name: str
    area_id: str | None = None
    device_id: str | None = None
    device_class: str | None = None
    unit_of_measurement: str | None = None
    state_class: str | None = None
    entity_category: str | None = None
    initial_state: str = "unknown"


class Event(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One state change in Home Assistant's shape; `time` is timezone-aware UTC."""

    entity_id: str
    old_state: str | None
    new_state: str
    time: datetime
    attributes: dict[str, Any] | None = None


class Resident(msgspec.Struct, frozen=True, kw_only=True):
    """A person living in the home and the schedule the behaviour is planted from.

    Times are local "HH:MM". `work_days` are weekday numbers (0 = Monday) on which the resident
    leaves home for work or school; public holidays and vacations are days off.
    """

    resident_id: str
    name: str
    person_entity_id: str
    schedule: Literal["office_worker", "remote_worker", "shift_worker", "retired", "student"]
    bedroom_area_id: str
    wake_workday: str
    wake_day_off: str
    bedtime: str
    work_days: list[int] = msgspec.field(default_factory=list)
    leave_time: str | None = None
    return_time: str | None = None


class Vacation(msgspec.Struct, frozen=True, kw_only=True):
    """Days (inclusive, local dates) when every resident is away and the home is empty."""

    start: date
    end: date


class HomeSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a synthetic home is: where it is, the generation parameters, its registry and residents."""

    seed: int
    home_type: str
    time_zone: str
    latitude: float
    longitude: float
    climate_zone: str
    country: str
    start: date
    days: int
    areas: list[Area]
    devices: list[Device]
    entities: list[Entity]
    residents: list[Resident]
    realism: str = "tight"
    """"tight" (residents keep time to minutes) or "loose" (see training.synthetic.realism)."""

    @property
    def entity_ids(self) -> list[str]:
        """Every entity id, in registry order."""
        return [e.entity_id for e in self.entities]


class Routine(msgspec.Struct, frozen=True, kw_only=True):
    """A time-of-day routine: `entity_id` goes to `state` at `local_time` (home time zone) with jitter.

    `days`: "all" days, "weekdays" (Monday to Friday that are not public holidays), "weekends"
    (Saturday, Sunday and public holidays) or "specific" (`weekdays`, 0 = Monday, holidays excluded).
    A routine owned by a resident happens only while that resident is at home (not on vacation).
    `spread_minutes` is the standard deviation of the jitter; `occurrences` are the exact UTC times
    of the state changes in the event stream. `derived_from` names the routine this one follows
    from (e.g. the light going off a typical duration after a planted "on"): a detector that finds it
    is right, one that misses it is not wrong.
    """

    routine_id: str
    entity_id: str
    state: str
    local_time: str
    spread_minutes: float
    days: DaySet
    weekdays: list[int]
    skip_probability: float
    occurrences: list[datetime]
    resident_id: str | None = None
    derived_from: str | None = None
    description: str = ""


class SunRoutine(msgspec.Struct, frozen=True, kw_only=True):
    """A routine anchored to sunrise or sunset: `state` at the sun event plus `offset_minutes`."""

    routine_id: str
    entity_id: str
    state: str
    sun_event: Literal["sunrise", "sunset"]
    offset_minutes: float
    spread_minutes: float
    skip_probability: float
    occurrences: list[datetime]
    description: str = ""


class CausalPair(msgspec.Struct, frozen=True, kw_only=True):
    """The response follows the trigger within `delay_max_s` (in `response_probability` of cases).

    `occurrences` are the trigger times that were followed by the response; `trigger_count` counts
    every trigger, answered or not.
    """

    pair_id: str
    trigger_entity_id: str
    trigger_state: str
    response_entity_id: str
    response_state: str
    delay_mean_s: float
    delay_min_s: float
    delay_max_s: float
    response_probability: float
    trigger_count: int
    occurrences: list[datetime]
    description: str = ""


class SequenceStep(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a planted sequence."""

    entity_id: str
    state: str


class Sequence(msgspec.Struct, frozen=True, kw_only=True):
    """Ordered steps, each within `max_gap_s` of the one before; `occurrences` are the first steps' times."""

    sequence_id: str
    name: str
    steps: list[SequenceStep]
    max_gap_s: float
    occurrences: list[datetime]


class DayTypeDifference(msgspec.Struct, frozen=True, kw_only=True):
    """The same entity and state at different local times on weekdays and weekends (None: not at all)."""

    entity_id: str
    state: str
    weekday_time: str | None
    weekend_time: str | None
    weekday_routine_id: str | None
    weekend_routine_id: str | None


class DayMark(msgspec.Struct, frozen=True, kw_only=True):
    """A planted first or last change of the day in an area (the bedroom door first opens around 08:30).

    Measured on the event stream: on `share_of_days` of the days of `days` ("all", "weekdays" or
    "weekends", holidays counting as weekend days) on which the area saw any change, this entity's change
    to `state` was the area's first (`kind` "first") or last ("last") of the home day (04:00 to 04:00
    local). `local_time` is the median local time, the window holds the middle 80%, `occurrences` are
    the UTC times on those days.
    """

    kind: Literal["first", "last"]
    area_id: str
    entity_id: str
    state: str
    local_time: str
    window_start: str
    window_end: str
    days: str
    share_of_days: float
    occurrences: list[datetime]


class TypicalDuration(msgspec.Struct, frozen=True, kw_only=True):
    """How long `entity_id` stays in `state`: planted mean and standard deviation, and what came out.

    `occurrences` are the start times of the normal periods (anomalies left out); the observed
    statistics are over those periods.
    """

    entity_id: str
    state: str
    mean_minutes: float
    std_minutes: float
    observed_mean_minutes: float
    observed_std_minutes: float
    occurrences: list[datetime]


class Anomaly(msgspec.Struct, frozen=True, kw_only=True):
    """An injected anomaly and the UTC window it lies in."""

    anomaly_id: str
    kind: AnomalyKind
    entity_id: str
    start: datetime
    end: datetime
    description: str = ""


class UnavailableWindow(msgspec.Struct, frozen=True, kw_only=True):
    """An entity reported `unavailable` (or `unknown`) from `start` until its next real state at `end`."""

    entity_id: str
    state: str
    start: datetime
    end: datetime


class NoiseTruth(msgspec.Struct, frozen=True, kw_only=True):
    """What is noise and carries no behaviour: chatty and diagnostic entities, dropouts, restarts."""

    chatty_entities: list[str]
    diagnostic_entities: list[str]
    background_entities: list[str]
    unavailable: list[UnavailableWindow]
    restarts: list[datetime]


class GroundTruth(msgspec.Struct, frozen=True, kw_only=True):
    """Everything planted in a synthetic home's events, to score detectors against."""

    routines: list[Routine]
    sun_routines: list[SunRoutine]
    causal_pairs: list[CausalPair]
    sequences: list[Sequence]
    day_type_differences: list[DayTypeDifference]
    durations: list[TypicalDuration]
    anomalies: list[Anomaly]
    noise: NoiseTruth
    holidays: list[date]
    vacations: list[Vacation]
    day_marks: list[DayMark] = msgspec.field(default_factory=list)
    """Firsts and lasts of the day (measured in loose homes; empty in tight ones)."""

    def implied_pairs(self) -> list[tuple[str, str, str, str, float]]:
        """Every (trigger entity, trigger state, response entity, response state, max delay s) relation.

        The planted causal pairs plus each pair of consecutive steps of every sequence: a detector
        that reports one of these has found something real.
        """
        pairs = [
            (p.trigger_entity_id, p.trigger_state, p.response_entity_id, p.response_state, p.delay_max_s)
            for p in self.causal_pairs
        ]
        for seq in self.sequences:
            for a, b in zip(seq.steps, seq.steps[1:], strict=False):
                pairs.append((a.entity_id, a.state, b.entity_id, b.state, seq.max_gap_s))
        return pairs


class GeneratedHome(msgspec.Struct, frozen=True, kw_only=True):
    """A generated home: its spec, its events (columnar, sorted by time) and the ground truth."""

    spec: HomeSpec
    events: EventLog
    truth: GroundTruth
