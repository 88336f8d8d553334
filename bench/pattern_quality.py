"""Pattern quality: each detector's precision and recall against synthetic homes' planted truth, and its speed.

For every seed and home type a synthetic home is generated, its events become an EventFrame, every
registered detector runs on it and its scorer compares the candidates with the ground truth. Prints
one table per pattern type (per home, the mean per home type and the mean over all homes), the error
of the times found, PASS/FAIL against the targets, and the time each detector takes: on the homes,
and on a 30-day 100-entity home padded with chatty numeric sensors to at least 500,000 events (the
nightly-analysis budget is 15 s and 1 GB for all detectors together). Exit status 1 when a target fails.

    .venv/bin/python bench/pattern_quality.py [--seeds 1 2 3 4 5] [--home-types single_family apartment townhouse]
        [--days 30] [--types time_of_day day_type] [--verbose] [--no-speed]

Adding a detector: write a scorer `(candidates, home) -> TypeScore` and add
`PATTERN_TYPES["my_type"] = PatternType(detector, scorer, targets={...})`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import msgspec
import numpy as np

from homeiq_ai.pattern.detectors.anomaly import detect_anomalies
from homeiq_ai.pattern.detectors.base import Detector, DetectorConfig, EntityInfo, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.co_occurrence import detect_co_occurrences
from homeiq_ai.pattern.detectors.day_edges import detect_first_last_of_day
from homeiq_ai.pattern.detectors.day_type import detect_day_type
from homeiq_ai.pattern.detectors.duration import detect_duration
from homeiq_ai.pattern.detectors.frame import frame_from_columns
from homeiq_ai.pattern.detectors.noise import filter_noise
from homeiq_ai.pattern.detectors.sequence import detect_sequences
from homeiq_ai.pattern.detectors.time_of_day import detect_time_of_day
from homeiq_ai.pattern.matching import pattern_quality
from homeiq_ai.training.synthetic import GeneratedHome, GroundTruth, generate_home
from homeiq_ai.training.synthetic.scoring import score_anomalies, score_causal_pairs, score_routines

TUNING_SEEDS = [1, 2]
"""Seeds looked at while building the loose homes and tuning detectors; the others are held out.

