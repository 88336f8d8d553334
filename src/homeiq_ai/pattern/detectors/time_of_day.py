"""Time-of-day routines: an entity goes to a state at about the same local time (or sun time) on a set of days.

Per entity and target state, the transitions into the state (a burst of toggles counts once) are
clustered on the 24-hour circle, so 23:50 and 00:10 are one routine: peaks of the smoothed
minute-of-day histogram, each refined to a window of three standard deviations around the mean of
its transitions. A cluster becomes a routine when it is tight (spread at most `max_spread_minutes`;
a meal cooked at any time in a 90-minute slot spreads 26 min), happens on enough of the days of its
day set, and stands out from the entity's own activity around it (a lift test against the windows
beside it: a motion sensor that fires every hour hits any window on many days without having a
routine, and a busy hour of random use is a plateau, not a peak). The day set (every day, weekdays,
weekends with holidays, or specific weekdays) is the one the day-by-day hits support best (BIC).

Sun-relative: a routine whose clock times follow the day's sunset or sunrise (slope near 1, a
correlation no chance gives, offsets clearly tighter than clock times) is reported relative to it.
Where the sun moves more in the window than a routine may spread (months, or a DST change), the
transitions are also clustered on their offsets from sunset and sunrise, since such a routine cannot
form a tight cluster on the clock.
"""

from __future__ import annotations

import hashlib
import math
import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from homeiq_ai.kernel.phrases import state_phrase as kernel_state_phrase
from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.noise import select_events

__all__ = [
    "DAY_NAMES",
    "RoutineCluster",
    "TimeOfDaySettings",
    "describe_days",
    "detect_time_of_day",
    "entity_name",
    "find_routines",
    "hhmm",
    "home_drift_scale",
    "state_phrase",
    "weekend_days",
]

DAY = 1440
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHORT = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCREEN_HALF_WIDTHS = (5, 10, 20, 40)
# On the days outside its day set a routine happens at most this share as often as on its own days.
_ABSENT = 0.5


@dataclass(frozen=True, slots=True)
class TimeOfDaySettings:
    """Thresholds of the time-of-day detector (the shared ones come from DetectorConfig)."""

    burst_minutes: float = 10.0
    """Transitions into the same state within this many minutes of the previous one are one occurrence."""
    kernel_minutes: float = 8.0
    """Width (standard deviation) of the smoothing of the minute-of-day histogram."""
    wide_kernel_minutes: float = 20.0
    """Width of the second, wider smoothing, whose peaks are the routines of few days that drift by an hour."""
    max_spread_minutes: float = 35.0
    """A cluster whose occurrences spread wider than this (standard deviation) is not a routine.

    People drift by 30 to 60 minutes (a spread near 15-25 min); 35 keeps such routines (loose synthetic
    homes, tuned on seeds 1-2) while tight homes score as before.
    """
    drift_minutes: float = 20.0
    """A routine spreading wider than this is a drifting one..."""
    min_drift_day_rate: float = 0.6
    """...and must happen on at least this share of its days."""
    tightness_minutes: float = 30.0
    """Past `flat_minutes`, a routine's confidence is its day share beyond chance times 1 / (1 + (spread / this)^4).

    Steep past 30: a person who drifts by up to an hour (spread 16-24 min) on 60-70% of days keeps a
    confidence above 0.5, while a meal cooked at any time of a two-hour slot (spread 30-35 min) falls
    below it. Tuned on loose seeds 1-2 and tight homes.
    """
    flat_minutes: float = 18.0
    """Up to this spread a routine's confidence is its day share beyond chance, undiminished.

    Without it (1 / (1 + (spread / 30)^4) at every spread), a routine on half of its days with no
    background at all, spreading 12-18 min, fell just short of the 0.5 confidence (0.45-0.49); these were
    most of the loose homes' missed routines. Loose seeds 1-2: recall 0.90 -> 0.94 at precision 0.99, and
    no more findings the truth does not plant. The flat top stops below the two-hour meal slots (spread
    25-35 min); a continuous curve that lifted those too made the tight homes' precision fall below 0.85.
    """
    home_drift_minutes: float = 12.0
    """Where a home's routines typically spread wider than this, its residents drift: spreads are judged against theirs.

    The home's drift is the median spread of the clock routines found at the default scale (at least
    `home_drift_min_routines` of them). Past this reference, `flat_minutes`, `tightness_minutes` and
    `drift_minutes` grow with it, at most `max_drift_scale` times: where a person's wake-up drifts by 40 minutes, a
    bedtime that drifts by an hour is the same kind of routine, while in a home that keeps time to
    minutes (median spread 5-7 min) a kitchen light spread over a two-hour slot is not one. Tuned on
    loose seeds 1-2 (median spreads 14-21 min; tight homes 5-7, which this leaves as they were).
    """
    home_drift_min_routines: int = 5
    """A home's drift is measured on at least this many routines; with fewer, the default scale stays."""
    max_drift_scale: float = 1.25
    """The spread scale grows at most this many times with a home's drift."""
    tight_minutes: float = 10.0
    """A routine spreading at most this much is described as at a time; a wider one also gets its window."""
    window_share: float = 0.8
    """The reported window ("usually between ...") holds this share of the occurrences."""
    window_sigmas: float = 3.0
    """A routine's occurrences lie within this many spreads of its time."""
    min_window_minutes: float = 4.0
    """The smallest half-width of a routine's window (automations fire within seconds)."""
    min_day_rate: float = 0.5
    """A routine happens on at least this share of the days of its day set."""
    min_lift: float = 3.0
    """The routine's window holds at least this many times the entity's activity in the windows around it."""
    max_per_day: float = 1.5
    """On the days it happens, a routine's window holds at most this many transitions on average."""
    ring_windows: int = 4
    """How many windows on each side of a routine measure the activity around it."""
    max_peaks: int = 12
    """At most this many density peaks are examined per entity, state and time axis."""
    sun_spread_ratio: float = 0.6
    """Sun-relative only when the offset's spread is at most this share of the clock time's spread..."""
    sun_min_gain_minutes: float = 2.0
    """...and at least this many minutes tighter."""
    sun_min_z: float = 3.7
    """Clock time must follow the sun's time with a correlation whose Fisher z is at least this (p < 1e-4)."""
    specific_days_penalty: float = 3.0
    """Extra parameters charged to a 'specific weekdays' day set in the model comparison (BIC)."""
    max_chance: float = 0.01
    """A routine's day share beats chance: as many hits on its days have at most this probability by chance.

    The chance of a hit on a day is the routine's background rate (the activity around its window,
    or its rate on the other days); the probability is the binomial tail, times the number of windows
    of the routine's width in a day, since the routine's window is the best of them. A weekend has 8
    or 9 days in 30: 5 of them by chance in a 20-minute window where a drawer is used on one weekend
    day in five has a probability of 0.003 (0.2 over the day's 72 such windows), and a home's hundreds
    of entities give several such. Every-day routines, on 30 days, are far from the limit.
    """
    split_min_minutes: float = 20.0
    """An every-day routine is two, a weekday one and a weekend one, when their times differ by this much..."""
    split_z: float = 3.0
    """...and by this many standard errors of the difference of their mean times."""


