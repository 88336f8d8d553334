"""Anomalies: how a day departs from a baseline learned on the window's other days, never on itself.

Leave-one-day-out: every local day of the window is judged against a baseline built from all the other
days, so a day never explains itself away and the nightly run over the last N days judges each of them with
N - 1 days of history. A run of several days without activity is judged against the days outside the run.
In longer windows one other day a month may be odd itself: that many are left out of a baseline's extremes
(longest periods, busiest days, nearest activity), so that anomalies that recur now and then do not make
each other usual.

Per entity (events worth mining only: the noise filter drops chatty, numeric, diagnostic and unavailable):

- unusual_time: a change into an active state ("on", "open", "playing") at least 2 h (and 6 x the entity's
  usual gap between events) from any activity of the entity on any other day, while the rest of the home is
  usually quiet then (a tenth of its busy hours' changes or less: a coffee maker at 03:00); only for entities
  active on most days (a sparse entity's empty hours mean nothing);
- unusual_frequency: a day whose busiest hour is at least twice every other day's busiest hour (and 8 more),
  or whose whole count is at least three times every other day's (and 12 more);
- left_on_too_long: a period in an active state far longer than the entity's usual periods in that state:
  at least an hour, twice the longest on any other day, and 4.5 upper semi-deviations of the log-duration
  above its median (how far the usual long periods reach; short sessions do not widen it);
- missing_activity: consecutive days without any event of an entity with a daily habit (active on at least
  80 % of the other lived-in days, on all days or on days of that type: workday or day off), when so long a
  run is unlikely given the habit (under MISSING_ALPHA). Days when the home is quiet as a whole (vacation,
  the days of leaving and coming back) are never judged: that is not one entity's absence.

Findings of one entity that overlap in time are one anomaly (a TV left on all night also goes off at an odd
hour); its kind is the most telling one and the others are listed in `details["also"]`. Findings of the same
kind on several entities that start and end together (the TV and the soundbar that follows it) are one
anomaly too, listed under the entity that started first.
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.co_occurrence import (
    OCCURRENCE_SAMPLE,
    change_phrase,
    entity_name,
    local_iso,
    recovered,
)
from homeiq_ai.pattern.detectors.noise import select_events

__all__ = ["INACTIVE_STATES", "detect_anomalies"]

EPOCH_DAY = date(1970, 1, 1)
BIN_MIN = 10
N_BINS = 1440 // BIN_MIN
NEIGHBOUR_BINS = 6
"""Unusual time: candidates have no event within this many bins (+-60 min) on any other day."""

MIN_GAP_MIN = 120.0
"""Unusual time: the nearest activity of the entity on any other day is at least this many minutes away..."""

SPACING_FACTOR = 6.0
"""...and at least this many times the entity's usual gap between events..."""

QUIET_BINS = 3
QUIET_SHARE = 0.1
FAR_GAP_MIN = 480.0
"""...and the rest of the home is quiet then (within +-30 min, on the other days, under a tenth of the changes
of its busy hours: a sun-driven garden light at dawn does not make the home awake), or the entity is at least
eight hours from its usual times."""

MIN_ACTIVE_SHARE = 0.5
"""Unusual time: the entity must be active on at least this share of the other days."""

MIN_HISTORY_DAYS = 7
QUIET_DAY_SHARE = 0.4
"""A day with fewer events than this share of a busy day (75th percentile) is a quiet home, not judged."""

MISSING_HABIT = 0.8
"""Missing activity: only entities active on at least this share of the lived-in days have a daily habit."""

MISSING_ALPHA = 2e-4
"""Missing activity: chance of so many empty days in a row, given the entity's habit, below which it is flagged
(for a 30-day window; a longer window offers more runs to chance, so the bar drops in proportion)."""

PEAK_WINDOW_S = 3600.0
"""Unusual frequency: a day's busiest stretch of this length is compared with the other days' busiest."""

LONG_MIN_S = 3600.0
LONG_OVER_MAX = 2.0
LONG_Z = 4.5
LONG_MIN_LOG_SD = 0.25
LONG_MIN_PERIODS = 10
"""Left on too long: at least an hour, twice the longest other period and LONG_Z upper semi-deviations (at least
LONG_MIN_LOG_SD) of log-duration above the median, judged only with LONG_MIN_PERIODS periods on other days."""

