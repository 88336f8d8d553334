"""Time-of-day routines: recall and precision on synthetic homes, midnight, DST, sun, day sets, evidence."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from homeiq_ai.kernel.sun import sun_times
from homeiq_ai.pattern.detectors import time_of_day
from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.day_type import detect_day_type
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.pattern.detectors.noise import select_events
from homeiq_ai.pattern.detectors.time_of_day import detect_time_of_day, find_routines
from homeiq_ai.training.synthetic import GroundTruth
from homeiq_ai.training.synthetic.scoring import score_routines
from pattern.homes import synthetic_frame, synthetic_home

TZ = ZoneInfo("Europe/Berlin")
BERLIN = (52.52, 13.405)
CONFIG = DetectorConfig()


@dataclass(frozen=True)
class Change:
    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime


def local(day: date, minutes: float) -> datetime:
    """UTC time of a local wall-clock time (minutes after local midnight of `day`, may run past 24:00)."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=TZ).astimezone(UTC)


def pulse(entity_id: str, at: datetime, minutes: float = 5.0, on: str = "on", off: str = "off") -> list[Change]:
    return [Change(entity_id, off, on, at), Change(entity_id, on, off, at + timedelta(minutes=minutes))]


def frame(events: list[Change], first: date, days: int, holidays: tuple[date, ...] = ()) -> EventFrame:
    """A frame over whole local days, located in Berlin (for sunrise and sunset)."""
    return frame_from_events(
        sorted(events, key=lambda e: e.time),
        time_zone="Europe/Berlin",
        start=local(first, 0),
        end=local(first + timedelta(days=days), 0),
        latitude=BERLIN[0],
        longitude=BERLIN[1],
        holidays=holidays,
    )


def minutes_of(hh_mm: str) -> int:
    h, m = hh_mm.split(":")
    return int(h) * 60 + int(m)


def clock_distance(a: float, b: float) -> float:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def score(found: list[PatternCandidate], truth: GroundTruth) -> tuple[int, int, int, int, list[float]]:
    """(right, wrong, required, required found, time errors) over clock routines and sun routines."""
    clock = [c for c in found if "sun" not in c.details]
    official = score_routines([(c.entity_ids[0], c.details["state"], c.details["time"]) for c in clock], truth)
    errors = []
    for c in clock:
        near = [
            clock_distance(minutes_of(r.local_time), minutes_of(c.details["time"]))
            for r in truth.routines
            if (r.entity_id, r.state) == (c.entity_ids[0], c.details["state"])
        ]
        if near and min(near) <= 10:
            errors.append(min(near))
    right, wrong = official.true_positives, official.false_positives
    required = official.true_positives + official.false_negatives
    required = len([r for r in truth.routines if r.derived_from is None and len(r.occurrences) >= 3])
    required_found = required - official.false_negatives
    used: set[str] = set()
    for c in (c for c in found if "sun" in c.details):
        sun = c.details["sun"]
        match = [
            r
            for r in truth.sun_routines
            if r.routine_id not in used
            and (r.entity_id, r.state, r.sun_event) == (c.entity_ids[0], c.details["state"], sun["event"])
            and abs(r.offset_minutes - sun["offset_minutes"]) <= 10
        ]
        if match:
            used.add(match[0].routine_id)
            errors.append(abs(match[0].offset_minutes - sun["offset_minutes"]))
            right += 1
        else:
            wrong += 1
    sun_required = [r for r in truth.sun_routines if r.entity_id != "sun.sun" and len(r.occurrences) >= 3]
    required += len(sun_required)
    required_found += sum(1 for r in sun_required if r.routine_id in used)
    return right, wrong, required, required_found, errors


@pytest.mark.parametrize("home_type", ["single_family", "apartment", "townhouse"])
def test_recall_and_precision_on_synthetic_homes(home_type: str) -> None:
    """Five seeds: recall >= 0.9, precision >= 0.85 (mean and pooled), every time within 10 minutes."""
    precisions, recalls, errors = [], [], []
    pooled = [0, 0, 0, 0]
    for seed in range(1, 6):
        found = detect_time_of_day(synthetic_frame(seed, home_type, 30), CONFIG)
        right, wrong, required, required_found, errs = score(found, synthetic_home(seed, home_type, 30).truth)
        precisions.append(right / max(right + wrong, 1))
        recalls.append(required_found / max(required, 1))
        errors += errs
        for i, value in enumerate((right, wrong, required, required_found)):
            pooled[i] += value
    assert statistics.mean(recalls) >= 0.9 and pooled[3] / pooled[2] >= 0.9
    assert statistics.mean(precisions) >= 0.85 and pooled[0] / (pooled[0] + pooled[1]) >= 0.85
    assert max(errors) <= 10