@dataclass(slots=True)
class RoutineCluster:
    """One routine found: who, what, when, on which days, and the evidence."""

    entity: int
    state: int
    axis: str
    """"clock", "sunset" or "sunrise"."""
    minute: float
    """Mean local minute of day of the occurrences (0..1440)."""
    spread: float
    """Standard deviation, in minutes, on the routine's own axis."""
    clock_spread: float
    offset: float | None
    """Mean minutes after the sun event (sun-relative routines only)."""
    day_set: str
    """"all", "weekdays", "weekends" or "specific"."""
    weekdays: list[int]
    days_observed: int
    days_with_occurrence: int
    rate_outside: float
    background_rate: float
    lift: float
    confidence: float
    times: np.ndarray
    """UTC epoch seconds of the occurrences on the routine's days (first transition of each day)."""
    all_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """UTC epoch seconds of every transition of the entity into the state (bursts counted once)."""
    minutes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Local minute of day (with seconds) of each occurrence."""
    occurrence_days: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Local day number of each occurrence."""

    @property
    def typical(self) -> float:
        """The median local minute of day of the occurrences: the time a person would call usual.

        `minute` (the mean) drives the statistics; a routine is reported at its median, so one early
        morning among five weekend ones does not pull "around 08:42" to 08:30.
        """
        if self.minutes.size == 0:
            return self.minute
        return float((self.minute + np.median(_wrap(self.minutes - self.minute))) % DAY)


# ----------------------------------------------------------------------------------------- words


def hhmm(minute: float) -> str:
    """Local minute of day as "HH:MM" (rounded, wrapped to one day)."""
    m = round(minute) % DAY
    return f"{m // 60:02d}:{m % 60:02d}"


def entity_name(frame: EventFrame, entity_id: str) -> str:
    """What a person calls an entity: its friendly name, else its object id in words."""
    info = frame.entities.get(entity_id)
    if info is not None and info.friendly_name:
        return info.friendly_name
    object_id = entity_id.split(".", 1)[-1].replace("_", " ")
    return object_id[:1].upper() + object_id[1:]


def state_phrase(frame: EventFrame, entity_id: str, state: str) -> str:
    """A verb phrase for an entity going to a state: "turns on", "opens", "leaves home"..."""
    info = frame.entities.get(entity_id)
    return kernel_state_phrase(entity_id, state, info.device_class if info is not None else None)


def describe_days(day_set: str, weekdays: list[int]) -> str:
    """Plain words for a day set: "every day", "on weekdays", "on Mondays, Wednesdays and Fridays"."""
    if day_set == "all":
        return "every day"
    if day_set in ("weekdays", "weekends"):
        return f"on {day_set}"
    names = [DAY_NAMES[d].capitalize() + "s" for d in weekdays]
    if len(names) == 1:
        return f"on {names[0]}"
    return "on " + ", ".join(names[:-1]) + " and " + names[-1]


def day_set_label(day_set: str, weekdays: list[int]) -> str:
    """The day set as it goes into identities and details: "all", "weekdays", "weekends" or "mon,wed,fri"."""
    if day_set == "specific":
        return ",".join(_SHORT[d] for d in weekdays)
    return day_set


def _sun_words(event: str, offset: float) -> str:
    minutes = round(abs(offset))
    if minutes == 0:
        return f"at {event}"
    return f"about {minutes} minutes {'after' if offset > 0 else 'before'} {event}"


# ----------------------------------------------------------------------------------------- maths


def _wrap(delta: np.ndarray | float) -> np.ndarray | float:
    """Circular difference in minutes, in [-720, 720)."""
    return (np.asarray(delta) + DAY / 2) % DAY - DAY / 2


def _circular_mean(x: np.ndarray) -> float:
    a = x * (2 * math.pi / DAY)
    return float(math.atan2(np.sin(a).mean(), np.cos(a).mean()) * DAY / (2 * math.pi)) % DAY