INACTIVE_STATES = frozenset(
    {"off", "closed", "locked", "idle", "standby", "paused", "not_home", "away", "docked", "below_horizon",
     "above_horizon", "unavailable", "unknown", "", "none", "clear", "disarmed", "false"}
)  # fmt: skip
"""States that are an entity at rest: a long stay in them is not "left on"."""

NO_DURATION_DOMAINS = frozenset({"person", "device_tracker", "sun", "weather", "climate", "zone", "input_select"})
PRESENCE_DOMAINS = frozenset({"person", "device_tracker"})

TOGETHER_S = 300.0
"""Findings of several entities that start within 5 min (and end within 10) are one incident."""

_OPENINGS = frozenset({"door", "window", "garage_door", "opening"})

_KIND_RANK = {"left_on_too_long": 0, "unusual_frequency": 1, "missing_activity": 2, "unusual_time": 3}


@dataclass(slots=True)
class _Finding:
    kind: str
    entity: int
    start: float
    end: float
    observed: float
    expected: float
    score: float
    times: list[float] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    unit: str = ""
    together: list[int] = field(default_factory=list)
    state: str = ""


def _rare_days(n_days: int) -> int:
    """How many other days may themselves be odd and are left out of a baseline's extremes: one a month."""
    return max(0, (n_days - 1) // 30)


def _active_states(frame: EventFrame) -> np.ndarray:
    """Per state index: whether the state is activity ("on", "open", "playing"), not rest ("off", "closed")."""
    return np.asarray([s.lower() not in INACTIVE_STATES for s in frame.states], dtype=bool)


@dataclass(slots=True)
class _Days:
    """The window's local days: UTC bounds, completeness, day type and whether the home was lived in."""

    bounds: np.ndarray  # n_days + 1 UTC epoch seconds of local midnights
    complete: np.ndarray
    day_off: np.ndarray
    lived_in: np.ndarray


def _days(frame: EventFrame, activity: np.ndarray) -> _Days:
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    n = frame.n_days
    bounds = np.empty(n + 1)
    day_off = np.zeros(n, dtype=bool)
    for d in range(n + 1):
        local = EPOCH_DAY + timedelta(days=frame.first_day + d)
        bounds[d] = datetime(local.year, local.month, local.day, tzinfo=tz).timestamp()
        if d < n:
            day_off[d] = local.weekday() >= 5 or (frame.first_day + d) in frame.holidays
    start, end = frame.start.timestamp(), frame.end.timestamp()
    covered = np.clip(np.minimum(bounds[1:], end) - np.maximum(bounds[:-1], start), 0, None)
    complete = covered >= 0.98 * np.diff(bounds)
    busy = float(np.quantile(activity[complete], 0.75)) if complete.any() else 0.0
    lived_in = complete & (activity >= QUIET_DAY_SHARE * busy) & (activity > 0)
    return _Days(bounds=bounds, complete=complete, day_off=day_off, lived_in=lived_in)


def detect_anomalies(frame: EventFrame, config: DetectorConfig) -> list[PatternCandidate]:
    """Anomalies of each day against the other days of the window (a Detector).

    Args:
        frame: The analysis window (several days: a baseline needs at least MIN_HISTORY_DAYS other days).
        config: The noise filter's settings.

    Returns:
        One candidate per anomaly, in time order, ties by identity.
    """
    n_days = frame.n_days
    if len(frame) == 0 or n_days < MIN_HISTORY_DAYS + 1:
        return []
    keep = select_events(frame, config)
    # A dropout's end (unavailable -> on) is a re-report, not activity.
    activity = keep & ~recovered(frame, config)
    idx = np.flatnonzero(activity)
    ent = frame.entity[idx]
    t = frame.t[idx]
    day = (frame.day[idx] - frame.first_day).astype(np.int64)
    inside = (day >= 0) & (day < n_days)
    idx, t, day = idx[inside], t[inside], day[inside]
    if idx.shape[0] == 0:
        return []
    domains = [frame.entities[e].domain if e in frame.entities else e.split(".", 1)[0] for e in frame.entity_ids]
    # Entities with activity only, numbered 0..n-1 here (the frame also lists the chatty ones).
    present, ent = np.unique(frame.entity[idx], return_inverse=True)
    ent = ent.astype(np.int64)
    present_domains = [domains[int(e)] for e in present]
    counts = np.zeros((present.shape[0], n_days), dtype=np.int64)
    np.add.at(counts, (ent, day), 1)
    days = _days(frame, counts.sum(axis=0))
    findings: list[_Finding] = []
    findings += _unusual_time(frame, ent, t, day, idx, counts, present_domains)
    findings += _unusual_frequency(ent, t, day, counts, days)
    findings += _missing(counts, days, present_domains)
    for f in findings:
        f.entity = int(present[f.entity])
    findings += _left_on(frame, keep, activity, days, domains)
    merged = _merge(findings)
    out = [_candidate(frame, f) for f in merged]
    out.sort(key=lambda c: (c.first_seen or datetime.min.replace(tzinfo=UTC), c.identity))
    return out


# ------------------------------------------------------------------------------------------- unusual time


def _unusual_time(
    frame: EventFrame,
    ent: np.ndarray,
    t: np.ndarray,
    day: np.ndarray,
    idx: np.ndarray,
    counts: np.ndarray,
    domains: list[str],
) -> list[_Finding]:
    n_ent, n_days = counts.shape
    b = (frame.minute[idx] // BIN_MIN).astype(np.int64)
    hist = np.zeros((n_ent, n_days, N_BINS), dtype=np.int32)
    np.add.at(hist, (ent, day, b), 1)
    # Circular sums over +-NEIGHBOUR_BINS, for each day and for all days together.
    padded = np.concatenate([hist[..., -NEIGHBOUR_BINS:], hist, hist[..., :NEIGHBOUR_BINS]], axis=-1)
    csum = np.concatenate([np.zeros((n_ent, n_days, 1), np.int64), np.cumsum(padded, axis=-1)], axis=-1)
    near_day = csum[..., 2 * NEIGHBOUR_BINS + 1 :] - csum[..., :N_BINS]
    active = counts > 0
    # Each judged day's baseline is every other day: its own activity is taken out.
    other_days = n_days - 1
    active_other = active.sum(axis=1, keepdims=True) - active
    dense = (active_other >= MIN_HISTORY_DAYS) & (active_other >= MIN_ACTIVE_SHARE * other_days)
    presence = np.asarray([d in PRESENCE_DOMAINS for d in domains], dtype=bool)
    dense &= ~presence[:, None]
    # Only a change into an active state ("on", "open", "playing") is activity: a light that goes off late
    # ends something that began at a usual time.
    starts_activity = _active_states(frame)[frame.new_state[idx]]
    rare = _rare_days(n_days)
    days_near = (near_day > 0).sum(axis=1, keepdims=True) - (near_day > 0)
    candidate = np.flatnonzero((days_near[ent, day, b] <= rare) & dense[ent, day] & starts_activity)
    if candidate.shape[0] == 0:
        return []
    # The rest of the home near each candidate's time, on the other days (is the home usually asleep then?).
    home = hist.sum(axis=0)
    # The home's usual volume around each time of day, per day, and how busy its busy hours are.
    per_bin = home.sum(axis=0) / n_days
    around = sum(np.roll(per_bin, k) for k in range(-QUIET_BINS, QUIET_BINS + 1))
    busy_volume = float(np.quantile(around, 0.75))
    minutes = frame.minute[idx].astype(np.int64)
    flagged = np.zeros(t.shape[0], dtype=bool)
    gap = np.zeros(t.shape[0])
    for i in candidate.tolist():
        e, d, m = int(ent[i]), int(day[i]), int(minutes[i])
        mine = (ent == e) & (day != d)
        if not mine.any():
            continue
        diff = np.abs(minutes[mine] - m)
        per_day = np.full(n_days, np.inf)
        np.minimum.at(per_day, day[mine], np.minimum(diff, 1440 - diff).astype(np.float64))
        # The nearest usual activity: the few days that were themselves odd (rare) do not count.
        nearest = float(np.sort(per_day)[min(rare, n_days - 1)])
        # Mean gap between the entity's events within its usual hours: a sparse entity's empty hour says less.
        occupied_bins = int(np.count_nonzero(hist[e].sum(axis=0) - hist[e, d]))
        spacing = BIN_MIN * occupied_bins / int(mine.sum())
        window = [(b[i] + k) % N_BINS for k in range(-QUIET_BINS, QUIET_BINS + 1)]
        rest = (home[:, window].sum() - home[d, window].sum()) - (hist[e][:, window].sum() - hist[e, d, window].sum())
        volume = float(rest) / max(1, n_days - 1)
        if (
            nearest >= MIN_GAP_MIN
            and nearest >= SPACING_FACTOR * spacing
            and (volume < QUIET_SHARE * busy_volume or nearest >= FAR_GAP_MIN)
        ):
            flagged[i] = True
            gap[i] = nearest
    if not flagged.any():
        return []
    out: list[_Finding] = []
    order = np.lexsort((t[flagged], day[flagged], ent[flagged]))
    fe, fd, ft, fg = ent[flagged][order], day[flagged][order], t[flagged][order], gap[flagged][order]
    fs = frame.new_state[idx[flagged][order]]
    start = 0
    for k in range(1, fe.shape[0] + 1):
        if k < fe.shape[0] and fe[k] == fe[start] and fd[k] == fd[start] and ft[k] - ft[k - 1] <= 2 * 3600:
            continue
        e, d = int(fe[start]), int(fd[start])
        out.append(
            _Finding(
                kind="unusual_time",
                entity=e,
                start=float(ft[start]),
                end=float(ft[k - 1]),
                observed=float(k - start),
                expected=0.0,
                # Minutes to the nearest activity of the entity on any other day.
                score=round(float(fg[start:k].max()), 1),
                times=[float(x) for x in ft[start:k]],
                unit="minutes from any usual activity",
                state=frame.states[int(fs[start])],
            )
        )
        start = k
    return out


# -------------------------------------------------------------------------------------- unusual frequency


def _leave_one_out_max(values: np.ndarray, eligible: np.ndarray, rare: int = 0) -> np.ndarray:
    """Per day, the largest value on the other eligible days, the `rare` largest of them left out (rows: entities)."""
    n_days = values.shape[1]
    masked = np.where(eligible[None, :], values, -1)
    order = np.argsort(-masked, axis=1, kind="stable")
    ranked = np.concatenate([np.take_along_axis(masked, order, axis=1), np.full((values.shape[0], 2), -1)], axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_days)[None, :].repeat(values.shape[0], axis=0), axis=1)
    k = min(rare, n_days)
    # A day among the top k + 1 is itself left out, so the value one further down is the other days' own.
    return np.where(rank <= k, ranked[:, k + 1 : k + 2], ranked[:, k : k + 1])


def _leave_one_out_median(values: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    n_ent, n_days = values.shape
    out = np.zeros((n_ent, n_days))
    for d in range(n_days):
        others = eligible.copy()
        others[d] = False
        if others.any():
            out[:, d] = np.median(values[:, others], axis=1)
    return out


def _unusual_frequency(
    ent: np.ndarray, t: np.ndarray, day: np.ndarray, counts: np.ndarray, days: _Days
) -> list[_Finding]:
    n_ent, n_days = counts.shape
    peak = np.zeros((n_ent, n_days), dtype=np.int64)
    peak_at = np.zeros((n_ent, n_days), dtype=np.float64)
    order = np.lexsort((t, ent))
    se, st, sd = ent[order], t[order], day[order]
    bounds = np.searchsorted(se, np.arange(n_ent + 1))
    for e in range(n_ent):
        lo, hi = int(bounds[e]), int(bounds[e + 1])
        if hi - lo == 0:
            continue
        te = st[lo:hi]
        within = np.searchsorted(te, te + PEAK_WINDOW_S, side="left") - np.arange(hi - lo)
        de = sd[lo:hi]
        # The densest hour of each day, and where it starts.
        o = np.lexsort((-within, de))
        first = np.concatenate([[True], de[o][1:] != de[o][:-1]])
        peak[e, de[o][first]] = within[o][first]
        peak_at[e, de[o][first]] = te[o][first]
    history = days.lived_in
    if int(history.sum()) < MIN_HISTORY_DAYS + 1:
        return []
    out: list[_Finding] = []
    peak_flag = np.zeros(counts.shape, dtype=bool)
    for values, label in ((peak, "peak"), (counts, "count")):
        mx = _leave_one_out_max(values, history, _rare_days(n_days))
        med = _leave_one_out_median(values, history)
        if label == "peak":
            flag = (values >= np.maximum(2 * mx, mx + 8)) & (values >= 3 * med)
            peak_flag = flag
        else:
            # A whole day's count is noisier than one hour's: it must be far beyond every other day.
            flag = (values >= np.maximum(3 * mx, mx + 12)) & days.complete[None, :] & ~peak_flag
        for e, d in zip(*np.nonzero(flag), strict=True):
            e, d = int(e), int(d)
            if label == "peak":
                s = float(peak_at[e, d])
                mask = (ent == e) & (t >= s) & (t < s + PEAK_WINDOW_S)
            else:
                mask = (ent == e) & (day == d)
            times = t[mask]
            out.append(
                _Finding(
                    kind="unusual_frequency",
                    entity=e,
                    start=float(times[0]),
                    end=float(times[-1]),
                    observed=float(values[e, d]),
                    expected=float(med[e, d]),
                    score=round(float(values[e, d] / max(mx[e, d], 1)), 2),
                    times=[float(x) for x in times],
                    unit="changes within an hour" if label == "peak" else "changes in the day",
                )
            )
    return out


# ------------------------------------------------------------------------------------------ left on too long


def _left_on(
    frame: EventFrame, keep: np.ndarray, activity: np.ndarray, days: _Days, domains: list[str]
) -> list[_Finding]:
    n_ent = len(frame.entity_ids)
    kept_entity = np.zeros(n_ent, dtype=bool)
    kept_entity[np.unique(frame.entity[keep])] = True
    for e, dom in enumerate(domains):
        if dom in NO_DURATION_DOMAINS:
            kept_entity[e] = False
    # Every event of a kept entity ends its previous period, an "unavailable" too.
    sel = np.flatnonzero(kept_entity[frame.entity])
    if sel.shape[0] == 0:
        return []
    ent = frame.entity[sel]
    order = np.lexsort((frame.t[sel], ent))
    sel, ent = sel[order], ent[order]
    t = frame.t[sel]
    same_next = np.concatenate([ent[1:] == ent[:-1], [False]])
    end_of_window = frame.end.timestamp()
    ends = np.where(same_next, np.concatenate([t[1:], [0.0]]), end_of_window)
    state = frame.new_state[sel]
    periods = activity[sel] & _active_states(frame)[state]
    p_ent, p_state, p_start, p_end = ent[periods], state[periods], t[periods], ends[periods]
    censored = ~same_next[periods]
    duration = p_end - p_start
    p_day = np.clip(np.searchsorted(days.bounds, p_start, side="right") - 1, 0, frame.n_days - 1)
    out: list[_Finding] = []
    key = p_ent.astype(np.int64) * max(1, len(frame.states)) + p_state
    for k in np.unique(key).tolist():
        g = np.flatnonzero(key == k)
        if g.shape[0] < LONG_MIN_PERIODS + 1:
            continue
        dur = duration[g]
        gd = p_day[g]
        finished = ~censored[g]
        for j in np.flatnonzero(dur >= LONG_MIN_S).tolist():
            others = finished & (gd != gd[j])
            if int(others.sum()) < LONG_MIN_PERIODS:
                continue
            # The few longest periods of other days (one a month) may be anomalies themselves: left out.
            hist = np.sort(dur[others])[: max(LONG_MIN_PERIODS, int(others.sum()) - _rare_days(frame.n_days))]
            if dur[j] < LONG_OVER_MAX * float(hist.max()):
                continue
            logs = np.log(np.maximum(hist, 1.0))
            # The spread of the upper half (root mean square above the median, in log-duration): how far the
            # usual long periods reach is what a "too long" one is measured against; short sessions do not
            # widen it.
            centre = float(np.median(logs))
            upper = logs[logs >= centre] - centre
            spread = max(float(np.sqrt(np.mean(upper**2))), LONG_MIN_LOG_SD)
            z = (math.log(dur[j]) - centre) / spread
            if z < LONG_Z:
                continue
            i = int(g[j])
            out.append(
                _Finding(
                    kind="left_on_too_long",
                    entity=int(p_ent[i]),
                    start=float(p_start[i]),
                    end=float(p_end[i]),
                    observed=round(float(dur[j]) / 60.0, 1),
                    expected=round(math.exp(centre) / 60.0, 1),
                    score=round(z, 2),
                    times=[float(p_start[i])] + ([] if censored[i] else [float(p_end[i])]),
                    unit="minutes" + (" so far" if censored[i] else ""),
                    state=frame.states[int(p_state[i])],
                )
            )
    return out


# ------------------------------------------------------------------------------------------ missing activity


def _habit(active: np.ndarray, days: np.ndarray) -> float:
    """Share of the days with activity, by Jeffreys' rule: seen on all n days, it may still skip one in 2n.

    Fewer than MIN_HISTORY_DAYS days (the days off of a month) make no habit: six Saturdays out of six may be luck.
    """
    n = int(days.sum())
    return (float(active[days].sum()) + 0.5) / (n + 1.0) if n >= MIN_HISTORY_DAYS else 0.0


def _missing(counts: np.ndarray, days: _Days, domains: list[str]) -> list[_Finding]:
    n_ent, n_days = counts.shape
    judged = days.lived_in
    active = counts > 0
    alpha = MISSING_ALPHA * 30.0 / max(30.0, float(judged.sum()))
    out: list[_Finding] = []
    for e in range(n_ent):
        if domains[e] in PRESENCE_DOMAINS or not active[e, judged].any():
            continue
        empty = judged & ~active[e]
        d = 0
        while d < n_days:
            if not empty[d]:
                d += 1
                continue
            run_end = d
            while run_end + 1 < n_days and empty[run_end + 1]:
                run_end += 1
            base = judged.copy()
            base[d : run_end + 1] = False
            n_base = int(base.sum())
            chance = 1.0
            for r in range(d, run_end + 1):
                # The habit on all days or on days of this type (workday / day off), whichever is stronger;
                # a day whose habit is weak is no evidence either way.
                p = max(_habit(active[e], base), _habit(active[e], base & (days.day_off == days.day_off[r])))
                if p >= MISSING_HABIT:
                    chance *= 1.0 - p
            if n_base >= MIN_HISTORY_DAYS and chance < alpha:
                expected = float(counts[e, base].mean())
                out.append(
                    _Finding(
                        kind="missing_activity",
                        entity=e,
                        start=float(days.bounds[d]),
                        end=float(days.bounds[run_end + 1]),
                        observed=0.0,
                        expected=round(expected * (run_end + 1 - d), 1),
                        score=round(-math.log10(chance), 2),
                        times=[],
                        unit="changes",
                    )
                )
            d = run_end + 1
    return out


# ------------------------------------------------------------------------------------------------- output


def _merge(findings: list[_Finding]) -> list[_Finding]:
    """One anomaly per incident.

    Findings of one entity that overlap in time (30 min apart or less) are one anomaly of the most telling
    kind. Findings of the same kind on several entities that start and end together (a TV and the soundbar
    that follows it) are one anomaly too, named after the entity that started first.
    """
    findings.sort(key=lambda f: (f.entity, f.start, _KIND_RANK[f.kind]))
    per_entity: list[_Finding] = []
    for f in findings:
        last = per_entity[-1] if per_entity else None
        if last is not None and last.entity == f.entity and f.start <= last.end + 1800:
            keep, other = (last, f) if _KIND_RANK[last.kind] <= _KIND_RANK[f.kind] else (f, last)
            per_entity[-1] = _Finding(
                kind=keep.kind,
                entity=keep.entity,
                start=keep.start,
                end=keep.end,
                observed=keep.observed,
                expected=keep.expected,
                score=keep.score,
                times=sorted(set(last.times) | set(f.times)),
                also=sorted(({other.kind} | set(last.also) | set(f.also)) - {keep.kind}),
                unit=keep.unit,
            )
        else:
            per_entity.append(f)
    per_entity.sort(key=lambda f: (f.start, f.entity))
    out: list[_Finding] = []
    for f in per_entity:
        lead = next(
            (
                g
                for g in reversed(out)
                if g.kind == f.kind and abs(f.start - g.start) <= TOGETHER_S and abs(f.end - g.end) <= 2 * TOGETHER_S
            ),
            None,
        )
        if lead is not None:
            lead.together.append(f.entity)
        else:
            out.append(f)
    return out


def _confidence(f: _Finding) -> float:
    """How sure the finding is, from its score, in [0.5, 0.999]."""
    if f.kind == "missing_activity":
        sure = 1.0 - 10 ** (-f.score)
    elif f.kind == "unusual_time":
        sure = 1.0 - 60.0 / (60.0 + f.score)  # minutes away from any usual activity
    elif f.kind == "left_on_too_long":
        sure = 1.0 - math.exp(-f.score / 2.0)
    else:
        sure = 1.0 - 1.0 / (1.0 + f.score)  # times the busiest other day
    return round(min(0.999, max(0.5, sure)), 3)


def _minutes(m: float) -> str:
    return f"{m:.0f} min" if m < 90 else f"{m / 60:.1f} h"


def _describe(frame: EventFrame, f: _Finding) -> str:
    entity_id = frame.entity_ids[f.entity]
    name = entity_name(frame, entity_id)
    when = local_iso(frame, f.start)
    at = f"{when[11:16]} on {when[:10]}"
    if f.kind == "left_on_too_long":
        info = frame.entities.get(entity_id)
        opening = info is not None and info.domain == "binary_sensor" and info.device_class in _OPENINGS
        state = "open" if opening and f.state == "on" else f.state
        return f"{name} stayed {state} for {_minutes(f.observed)} from {at} (usually about {_minutes(f.expected)})"
    if f.kind == "unusual_frequency":
        within = "within an hour" if "hour" in f.unit else "in one day"
        return f"{name} changed {f.observed:.0f} times {within} from {at} (usually about {f.expected:.0f})"
    if f.kind == "missing_activity":
        n = round((f.end - f.start) / 86400)
        days = f"{n} day{'s' if n != 1 else ''}"
        return f"{name} showed no activity for {days} from {when[:10]} while the home was lived in"
    return f"{name} {change_phrase(frame, entity_id, f.state)} at {at}, hours away from when it usually does"


def _candidate(frame: EventFrame, f: _Finding) -> PatternCandidate:
    entity_id = frame.entity_ids[f.entity]
    start_iso = local_iso(frame, f.start)
    area = frame.entities[entity_id].area_id if entity_id in frame.entities else None
    description = _describe(frame, f)
    return PatternCandidate(
        pattern_type="anomaly",
        entity_ids=[entity_id, *(frame.entity_ids[e] for e in f.together)],
        identity=("anomaly", f.kind, entity_id, start_iso[:16]),
        description=description[0].upper() + description[1:],
        confidence=_confidence(f),
        occurrences=max(1, len(f.times)),
        first_seen=datetime.fromtimestamp(f.start, tz=UTC),
        last_seen=datetime.fromtimestamp(f.end, tz=UTC),
        area_id=area,
        details={
            "kind": f.kind,
            "entity_id": entity_id,
            "window_start": start_iso,
            "window_end": local_iso(frame, f.end),
            "observed": f.observed,
            "expected": f.expected,
            "unit": f.unit,
            "score": f.score,
            "also": list(f.also),
            "together_with": [frame.entity_ids[e] for e in f.together],
            "occurrence_times": [local_iso(frame, x) for x in f.times[:OCCURRENCE_SAMPLE]],
        },
    )