def test_porch_light_of_a_synthetic_home_follows_sunset() -> None:
    """The planted porch light (sunset + 15 min) is found sun-relative, within 5 minutes of its offset."""
    found = detect_time_of_day(synthetic_frame(1, "single_family", 30), CONFIG)
    porch = [c for c in found if c.entity_ids[0] == "light.porch" and c.details["state"] == "on"]
    assert len(porch) == 1
    sun = porch[0].details["sun"]
    assert sun["event"] == "sunset" and abs(sun["offset_minutes"] - 15) <= 5
    assert porch[0].identity[-1] == "sunset"
    assert "after sunset" in porch[0].description


def test_routine_around_midnight_is_one_routine() -> None:
    """A light going off at 23:50 one night and 00:10 the next is one routine at about 00:00, every day."""
    rng = np.random.default_rng(7)
    first = date(2026, 1, 5)
    events = []
    for d in range(30):
        minutes = 1440 + (-10 if d % 2 else 10) + float(rng.uniform(-2, 2))
        at = local(first + timedelta(days=d), minutes)
        events += [Change("light.hall", "on", "off", at), Change("light.hall", "off", "on", at + timedelta(hours=20))]
    found = [c for c in detect_time_of_day(frame(events, first, 31), CONFIG) if c.details["state"] == "off"]
    assert len(found) == 1
    assert clock_distance(found[0].details["minute_of_day"], 0) <= 5
    assert found[0].details["days"] == "all"
    assert found[0].occurrences >= 28
    assert 8 <= found[0].details["spread_minutes"] <= 13


def test_routine_keeps_its_local_time_across_the_dst_change() -> None:
    """A 07:00 routine from March to April (Berlin moves to summer time on 29 March) stays one 07:00 routine."""
    rng = np.random.default_rng(3)
    first = date(2026, 3, 15)
    events = []
    for d in range(28):
        events += pulse("light.kitchen", local(first + timedelta(days=d), 7 * 60 + float(rng.normal(0, 3))))
    found = [c for c in detect_time_of_day(frame(events, first, 28), CONFIG) if c.details["state"] == "on"]
    assert len(found) == 1
    assert clock_distance(found[0].details["minute_of_day"], 7 * 60) <= 2
    assert found[0].details["days"] == "all" and found[0].occurrences == 28
    assert found[0].details["histogram"][6] + found[0].details["histogram"][7] == 28
    assert "sun" not in found[0].details


@pytest.mark.parametrize("first", [date(2026, 1, 5), date(2026, 3, 12)])
def test_light_after_sunset_is_sun_relative(first: date) -> None:
    """A porch light 15 min after sunset is found as such (January: sunset drifts; March: DST jumps it an hour)."""
    rng = np.random.default_rng(11)
    events = []
    for d in range(30):
        day = first + timedelta(days=d)
        sunset = sun_times(*BERLIN, day).sunset
        assert sunset is not None
        on = sunset + timedelta(minutes=15 + float(rng.normal(0, 1)))
        events += pulse("light.porch", on, minutes=180)
    found = [c for c in detect_time_of_day(frame(events, first, 30), CONFIG) if c.details["state"] == "on"]
    assert len(found) == 1
    sun = found[0].details["sun"]
    assert sun["event"] == "sunset"
    assert abs(sun["offset_minutes"] - 15) <= 5
    assert sun["spread_minutes"] < sun["clock_spread_minutes"]
    assert found[0].description == "Porch turns on about 15 minutes after sunset"


def test_random_motion_is_not_a_routine() -> None:
    """A motion sensor firing about once an hour, all day or only while people are up, yields no routine."""
    rng = np.random.default_rng(5)
    first = date(2026, 1, 5)
    events = []
    for entity_id, (lo, hi), rate in (("binary_sensor.hall_motion", (0, 24), 1.0), ("binary_sensor.den", (7, 23), 1.2)):
        for d in range(30):
            t = lo * 60.0
            while True:
                t += float(rng.exponential(60.0 / rate))
                if t >= hi * 60.0:
                    break
                events += pulse(entity_id, local(first + timedelta(days=d), t), minutes=1.5)
    assert detect_time_of_day(frame(events, first, 30), CONFIG) == []