def _smooth(hist: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a 1440-bin histogram with wrap-around."""
    half = max(1, int(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([hist[-half:], hist, hist[:half]])
    return np.convolve(padded, kernel, mode="valid")


def _bernoulli_ll(hits: float, n: float) -> float:
    if n <= 0:
        return 0.0
    p = hits / n
    out = 0.0
    if hits > 0:
        out += hits * math.log(p)
    if n - hits > 0:
        out += (n - hits) * math.log(1 - p)
    return out


# ----------------------------------------------------------------------------------------- day sets


def choose_day_set(
    hit: np.ndarray, weekday: np.ndarray, holiday: np.ndarray, specific_penalty: float = 3.0
) -> tuple[str, list[int], np.ndarray]:
    """The day set the day-by-day hits support best (BIC over every day / weekdays-weekends / specific).

    Args:
        hit: Per observed day, whether the routine happened.
        weekday: Per observed day, 0 = Monday.
        holiday: Per observed day, whether it is a public holiday (a weekend day here).
        specific_penalty: Extra parameters charged to a set of specific weekdays.

    Returns:
        (day set, its weekdays, boolean mask of the observed days that belong to it).
    """
    n = hit.shape[0]
    if n == 0:
        return "all", list(range(7)), np.ones(0, dtype=bool)
    log_n = math.log(max(n, 2))
    total = float(hit.sum())
    options: list[tuple[float, int, str, list[int], np.ndarray]] = []
    options.append((-2 * _bernoulli_ll(total, n) + log_n, 0, "all", list(range(7)), np.ones(n, dtype=bool)))
    workday = (weekday < 5) & ~holiday
    h_in, n_in = float(hit[workday].sum()), float(workday.sum())
    h_out, n_out = total - h_in, n - n_in
    if n_in > 0 and n_out > 0:
        bic = -2 * (_bernoulli_ll(h_in, n_in) + _bernoulli_ll(h_out, n_out)) + 2 * log_n
        # A routine of one kind of day is mostly absent on the other kind.
        if h_out / n_out <= _ABSENT * h_in / n_in:
            options.append((bic, 1, "weekdays", [0, 1, 2, 3, 4], workday))
        elif h_in / n_in <= _ABSENT * h_out / n_out:
            options.append((bic, 1, "weekends", [5, 6], ~workday))
    rates = []
    for d in range(7):
        sel = (weekday == d) & ~holiday
        rates.append(hit[sel].mean() if sel.any() else 0.0)
    chosen = [d for d in range(7) if rates[d] >= 0.5]
    if chosen and chosen not in ([0, 1, 2, 3, 4], [5, 6], list(range(7))):
        inside = np.isin(weekday, chosen) & ~holiday
        h_in, n_in = float(hit[inside].sum()), float(inside.sum())
        h_out, n_out = total - h_in, n - n_in
        bic = -2 * (_bernoulli_ll(h_in, n_in) + _bernoulli_ll(h_out, n_out)) + (2 + specific_penalty) * log_n
        if n_out == 0 or h_out / n_out <= _ABSENT * h_in / max(n_in, 1):
            options.append((bic, 2, "specific", chosen, inside))
    options.sort(key=lambda o: (round(o[0], 9), o[1]))
    _, _, name, days, mask = options[0]
    return name, days, mask


# ----------------------------------------------------------------------------------------- clustering


@dataclass(slots=True)
class _Group:
    """The transitions of one entity into one state (bursts counted once), with their time axes."""

    entity: int
    state: int
    t: np.ndarray
    minute: np.ndarray
    day: np.ndarray
    sun: dict[str, np.ndarray]
    """Per sun axis: the local minute of the sun event on each transition's day (NaN where none)."""
    windows: list[tuple[float, float]] | None = None
    """The clock windows (centre, half-width) its density peaks refine to, once found."""


def _groups(frame: EventFrame, mask: np.ndarray, settings: TimeOfDaySettings) -> list[_Group]:
    """Transitions into each state per entity, in time order, bursts reduced to their first transition."""
    idx = np.flatnonzero(mask & (frame.new_state != frame.old_state))
    if idx.size == 0:
        return []
    n_states = max(1, len(frame.states))
    key = frame.entity[idx].astype(np.int64) * n_states + frame.new_state[idx]
    order = np.argsort(key, kind="stable")
    idx, key = idx[order], key[order]
    bounds = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [idx.size]])
    t_all = frame.t[idx]
    # A transition less than burst_minutes after the previous one of the same group is part of a burst.
    gap = np.diff(t_all, prepend=-np.inf)
    gap[starts] = np.inf
    keep = gap > settings.burst_minutes * 60.0
    minute_all = frame.minute[idx].astype(np.float64) + np.mod(t_all, 60.0) / 60.0
    day_all = frame.day[idx].astype(np.int64)
    day_index = np.clip(day_all - frame.first_day, 0, max(0, frame.n_days - 1))
    sun_all = {"sunrise": frame.sunrise[day_index], "sunset": frame.sunset[day_index]}
    out = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        k = keep[s:e]
        out.append(
            _Group(
                entity=int(frame.entity[idx[s]]),
                state=int(frame.new_state[idx[s]]),
                t=t_all[s:e][k],
                minute=minute_all[s:e][k],
                day=day_all[s:e][k],
                sun={axis: values[s:e][k] for axis, values in sun_all.items()},
            )
        )
    return out


@dataclass(slots=True)
class _Context:
    """What every group's clustering needs from the frame, computed once."""

    frame: EventFrame
    config: DetectorConfig
    settings: TimeOfDaySettings
    start_abs: float
    """Local minutes since 1970-01-01 00:00 local of the window's start (and end)."""
    end_abs: float
    holidays: frozenset[int]
    sun_axes: bool
    """Whether the sun moves so much in the window that sun routines need their own clustering."""


def _local_abs_minutes(moment: datetime, time_zone: str) -> float:
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    naive = local.replace(tzinfo=None)
    return (naive - datetime(1970, 1, 1)).total_seconds() / 60.0