Seeds 3-15 have since been looked at while choosing between variants (their misses were read for the
time-of-day drift scale), so the last final figure is on seeds 16-25. Seeds 16-25 were then read
for that figure, and the weekday/weekend split was built on seeds 3-6; its final figure is on 26-35.
The median reporting and the day-type scoring by observed times were built on seeds 3-6; their final
figure is on 36-45, whose day-type misses were then read to count their causes. Next fresh: 46 on.
"""
TOLERANCE_MINUTES = 10
"""How far a found routine time (or sun offset) may be from the planted one."""
MIN_OCCURRENCES = 3
"""Planted items seen fewer times than this are not required (as in training.synthetic.scoring)."""
SUN_STILL_MINUTES = 5.0
"""A sun routine whose clock time varies less than this (standard deviation) cannot be told from a clock one."""


# ----------------------------------------------------------------------------------------- scores


@dataclass(slots=True)
class TypeScore:
    """What one detector got right and wrong on one home.

    `true_positives` are findings that match something planted, `false_positives` findings that
    match nothing, `neutral` findings that the truth neither asks for nor rules out (counted apart,
    never as right). Recall is over the planted items that must be found.
    """

    true_positives: int = 0
    false_positives: int = 0
    neutral: int = 0
    required: int = 0
    required_found: int = 0
    errors: list[float] = field(default_factory=list)
    """Per matched finding: how far its time (minutes) is from the planted one."""
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.required_found / self.required if self.required else 1.0


Scorer = Callable[[Sequence[PatternCandidate], GeneratedHome], TypeScore]


@dataclass(frozen=True, slots=True)
class PatternType:
    """A detector, the scorer that measures it and its targets ("precision", "recall", "max_error_minutes")."""

    detector: Detector
    scorer: Scorer
    targets: Mapping[str, float] = field(default_factory=dict)


def _minutes(hh_mm: str) -> int:
    h, m = hh_mm.split(":")
    return int(h) * 60 + int(m)


def _clock_distance(a: float, b: float) -> float:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def _ignored_entity(entity_id: str) -> bool:
    """Entities the noise filters drop by domain (Home Assistant's sun entity): nothing to find there."""
    return entity_id.split(".", 1)[0] in DetectorConfig().ignore_domains


def score_time_of_day(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Clock routines with training.synthetic.scoring.score_routines; sun routines by event and offset.

    A sun-relative finding matches a planted sun routine of the same entity, state and sun event whose
    offset is within the tolerance. A clock-time finding of a sun routine matches it only where the
    sun hardly moved in the window (occurrence times with a standard deviation under
    SUN_STILL_MINUTES, as around a solstice), so that no detector could tell the two apart; otherwise
    it is wrong. Required: planted routines that are not derived from another (as score_routines has
    it) and sun routines, seen at least MIN_OCCURRENCES times, on entities the noise filters keep.
    """
    truth = observed_truth(home)
    found = [c for c in candidates if c.pattern_type == "time_of_day"]
    clock = [c for c in found if "sun" not in c.details]
    sun = [c for c in found if "sun" in c.details]
    official = score_routines(
        [(c.entity_ids[0], c.details["state"], c.details["time"]) for c in clock],
        truth,
        tolerance_minutes=TOLERANCE_MINUTES,
        min_occurrences=MIN_OCCURRENCES,
    )
    score = TypeScore(true_positives=official.true_positives, false_positives=official.false_positives)
    slotted = slotted_entities(truth)
    required_clock = [r for r in truth.routines if r.derived_from is None and len(r.occurrences) >= MIN_OCCURRENCES]
    score.required = len(required_clock)
    score.required_found = len(required_clock) - official.false_negatives
    # The same matching as score_routines, to know which routine each finding matched and how far off it is.
    used: set[str] = set()
    for c in clock:
        best = None
        for r in truth.routines:
            if r.routine_id in used or r.entity_id != c.entity_ids[0] or r.state != c.details["state"]:
                continue
            d = _clock_distance(_minutes(r.local_time), _minutes(c.details["time"]))
            if d <= TOLERANCE_MINUTES and (best is None or d < best[0]):
                best = (d, r.routine_id)
        if best is None:
            still = _still_sun_routine(truth, c, home.spec.time_zone, used)
            if still is not None:
                used.add(still[1])
                score.false_positives -= 1
                score.true_positives += 1
                score.errors.append(still[0])
            elif c.entity_ids[0] in slotted:
                score.false_positives -= 1
                score.neutral += 1
            else:
                score.wrong.append(c.description)
            continue
        used.add(best[1])
        score.errors.append(_clock_distance(_minutes(c.details["time"]), _minutes(_routine_time(truth, best[1]))))
    score.misses += [
        f"{r.routine_id} {r.entity_id} {r.state} {r.local_time} {r.days}"
        for r in required_clock
        if r.routine_id not in used
    ]
    sun_used: set[str] = set()
    for c in sun:
        info = c.details["sun"]
        best = None
        for r in truth.sun_routines:
            if r.routine_id in sun_used or (r.entity_id, r.state, r.sun_event) != (
                c.entity_ids[0],
                c.details["state"],
                info["event"],
            ):
                continue
            d = abs(r.offset_minutes - info["offset_minutes"])
            if d <= TOLERANCE_MINUTES and (best is None or d < best[0]):
                best = (d, r.routine_id)
        if best is None:
            score.false_positives += 1
            score.wrong.append(c.description)
        else:
            sun_used.add(best[1])
            score.true_positives += 1
            score.errors.append(best[0])
    required_sun = [
        r for r in truth.sun_routines if len(r.occurrences) >= MIN_OCCURRENCES and not _ignored_entity(r.entity_id)
    ]
    score.required += len(required_sun)
    score.required_found += sum(1 for r in required_sun if r.routine_id in sun_used or r.routine_id in used)
    score.misses += [
        f"{r.routine_id} {r.entity_id} {r.state} {r.sun_event}{r.offset_minutes:+.0f}"
        for r in required_sun
        if r.routine_id not in sun_used and r.routine_id not in used
    ]
    return score


def slotted_entities(truth: GroundTruth) -> set[str]:
    """Entities of planted sequences with no routine of their own: their findings are neutral.

    Dinner is cooked in a daily two-hour slot (lunch and evening TV likewise), which a loose home shows
    as a one-hour routine the truth does not plant; where the residents are out at midday on one kind
    of day, the lunch slot also shows as a weekday-only or weekend-only routine.
    """
    return {st.entity_id for q in truth.sequences for st in q.steps} - {r.entity_id for r in truth.routines}


def observed_truth(home: GeneratedHome) -> GroundTruth:
    """The truth with each routine's time set to the median of its planted occurrences.

    A loose routine spreads up to 24 min (standard deviation) and skips days, so the median of its ~20
    occurrences may lie 10 min from the nominal time; no detector can see the nominal time, only what
    happened. Tight homes too: their own routines sit within a minute or two of the nominal time, but a
    derived one (the light turned off after a varying while) can lie 10 min from it.
    """
    truth = home.truth
    tz = zoneinfo.ZoneInfo(home.spec.time_zone)
    routines = []
    for r in truth.routines:
        if len(r.occurrences) >= MIN_OCCURRENCES:
            nominal = _minutes(r.local_time)
            local = [t.astimezone(tz) for t in r.occurrences]
            minutes = np.asarray([t.hour * 60 + t.minute + t.second / 60 for t in local])
            offset = float(np.median((minutes - nominal + 720) % 1440 - 720))
            m = round(nominal + offset) % 1440
            r = msgspec.structs.replace(r, local_time=f"{m // 60:02d}:{m % 60:02d}")
        routines.append(r)
    return msgspec.structs.replace(truth, routines=routines)


def _still_sun_routine(
    truth: GroundTruth, c: PatternCandidate, time_zone: str, used: set[str]
) -> tuple[float, str] | None:
    """(time error, id) of a sun routine a clock finding describes, where the sun stood still in the window."""
    tz = zoneinfo.ZoneInfo(time_zone)
    for r in truth.sun_routines:
        if r.routine_id in used or (r.entity_id, r.state) != (c.entity_ids[0], c.details["state"]):
            continue
        local = [t.astimezone(tz) for t in r.occurrences]
        minutes = np.asarray([t.hour * 60 + t.minute + t.second / 60 for t in local])
        mean = float(np.median(minutes))
        d = _clock_distance(mean, _minutes(c.details["time"]))
        if minutes.std() < SUN_STILL_MINUTES and d <= TOLERANCE_MINUTES:
            return d, r.routine_id
    return None


def _routine_time(truth: GroundTruth, routine_id: str) -> str:
    return next(r.local_time for r in truth.routines if r.routine_id == routine_id)


def score_day_type(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Day-type findings against GroundTruth.day_type_differences.

    A finding matches a planted difference of the same entity and state when both sides agree: a
    side the truth has (weekday or weekend time) is found within the tolerance, a side the truth
    lacks is not found. Every planted difference is required. A finding that matches no planted
    difference is still right when each side it reports is a planted weekdays-only or weekends-only
    routine (the truth records a difference only for some of them, e.g. leaving for work but not
    coming back). A finding on an entity of slotted_entities is neutral; anything else is wrong,
    frequency findings included unless such a routine exists.

    Each side's time is the median of its routine's planted occurrences, as in score_time_of_day
    (observed_truth): on a loose home a weekend side has only 4-9 occurrences at a spread of up to 24
    min, so its median may lie 15 min or more from the nominal time.
    """
    truth = observed_truth(home)
    observed = {r.routine_id: r.local_time for r in truth.routines}
    differences = [
        msgspec.structs.replace(
            d,
            weekday_time=observed.get(d.weekday_routine_id or "", d.weekday_time),
            weekend_time=observed.get(d.weekend_routine_id or "", d.weekend_time),
        )
        for d in truth.day_type_differences
    ]
    slotted = slotted_entities(truth)
    found = [c for c in candidates if c.pattern_type == "day_type"]
    score = TypeScore(required=len(differences))
    matched: set[int] = set()
    for c in found:
        entity_id, state = c.entity_ids[0], c.details["state"]
        wd = (c.details.get("weekday") or {}).get("time") if c.details.get("kind") == "timing" else None
        we = (c.details.get("weekend") or {}).get("time") if c.details.get("kind") == "timing" else None
        hit = None
        for i, d in enumerate(differences):
            if i in matched or (d.entity_id, d.state) != (entity_id, state) or c.details.get("kind") != "timing":
                continue
            if _side_agrees(d.weekday_time, wd) and _side_agrees(d.weekend_time, we):
                hit = i
                break
        if hit is not None:
            matched.add(hit)
            score.true_positives += 1
            d = differences[hit]
            for planted, got in ((d.weekday_time, wd), (d.weekend_time, we)):
                if planted is not None and got is not None:
                    score.errors.append(_clock_distance(_minutes(planted), _minutes(got)))
            continue
        if _explained_by_routines(truth, entity_id, state, wd, we, c.details.get("kind") == "frequency"):
            score.true_positives += 1
        elif entity_id in slotted:
            score.neutral += 1
        else:
            score.false_positives += 1
            score.wrong.append(c.description)
    score.required_found = len(matched)
    score.misses += [
        f"{d.entity_id} {d.state} weekdays {d.weekday_time} weekends {d.weekend_time}"
        for i, d in enumerate(differences)
        if i not in matched
    ]
    return score


def _side_agrees(planted: str | None, found: str | None) -> bool:
    if planted is None or found is None:
        return planted is None and found is None
    return _clock_distance(_minutes(planted), _minutes(found)) <= TOLERANCE_MINUTES


def _explained_by_routines(
    truth: GroundTruth, entity_id: str, state: str, wd: str | None, we: str | None, frequency: bool
) -> bool:
    routines = [r for r in truth.routines if (r.entity_id, r.state) == (entity_id, state)]
    if frequency:
        return any(r.days in ("weekdays", "weekends") for r in routines)
    for side, days in ((wd, "weekdays"), (we, "weekends")):
        if side is None:
            continue
        if not any(
            r.days == days and _clock_distance(_minutes(r.local_time), _minutes(side)) <= TOLERANCE_MINUTES
            for r in routines
        ):
            return False
    return wd is not None or we is not None


def score_duration(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Typical durations against GroundTruth.durations.

    A finding matches a planted duration of the same entity and state when its median is within
    max(1 min, 25 %) of the observed mean. Required: planted durations with at least 5 periods.
    Neutral (neither right nor wrong): durations of background entities, whose on-times are drawn
    from fixed distributions the truth does not list, and of states that a planted routine enters
    (the porch light is on from sunset to 23:30; a student is away from 07:55 until the afternoon).
    """
    truth = home.truth
    found = [c for c in candidates if c.pattern_type == "duration"]
    planted = {(d.entity_id, d.state): d for d in truth.durations}
    required = {k for k, d in planted.items() if len(d.occurrences) >= 5}
    score = TypeScore(required=len(required))
    background = set(truth.noise.background_entities)
    routine_states = {(r.entity_id, r.state) for r in [*truth.routines, *truth.sun_routines]}
    matched: set[tuple[str, str]] = set()
    for c in found:
        key = (c.entity_ids[0], c.details["state"])
        d = planted.get(key)
        median = float(c.details["median_minutes"])
        if d is not None and abs(median - d.observed_mean_minutes) <= max(1.0, 0.25 * d.observed_mean_minutes):
            score.true_positives += 1
            matched.add(key)
            score.errors.append(abs(median - d.observed_mean_minutes))
        elif d is None and (key[0] in background or key in routine_states):
            score.neutral += 1
        else:
            score.false_positives += 1
            score.wrong.append(f"{c.description} (median {median:.1f} min)")
    score.required_found = len(required & matched)
    score.misses += [f"{k[0]} {k[1]} {planted[k].observed_mean_minutes:.1f} min" for k in sorted(required - matched)]
    return score


def score_co_occurrence(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Directional pairs with training.synthetic.scoring.score_causal_pairs.

    Right: a planted causal pair or two consecutive steps of a planted sequence (GroundTruth.implied_pairs).
    Required: the planted pairs seen at least MIN_OCCURRENCES times. The error is the found median delay's
    distance from the planted delay range, in minutes (0 inside it).
    """
    truth = home.truth
    found = [c for c in candidates if c.pattern_type == "co_occurrence"]
    keys = [(c.identity[1], c.identity[2], c.identity[3], c.identity[4]) for c in found]
    official = score_causal_pairs(keys, truth, min_occurrences=MIN_OCCURRENCES)
    score = TypeScore(true_positives=official.true_positives, false_positives=official.false_positives)
    required = {
        (p.trigger_entity_id, p.trigger_state, p.response_entity_id, p.response_state): p
        for p in truth.causal_pairs
        if len(p.occurrences) >= MIN_OCCURRENCES
    }
    score.required = len(required)
    score.required_found = len(required) - official.false_negatives
    valid = {p[:4] for p in truth.implied_pairs()}
    for c, key in zip(found, keys, strict=True):
        if key not in valid:
            score.wrong.append(f"{c.description} (support {c.occurrences}, lift {c.details['lift']})")
        elif key in required:
            p, delay = required[key], float(c.details["delay_median_s"])
            score.errors.append(max(0.0, p.delay_min_s - delay, delay - p.delay_max_s) / 60.0)
    score.misses += [" ".join(k) for k in required if k not in set(keys)]
    return score


def score_sequence(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Sequences against GroundTruth.sequences, matched by their ordered (entity, state) steps.

    A finding is right when its steps are a planted sequence's steps, or three or more consecutive steps of
    one (right but not what was planted: it does not count towards recall). Required: planted sequences
    seen at least MIN_OCCURRENCES times. The error is the found median span's distance from the planted
    bound (steps x max gap), in minutes (0 within it).
    """
    truth = home.truth
    found = [c for c in candidates if c.pattern_type == "sequence"]
    planted = {tuple((s.entity_id, s.state) for s in q.steps): q for q in truth.sequences}
    required = {k for k, q in planted.items() if len(q.occurrences) >= MIN_OCCURRENCES}
    score = TypeScore(required=len(required))
    matched: set[tuple[tuple[str, str], ...]] = set()
    for c in found:
        steps = tuple((s["entity_id"], s["state"]) for s in c.details["steps"])
        if steps in planted and steps not in matched:
            matched.add(steps)
            score.true_positives += 1
            bound = planted[steps].max_gap_s * (len(steps) - 1)
            score.errors.append(max(0.0, float(c.details["span_median_s"]) - bound) / 60.0)
        elif any(_contiguous(steps, k) for k in planted):
            score.true_positives += 1
        else:
            score.false_positives += 1
            score.wrong.append(c.description)
    score.required_found = len(required & matched)
    score.misses += [" -> ".join(f"{e} {s}" for e, s in k) for k in sorted(required - matched)]
    return score


def _contiguous(part: tuple[tuple[str, str], ...], whole: tuple[tuple[str, str], ...]) -> bool:
    n = len(part)
    return n >= 3 and any(whole[i : i + n] == part for i in range(len(whole) - n + 1))


def score_anomaly(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Anomalies with training.synthetic.scoring.score_anomalies, each found at the middle of its window.

    A finding matches an injected anomaly of the same entity whose window (widened by 30 min) holds the
    middle of the finding's window; each anomaly is matched once. Every injected anomaly is required. The
    error is the distance from the finding's start to the anomaly's start, in minutes.
    """
    truth = home.truth
    found = [c for c in candidates if c.pattern_type == "anomaly"]
    slack = timedelta(minutes=30)

    def middle(c: PatternCandidate) -> datetime:
        assert c.first_seen is not None and c.last_seen is not None
        return c.first_seen + (c.last_seen - c.first_seen) / 2

    official = score_anomalies([(c.entity_ids[0], middle(c)) for c in found], truth, slack=slack)
    score = TypeScore(
        true_positives=official.true_positives,
        false_positives=official.false_positives,
        required=len(truth.anomalies),
        required_found=len(truth.anomalies) - official.false_negatives,
    )
    used: set[str] = set()
    for c in found:
        hit = next(
            (
                a
                for a in truth.anomalies
                if a.anomaly_id not in used
                and a.entity_id == c.entity_ids[0]
                and a.start - slack <= middle(c) <= a.end + slack
            ),
            None,
        )
        if hit is None:
            score.wrong.append(f"{c.details['kind']}: {c.description}")
        else:
            used.add(hit.anomaly_id)
            assert c.first_seen is not None
            score.errors.append(abs((c.first_seen - hit.start).total_seconds()) / 60.0)
    score.misses += [
        f"{a.kind} {a.entity_id} {a.start:%Y-%m-%d %H:%M}Z" for a in truth.anomalies if a.anomaly_id not in used
    ]
    return score


def score_first_last_of_day(candidates: Sequence[PatternCandidate], home: GeneratedHome) -> TypeScore:
    """Firsts and lasts of the day against GroundTruth.day_marks (loose homes measure them; tight ones have none).

    A finding matches a planted mark of the same edge, entity and state whose time is within 45 minutes. A
    finding that matches none is neutral when its entity is no planted one (a partner's bedside light really
    is the bedroom's first change on most days: a fact of the stream the truth does not plant), else wrong.
    Every planted mark is required.
    """
    found = [c for c in candidates if c.pattern_type == "first_last_of_day"]
    marks = list(home.truth.day_marks)
    score = TypeScore(required=len(marks))
    planted_entities = {r.entity_id for r in home.truth.routines}
    used: set[int] = set()
    for c in found:
        d = c.details
        hit = None
        for i, m in enumerate(marks):
            if i in used or (m.kind, m.entity_id, m.state) != (d["edge"], d["entity_id"], d["state"]):
                continue
            err = _clock_distance(_minutes(m.local_time), _minutes(d["time"]))
            if err <= 45:
                hit = i
                score.errors.append(err)
                break
        if hit is not None:
            used.add(hit)
            score.true_positives += 1
        elif d["entity_id"] not in planted_entities or home.spec.realism == "tight":
            # Tight homes measure no marks (their truth stays as it was): figures only there.
            score.neutral += 1
        else:
            score.false_positives += 1
            score.wrong.append(c.description)
    score.required_found = len(used)
    score.misses += [
        f"{m.kind} {m.area_id} {m.entity_id} {m.state} {m.local_time} {m.days}"
        for i, m in enumerate(marks)
        if i not in used
    ]
    return score


PATTERN_TYPES: dict[str, PatternType] = {
    "time_of_day": PatternType(
        detect_time_of_day, score_time_of_day, {"precision": 0.85, "recall": 0.9, "max_error_minutes": 10}
    ),
    "day_type": PatternType(detect_day_type, score_day_type, {"recall": 0.8}),
    "duration": PatternType(detect_duration, score_duration),
    "co_occurrence": PatternType(detect_co_occurrences, score_co_occurrence, {"precision": 0.85, "recall": 0.9}),
    "sequence": PatternType(detect_sequences, score_sequence, {"recall": 0.8}),
    # No target in the issue: figures only (a false alarm costs a person's attention, so precision first).
    "anomaly": PatternType(detect_anomalies, score_anomaly),
    "first_last_of_day": PatternType(detect_first_last_of_day, score_first_last_of_day, {"recall": 0.6}),
}
"""Pattern type -> detector, scorer and targets. Other detectors add their entry here."""


# ----------------------------------------------------------------------------------------- frames


def frame_entities(home: GeneratedHome) -> dict[str, EntityInfo]:
    """What the detectors know of each entity of a generated home."""
    return {
        e.entity_id: EntityInfo(
            entity_id=e.entity_id,
            domain=e.domain,
            area_id=e.area_id,
            device_class=e.device_class,
            entity_category=e.entity_category,
            friendly_name=e.friendly_name,
            unit_of_measurement=e.unit_of_measurement,
        )
        for e in home.spec.entities
    }


def home_frame(home: GeneratedHome) -> EventFrame:
    """The whole generated period of a home as an EventFrame (straight from its event columns)."""
    spec, log = home.spec, home.events
    tz = zoneinfo.ZoneInfo(spec.time_zone)
    start = datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=tz)
    end_day = spec.start + timedelta(days=spec.days)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz)
    entities = frame_entities(home)
    return frame_from_columns(
        entity_ids=list(log.entity_ids),
        states=list(log.states),
        entity=log.entity,
        new_state=log.new_state,
        old_state=log.old_state,
        t=log.time_us / 1e6,
        time_zone=spec.time_zone,
        start=start,
        end=end,
        latitude=spec.latitude,
        longitude=spec.longitude,
        entities=entities,
        holidays=home.truth.holidays,
    )


def speed_frame(min_events: int = 500_000, seed: int = 1) -> EventFrame:
    """30 days of a 100-entity home, padded with chatty power sensors (one report every 10-50 s) to min_events."""
    home = generate_home(seed, "single_family", 30, entity_target=100)
    frame = home_frame(home)
    missing = min_events - len(frame)
    if missing <= 0:
        return frame
    rng = np.random.default_rng(seed)
    n_sensors = 10
    per_sensor = missing // n_sensors + 1
    t0, t1 = frame.start.timestamp(), frame.end.timestamp()
    states = list(frame.states)
    index = {s: i for i, s in enumerate(states)}
    entity_ids = list(frame.entity_ids)
    ent, new, old, ts = [frame.entity], [frame.new_state], [frame.old_state], [frame.t]
    for k in range(n_sensors):
        entity_ids.append(f"sensor.bench_plug_{k}_power")
        t = np.sort(rng.uniform(t0, t1, per_sensor))
        values = np.round(np.abs(rng.normal(60, 40, per_sensor)), 1)
        codes = np.asarray([index.setdefault(f"{v:.1f}", len(index)) for v in values], dtype=np.int32)
        ent.append(np.full(per_sensor, len(entity_ids) - 1, dtype=np.int32))
        new.append(codes)
        old.append(np.concatenate([[-1], codes[:-1]]).astype(np.int32))
        ts.append(t)
    states = list(index)
    return frame_from_columns(
        entity_ids=entity_ids,
        states=states,
        entity=np.concatenate(ent),
        new_state=np.concatenate(new),
        old_state=np.concatenate(old),
        t=np.concatenate(ts),
        time_zone=frame.time_zone,
        start=frame.start,
        end=frame.end,
        latitude=home.spec.latitude,
        longitude=home.spec.longitude,
        entities=frame.entities,
    )


# ----------------------------------------------------------------------------------------- report


def _fmt(x: float) -> str:
    return f"{x:5.2f}"


def _pooled(scores: Sequence[TypeScore]) -> TypeScore:
    """All homes' findings and planted items counted together."""
    out = TypeScore()
    for s in scores:
        out.true_positives += s.true_positives
        out.false_positives += s.false_positives
        out.neutral += s.neutral
        out.required += s.required
        out.required_found += s.required_found
        out.errors += s.errors
    return out


def _print_type(name: str, rows: list[tuple[str, int, TypeScore]], targets: Mapping[str, float]) -> bool:
    """One pattern type's table; a target holds when the mean over homes and the pooled figure both meet it."""
    print(f"\n== {name}")
    header = f"{'home type':<14} {'seed':>4} {'P':>5} {'R':>5} {'TP':>4} {'FP':>4} {'neut':>4} {'req':>4} {'found':>5}"
    print(header + f" {'err med':>7} {'err max':>7}")
    for home_type, seed, s in rows:
        med = f"{statistics.median(s.errors):7.1f}" if s.errors else f"{'-':>7}"
        mx = f"{max(s.errors):7.1f}" if s.errors else f"{'-':>7}"
        print(
            f"{home_type:<14} {seed:>4} {_fmt(s.precision)} {_fmt(s.recall)} {s.true_positives:>4} "
            f"{s.false_positives:>4} {s.neutral:>4} {s.required:>4} {s.required_found:>5} {med} {mx}"
        )
    print("-" * 78)
    for home_type in dict.fromkeys(r[0] for r in rows):
        sub = [s for h, _, s in rows if h == home_type]
        p, r = statistics.mean(s.precision for s in sub), statistics.mean(s.recall for s in sub)
        print(f"{'mean ' + home_type:<19} {_fmt(p)} {_fmt(r)}")
    scores = [s for _, _, s in rows]
    precision = statistics.mean(s.precision for s in scores)
    recall = statistics.mean(s.recall for s in scores)
    pooled = _pooled(scores)
    print(f"{'mean (all homes)':<19} {_fmt(precision)} {_fmt(recall)}")
    print(
        f"{'pooled':<19} {_fmt(pooled.precision)} {_fmt(pooled.recall)} {pooled.true_positives:>4} "
        f"{pooled.false_positives:>4} {pooled.neutral:>4} {pooled.required:>4} {pooled.required_found:>5}"
    )
    for realism in dict.fromkeys(h.split(":", 1)[0] for h, _, _ in rows):
        held = [s for h, seed, s in rows if h.startswith(realism + ":") and seed not in TUNING_SEEDS]
        if held:
            p = _pooled(held)
            print(
                f"{'held-out ' + realism:<19} {_fmt(p.precision)} {_fmt(p.recall)} {p.true_positives:>4} "
                f"{p.false_positives:>4} {p.neutral:>4} {p.required:>4} {p.required_found:>5}  (pooled, seeds "
                f"{sorted({seed for _, seed, _ in rows if seed not in TUNING_SEEDS})})"
            )
    line = f"min P {min(s.precision for s in scores):.2f}, min R {min(s.recall for s in scores):.2f}"
    if pooled.errors:
        line += f"; time error median {statistics.median(pooled.errors):.1f}, max {max(pooled.errors):.1f} min"
    print("  " + line)
    ok = True
    verdicts = []
    for key, target in targets.items():
        if key in ("precision", "recall"):
            mean = precision if key == "precision" else recall
            pool = pooled.precision if key == "precision" else pooled.recall
            good = min(mean, pool) >= target
            verdicts.append(f"{key} mean {mean:.3f} / pooled {pool:.3f} >= {target}")
        elif key == "max_error_minutes":
            worst = max(pooled.errors) if pooled.errors else 0.0
            good = worst <= target
            verdicts.append(f"time error max {worst:.1f} <= {target} min")
        else:
            continue
        verdicts[-1] = ("PASS " if good else "FAIL ") + verdicts[-1]
        ok &= good
    print("  " + ("; ".join(verdicts) if verdicts else "no targets (figures only)"))
    return ok


TOP_K = 20
"""How many findings a person reads: the top of the list, ranked as the service ranks them."""


def top_k_verdicts(found: Sequence[PatternCandidate], home: GeneratedHome, k: int = TOP_K) -> tuple[int, int, int]:
    """(right, wrong, neutral) among the k findings of every detector that rank highest.

    The ranking is the service's (matching.pattern_quality of confidence and occurrences, no feedback yet);
    each finding is scored alone by its type's scorer.
    """
    ranked = sorted(found, key=lambda c: (-pattern_quality(c.confidence, c.occurrences), c.pattern_type))
    right = wrong = neutral = 0
    for c in ranked[:k]:
        s = PATTERN_TYPES[c.pattern_type].scorer([c], home)
        if s.true_positives:
            right += 1
        elif s.false_positives:
            wrong += 1
        else:
            neutral += 1
    return right, wrong, neutral


def _time(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    """Score every registered detector on the homes and time them; exit 1 when a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--home-types", nargs="+", default=["single_family", "apartment", "townhouse"])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=None, help="first local date (default 2026-01-05)")
    parser.add_argument("--types", nargs="+", default=list(PATTERN_TYPES), choices=list(PATTERN_TYPES))
    parser.add_argument(
        "--realism",
        nargs="+",
        default=["loose", "tight"],
        choices=["loose", "tight", "dense"],
        help="synthetic realism settings to score (default: loose, beside today's tight homes)",
    )
    parser.add_argument("--verbose", action="store_true", help="list every miss and every wrong finding")
    parser.add_argument("--no-speed", action="store_true", help="skip the 500,000-event speed run")
    args = parser.parse_args()
    config = DetectorConfig()
    results: dict[str, list[tuple[str, int, TypeScore]]] = {name: [] for name in args.types}
    timings: dict[str, list[float]] = {name: [] for name in [*args.types, "noise filter"]}
    noise_rows = []
    top_rows: list[tuple[str, int, int, int, int]] = []
    for home_type, seed, realism in [(h, s, r) for r in args.realism for h in args.home_types for s in args.seeds]:
        home = generate_home(seed, home_type, args.days, start=args.start, realism=realism)
        home_type = f"{realism}:{home_type}"
        frame = home_frame(home)
        timings["noise filter"].append(_time(lambda frame=frame: filter_noise(frame, config), 1))
        report = filter_noise(frame, config)
        dropped = {e for reason, ents in report.dropped_entities.items() for e in ents}
        noisy = set(home.truth.noise.chatty_entities) | set(home.truth.noise.diagnostic_entities)
        behaviour = {r.entity_id for r in home.truth.routines} | {r.entity_id for r in home.truth.sun_routines}
        behaviour -= {e for e in behaviour if _ignored_entity(e)}
        noise_rows.append(
            (
                home_type,
                seed,
                len(frame),
                report.kept_events,
                len(noisy & dropped),
                len(noisy),
                len(behaviour & dropped),
            )
        )
        found_all: list[PatternCandidate] = []
        for name in args.types:
            kind = PATTERN_TYPES[name]
            t0 = time.perf_counter()
            found = kind.detector(frame, config)
            found_all.extend(found)
            timings[name].append(time.perf_counter() - t0)
            score = kind.scorer(found, home)
            results[name].append((home_type, seed, score))
            if args.verbose and (score.misses or score.wrong):
                print(f"[{name} {home_type} seed {seed}]")
                for m in score.misses:
                    print(f"   missed: {m}")
                for w in score.wrong:
                    print(f"   wrong:  {w}")
        top_rows.append((home_type, seed, *top_k_verdicts(found_all, home)))
    first = args.start or date(2026, 1, 5)
    print(
        f"homes: {', '.join(args.home_types)} x seeds {args.seeds} x {args.days} days from {first}; "
        f"realism {', '.join(args.realism)}"
    )
    print(
        f"seeds used while building the loose setting and the first/last detector: {TUNING_SEEDS}; "
        f"held out: {[s for s in args.seeds if s not in TUNING_SEEDS]}"
    )
    print(
        f"tolerance {TOLERANCE_MINUTES} min; P precision, R recall, "
        "neut: findings the truth neither asks for nor rules out"
    )
    ok = True
    for name in args.types:
        ok &= _print_type(name, results[name], PATTERN_TYPES[name].targets)

    print(f"\n== top {TOP_K} (every detector's findings ranked by pattern_quality): right / wrong / neutral")
    for home_type, seed, right, wrong, neutral in top_rows:
        print(f"{home_type:<22} {seed:>4} {right:>3} {wrong:>3} {neutral:>3}  P {right / max(1, right + wrong):.2f}")
    for realism in args.realism:
        for label, keep in (("all seeds", lambda s: True), ("held-out", lambda s: s not in TUNING_SEEDS)):
            sel = [r for r in top_rows if r[0].startswith(realism + ":") and keep(r[1])]
            if sel:
                right, wrong = sum(r[2] for r in sel), sum(r[3] for r in sel)
                print(
                    f"  {realism} {label}: top-{TOP_K} precision {right / max(1, right + wrong):.3f} "
                    f"({right} right, {wrong} wrong, {sum(r[4] for r in sel)} neutral)"
                )

    print("\n== noise filter (chatty + diagnostic entities dropped; entities with planted routines dropped)")
    for home_type, seed, n, kept, hit, total, lost in noise_rows:
        print(
            f"{home_type:<14} {seed:>4} events {n:>7} kept {kept:>6}  noisy dropped {hit}/{total}"
            f"  routine entities dropped {lost}"
        )

    print("\n== time per detector on the homes (seconds: median / max)")
    for name, values in timings.items():
        if values:
            print(f"{name:<16} {statistics.median(values):7.3f} / {max(values):7.3f}")
    if not args.no_speed:
        frame = speed_frame()
        print(f"\n== speed: 30-day 100-entity home padded to {len(frame):,} events ({len(frame.entity_ids)} entities)")
        total = 0.0
        for name in ["noise filter", *args.types]:
            fn = (
                (lambda: filter_noise(frame, config))
                if name == "noise filter"
                else (lambda name=name: PATTERN_TYPES[name].detector(frame, config))
            )
            seconds = _time(fn)
            total += seconds
            print(f"{name:<16} {seconds:7.3f} s")
        tracemalloc.start()
        for name in args.types:
            PATTERN_TYPES[name].detector(frame, config)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{'all together':<16} {total:7.3f} s (best of 3 each); peak traced memory {peak:.0f} MiB")
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