def test_day_sets_weekdays_weekends_and_specific_days() -> None:
    """Weekdays at 06:45, weekends at 08:30 and Mon/Wed/Fri at 06:00 are told apart; a holiday is a weekend day."""
    rng = np.random.default_rng(9)
    first = date(2026, 1, 5)  # a Monday
    holiday = date(2026, 1, 21)  # a Wednesday, treated like a Sunday
    events = []
    for d in range(35):
        day = first + timedelta(days=d)
        weekend = day.weekday() >= 5 or day == holiday
        minutes = (8 * 60 + 30 if weekend else 6 * 60 + 45) + float(rng.normal(0, 4))
        events += pulse("light.bedroom", local(day, minutes), minutes=20)
        if day.weekday() in (0, 2, 4) and day != holiday:
            events += pulse("switch.irrigation", local(day, 6 * 60 + float(rng.uniform(0, 0.2))), minutes=20)
    found = detect_time_of_day(frame(events, first, 35, holidays=(holiday,)), CONFIG)
    on = {(c.entity_ids[0], c.details["days"]): c for c in found if c.details["state"] == "on"}
    assert set(on) == {
        ("light.bedroom", "weekdays"),
        ("light.bedroom", "weekends"),
        ("switch.irrigation", "mon,wed,fri"),
    }
    assert clock_distance(on["light.bedroom", "weekdays"].details["minute_of_day"], 6 * 60 + 45) <= 3
    assert clock_distance(on["light.bedroom", "weekends"].details["minute_of_day"], 8 * 60 + 30) <= 3
    weekend = on["light.bedroom", "weekends"].details
    assert weekend["days_observed"] == 11 and weekend["days_with_occurrence"] == 11
    assert on["light.bedroom", "weekdays"].details["days_observed"] == 24
    assert on["switch.irrigation", "mon,wed,fri"].details["weekdays"] == [0, 2, 4]
    assert on["switch.irrigation", "mon,wed,fri"].description.endswith("on Mondays, Wednesdays and Fridays")
    assert on["light.bedroom", "weekdays"].identity == ("time_of_day", "light.bedroom", "on", "weekdays")


def test_burst_of_toggles_counts_once_and_evidence_is_complete() -> None:
    """A light toggled three times within minutes each morning is one occurrence a day, with checkable evidence."""
    first = date(2026, 1, 5)
    events = []
    for d in range(20):
        at = local(first + timedelta(days=d), 6 * 60 + 45 + d % 3)
        events += pulse("light.kitchen_ceiling", at, minutes=1)
        events += pulse("light.kitchen_ceiling", at + timedelta(minutes=2), minutes=1)
        events += pulse("light.kitchen_ceiling", at + timedelta(minutes=4), minutes=30)
    found = [c for c in detect_time_of_day(frame(events, first, 20), CONFIG) if c.details["state"] == "on"]
    assert len(found) == 1
    c = found[0]
    assert c.occurrences == 20 and len(c.details["occurrence_times"]) == 20
    assert c.details["occurrence_times"][0] == "2026-01-05T06:45:00+01:00"
    assert len(c.details["histogram"]) == 24 and sum(c.details["histogram"]) == 20
    assert c.details["skip_rate"] == 0.0 and c.details["days"] == "all"
    assert c.description == "Kitchen ceiling turns on around 06:46 every day"
    assert 0.5 <= c.confidence <= 1.0
    assert c.first_seen is not None and c.last_seen is not None and c.first_seen < c.last_seen


def test_detection_is_deterministic() -> None:
    """The same frame gives the same candidates, in the same order."""
    f = synthetic_frame(2, "apartment", 30)
    first, second = detect_time_of_day(f, CONFIG), detect_time_of_day(f, CONFIG)
    assert [(c.identity, c.details, c.confidence) for c in first] == [
        (c.identity, c.details, c.confidence) for c in second
    ]