def _axis_values(group: _Group, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Position of each transition on an axis (a 1440-minute circle) and which transitions have one."""
    if axis == "clock":
        return group.minute, np.ones(group.minute.shape[0], dtype=bool)
    sun = group.sun[axis]
    valid = ~np.isnan(sun)
    x = np.where(valid, (group.minute - np.where(valid, sun, 0.0) + DAY / 2) % DAY, 0.0)
    return x, valid


def _peaks(x: np.ndarray, ctx: _Context) -> list[tuple[float, float]]:
    """Density peaks of positions on the circle, highest first, that could hold a routine.

    A cheap screen on the histogram's cumulative counts keeps only the peaks that stand out from the
    windows around them at one of a few widths (the full lift test comes later, per cluster). Each
    peak comes with the half-width of its hill: how far the smoothed density falls from it, to a
    tenth of the peak or to a valley before the next hill. The histogram is smoothed at two widths:
    a routine seen on few days that drifts by an hour (seven weekend mornings spreading 18 min) is
    two or three small hills at the narrow one, each too short to be the routine, and one hill at the
    wide one. The wide one's peaks come after the narrow one's (the same minute once).
    """
    s = ctx.settings
    hist = np.bincount(np.floor(x).astype(np.int64) % DAY, minlength=DAY).astype(np.float64)
    csum = np.concatenate([[0.0], np.cumsum(np.concatenate([hist, hist, hist]))])
    out: list[tuple[float, float]] = []
    for sigma in (s.kernel_minutes, s.wide_kernel_minutes):
        for peak, hill in _smoothed_peaks(hist, csum, sigma, ctx):
            if all(abs(float(_wrap(peak - other))) > 1.0 for other, _ in out):
                out.append((peak, hill))
    return out


def _smoothed_peaks(hist: np.ndarray, csum: np.ndarray, sigma: float, ctx: _Context) -> list[tuple[float, float]]:
    """The screened peaks of the histogram smoothed at one width, highest first, with their hills."""
    s = ctx.settings
    smooth = _smooth(hist, sigma)
    left, right = np.roll(smooth, 1), np.roll(smooth, -1)
    candidates = np.flatnonzero((smooth >= left) & (smooth > right))
    if candidates.size == 0:
        return []
    keep = np.zeros(candidates.size, dtype=bool)
    ring = np.asarray(_ring(s))
    for half in _SCREEN_HALF_WIDTHS:
        # Transitions within `half` minutes of every minute of the day (a circular moving sum).
        window = csum[DAY + half + 1 : 2 * DAY + half + 1] - csum[DAY - half : 2 * DAY - half]
        core = window[candidates]
        around = window[(candidates[None, :] + ring[:, None] * (2 * half + 1)) % DAY]
        background = np.median(around, axis=0)
        keep |= (core >= ctx.config.min_occurrences) & (core >= s.min_lift * np.maximum(background, 0.5))
    candidates = candidates[keep]
    candidates = candidates[np.argsort(-smooth[candidates], kind="stable")][: s.max_peaks]
    limit = int(s.window_sigmas * s.max_spread_minutes)
    return [
        (float(c) + 0.5, float(max(_hill(smooth, c, -1, limit), _hill(smooth, c, 1, limit))))
        for c in candidates.tolist()
    ]


def _hill(smooth: np.ndarray, peak: int, step: int, limit: int) -> int:
    """Minutes from a peak of the smoothed density to where its hill ends in one direction."""
    floor = 0.1 * smooth[peak]
    lowest = smooth[peak]
    for k in range(1, limit + 1):
        value = smooth[(peak + step * k) % DAY]
        if value < floor:
            return k
        if value > 1.2 * lowest + 1e-9:
            return k
        lowest = min(lowest, value)
    return limit


def _refine(x: np.ndarray, centre: float, hill: float, s: TimeOfDaySettings) -> tuple[float, float] | None:
    """Centre a peak on the transitions of its hill; returns (centre, half-width of the routine's window).

    The window is `window_sigmas` standard deviations of the transitions on the hill, recomputed
    twice so that a hill cut short by the smoothing still takes in all of a routine's occurrences.
    """
    half = max(hill, s.min_window_minutes)
    for _ in range(3):
        delta = (x - centre + DAY / 2) % DAY - DAY / 2
        d = delta[np.abs(delta) <= half]
        if d.size < 2:
            return None
        centre = (centre + float(d.mean())) % DAY
        half = min(max(s.window_sigmas * float(d.std()), s.min_window_minutes), s.window_sigmas * s.max_spread_minutes)
    return centre, half


def _observed_days(ctx: _Context, centre: float, axis: str) -> np.ndarray:
    """Local day numbers on which the window covers the routine's time (on its axis)."""
    frame = ctx.frame
    days = np.arange(frame.first_day, frame.first_day + frame.n_days, dtype=np.int64)
    if axis == "clock":
        at = days * DAY + centre
        ok = np.ones(days.shape[0], dtype=bool)
    else:
        sun = frame.sunrise if axis == "sunrise" else frame.sunset
        ok = ~np.isnan(sun)
        at = days * DAY + np.where(ok, sun, 0.0) + (centre - DAY / 2)
    ok &= (at >= ctx.start_abs) & (at < ctx.end_abs)
    return days[ok]


def _cluster(
    group: _Group,
    axis: str,
    x: np.ndarray,
    valid: np.ndarray,
    centre: float,
    half: float,
    ctx: _Context,
    kind: str | None = None,
) -> RoutineCluster | None:
    """Evaluate one window of one axis as a routine; None when it is not one.

    `kind` ("weekdays" or "weekends") keeps the routine to that kind of day: its day set is chosen among
    those days (all of them, or specific weekdays of the kind), and the other kind's days only give
    its rate outside.
    """
    s, config = ctx.settings, ctx.config
    delta = (x - centre + DAY / 2) % DAY - DAY / 2
    member = valid & (np.abs(delta) <= half)
    m_idx = np.flatnonzero(member)
    if m_idx.size < config.min_occurrences:
        return None
    # The routine's day: for the clock, the day whose centre time is nearest (23:50 and 00:10 are one day).
    if axis == "clock":
        routine_day = np.round((group.day * DAY + group.minute - centre) / DAY).astype(np.int64)
    else:
        routine_day = group.day
    m_days = routine_day[m_idx]
    # First transition of each routine day (the group is in time order, so days are non-decreasing).
    first = np.flatnonzero(np.diff(m_days, prepend=m_days[0] - 1) != 0)
    occ = m_idx[first]
    occ_days = m_days[first]
    observed = _observed_days(ctx, centre, axis)
    if observed.size == 0:
        return None
    pos = np.searchsorted(observed, occ_days)
    pos_ok = (pos < observed.size) & (observed[np.minimum(pos, observed.size - 1)] == occ_days)
    occ, pos = occ[pos_ok], pos[pos_ok]
    if occ.size < config.min_occurrences:
        return None
    hit = np.zeros(observed.size, dtype=bool)
    hit[pos] = True
    weekday = (observed + 3) % 7
    holiday = np.isin(observed, list(ctx.holidays)) if ctx.holidays else np.zeros(observed.size, dtype=bool)
    if kind is None:
        day_set, weekdays, in_set = choose_day_set(hit, weekday, holiday, s.specific_days_penalty)
    else:
        of_kind = ((weekday >= 5) | holiday) == (kind == "weekends")
        day_set, weekdays, sub = choose_day_set(
            hit[of_kind], weekday[of_kind], holiday[of_kind], s.specific_days_penalty
        )
        in_set = np.zeros(observed.size, dtype=bool)
        in_set[np.flatnonzero(of_kind)[sub]] = True
        if day_set == "all":
            day_set, weekdays = kind, ([0, 1, 2, 3, 4] if kind == "weekdays" else [5, 6])
    n_in = int(in_set.sum())
    h_in = int(hit[in_set].sum())
    needed = config.min_occurrences * (2 if day_set == "specific" else 1)
    if n_in == 0 or h_in < needed:
        return None
    rate = h_in / n_in
    if rate < s.min_day_rate:
        return None
    occ = occ[in_set[pos]]
    d_occ = delta[occ]
    spread = float(d_occ.std())
    if spread > s.max_spread_minutes:
        return None
    # A routine that drifts as people do must show on more of its days than a tight one.
    if spread > s.drift_minutes and rate < s.min_drift_day_rate:
        return None
    # Lift, on the routine's days: its window against the windows around it. The background is the
    # larger of the median of the ring (robust to a neighbouring routine) and the mean of the two
    # adjacent windows (a routine is a peak; a busy hour of random use is a plateau).
    set_days = observed[in_set]
    on_set = valid & np.isin(routine_day, set_days)
    d_set = delta[on_set]
    width = 2 * half
    ring = _ring(s)
    counts = np.asarray(
        [np.count_nonzero(np.abs((d_set - k * width + DAY / 2) % DAY - DAY / 2) <= half) for k in ring],
        dtype=np.float64,
    )
    adjacent = float(counts[[ring.index(-1), ring.index(1)]].mean())
    background = max(float(np.median(counts)), adjacent)
    inside = int(np.count_nonzero(np.abs(d_set) <= half))
    lift = inside / max(background, 0.5)
    # A routine is one transition a day; random use in a busy hour gives several.
    if lift < s.min_lift or inside > s.max_per_day * h_in:
        return None
    rate_out = float(hit[~in_set].mean()) if n_in < observed.size else 0.0
    # On other days the same window shows what chance gives (for a subset of days); not for a routine
    # kept to one kind of day, whose window the other kind's own routine may reach into.
    p_background = 1.0 - math.exp(-background / n_in)
    if kind is None:
        p_background = max(p_background, rate_out)
    adjusted = max(0.0, (rate - p_background) / (1.0 - p_background)) if p_background < 1 else 0.0
    tightness = _tightness(spread, s)
    confidence = adjusted * tightness
    if confidence < config.min_confidence:
        return None
    chance = _binomial_tail(h_in, n_in, max(p_background, 1.0 - math.exp(-0.5 / n_in))) * DAY / (2 * half)
    if chance > s.max_chance:
        return None
    clock = group.minute[occ]
    clock_mean = _circular_mean(clock)
    clock_spread = float(np.asarray(_wrap(clock - clock_mean)).std())
    offset = None
    if axis != "clock":
        offset = float(np.mean(d_occ) + _wrap(centre - DAY / 2))
    return RoutineCluster(
        entity=group.entity,
        state=group.state,
        axis=axis,
        minute=clock_mean,
        spread=spread,
        clock_spread=clock_spread,
        offset=offset,
        day_set=day_set,
        weekdays=weekdays,
        days_observed=n_in,
        days_with_occurrence=h_in,
        rate_outside=rate_out,
        background_rate=p_background,
        lift=lift,
        confidence=confidence,
        times=group.t[occ],
        all_times=group.t,
        minutes=clock,
        occurrence_days=group.day[occ],
    )


def _binomial_tail(hits: int, n: int, p: float) -> float:
    """P(at least `hits` successes in `n` trials of probability `p`)."""
    return float(sum(math.comb(n, k) * p**k * (1.0 - p) ** (n - k) for k in range(hits, n + 1)))


def _tightness(spread: float, s: TimeOfDaySettings) -> float:
    """How much of a routine's day share its spread leaves as confidence: 1 up to `flat_minutes`, then falling."""
    if spread <= s.flat_minutes:
        return 1.0
    return 1.0 / (1.0 + (spread / s.tightness_minutes) ** 4)


def _ring(s: TimeOfDaySettings) -> list[int]:
    return [k for k in range(-s.ring_windows, s.ring_windows + 1) if k != 0]


def _sun_fit(frame: EventFrame, r: RoutineCluster, s: TimeOfDaySettings) -> tuple[str, float, float] | None:
    """Whether a clock routine follows sunrise or sunset instead; (event, offset, offset spread) if so.

    The routine's occurrences must move with the sun: clock time against the sun's time has a slope
    near 1 and a correlation no chance would give (Fisher z), and the offsets spread clearly less
    than the clock times.
    """
    n = r.times.size
    if n < 5:
        return None
    clock = r.minute + np.asarray(_wrap(r.minutes - r.minute))
    best = None
    for event, table in (("sunrise", frame.sunrise), ("sunset", frame.sunset)):
        sun = table[np.clip(r.occurrence_days - frame.first_day, 0, frame.n_days - 1)]
        if np.isnan(sun).any() or sun.std() < 2.0:
            continue
        offset = clock - sun
        off_spread = float(offset.std())
        if off_spread > s.sun_spread_ratio * r.clock_spread or r.clock_spread - off_spread < s.sun_min_gain_minutes:
            continue
        cov = float(np.mean((clock - clock.mean()) * (sun - sun.mean())))
        slope = cov / float(sun.var())
        corr = cov / (float(clock.std()) * float(sun.std()))
        if not (0.5 <= slope <= 1.5) or corr <= 0:
            continue
        z = math.atanh(min(corr, 0.999999)) * math.sqrt(n - 3)
        if z < s.sun_min_z:
            continue
        if best is None or off_spread < best[2]:
            best = (event, float(offset.mean()), off_spread)
    return best


def _windows(x: np.ndarray, ctx: _Context) -> list[tuple[float, float]]:
    """The windows (centre, half-width) the density peaks of clock minutes refine to, each once.

    Peaks of the two smoothings often refine to the same window; a window within a minute of an
    earlier one in centre and half-width is that one.
    """
    out: list[tuple[float, float]] = []
    for peak, hill in _peaks(x, ctx):
        w = _refine(x, peak, hill, ctx.settings)
        if w is not None and all(abs(float(_wrap(w[0] - c))) > 1.0 or abs(w[1] - h) > 1.0 for c, h in out):
            out.append(w)
    return out


def _clock_routines(group: _Group, ctx: _Context) -> list[RoutineCluster]:
    """The every-day clustering of one entity and state on the clock (before the day kinds and the sun)."""
    routines: list[RoutineCluster] = []
    x, valid = group.minute, np.ones(group.minute.shape[0], dtype=bool)
    if group.windows is None:
        # The windows depend on the transitions alone, not on the spread scale: found once per group.
        group.windows = _windows(x, ctx)
    for centre, half in group.windows:
        cluster = _cluster(group, "clock", x, valid, centre, half, ctx)
        if cluster is None or any(_overlap(cluster, other) >= 0.5 for other in routines):
            continue
        routines.append(cluster)
    return routines


def _group_routines(group: _Group, ctx: _Context, routines: list[RoutineCluster]) -> list[RoutineCluster]:
    """The routines of one entity and state, from its clock clusters.

    Split by kind of day where the kinds keep different times, turned sun-relative where they follow
    the sun, and joined by the sun routines the clock cannot show.
    """
    s = ctx.settings
    routines = _split_by_day_kind(group, ctx, routines)
    for r in routines:
        fit = _sun_fit(ctx.frame, r, s)
        if fit is not None:
            r.axis, r.offset, r.spread = fit
    if not ctx.sun_axes:
        return routines
    # Where the sun moves more than a clock routine may spread, a sun routine cannot show on the clock.
    for axis in ("sunset", "sunrise"):
        x, valid = _axis_values(group, axis)
        if valid.sum() < ctx.config.min_occurrences:
            continue
        for peak, hill in _peaks(x[valid], ctx):
            refined = _refine(x[valid], peak, hill, s)
            if refined is None:
                continue
            cluster = _cluster(group, axis, x, valid, refined[0], refined[1], ctx)
            if cluster is None or cluster.clock_spread <= s.max_spread_minutes or not _clearly_sun(cluster, s):
                continue
            # It replaces the clock routines that hold a part of its days (the weeks before a DST change).
            overlapping = [r for r in routines if _overlap(cluster, r) >= 0.5]
            if any(r.days_with_occurrence >= cluster.days_with_occurrence for r in overlapping):
                continue
            routines = [r for r in routines if not any(r is o for o in overlapping)]
            routines.append(cluster)
    return routines


def weekend_days(days: np.ndarray, holidays: frozenset[int]) -> np.ndarray:
    """True for local day numbers that are Saturdays, Sundays or public holidays."""
    weekend = (days + 3) % 7 >= 5
    if holidays:
        weekend |= np.isin(days, list(holidays))
    return weekend


def _split_by_day_kind(group: _Group, ctx: _Context, routines: list[RoutineCluster]) -> list[RoutineCluster]:
    """The clock routines, with those that only show on one kind of day found on that kind's own days.

    People get up at 06:45 on weekdays and at 08:30 at weekends. Clustered over every day, the two
    either merge into one wide routine that matches neither or blur each other's windows (a weekend
    time lies inside the weekday window), so that neither passes. Clustered on the transitions of
    workdays and of weekends apart, each is a routine of its own where the other kind of day has its
    partner: a routine of the same entity and state at a clearly different time (`split_min_minutes`,
    `split_z`) whose window overlaps its own. Such a routine is added where no routine has its
    occurrences yet, and a weekday and a weekend routine replace the every-day routine they both
    overlap where that routine's own weekday and weekend occurrences keep clearly different times.
    A routine of one kind of day with no partner is left to the every-day clustering, whose day sets
    find it where it stands out (weekend lunch at home in a punctual home is a slot, not a routine).
    """
    s = ctx.settings
    weekend = weekend_days(group.day, ctx.holidays)
    valid = np.ones(group.minute.shape[0], dtype=bool)
    found: dict[str, list[RoutineCluster]] = {"weekdays": [], "weekends": []}
    for kind, on_kind in (("weekends", weekend), ("weekdays", ~weekend)):
        if kind == "weekdays" and not found["weekends"] and not any(r.day_set == "weekends" for r in routines):
            break  # No weekday routine can have a weekend partner (the common case: spares half the work).
        x = group.minute[on_kind]
        if x.size < ctx.config.min_occurrences:
            continue
        for centre, half in _windows(x, ctx):
            cluster = _cluster(group, "clock", group.minute, valid, centre, half, ctx, kind=kind)
            if cluster is None or any(_overlap(cluster, other) >= 0.5 for other in found[kind]):
                continue
            found[kind].append(cluster)
    partners = {kind: found[kind] + [r for r in routines if r.day_set == kind] for kind in found}
    for kind, other in (("weekdays", "weekends"), ("weekends", "weekdays")):
        found[kind] = [c for c in found[kind] if any(_partners(c, o, s) for o in partners[other])]
    if not found["weekdays"] and not found["weekends"]:
        return routines
    out = list(routines)
    for r in routines:
        if set(r.weekdays) <= {0, 1, 2, 3, 4} or set(r.weekdays) <= {5, 6}:
            continue  # already a routine of one kind of day
        sides = [
            max(near, key=lambda c: c.days_with_occurrence) if near else None
            for near in ([c for c in found[kind] if _overlap(c, r) >= 0.5] for kind in ("weekdays", "weekends"))
        ]
        a, b = sides
        if a is not None and b is not None and _kinds_differ(r, ctx):
            out = [o for o in out if o is not r] + [a, b]
    for kind in ("weekdays", "weekends"):
        for cluster in found[kind]:
            if not any(o is cluster or _overlap(cluster, o) >= 0.5 for o in out):
                out.append(cluster)
    return out


def _kinds_differ(r: RoutineCluster, ctx: _Context) -> bool:
    """Whether an every-day routine's own weekday and weekend occurrences keep clearly different times.

    Measured on the routine's occurrences, not on the two kinds' clusters: a cluster found on a few
    weekend days holds the tightest of them, and would differ from any wide routine by chance.
    """
    s = ctx.settings
    offsets = np.asarray(_wrap(r.minutes - r.minute), dtype=np.float64)
    weekend = weekend_days(r.occurrence_days, ctx.holidays)
    if min(int(weekend.sum()), int((~weekend).sum())) < 2:
        return False
    we, wd = offsets[weekend], offsets[~weekend]
    d = abs(float(we.mean() - wd.mean()))
    se = math.sqrt(float(we.var(ddof=1)) / we.size + float(wd.var(ddof=1)) / wd.size)
    return d >= s.split_min_minutes and d >= s.split_z * se


def _partners(a: RoutineCluster, b: RoutineCluster, s: TimeOfDaySettings) -> bool:
    """Whether routines of the two kinds of day are one habit at two times: clearly apart, their windows overlapping.

    Overlapping windows are what blurs the two when every day is clustered at once.
    """
    reach = s.window_sigmas * (max(a.clock_spread, s.min_window_minutes) + max(b.clock_spread, s.min_window_minutes))
    return _times_differ(a, b, s) and abs(float(_wrap(a.minute - b.minute))) <= reach


def _times_differ(a: RoutineCluster, b: RoutineCluster, s: TimeOfDaySettings) -> bool:
    """Whether two routines' mean clock times differ by at least `split_min_minutes` and `split_z` standard errors."""
    d = abs(float(_wrap(a.minute - b.minute)))
    se = math.sqrt(a.clock_spread**2 / max(a.times.size, 1) + b.clock_spread**2 / max(b.times.size, 1))
    return d >= s.split_min_minutes and d >= s.split_z * se


def _clearly_sun(cluster: RoutineCluster, s: TimeOfDaySettings) -> bool:
    """Whether a routine's offsets from the sun spread clearly less than its clock times."""
    return (
        cluster.spread <= s.sun_spread_ratio * cluster.clock_spread
        and cluster.clock_spread - cluster.spread >= s.sun_min_gain_minutes
    )


def _overlap(a: RoutineCluster, b: RoutineCluster) -> float:
    """Share of the smaller routine's occurrences that the other one has too."""
    if a.times.size == 0 or b.times.size == 0:
        return 0.0
    common = np.intersect1d(a.times, b.times, assume_unique=True).size
    return common / min(a.times.size, b.times.size)


def _sun_moves(frame: EventFrame, s: TimeOfDaySettings) -> bool:
    """Whether sunrise or sunset moves so much in the window that a sun routine may not cluster on the clock."""
    for table in (frame.sunrise, frame.sunset):
        ok = table[~np.isnan(table)]
        if ok.size > 1 and float(ok.std()) >= 0.75 * s.max_spread_minutes:
            return True
    return False


def home_drift_scale(routines: list[RoutineCluster], settings: TimeOfDaySettings) -> float:
    """How many times wider than the default a home's spreads are judged (1 where its residents keep time).

    The median spread of its clock routines against `home_drift_minutes`, from 1 to `max_drift_scale`.
    """
    spreads = [r.clock_spread for r in routines if r.axis == "clock"]
    if len(spreads) < settings.home_drift_min_routines:
        return 1.0
    drift = float(np.median(spreads))
    return float(min(max(drift / settings.home_drift_minutes, 1.0), settings.max_drift_scale))


def find_routines(
    frame: EventFrame,
    config: DetectorConfig,
    settings: TimeOfDaySettings | None = None,
    mask: np.ndarray | None = None,
) -> list[RoutineCluster]:
    """Every time-of-day routine in the frame, in entity and time order.

    Args:
        frame: The events.
        config: Shared thresholds (min_occurrences, min_confidence, noise filters).
        settings: This detector's thresholds; defaults when None.
        mask: The events to mine; `select_events(frame, config)` when None.

    Returns:
        The routines, before they are turned into candidates.
    """
    settings = settings or TimeOfDaySettings()
    if len(frame) == 0:
        return []
    if mask is None:
        mask = select_events(frame, config)
    # time_of_day and day_type both need the routines of one frame: they are found once.
    key = ("time_of_day.routines", repr(config), repr(settings), hashlib.blake2b(np.packbits(mask)).hexdigest())
    if key not in frame.memo:
        frame.memo[key] = _find_routines(frame, config, settings, mask)
    return list(frame.memo[key])


def _find_routines(
    frame: EventFrame, config: DetectorConfig, settings: TimeOfDaySettings, mask: np.ndarray
) -> list[RoutineCluster]:
    ctx = _Context(
        frame=frame,
        config=config,
        settings=settings,
        start_abs=_local_abs_minutes(frame.start, frame.time_zone),
        end_abs=_local_abs_minutes(frame.end, frame.time_zone),
        holidays=frame.holidays,
        sun_axes=_sun_moves(frame, settings),
    )
    groups = [g for g in _groups(frame, mask, settings) if g.t.size >= config.min_occurrences]
    clock = [_clock_routines(group, ctx) for group in groups]
    scale = home_drift_scale(
        [r for routines in clock for r in routines if _sun_fit(frame, r, settings) is None], settings
    )
    if scale > 1.0:
        # The residents drift: judge every spread against their own (a second pass at the wider scale).
        ctx.settings = replace(
            settings,
            flat_minutes=settings.flat_minutes * scale,
            tightness_minutes=settings.tightness_minutes * scale,
            drift_minutes=settings.drift_minutes * scale,
        )
        clock = [_clock_routines(group, ctx) for group in groups]
    out = [r for group, routines in zip(groups, clock, strict=True) for r in _group_routines(group, ctx, routines)]
    out.sort(key=lambda r: (frame.entity_ids[r.entity], frame.states[r.state], r.minute))
    return out


# ----------------------------------------------------------------------------------------- candidates


def _local_iso(t: np.ndarray, tz: zoneinfo.ZoneInfo) -> list[str]:
    return [datetime.fromtimestamp(float(x), tz=tz).isoformat(timespec="seconds") for x in t]


def _hour_histogram(frame: EventFrame, t: np.ndarray) -> list[int]:
    """Counts per local hour of UTC times (the frame's time zone, DST-correct)."""
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    hours = [datetime.fromtimestamp(float(x), tz=tz).hour for x in t]
    return np.bincount(np.asarray(hours, dtype=np.int64), minlength=24)[:24].astype(int).tolist()


def routine_candidate(
    frame: EventFrame, r: RoutineCluster, settings: TimeOfDaySettings | None = None
) -> PatternCandidate:
    """The PatternCandidate of one routine, with its evidence."""
    entity_id = frame.entity_ids[r.entity]
    state = frame.states[r.state]
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    label = day_set_label(r.day_set, r.weekdays)
    name = entity_name(frame, entity_id)
    what = state_phrase(frame, entity_id, state)
    days = describe_days(r.day_set, r.weekdays)
    s = settings or TimeOfDaySettings()
    offsets = np.sort(np.asarray(_wrap(r.minutes - r.minute), dtype=np.float64))
    lo_q, hi_q = (1 - s.window_share) / 2, 1 - (1 - s.window_share) / 2
    w_lo, w_hi = (float(x) for x in np.quantile(offsets, [lo_q, hi_q])) if offsets.size else (0.0, 0.0)
    window = (hhmm(r.minute + w_lo), hhmm(r.minute + w_hi))
    wide = r.axis == "clock" and r.clock_spread > s.tight_minutes
    share = r.days_with_occurrence / max(r.days_observed, 1)
    details: dict[str, object] = {
        "state": state,
        "time": hhmm(r.typical),
        "window_start": window[0],
        "window_end": window[1],
        "share_of_days": round(share, 3),
        "tight": not wide,
        "minute_of_day": round(r.typical, 1),
        "spread_minutes": round(r.clock_spread if r.axis == "clock" else r.spread, 1),
        "days": label,
        "weekdays": list(r.weekdays),
        "occurrence_times": _local_iso(r.times, tz),
        "histogram": _hour_histogram(frame, r.all_times),
        "days_observed": r.days_observed,
        "days_with_occurrence": r.days_with_occurrence,
        "skip_rate": round(1.0 - r.days_with_occurrence / max(r.days_observed, 1), 3),
        "rate_other_days": round(r.rate_outside, 3),
        "background_rate": round(r.background_rate, 3),
        "lift": round(min(r.lift, 1e6), 2),
    }
    identity: tuple[object, ...] = ("time_of_day", entity_id, state, label)
    if r.axis == "clock":
        description = f"{name} {what} around {hhmm(r.typical)} {days}"
        if wide:
            description += f", usually between {window[0]} and {window[1]} ({round(100 * share)}% of days)"
    else:
        assert r.offset is not None
        details["sun"] = {
            "event": r.axis,
            "offset_minutes": round(r.offset, 1),
            "spread_minutes": round(r.spread, 1),
            "clock_spread_minutes": round(r.clock_spread, 1),
        }
        identity = (*identity, r.axis)
        description = f"{name} {what} {_sun_words(r.axis, r.offset)} {days}"
        if r.day_set == "all":
            description = f"{name} {what} {_sun_words(r.axis, r.offset)}"
    info = frame.entities.get(entity_id)
    return PatternCandidate(
        pattern_type="time_of_day",
        entity_ids=[entity_id],
        identity=identity,
        description=description,
        confidence=round(float(r.confidence), 4),
        occurrences=int(r.days_with_occurrence),
        first_seen=datetime.fromtimestamp(float(r.times[0]), tz=UTC),
        last_seen=datetime.fromtimestamp(float(r.times[-1]), tz=UTC),
        area_id=info.area_id if info is not None else None,
        details=details,
    )


def detect_time_of_day(
    frame: EventFrame, config: DetectorConfig, settings: TimeOfDaySettings | None = None
) -> list[PatternCandidate]:
    """Time-of-day routines (clock time or sun-relative) per entity, target state and day set.

    Args:
        frame: The events of the analysis window, in the home's local time.
        config: Shared thresholds and noise filters.
        settings: This detector's thresholds; defaults when None.

    Returns:
        One candidate per routine, in entity and time order.
    """
    return [routine_candidate(frame, r, settings) for r in find_routines(frame, config, settings)]
