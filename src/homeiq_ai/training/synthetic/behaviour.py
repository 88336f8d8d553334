"""Planted behaviour: routines, sun routines, causal pairs, sequences, durations, anomalies, background.

Every planted item is recorded while it is planted; `Planter.finalize` keeps only the occurrences
whose state changes really made it into the event stream (Home Assistant records no change when an
entity is already in the state, e.g. blinds an automation closes while they stay closed on vacation).

Ownership keeps the truth exact: an entity that carries planted behaviour is used by nothing else,
and the triggers of causal pairs and the starts of sequences come at random times, so they form no
time-of-day routine of their own. Background entities (the other lights, motion sensors, windows,
plugs, ...) switch at random while someone is awake at home and carry no pattern.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from homeiq_ai.training.synthetic.events import EventBuffer, EventLog, from_us
from homeiq_ai.training.synthetic.layout import Layout
from homeiq_ai.training.synthetic.realism import TIGHT, Realism, human_spread
from homeiq_ai.training.synthetic.spec import (
    Anomaly,
    CausalPair,
    DayTypeDifference,
    GroundTruth,
    NoiseTruth,
    Resident,
    Routine,
    Sequence,
    SequenceStep,
    SunRoutine,
    TypicalDuration,
    Vacation,
)
from homeiq_ai.training.synthetic.timeline import (
    HOUR_US,
    MINUTE_US,
    SECOND_US,
    Clock,
    Intervals,
    hhmm,
    intersect,
    merge,
    poisson_in,
    subtract,
)
from homeiq_ai.training.synthetic.weather import WeatherSeries

__all__ = ["Planter"]

_ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]
_MOTION_RATES = {
    "hallway": 1.2,
    "stairs": 0.9,
    "landing": 0.7,
    "laundry": 0.2,
    "garage": 0.15,
    "basement": 0.12,
}


def _minutes(hh_mm: str) -> float:
    h, m = hh_mm.split(":")
    return int(h) * 60.0 + int(m)


def _uniform_stats(lo: float, hi: float) -> tuple[float, float]:
    return (lo + hi) / 2.0, (hi - lo) / math.sqrt(12.0)


@dataclass
class _RoutineDraft:
    routine_id: str
    entity_id: str
    state: str
    minutes: float
    spread: float
    days: str
    weekdays: list[int]
    skip: float
    resident_id: str | None = None
    derived_from: str | None = None
    description: str = ""
    occ: list[int] = field(default_factory=list)


@dataclass
class _SunDraft:
    routine_id: str
    entity_id: str
    state: str
    sun_event: str
    offset: float
    spread: float
    description: str = ""
    occ: list[int] = field(default_factory=list)


@dataclass
class _PairDraft:
    pair_id: str
    trigger: tuple[str, str]
    response: tuple[str, str]
    delay_s: tuple[float, float]
    probability: float
    description: str = ""
    triggers: list[int] = field(default_factory=list)
    occ: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _SeqDraft:
    sequence_id: str
    name: str
    steps: list[tuple[str, str]]
    max_gap_s: float
    occ: list[list[int]] = field(default_factory=list)


@dataclass
class _DurationDraft:
    entity_id: str
    state: str
    mean: float
    std: float
    periods: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _AnomalyDraft:
    kind: str
    entity_id: str
    day: int
    description: str = ""
    start: int = 0
    end: int = 0
    events: list[tuple[str, str, int]] = field(default_factory=list)
    suppressed: int = 0


class _Background:
    """How a background entity switches: rate while someone is awake at home, durations, states."""

    def __init__(
        self,
        rate: float,
        duration: tuple[str, float, float, float, float],
        on: str = "on",
        off: str = "off",
        gap_min: float = 5.0,
        always: bool = False,
    ) -> None:
        self.rate = rate
        self.duration = duration  # ("lognormal", median_min, sigma, lo, hi) or ("uniform", lo_min, hi_min, 0, 0)
        self.on = on
        self.off = off
        self.gap_min = gap_min
        self.always = always


class Planter:
    """Plants a household's behaviour into an EventBuffer and records the ground truth of it."""

    def __init__(
        self,
        clock: Clock,
        layout: Layout,
        residents: list[Resident],
        vacations: list[Vacation],
        buffer: EventBuffer,
        weather: WeatherSeries,
        climate_zone: str,
        rng: np.random.Generator,
        realism: Realism | None = None,
        realism_rng: np.random.Generator | None = None,
    ) -> None:
        self.clock = clock
        self.days = clock.days
        self.layout = layout
        self.roles = layout.roles
        self.residents = residents
        self.vacations = vacations
        self.buffer = buffer
        self.weather = weather
        self.climate_zone = climate_zone
        self.rng = rng
        self.realism = realism or TIGHT
        # Loose homes draw their extra randomness apart, so that the tight draws stay what they were.
        self.loose_rng = realism_rng or np.random.default_rng(0)
        self.owned: set[str] = set()
        self.active: dict[str, Intervals] = defaultdict(list)
        self.routines: list[_RoutineDraft] = []
        self.sun_routines: list[_SunDraft] = []
        self.pairs: list[_PairDraft] = []
        self.sequences: list[_SeqDraft] = []
        self.durations: dict[tuple[str, str], _DurationDraft] = {}
        self.anomalies: list[_AnomalyDraft] = []
        self.differences: list[tuple[_RoutineDraft | None, _RoutineDraft | None]] = []
        self.away: dict[str, Intervals] = defaultdict(list)
        self.awake: dict[str, Intervals] = defaultdict(list)
        self.awake_home: Intervals = []
        self.home: dict[str, Intervals] = {}
        self.reserved: dict[str, Intervals] = defaultdict(list)
        self.background_entities: list[str] = []
        self.initial_states: dict[str, str] = {}
        self.climate_modes: list[str] = []
        self.dinners: list[int] = []
        self.follow_up: dict[str, _RoutineDraft] = {}

    # ----------------------------------------------------------------- primitives

    def emit(self, t: int, entity_id: str, state: str, attributes: dict[str, Any] | None = None) -> None:
        """Record one state change of an entity."""
        self.buffer.add(t, entity_id, state, attributes)

    def pulse(
        self,
        entity_id: str,
        t_on: int,
        t_off: int,
        on: str = "on",
        off: str = "off",
        duration: _DurationDraft | None = None,
    ) -> None:
        """The entity goes to `on` at t_on and back to `off` at t_off (its active interval is kept)."""
        self.emit(t_on, entity_id, on)
        self.emit(t_off, entity_id, off)
        self.active[entity_id].append((t_on, t_off))
        if duration is not None:
            duration.periods.append((t_on, t_off))

    def _jitter(self, sd_min: float) -> int:
        if sd_min <= 0:
            return 0
        x = float(np.clip(self.rng.normal(0.0, sd_min), -2.5 * sd_min, 2.5 * sd_min))
        return round(x * MINUTE_US)

    def _human(self, sd_min: float) -> int:
        """A person's timing jitter: the planted spread, widened in loose homes."""
        return self._jitter(human_spread(self.realism, sd_min))

    def _uniform_s(self, lo: float, hi: float) -> int:
        return round(float(self.rng.uniform(lo, hi)) * SECOND_US)

    def _dur(self, mean: float, sd: float, lo: float, hi: float) -> int:
        return round(float(np.clip(self.rng.normal(mean, sd), lo, hi)) * MINUTE_US)

    def _duration(self, entity_id: str, state: str, mean: float, std: float) -> _DurationDraft:
        key = (entity_id, state)
        if key not in self.durations:
            self.durations[key] = _DurationDraft(entity_id, state, mean, std)
        return self.durations[key]

    def _routine(self, **kwargs: Any) -> _RoutineDraft:
        steady = kwargs.pop("steady", False)  # acts a person never skips (leaving the bedroom)
        draft = _RoutineDraft(**kwargs)
        loose = self.realism.skip_range
        if loose is not None and draft.resident_id is not None and draft.derived_from is None and not steady:
            # People drift and skip days; automations keep their time.
            draft.spread = round(human_spread(self.realism, draft.spread), 2)
            draft.skip = round(float(self.loose_rng.uniform(*loose)), 3)
        self.routines.append(draft)
        self.owned.add(draft.entity_id)
        return draft

    def _derived(self, base: _RoutineDraft, state: str, mean_min: float, sd_min: float, what: str) -> _RoutineDraft:
        draft = self._routine(
            routine_id=f"{base.routine_id}_{state}",
            entity_id=base.entity_id,
            state=state,
            minutes=base.minutes + mean_min,
            spread=round(math.hypot(base.spread, sd_min), 2),
            days=base.days,
            weekdays=base.weekdays,
            skip=base.skip,
            resident_id=base.resident_id,
            derived_from=base.routine_id,
            description=what,
        )
        self.follow_up[base.routine_id] = draft
        return draft

    def _awake_home_at(self, t: int) -> bool:
        i = _find(self.awake_home, t)
        return i >= 0

    def _day_eligible(self, draft: _RoutineDraft, day_index: int) -> bool:
        d = self.days[day_index]
        if draft.days == "all":
            return True
        if draft.days == "weekdays":
            return not d.day_off
        if draft.days == "weekends":
            return d.day_off
        return d.weekday in draft.weekdays and not d.is_holiday

    # ----------------------------------------------------------------- plan

    def plant(self) -> None:
        """Plant everything, in an order that lets later parts see earlier occupancy."""
        self._plan_anomalies()
        self._plant_residents()
        self._compute_occupancy()
        self._plant_sequences()
        self._plant_appliances()
        self._plant_causal_pairs()
        self._plant_automations()
        self._plant_climate()
        self._plant_anomaly_events()
        self._plant_background()

    def _eligible_anomaly_days(self) -> list[int]:
        return [
            i
            for i in range(1, len(self.days) - 2)
            if not any(self.days[j].vacation for j in range(max(0, i - 1), min(len(self.days), i + 4)))
        ]

    def _plan_anomalies(self) -> None:
        days = self._eligible_anomaly_days()
        if len(self.days) < 10 or len(days) < 8:
            return
        per_kind = max(1, len(self.days) // 60)
        chosen: list[int] = []
        pool = [int(x) for x in self.rng.permutation(days)]
        plan: list[tuple[str, int]] = []
        for _ in range(per_kind):
            for kind in ("unusual_time", "unusual_frequency", "left_on_too_long", "missing_activity"):
                for day in pool:
                    # Anomalies keep four days apart so that each one stands alone.
                    if all(abs(day - c) > 4 for c in chosen):
                        chosen.append(day)
                        plan.append((kind, day))
                        break
        for kind, day in plan:
            if kind == "unusual_time":
                options = [self.roles[r] for r in ("coffee_maker", "hood") if r in self.roles]
            elif kind == "left_on_too_long":
                options = [self.roles[r] for r in ("coffee_maker", "tv") if r in self.roles]
            elif kind == "missing_activity":
                options = [self.roles["coffee_maker"]] if "coffee_maker" in self.roles else []
            else:
                options = ["<background light>"]
            if options:
                entity = options[int(self.rng.integers(len(options)))]
                self.anomalies.append(_AnomalyDraft(kind, entity, day))

    def _anomaly(self, kind: str, entity_id: str, day_index: int) -> _AnomalyDraft | None:
        for a in self.anomalies:
            if a.kind == kind and a.entity_id == entity_id and a.day == day_index:
                return a
        return None

    def _missing(self, entity_id: str, day_index: int) -> _AnomalyDraft | None:
        for a in self.anomalies:
            if a.kind == "missing_activity" and a.entity_id == entity_id and a.day <= day_index < a.day + 3:
                return a
        return None

    # ----------------------------------------------------------------- residents

    def _split_routine(
        self,
        rid: str,
        entity_id: str,
        state: str,
        wd_min: float,
        we_min: float,
        spread: float,
        skip: float,
        resident: Resident | None,
        what: str,
    ) -> tuple[_RoutineDraft | None, _RoutineDraft | None, _RoutineDraft | None]:
        """One routine on all days, or a weekday and a weekend routine when the times differ."""
        owner = resident.resident_id if resident else None
        if round(wd_min) == round(we_min):
            d = self._routine(
                routine_id=rid,
                entity_id=entity_id,
                state=state,
                minutes=wd_min,
                spread=spread,
                days="all",
                weekdays=_ALL_DAYS,
                skip=skip,
                resident_id=owner,
                description=what,
            )
            return d, None, None
        wd = self._routine(
            routine_id=f"{rid}_weekdays",
            entity_id=entity_id,
            state=state,
            minutes=wd_min,
            spread=spread,
            days="weekdays",
            weekdays=[0, 1, 2, 3, 4],
            skip=skip,
            resident_id=owner,
            description=f"{what} on weekdays",
        )
        we = self._routine(
            routine_id=f"{rid}_weekends",
            entity_id=entity_id,
            state=state,
            minutes=we_min,
            spread=spread,
            days="weekends",
            weekdays=[5, 6],
            skip=skip,
            resident_id=owner,
            description=f"{what} on weekends",
        )
        self.differences.append((wd, we))
        return None, wd, we

    def _plant_residents(self) -> None:
        owners: dict[str, Resident] = {}
        for r in self.residents:
            owners.setdefault(r.bedroom_area_id, r)
            self.owned.add(r.person_entity_id)
            self.initial_states[r.person_entity_id] = "home"
        primary = self.residents[0]
        plans = []
        for r in self.residents:
            plans.append(self._resident_drafts(r, owners.get(r.bedroom_area_id) is r, r is primary))
        self._vacation_moves()
        for i, day in enumerate(self.days):
            for r, plan in zip(self.residents, plans, strict=True):
                if day.vacation:
                    continue
                self._resident_day(r, plan, i)

    def _resident_drafts(self, r: Resident, owns_bedroom: bool, primary: bool) -> dict[str, Any]:
        plan: dict[str, Any] = {}
        wd, we = _minutes(r.wake_workday), _minutes(r.wake_day_off)
        bed = r.bedroom_area_id
        light = self.roles.get(f"wake_light:{bed}") if owns_bedroom else None
        blinds = self.roles.get(f"wake_blinds:{bed}") if owns_bedroom else None
        name = r.name
        if light:
            dur = self._duration(light, "on", 20.0, 6.0)
            plan["wake_light"] = (
                light,
                self._split_routine(
                    f"{bed}_wake_light",
                    light,
                    "on",
                    wd,
                    we,
                    6.0,
                    0.1,
                    r,
                    f"{name} switches the bedroom light on on waking",
                ),
                dur,
            )
            for d in plan["wake_light"][1]:
                if d is not None:
                    self._derived(d, "off", 20.0, 6.0, "the bedroom light goes off about 20 minutes after waking")
            bedtime = self._routine(
                routine_id=f"{bed}_bedtime_light",
                entity_id=light,
                state="on",
                minutes=_minutes(r.bedtime),
                spread=10.0,
                days="all",
                weekdays=_ALL_DAYS,
                skip=0.08,
                resident_id=r.resident_id,
                description=f"{name} switches the bedroom light on at bedtime",
            )
            self._derived(bedtime, "off", 20.0, 6.0, "lights out about 20 minutes after going to bed")
            plan["bedtime"] = (light, bedtime, dur)
        door = self.roles.get(f"bedroom_door:{bed}") if owns_bedroom else None
        if door:
            morning = self._split_routine(
                f"{bed}_door_morning",
                door,
                "on",
                wd + 7,
                we + 7,
                6.0,
                0.1,
                r,
                f"{name} opens the bedroom door after waking",
            )
            for d in morning:
                if d is not None:
                    self._derived(d, "off", 0.2, 0.1, "the bedroom door closes again seconds later")
            evening = self._routine(
                routine_id=f"{bed}_door_night",
                entity_id=door,
                state="off",
                minutes=_minutes(r.bedtime) + 25,
                spread=10.0,
                days="all",
                weekdays=_ALL_DAYS,
                skip=0.05,
                resident_id=r.resident_id,
                description=f"{name} closes the bedroom door going to bed",
                steady=True,
            )
            self._derived(evening, "on", -0.2, 0.1, "the bedroom door opens seconds before it closes for the night")
            plan["door"] = (door, morning, evening)
        if blinds:
            plan["blinds"] = (
                blinds,
                self._split_routine(
                    f"{bed}_blinds_open",
                    blinds,
                    "open",
                    wd + 8,
                    we + 8,
                    4.0,
                    0.05,
                    r,
                    f"{name} opens the bedroom blinds",
                ),
            )
        if primary and "coffee_maker" in self.roles:
            coffee = self.roles["coffee_maker"]
            dur = self._duration(coffee, "on", 8.0, 2.0)
            drafts = self._split_routine(
                "coffee_maker",
                coffee,
                "on",
                wd + 15,
                we + 15,
                5.0,
                0.05,
                r,
                f"{name} makes coffee after waking",
            )
            for d in drafts:
                if d is not None:
                    self._derived(d, "off", 8.0, 2.0, "the coffee maker goes off about 8 minutes later")
            plan["coffee"] = (coffee, drafts, dur)
        if r.leave_time is not None:
            person = r.person_entity_id
            days = "weekdays" if r.work_days == [0, 1, 2, 3, 4] else "specific"
            sd_leave, sd_back, skip = {
                "office_worker": (6.0, 12.0, 0.06),
                "student": (4.0, 0.0, 0.04),
                "shift_worker": (5.0, 8.0, 0.05),
            }.get(r.schedule, (6.0, 12.0, 0.06))
            leave = self._routine(
                routine_id=f"{r.resident_id}_leaves",
                entity_id=person,
                state="not_home",
                minutes=_minutes(r.leave_time),
                spread=sd_leave,
                days=days,
                weekdays=list(r.work_days),
                skip=skip,
                resident_id=r.resident_id,
                description=f"{name} leaves for {'school' if r.schedule == 'student' else 'work'}",
            )
            back = None
            if r.return_time is not None:
                back = self._routine(
                    routine_id=f"{r.resident_id}_returns",
                    entity_id=person,
                    state="home",
                    minutes=_minutes(r.return_time),
                    spread=sd_back,
                    days=days,
                    weekdays=list(r.work_days),
                    skip=skip,
                    resident_id=r.resident_id,
                    description=f"{name} comes home from work",
                )
            if days == "weekdays":
                self.differences.append((leave, None))
            skip = leave.skip
            plan["work"] = (person, leave, back, sd_leave, sd_back, skip)
        if r.schedule == "retired":
            walk = self._routine(
                routine_id=f"{r.resident_id}_walk",
                entity_id=r.person_entity_id,
                state="not_home",
                minutes=wd + 135 - (wd + 135) % 15,
                spread=8.0,
                days="all",
                weekdays=_ALL_DAYS,
                skip=0.2,
                resident_id=r.resident_id,
                description=f"{name} goes for a morning walk",
            )
            back = self._derived(walk, "home", 60.0, 15.0, f"{name} is back from the walk about an hour later")
            plan["walk"] = (r.person_entity_id, walk, back)
        return plan

    def _vacation_moves(self) -> None:
        for v in self.vacations:
            first = (v.start - self.days[0].date).days
            last = (v.end - self.days[0].date).days
            leave = self.clock.local_us(first, float(self.rng.uniform(300, 420)))
            back = self.clock.local_us(last, float(self.rng.uniform(1140, 1260)))
            for r in self.residents:
                t0 = leave + self._uniform_s(0, 90)
                t1 = back + self._uniform_s(0, 90)
                self.emit(t0, r.person_entity_id, "not_home")
                self.emit(t1, r.person_entity_id, "home")
                self.away[r.resident_id].append((t0, t1))
                bedtime = self.clock.local_us(last, _minutes(r.bedtime) + 30)
                if bedtime > t1:
                    self.awake[r.resident_id].append((t1, bedtime))

    def _resident_day(self, r: Resident, plan: dict[str, Any], i: int) -> None:
        day = self.days[i]
        clock = self.clock
        rid = r.resident_id
        wake_nom = _minutes(r.wake_day_off if day.day_off else r.wake_workday)
        wake_t = clock.local_us(i, wake_nom) + self._human(6.0)
        if "wake_light" in plan:
            light, drafts, dur = plan["wake_light"]
            draft = drafts[0] or (drafts[2] if day.day_off else drafts[1])
            if self.rng.random() >= draft.skip:
                off = wake_t + self._dur(20.0, 6.0, 5.0, 40.0)
                self.pulse(light, wake_t, off, duration=dur)
                draft.occ.append(wake_t)
                self.follow_up[draft.routine_id].occ.append(off)
        if "blinds" in plan:
            blinds, drafts = plan["blinds"]
            draft = drafts[0] or (drafts[2] if day.day_off else drafts[1])
            if self.rng.random() >= draft.skip:
                t = clock.local_us(i, wake_nom + 8) + self._human(4.0)
                self.emit(t, blinds, "open")
                draft.occ.append(t)
        if "coffee" in plan:
            coffee, drafts, dur = plan["coffee"]
            draft = drafts[0] or (drafts[2] if day.day_off else drafts[1])
            left_on = self._anomaly("left_on_too_long", coffee, i)
            missing = self._missing(coffee, i)
            if missing is not None and self._day_eligible(draft, i):
                missing.suppressed += 1
            elif left_on is not None or self.rng.random() >= draft.skip:
                t = clock.local_us(i, wake_nom + 15) + self._human(5.0)
                if left_on is not None:
                    off = t + self._dur(6 * 60.0, 45.0, 5 * 60.0, 8 * 60.0)
                    self.pulse(coffee, t, off)
                    left_on.start, left_on.end = t, off
                    left_on.events += [(coffee, "on", t), (coffee, "off", off)]
                    left_on.description = "the coffee maker stayed on for hours after the morning coffee"
                else:
                    off = t + self._dur(8.0, 2.0, 3.0, 15.0)
                    self.pulse(coffee, t, off, duration=dur)
                    self.follow_up[draft.routine_id].occ.append(off)
                draft.occ.append(t)
        door_plan = plan.get("door")
        if door_plan is not None:
            # Leaving the bedroom in the morning: its first event on the days the light stays off.
            door, drafts, _ = door_plan
            morning = drafts[0] or (drafts[2] if day.day_off else drafts[1])
            if self.loose_rng.random() >= morning.skip:
                t = wake_t + round(float(self.loose_rng.uniform(3, 12)) * MINUTE_US)
                off = t + round(float(self.loose_rng.uniform(4, 20)) * SECOND_US)
                self.pulse(door, t, off)
                morning.occ.append(t)
                self.follow_up[morning.routine_id].occ.append(off)
        bed_t = clock.local_us(i, _minutes(r.bedtime)) + self._human(10.0)
        asleep = bed_t + 20 * MINUTE_US
        if "bedtime" in plan:
            light, draft, dur = plan["bedtime"]
            if self.rng.random() >= draft.skip:
                off = bed_t + self._dur(20.0, 6.0, 5.0, 40.0)
                self.pulse(light, bed_t, off, duration=dur)
                draft.occ.append(bed_t)
                self.follow_up[draft.routine_id].occ.append(off)
                asleep = off
        if door_plan is not None:
            # Going to bed: the door closes behind the resident, the bedroom's last change of the day.
            door, _, evening = door_plan
            if self.loose_rng.random() >= evening.skip:
                t = asleep + round(float(self.loose_rng.uniform(1, 6)) * MINUTE_US)
                on = t - round(float(self.loose_rng.uniform(4, 20)) * SECOND_US)
                self.pulse(door, on, t)
                evening.occ.append(t)
                self.follow_up[evening.routine_id].occ.append(on)
        self.awake[rid].append((wake_t, asleep))
        busy = False
        if "work" in plan:
            person, leave, back, sd_leave, sd_back, skip = plan["work"]
            if day.weekday in r.work_days and not day.is_holiday:
                busy = True
                if self.rng.random() >= skip:
                    t0 = clock.local_us(i, leave.minutes) + self._human(sd_leave)
                    if back is not None:
                        t1 = clock.local_us(i, back.minutes) + self._human(sd_back)
                        back.occ.append(t1)
                    else:
                        t1 = clock.local_us(i, float(self.rng.uniform(13 * 60, 17 * 60)))
                    leave.occ.append(t0)
                    self.emit(t0, person, "not_home")
                    self.emit(t1, person, "home")
                    self.away[rid].append((t0, t1))
        earliest_errand = 11 * 60.0
        if "walk" in plan:
            person, walk, back = plan["walk"]
            earliest_errand = 13 * 60.0
            if self.rng.random() >= walk.skip:
                t0 = clock.local_us(i, walk.minutes) + self._human(8.0)
                t1 = t0 + self._dur(60.0, 15.0, 30.0, 100.0)
                self.emit(t0, person, "not_home")
                self.emit(t1, person, "home")
                walk.occ.append(t0)
                back.occ.append(t1)
                self.away[rid].append((t0, t1))
        if not busy and r.schedule != "student" and self.rng.random() < (0.4 if day.day_off else 0.3):
            t0 = clock.local_us(i, float(self.rng.uniform(earliest_errand, 16 * 60)))
            t1 = t0 + round(float(self.rng.uniform(30, 120)) * MINUTE_US)
            self.emit(t0, r.person_entity_id, "not_home")
            self.emit(t1, r.person_entity_id, "home")
            self.away[rid].append((t0, t1))

    def _compute_occupancy(self) -> None:
        period = [(self.clock.start_us, self.clock.end_us)]
        pieces: list[tuple[int, int]] = []
        for r in self.residents:
            home = subtract(period, merge(self.away[r.resident_id]))
            self.home[r.resident_id] = home
            pieces += intersect(home, merge(self.awake[r.resident_id]))
        self.awake_home = merge(pieces)

    def home_count(self, t_us: np.ndarray) -> np.ndarray:
        """How many residents are at home at each time (microseconds)."""
        count = np.zeros(t_us.shape[0], dtype=np.int64)
        for home in self.home.values():
            if not home:
                continue
            starts = np.asarray([s for s, _ in home], dtype=np.int64)
            ends = np.asarray([e for _, e in home], dtype=np.int64)
            idx = np.searchsorted(starts, t_us, side="right") - 1
            inside = (idx >= 0) & (t_us < ends[np.maximum(idx, 0)])
            count += inside
        return count

    # ----------------------------------------------------------------- household

    def _plant_sequences(self) -> None:
        if all(r in self.roles for r in ("tv_lamp", "tv", "soundbar")):
            lamp, tv, bar = self.roles["tv_lamp"], self.roles["tv"], self.roles["soundbar"]
            seq = _SeqDraft("evening_tv", "evening TV", [(lamp, "on"), (tv, "on"), (bar, "on")], 60.0)
            self.sequences.append(seq)
            pair = _PairDraft(
                "tv_off_soundbar_off",
                (tv, "off"),
                (bar, "off"),
                (1.0, 8.0),
                1.0,
                "the soundbar follows the TV off",
            )
            self.pairs.append(pair)
            d_lamp = self._duration(lamp, "on", 130.0, 40.0)
            d_tv = self._duration(tv, "on", 100.0, 30.0)
            d_bar = self._duration(bar, "on", 100.0, 30.0)
            self.owned.update((lamp, tv, bar))
            for i in range(len(self.days)):
                left_on = self._anomaly("left_on_too_long", tv, i)
                if left_on is None and self.rng.random() >= 0.65:
                    continue
                t0 = self.clock.local_us(i, float(self.rng.uniform(19 * 60, 21.5 * 60)))
                if not self._awake_home_at(t0):
                    continue
                t_tv = t0 + self._uniform_s(5, 60)
                t_bar = t_tv + self._uniform_s(2, 15)
                if left_on is not None:
                    tv_off = t_tv + round(float(self.rng.uniform(7, 9)) * HOUR_US)
                    self.pulse(tv, t_tv, tv_off)
                    left_on.start, left_on.end = t_tv, tv_off
                    left_on.events += [(tv, "on", t_tv), (tv, "off", tv_off)]
                    left_on.description = "the TV stayed on all night"
                else:
                    tv_off = t_tv + self._dur(100.0, 30.0, 20.0, 240.0)
                    self.pulse(tv, t_tv, tv_off, duration=d_tv)
                bar_off = tv_off + self._uniform_s(1, 8)
                self.pulse(bar, t_bar, bar_off, duration=None if left_on else d_bar)
                self.pulse(lamp, t0, t0 + self._dur(130.0, 40.0, 20.0, 300.0), duration=d_lamp)
                seq.occ.append([t0, t_tv, t_bar])
                pair.triggers.append(tv_off)
                pair.occ.append((tv_off, bar_off))
        if all(r in self.roles for r in ("kitchen_light", "hood", "radio")):
            light, hood, radio = self.roles["kitchen_light"], self.roles["hood"], self.roles["radio"]
            steps = [(light, "on"), (hood, "on"), (radio, "on")]
            kettle = self.roles.get("kettle") if self.realism.kettle else None
            if kettle is not None:
                steps.append((kettle, "on"))  # loose homes: a 4-step sequence
            seq = _SeqDraft("cooking", "cooking", steps, 120.0)
            self.sequences.append(seq)
            d_light = self._duration(light, "on", 55.0, 15.0)
            d_hood = self._duration(hood, "on", 25.0, 8.0)
            d_radio = self._duration(radio, "on", 40.0, 12.0)
            d_kettle = self._duration(kettle, "on", 4.0, 0.6) if kettle is not None else None
            self.owned.update((light, hood, radio))
            if kettle is not None:
                self.owned.add(kettle)
            for i in range(len(self.days)):
                for lo, hi, p in ((11.5 * 60, 13 * 60, 0.45), (17.75 * 60, 19.75 * 60, 0.8)):
                    if self.rng.random() >= p:
                        continue
                    t0 = self.clock.local_us(i, float(self.rng.uniform(lo, hi)))
                    if not self._awake_home_at(t0):
                        continue
                    t_hood = t0 + self._uniform_s(30, 120)
                    t_radio = t_hood + self._uniform_s(10, 90)
                    self.pulse(light, t0, t0 + self._dur(55.0, 15.0, 20.0, 100.0), duration=d_light)
                    self.pulse(hood, t_hood, t_hood + self._dur(25.0, 8.0, 8.0, 50.0), duration=d_hood)
                    self.pulse(radio, t_radio, t_radio + self._dur(40.0, 12.0, 10.0, 80.0), duration=d_radio)
                    if kettle is None:
                        seq.occ.append([t0, t_hood, t_radio])
                    else:
                        # Its own generator, so the tight draws (and the other steps) stay as they were.
                        t_kettle = t_radio + round(float(self.loose_rng.uniform(15, 100)) * SECOND_US)
                        off = t_kettle + round(float(np.clip(self.loose_rng.normal(4.0, 0.6), 2.5, 6.0)) * MINUTE_US)
                        self.pulse(kettle, t_kettle, off, duration=d_kettle)
                        seq.occ.append([t0, t_hood, t_radio, t_kettle])
                    if lo > 12 * 60:
                        self.dinners.append(t0)

    def _plant_appliances(self) -> None:
        if "dishwasher" in self.roles:
            dw = self.roles["dishwasher"]
            self.owned.add(dw)
            dur = self._duration(dw, "on", 150.0, 10.0)
            for t in self.dinners:
                if self.rng.random() < 0.7:
                    start = t + round(float(self.rng.uniform(90, 180)) * MINUTE_US)
                    if self._awake_home_at(start):
                        self.pulse(dw, start, start + self._dur(150.0, 10.0, 120.0, 180.0), duration=dur)
        if "washer" in self.roles:
            wm = self.roles["washer"]
            self.owned.add(wm)
            dur = self._duration(wm, "on", 95.0, 10.0)
            for i, day in enumerate(self.days):
                if self.rng.random() < (0.5 if day.day_off else 0.25):
                    start = self.clock.local_us(i, float(self.rng.uniform(9 * 60, 19 * 60)))
                    if self._awake_home_at(start):
                        self.pulse(wm, start, start + self._dur(95.0, 10.0, 70.0, 120.0), duration=dur)

    def _plant_causal_pairs(self) -> None:
        for key, rate in _MOTION_RATES.items():
            sensor, light = self.roles.get(f"motion_sensor:{key}"), self.roles.get(f"motion_light:{key}")
            if sensor is None or light is None:
                continue
            self.owned.update((sensor, light))
            pair = _PairDraft(
                f"{key}_motion_light",
                (sensor, "on"),
                (light, "on"),
                (0.4, 2.5),
                1.0,
                f"motion in the {key.replace('_', ' ')} switches its light on",
            )
            self.pairs.append(pair)
            m_mean, m_sd = _uniform_stats(45, 120)
            o_mean, o_sd = _uniform_stats(60, 240)
            d_mean, d_sd = _uniform_stats(0.4, 2.5)
            d_motion = self._duration(sensor, "on", m_mean / 60, m_sd / 60)
            d_light = self._duration(
                light, "on", (m_mean + o_mean - d_mean) / 60, math.sqrt(m_sd**2 + o_sd**2 + d_sd**2) / 60
            )
            for t in poisson_in(self.awake_home, rate, self.rng, min_gap_us=7 * MINUTE_US):
                m_off = t + self._uniform_s(45, 120)
                self.pulse(sensor, t, m_off, duration=d_motion)
                t_light = t + self._uniform_s(0.4, 2.5)
                self.pulse(light, t_light, m_off + self._uniform_s(60, 240), duration=d_light)
                pair.triggers.append(t)
                pair.occ.append((t, t_light))
        if "front_door" in self.roles and "entrance_light" in self.roles:
            door, light = self.roles["front_door"], self.roles["entrance_light"]
            self.owned.update((door, light))
            pair = _PairDraft(
                "front_door_entrance_light",
                (door, "on"),
                (light, "on"),
                (1.0, 4.0),
                0.95,
                "opening the front door switches the entrance light on",
            )
            self.pairs.append(pair)
            o_mean, o_sd = _uniform_stats(8, 40)
            f_mean, f_sd = _uniform_stats(120, 300)
            d_mean, d_sd = _uniform_stats(1, 4)
            d_door = self._duration(door, "on", o_mean / 60, o_sd / 60)
            d_light = self._duration(
                light, "on", (o_mean + f_mean - d_mean) / 60, math.sqrt(o_sd**2 + f_sd**2 + d_sd**2) / 60
            )
            for t in poisson_in(self.awake_home, 0.25, self.rng, min_gap_us=8 * MINUTE_US):
                close = t + self._uniform_s(8, 40)
                self.pulse(door, t, close, duration=d_door)
                pair.triggers.append(t)
                if self.rng.random() < pair.probability:
                    t_light = t + self._uniform_s(1, 4)
                    self.pulse(light, t_light, close + self._uniform_s(120, 300), duration=d_light)
                    pair.occ.append((t, t_light))
        if "bath_light" in self.roles and "bath_fan" in self.roles:
            light, fan = self.roles["bath_light"], self.roles["bath_fan"]
            self.owned.update((light, fan))
            pair = _PairDraft(
                "bathroom_light_fan",
                (light, "on"),
                (fan, "on"),
                (10.0, 45.0),
                1.0,
                "the bathroom fan starts shortly after the bathroom light",
            )
            self.pairs.append(pair)
            d_fan = self._duration(fan, "on", 15.0, 4.0)
            d_light = self._duration(light, "on", 14.0, 5.0)
            for t in poisson_in(self.awake_home, 0.25, self.rng, min_gap_us=50 * MINUTE_US):
                t_fan = t + self._uniform_s(10, 45)
                self.pulse(light, t, t + self._dur(14.0, 5.0, 3.0, 40.0), duration=d_light)
                self.pulse(fan, t_fan, t_fan + self._dur(15.0, 4.0, 5.0, 30.0), duration=d_fan)
                pair.triggers.append(t)
                pair.occ.append((t, t_fan))

    # ----------------------------------------------------------------- automations

    def _plant_automations(self) -> None:
        clock = self.clock
        n = len(self.days)
        sun_up = _SunDraft("sun_rises", "sun.sun", "above_horizon", "sunrise", 0.0, 0.0, "Home Assistant's sun entity")
        sun_down = _SunDraft("sun_sets", "sun.sun", "below_horizon", "sunset", 0.0, 0.0, "Home Assistant's sun entity")
        self.sun_routines += [sun_up, sun_down]
        self.owned.add("sun.sun")
        for i in range(n):
            if clock.sunrise[i] is not None:
                self.emit(clock.sunrise[i], "sun.sun", "above_horizon")  # type: ignore[arg-type]
                sun_up.occ.append(clock.sunrise[i])  # type: ignore[arg-type]
            if clock.sunset[i] is not None:
                self.emit(clock.sunset[i], "sun.sun", "below_horizon")  # type: ignore[arg-type]
                sun_down.occ.append(clock.sunset[i])  # type: ignore[arg-type]
        elevation_now = float(np.interp(clock.start_us / 1e6, self.weather.t_s, self.weather.elevation))
        self.initial_states["sun.sun"] = "above_horizon" if elevation_now > -0.833 else "below_horizon"

        def sun_time(i: int, event: str, offset: float, spread: float) -> int | None:
            base = (clock.sunset if event == "sunset" else clock.sunrise)[i]
            return None if base is None else base + round(offset * MINUTE_US) + self._jitter(spread)

        if "porch_light" in self.roles:
            porch = self.roles["porch_light"]
            self.owned.add(porch)
            on = _SunDraft("porch_light_on", porch, "on", "sunset", 15.0, 0.5, "porch light on 15 minutes after sunset")
            off = self._routine(
                routine_id="porch_light_off",
                entity_id=porch,
                state="off",
                minutes=23 * 60 + 30,
                spread=0.5,
                days="all",
                weekdays=_ALL_DAYS,
                skip=0.0,
                description="porch light off at 23:30",
            )
            self.sun_routines.append(on)
            for i in range(n):
                t_on = sun_time(i, "sunset", 15.0, 0.5)
                t_off = clock.local_us(i, 23 * 60 + 30) + self._jitter(0.5)
                if t_on is None or t_on > t_off - 10 * MINUTE_US:
                    continue
                self.pulse(porch, t_on, t_off)
                on.occ.append(t_on)
                off.occ.append(t_off)
        if "garden_light" in self.roles:
            garden = self.roles["garden_light"]
            self.owned.add(garden)
            on = _SunDraft(
                "garden_light_on",
                garden,
                "on",
                "sunset",
                -10.0,
                0.5,
                "garden lights on 10 minutes before sunset",
            )
            off = _SunDraft(
                "garden_light_off",
                garden,
                "off",
                "sunrise",
                20.0,
                0.5,
                "garden lights off 20 minutes after sunrise",
            )
            self.sun_routines += [on, off]
            for i in range(n):
                t_on = sun_time(i, "sunset", -10.0, 0.5)
                if t_on is None:
                    continue
                t_off = sun_time(i + 1, "sunrise", 20.0, 0.5) if i + 1 < n else clock.end_us + HOUR_US
                if t_off is None or t_off <= t_on:
                    continue
                self.pulse(garden, t_on, t_off)
                on.occ.append(t_on)
                off.occ.append(t_off)
        if "blinds" in self.roles:
            blinds = self.roles["blinds"]
            self.owned.add(blinds)
            self.initial_states[blinds] = "closed"
            opened = self._routine(
                routine_id="living_room_blinds_open",
                entity_id=blinds,
                state="open",
                minutes=7 * 60 + 30,
                spread=0.5,
                days="all",
                weekdays=_ALL_DAYS,
                skip=0.0,
                description="living room blinds open at 07:30",
            )
            closed = _SunDraft(
                "living_room_blinds_close",
                blinds,
                "closed",
                "sunset",
                10.0,
                1.0,
                "living room blinds close after sunset",
            )
            self.sun_routines.append(closed)
            for i in range(n):
                t_open = clock.local_us(i, 7 * 60 + 30) + self._jitter(0.5)
                t_close = sun_time(i, "sunset", 10.0, 1.0)
                self.emit(t_open, blinds, "open")
                opened.occ.append(t_open)
                if t_close is not None and t_close > t_open + 30 * MINUTE_US:
                    self.emit(t_close, blinds, "closed")
                    closed.occ.append(t_close)
        for role, entity in sorted(self.roles.items()):
            if not role.startswith("wake_blinds:") or entity not in self.owned:
                continue
            self.initial_states[entity] = "closed"
            closed = _SunDraft(
                f"{entity.split('.', 1)[1]}_close",
                entity,
                "closed",
                "sunset",
                20.0,
                1.0,
                "bedroom blinds close after sunset",
            )
            self.sun_routines.append(closed)
            for i in range(n):
                t_close = sun_time(i, "sunset", 20.0, 1.0)
                if t_close is not None:
                    self.emit(t_close, entity, "closed")
                    closed.occ.append(t_close)
        if "irrigation" in self.roles:
            valve = self.roles["irrigation"]
            self.owned.add(valve)
            on = self._routine(
                routine_id="garden_irrigation",
                entity_id=valve,
                state="on",
                minutes=6 * 60,
                spread=0.1,
                days="specific",
                weekdays=[0, 2, 4],
                skip=0.15,
                description="irrigation runs at 06:00 on Monday, Wednesday and Friday unless it rained",
            )
            off = self._derived(on, "off", 20.0, 0.05, "irrigation stops after 20 minutes")
            dur = self._duration(valve, "on", 20.0, 0.05)
            for i in range(n):
                if not self._day_eligible(on, i) or self.rng.random() < on.skip:
                    continue
                t_on = clock.local_us(i, 6 * 60) + self._jitter(0.1)
                t_off = t_on + 20 * MINUTE_US + self._uniform_s(-3, 3)
                self.pulse(valve, t_on, t_off, duration=dur)
                on.occ.append(t_on)
                off.occ.append(t_off)

    def _plant_climate(self) -> None:
        climates = [e.entity_id for e in self.layout.entities if e.domain == "climate"]
        if not climates:
            return
        self.owned.update(climates)
        cooling = self.climate_zone in ("mediterranean", "subtropical")
        w = self.weather

        def mode_for(t_us: int, current: str | None) -> str:
            t = t_us / 1e6
            window = (w.t_s > t - 72 * 3600) & (w.t_s <= t)
            mean = float(w.temperature[window].mean()) if window.any() else float(w.temperature[0])
            if mean < 13.0 or (current == "heat" and mean < 16.0):
                return "heat"
            if cooling and (mean > 25.0 or (current == "cool" and mean > 23.0)):
                return "cool"
            return "off"

        setpoint = {"heat": 21.0, "cool": 24.0, "off": None}
        mode = mode_for(self.clock.start_us, None)
        for c in climates:
            self.initial_states[c] = mode
        for i in range(len(self.days)):
            t = self.clock.local_us(i, 12 * 60) + self._uniform_s(0, 300)
            new = mode_for(t, mode)
            self.climate_modes.append(new)
            if new == mode:
                continue
            mode = new
            for k, c in enumerate(climates):
                self.emit(t + k * 250_000, c, new, {"temperature": setpoint[new]})

    # ----------------------------------------------------------------- anomalies and background

    def _background_lights(self) -> list[str]:
        return [e.entity_id for e in self.layout.entities if e.domain == "light" and e.entity_id not in self.owned]

    def _plant_anomaly_events(self) -> None:
        lights = self._background_lights()
        for a in self.anomalies:
            if a.kind == "unusual_time":
                t = self.clock.local_us(a.day, float(self.rng.uniform(3 * 60 + 5, 4 * 60 + 40)))
                off = t + round(float(self.rng.uniform(6, 10)) * MINUTE_US)
                self.pulse(a.entity_id, t, off)
                a.start, a.end = t, off
                a.events += [(a.entity_id, "on", t), (a.entity_id, "off", off)]
                a.description = "switched on in the middle of the night"
            elif a.kind == "unusual_frequency":
                if not lights:
                    continue
                a.entity_id = lights[int(self.rng.integers(len(lights)))]
                day = (self.clock.midnights[a.day], self.clock.midnights[a.day + 1])
                spans = [s for s in intersect(self.awake_home, [day]) if s[1] - s[0] > 60 * MINUTE_US]
                if not spans:
                    continue
                s0, s1 = spans[int(self.rng.integers(len(spans)))]
                t = s0 + round(float(self.rng.uniform(5, (s1 - s0) / MINUTE_US - 50)) * MINUTE_US)
                a.start = t
                for k in range(int(self.rng.integers(14, 25)) * 2):
                    state = "on" if k % 2 == 0 else "off"
                    self.emit(t, a.entity_id, state)
                    a.events.append((a.entity_id, state, t))
                    a.end = t
                    t += self._uniform_s(15, 60)
                self.reserved[a.entity_id].append((a.start - 15 * MINUTE_US, a.end + 15 * MINUTE_US))
                a.description = "switched on and off many times in a few minutes"
            elif a.kind == "missing_activity":
                a.start = self.clock.midnights[a.day]
                a.end = self.clock.midnights[min(a.day + 3, len(self.days))]
                a.description = "the morning coffee did not happen for three days while the residents were home"

    def _background_profile(self, entity_id: str) -> _Background | None:
        domain, object_id = entity_id.split(".", 1)
        ent = next(e for e in self.layout.entities if e.entity_id == entity_id)
        dc = ent.device_class
        if domain == "light":
            return _Background(0.2, ("lognormal", 12.0, 0.9, 1.0, 150.0))
        if domain == "binary_sensor":
            if dc == "motion":
                return _Background(0.8, ("uniform", 0.75, 2.0, 0, 0), gap_min=3.0)
            if dc == "window":
                return _Background(0.05, ("lognormal", 20.0, 0.8, 2.0, 180.0), gap_min=30.0)
            if dc == "connectivity":
                return _Background(1 / (30 * 24), ("uniform", 1.0, 15.0, 0, 0), on="off", off="on", always=True)
            return None
        if domain == "switch":
            if "kettle" in object_id:
                return _Background(0.25, ("uniform", 2.5, 5.0, 0, 0))
            if "ev_charger" in object_id:
                return _Background(0.02, ("uniform", 60.0, 300.0, 0, 0), gap_min=60.0)
            if "dryer" in object_id:
                return _Background(0.03, ("uniform", 50.0, 100.0, 0, 0), gap_min=60.0)
            if "towel_warmer" in object_id:
                return _Background(0.08, ("uniform", 20.0, 60.0, 0, 0))
            return _Background(0.12, ("lognormal", 30.0, 0.9, 2.0, 240.0))
        if domain == "media_player":
            return _Background(0.06, ("lognormal", 40.0, 0.7, 5.0, 180.0))
        if domain == "cover":
            if dc == "garage":
                return _Background(0.1, ("uniform", 1.0, 4.0, 0, 0), on="open", off="closed", gap_min=10.0)
            return _Background(0.03, ("lognormal", 120.0, 0.6, 10.0, 600.0), on="open", off="closed", gap_min=30.0)
        if domain == "lock":
            return _Background(0.12, ("uniform", 0.5, 10.0, 0, 0), on="unlocked", off="locked")
        if domain == "fan":
            return _Background(0.05, ("uniform", 5.0, 30.0, 0, 0))
        return None

    def _plant_background(self) -> None:
        period = [(self.clock.start_us, self.clock.end_us)]
        for ent in self.layout.entities:
            eid = ent.entity_id
            if eid in self.owned or ent.domain in ("sensor", "person", "sun", "weather", "climate"):
                continue
            profile = self._background_profile(eid)
            if profile is None:
                continue
            self.background_entities.append(eid)
            self.initial_states[eid] = profile.off
            allowed = period if profile.always else self.awake_home
            reserved = merge(self.reserved.get(eid, []))
            if reserved:
                allowed = subtract(allowed, reserved)
            kind, a, b, lo, hi = profile.duration
            last_off = -(10**18)
            for t in poisson_in(allowed, profile.rate, self.rng):
                if t < last_off + round(profile.gap_min * MINUTE_US):
                    continue
                if kind == "uniform":
                    d = float(self.rng.uniform(a, b))
                else:
                    d = float(np.clip(a * math.exp(b * float(self.rng.normal())), lo, hi))
                off = t + round(d * MINUTE_US)
                if reserved and _overlaps(reserved, t, off):
                    continue
                self.pulse(eid, t, off, on=profile.on, off=profile.off)
                last_off = off

    # ----------------------------------------------------------------- truth

    def finalize(self, log: EventLog, noise: NoiseTruth, holidays: list[Any], vacations: list[Vacation]) -> GroundTruth:
        """The ground truth, keeping only occurrences whose state changes are in the event log.

        Args:
            log: The built event log.
            noise: The noise truth from the sensors.
            holidays: Public holidays within the period.
            vacations: The household's vacations.

        Returns:
            The GroundTruth.
        """
        index = {e: i for i, e in enumerate(log.entity_ids)}
        codes = {s: i for i, s in enumerate(log.states)}
        tracked = set()
        for d in self.routines:
            tracked.add(d.entity_id)
        for s in self.sun_routines:
            tracked.add(s.entity_id)
        for p in self.pairs:
            tracked.update((p.trigger[0], p.response[0]))
        for q in self.sequences:
            tracked.update(e for e, _ in q.steps)
        for du in self.durations.values():
            tracked.add(du.entity_id)
        for a in self.anomalies:
            tracked.add(a.entity_id)
        idx = np.asarray(sorted(index[e] for e in tracked if e in index), dtype=np.int32)
        keep = np.isin(log.entity, idx)
        present = set(
            zip(
                log.entity[keep].tolist(),
                log.time_us[keep].tolist(),
                log.new_state[keep].tolist(),
                strict=True,
            )
        )

        def ok(entity_id: str, state: str, t: int) -> bool:
            return (index.get(entity_id, -1), t, codes.get(state, -1)) in present

        routines: list[Routine] = []
        kept_ids: set[str] = set()
        for d in self.routines:
            occ = [from_us(t) for t in sorted(d.occ) if ok(d.entity_id, d.state, t)]
            if not occ:
                continue
            kept_ids.add(d.routine_id)
            routines.append(
                Routine(
                    routine_id=d.routine_id,
                    entity_id=d.entity_id,
                    state=d.state,
                    local_time=hhmm(d.minutes),
                    spread_minutes=d.spread,
                    days=d.days,
                    weekdays=d.weekdays,
                    skip_probability=d.skip,  # type: ignore[arg-type]
                    occurrences=occ,
                    resident_id=d.resident_id,
                    derived_from=d.derived_from,
                    description=d.description,
                )
            )
        sun_routines = []
        for s in self.sun_routines:
            occ = [from_us(t) for t in sorted(s.occ) if ok(s.entity_id, s.state, t)]
            if occ:
                sun_routines.append(
                    SunRoutine(
                        routine_id=s.routine_id,
                        entity_id=s.entity_id,
                        state=s.state,
                        sun_event=s.sun_event,  # type: ignore[arg-type]
                        offset_minutes=s.offset,
                        spread_minutes=s.spread,
                        skip_probability=0.0,
                        occurrences=occ,
                        description=s.description,
                    )
                )
        pairs = []
        for p in self.pairs:
            triggers = [t for t in p.triggers if ok(p.trigger[0], p.trigger[1], t)]
            occ = [
                from_us(t0)
                for t0, t1 in sorted(p.occ)
                if ok(p.trigger[0], p.trigger[1], t0) and ok(p.response[0], p.response[1], t1)
            ]
            if occ:
                pairs.append(
                    CausalPair(
                        pair_id=p.pair_id,
                        trigger_entity_id=p.trigger[0],
                        trigger_state=p.trigger[1],
                        response_entity_id=p.response[0],
                        response_state=p.response[1],
                        delay_mean_s=(p.delay_s[0] + p.delay_s[1]) / 2,
                        delay_min_s=p.delay_s[0],
                        delay_max_s=p.delay_s[1],
                        response_probability=p.probability,
                        trigger_count=len(triggers),
                        occurrences=occ,
                        description=p.description,
                    )
                )
        sequences = []
        for q in self.sequences:
            occ = [
                from_us(ts[0])
                for ts in sorted(q.occ)
                if all(ok(e, s, t) for (e, s), t in zip(q.steps, ts, strict=True))
            ]
            if occ:
                sequences.append(
                    Sequence(
                        sequence_id=q.sequence_id,
                        name=q.name,
                        steps=[SequenceStep(entity_id=e, state=s) for e, s in q.steps],
                        max_gap_s=q.max_gap_s,
                        occurrences=occ,
                    )
                )
        durations = []
        for du in self.durations.values():
            periods = sorted(
                (a, b) for a, b in du.periods if ok(du.entity_id, du.state, a) and ok(du.entity_id, "off", b)
            )
            if not periods:
                continue
            lengths = np.asarray([(b - a) / MINUTE_US for a, b in periods])
            durations.append(
                TypicalDuration(
                    entity_id=du.entity_id,
                    state=du.state,
                    mean_minutes=round(du.mean, 3),
                    std_minutes=round(du.std, 3),
                    observed_mean_minutes=round(float(lengths.mean()), 3),
                    observed_std_minutes=round(float(lengths.std()), 3),
                    occurrences=[from_us(a) for a, _ in periods],
                )
            )
        differences = []
        for wd, we in self.differences:
            wd_ok = wd is not None and wd.routine_id in kept_ids
            we_ok = we is not None and we.routine_id in kept_ids
            if not wd_ok and not we_ok:
                continue
            base = wd if wd is not None else we
            assert base is not None
            differences.append(
                DayTypeDifference(
                    entity_id=base.entity_id,
                    state=base.state,
                    weekday_time=hhmm(wd.minutes) if wd_ok and wd is not None else None,
                    weekend_time=hhmm(we.minutes) if we_ok and we is not None else None,
                    weekday_routine_id=wd.routine_id if wd_ok and wd is not None else None,
                    weekend_routine_id=we.routine_id if we_ok and we is not None else None,
                )
            )
        anomalies = []
        n = 0
        for a in sorted(self.anomalies, key=lambda x: (x.start, x.kind)):
            if a.kind == "missing_activity":
                realized = a.suppressed > 0
            else:
                realized = bool(a.events) and all(ok(e, s, t) for e, s, t in a.events)
            if not realized:
                continue
            n += 1
            anomalies.append(
                Anomaly(
                    anomaly_id=f"anomaly_{n}",
                    kind=a.kind,
                    entity_id=a.entity_id,  # type: ignore[arg-type]
                    start=from_us(a.start),
                    end=from_us(a.end),
                    description=a.description,
                )
            )
        return GroundTruth(
            routines=routines,
            sun_routines=sun_routines,
            causal_pairs=pairs,
            sequences=sequences,
            day_type_differences=differences,
            durations=durations,
            anomalies=anomalies,
            noise=noise,
            holidays=holidays,
            vacations=vacations,
        )


def _find(intervals: Intervals, t: int) -> int:
    """Index of the interval containing t, or -1 (binary search)."""
    lo, hi = 0, len(intervals)
    while lo < hi:
        mid = (lo + hi) // 2
        if intervals[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    i = lo - 1
    return i if i >= 0 and t < intervals[i][1] else -1


def _overlaps(intervals: Intervals, t0: int, t1: int) -> bool:
    return any(s < t1 and t0 < e for s, e in intervals)