def test_chatty_sensors_never_reach_the_clustering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Padding a home with 300,000 numeric sensor reports changes no routine; only kept entity states are mined."""
    base = synthetic_frame(1, "apartment", 30)
    rng = np.random.default_rng(1)
    n = 300_000
    values = [f"{v:.1f}" for v in rng.uniform(0, 500, 2000)]
    padded = EventFrame(
        entity_ids=[*base.entity_ids, "sensor.plug_power"],
        states=[*base.states, *values],
        entity=np.concatenate([base.entity, np.full(n, len(base.entity_ids), dtype=np.int32)]),
        new_state=np.concatenate([base.new_state, len(base.states) + rng.integers(0, 2000, n).astype(np.int32)]),
        old_state=np.concatenate([base.old_state, np.full(n, -1, dtype=np.int32)]),
        t=np.concatenate([base.t, rng.uniform(base.t[0], base.t[-1], n)]),
        minute=np.concatenate([base.minute, rng.integers(0, 1440, n).astype(np.int16)]),
        day=np.concatenate([base.day, rng.integers(base.first_day, base.first_day + base.n_days, n).astype(np.int32)]),
        weekday=np.concatenate([base.weekday, rng.integers(0, 7, n).astype(np.int8)]),
        time_zone=base.time_zone,
        start=base.start,
        end=base.end,
        first_day=base.first_day,
        n_days=base.n_days,
        sunrise=base.sunrise,
        sunset=base.sunset,
        entities=base.entities,
        holidays=base.holidays,
    )
    order = np.argsort(padded.t, kind="stable")
    for name in ("entity", "new_state", "old_state", "t", "minute", "day", "weekday"):
        object.__setattr__(padded, name, getattr(padded, name)[order])
    mined: list[int] = []
    real_group = time_of_day._clock_routines

    def counting(group, ctx):  # type: ignore[no-untyped-def]
        mined.append(group.entity)
        return real_group(group, ctx)

    monkeypatch.setattr(time_of_day, "_clock_routines", counting)
    routines = find_routines(padded, CONFIG)
    assert len(padded.entity_ids) - 1 not in mined
    kept = select_events(padded, CONFIG)
    assert len(mined) <= len(set(zip(padded.entity[kept].tolist(), padded.new_state[kept].tolist(), strict=True)))
    monkeypatch.undo()
    assert [(r.entity, r.state, round(r.minute, 3)) for r in routines] == [
        (r.entity, r.state, round(r.minute, 3)) for r in find_routines(base, CONFIG)
    ]


def test_a_routine_that_drifts_by_an_hour_on_most_days_is_found_with_its_window() -> None:
    """Breakfast light at 09:20 +- up to an hour (spread ~22 min) on ~65% of days: one routine, with its window."""
    rng = np.random.default_rng(3)
    first = date(2026, 1, 5)
    events = []
    for d in range(28):
        if rng.random() < 0.35:
            continue
        minutes = 9 * 60 + 20 + float(np.clip(rng.normal(0, 22), -60, 60))
        events += pulse("light.kitchen", local(first + timedelta(days=d), minutes), minutes=20)
    found = [c for c in detect_time_of_day(frame(events, first, 28), CONFIG) if c.details["state"] == "on"]
    assert len(found) == 1
    routine = found[0]
    assert clock_distance(routine.details["minute_of_day"], 9 * 60 + 20) <= 12
    assert routine.details["spread_minutes"] >= 15
    start, end = minutes_of(routine.details["window_start"]), minutes_of(routine.details["window_end"])
    assert start < 9 * 60 + 20 < end and end - start >= 30
    assert "usually between" in routine.description


def test_a_routine_is_reported_at_its_median_time_not_pulled_by_early_days() -> None:
    """Light at 08:40 on most days, 25-35 min earlier on six: all one routine, "around 08:40", not the mean."""
    rng = np.random.default_rng(5)
    first = date(2026, 1, 5)
    early = {3, 8, 12, 17, 21, 26}
    events = []
    for d in range(28):
        if d in (5, 19):
            continue
        offset = -float(rng.uniform(25, 35)) if d in early else float(rng.normal(0, 3))
        events += pulse("light.hall", local(first + timedelta(days=d), 8 * 60 + 40 + offset), minutes=10)
    found = [c for c in detect_time_of_day(frame(events, first, 28), CONFIG) if c.details["state"] == "on"]
    assert len(found) == 1
    routine = found[0]
    assert routine.details["days_with_occurrence"] == 26  # the early days belong to it
    mean = statistics.fmean(minutes_of(t[11:16]) for t in routine.details["occurrence_times"])
    assert mean < 8 * 60 + 35  # the mean is pulled early...
    assert clock_distance(minutes_of(routine.details["time"]), 8 * 60 + 40) <= 2  # ...the reported time is not
    assert clock_distance(routine.details["minute_of_day"], 8 * 60 + 40) <= 2
    assert f"around {routine.details['time']}" in routine.description


def _drifting_home(bedtime_spread: float, other_spread: float, seed: int = 11) -> EventFrame:
    """Six routines spreading `other_spread` min; a bedtime light at 23:30 spreading `bedtime_spread`, ~85% of days."""
    rng = np.random.default_rng(seed)
    first = date(2026, 1, 5)
    times = {f"light.room_{k}": 6 * 60 + 90 * k for k in range(6)}
    events: list[Change] = []
    for d in range(30):
        day = first + timedelta(days=d)
        for entity_id, minute in times.items():
            if rng.random() < 0.2:
                continue
            events += pulse(entity_id, local(day, minute + float(np.clip(rng.normal(0, other_spread), -60, 60))))
        if rng.random() < 0.15:
            continue
        bedtime = 23 * 60 + 30 + float(np.clip(rng.normal(0, bedtime_spread), -70, 70))
        events += pulse("light.bedroom", local(day, bedtime), minutes=3)
    return frame(events, first, 30)


def test_a_bedtime_that_drifts_by_an_hour_is_judged_against_the_homes_own_drift() -> None:
    """Wide spreads count as routines only where the residents' other routines drift too (home_drift_minutes)."""
    def bedtimes(f: EventFrame) -> list[PatternCandidate]:
        found = detect_time_of_day(f, CONFIG)
        return [c for c in found if c.entity_ids == ["light.bedroom"] and c.details["state"] == "on"]

    drifting, punctual = _drifting_home(30.0, 18.0), _drifting_home(30.0, 3.0)
    assert time_of_day.home_drift_scale(find_routines(punctual, CONFIG), time_of_day.TimeOfDaySettings()) == 1.0
    assert time_of_day.home_drift_scale(find_routines(drifting, CONFIG), time_of_day.TimeOfDaySettings()) > 1.0
    found = bedtimes(drifting)
    assert len(found) == 1 and found[0].details["spread_minutes"] >= 24
    assert clock_distance(found[0].details["minute_of_day"], 23 * 60 + 30) <= 12
    assert "usually between" in found[0].description
    # The same bedtime in a home that keeps time to minutes: too loose to be one of its routines.
    assert bedtimes(punctual) == []


def _coffee_home(seed: int = 5) -> EventFrame:
    """A coffee maker at 07:40 +- 20 min on ~80% of weekdays and at 08:40 +- 18 min on ~85% of weekend days."""
    rng = np.random.default_rng(seed)
    first = date(2026, 1, 5)
    events: list[Change] = []
    for d in range(30):
        day = first + timedelta(days=d)
        weekend = day.weekday() >= 5
        if rng.random() < (0.15 if weekend else 0.2):
            continue
        centre, spread = (8 * 60 + 40, 18.0) if weekend else (7 * 60 + 40, 20.0)
        minute = centre + float(np.clip(rng.normal(0, spread), -45, 45))
        events += pulse("switch.coffee_maker", local(day, minute), minutes=4)
    return frame(events, first, 30)


def test_a_habit_an_hour_later_at_weekends_is_two_routines_not_one_wide_one() -> None:
    """Clustered over every day, 07:40 on weekdays and 08:40 at weekends merge into one routine near 07:55 that
    matches neither; the weekday and weekend transitions, clustered apart, give both."""
    found = [c for c in detect_time_of_day(_coffee_home(), CONFIG) if c.details["state"] == "on"]
    by_days = {c.details["days"]: c for c in found}
    assert set(by_days) == {"weekdays", "weekends"}, [c.description for c in found]
    assert clock_distance(by_days["weekdays"].details["minute_of_day"], 7 * 60 + 40) <= 10
    assert clock_distance(by_days["weekends"].details["minute_of_day"], 8 * 60 + 40) <= 10
    # The same pair is the day-type difference.
    timing = [c for c in detect_day_type(_coffee_home(), CONFIG) if c.details["state"] == "on"]
    assert [c.identity[-1] for c in timing] == ["both"]
    assert timing[0].details["difference_minutes"] >= 40


def test_a_weekend_routine_needs_a_partner_on_weekdays_to_be_split_off() -> None:
    """A habit on every day at one time stays one every-day routine (the kinds of day keep the same time)."""
    rng = np.random.default_rng(8)
    first = date(2026, 1, 5)
    events: list[Change] = []
    for d in range(30):
        if rng.random() < 0.2:
            continue
        events += pulse("switch.coffee_maker", local(first + timedelta(days=d), 7 * 60 + 40 + rng.normal(0, 18)))
    found = [c for c in detect_time_of_day(frame(events, first, 30), CONFIG) if c.details["state"] == "on"]
    assert [c.details["days"] for c in found] == ["all"]


def test_routines_are_found_once_per_frame_for_both_detectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """time_of_day and day_type share the routines of one frame; a frame made from it finds its own."""
    f = _coffee_home()
    calls = []
    real = time_of_day._find_routines
    monkeypatch.setattr(time_of_day, "_find_routines", lambda *a: calls.append(1) or real(*a))
    first = detect_time_of_day(f, CONFIG)
    detect_day_type(f, CONFIG)
    assert detect_time_of_day(f, CONFIG) == first
    assert len(calls) == 1
    detect_time_of_day(f.select(np.ones(len(f), dtype=bool)), CONFIG)
    assert len(calls) == 2
