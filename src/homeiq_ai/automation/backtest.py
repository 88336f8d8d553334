"""Backtest: replay an automation on the home's recorded history and compare it with what people did.

`History` indexes the state changes of a window once (per-entity numpy columns); `backtest` then
replays one automation in milliseconds: its triggers (time, sun with offset, state to/from/for,
numeric_state crossings, time_pattern at one-minute resolution) and conditions (time window and
weekday in the home's local time, sun, state, numeric_state, and/or/not) give the moments it would
have fired; each firing is matched when the action's target entity reached the action's state within
`window_minutes` before or after by other means (a person, in a home without the automation).
Events the model cannot replay (template, event, zone, device triggers...) are listed in
`not_evaluated`; conditions it cannot replay are taken as true and listed too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from homeiq_ai.kernel.haconfig import (
    AndCondition,
    Automation,
    Condition,
    DelayAction,
    NotCondition,
    NumericStateCondition,
    NumericStateTrigger,
    OrCondition,
    SceneAction,
    ServiceAction,
    StateCondition,
    StateTrigger,
    SunCondition,
    SunTrigger,
    TimeCondition,
    TimePatternTrigger,
    TimeTrigger,
    walk_actions,
)
from homeiq_ai.kernel.sun import sun_times

__all__ = ["DEFAULT_MAX_FIRINGS", "DEFAULT_WINDOW_MINUTES", "BacktestResult", "Firing", "History", "backtest"]

DEFAULT_WINDOW_MINUTES = 5
DEFAULT_MAX_FIRINGS = 50
_EFFECTS = {
    "turn_on": "on",
    "turn_off": "off",
    "open_cover": "open",
    "close_cover": "closed",
    "lock": "locked",
    "unlock": "unlocked",
    "open_valve": "open",
    "close_valve": "closed",
    "alarm_disarm": "disarmed",
    "alarm_arm_home": "armed_home",
    "alarm_arm_away": "armed_away",
    "alarm_arm_night": "armed_night",
    "toggle": "*",
}


@dataclass(slots=True)
class _Series:
    times: np.ndarray  # float64 unix seconds, sorted
    new: np.ndarray  # object
    old: np.ndarray  # object
    _numbers: np.ndarray | None = None
    _old_numbers: np.ndarray | None = None

    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        if self._numbers is None:
            # The value before each change is the previous change's new state (the first: its old state).
            self._numbers = _to_float(self.new)
            self._old_numbers = np.concatenate([_to_float(self.old[:1]), self._numbers[:-1]])
        assert self._old_numbers is not None
        return self._numbers, self._old_numbers


def _to_float(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(TypeError, ValueError):
            out[i] = float(v)
    return out


_EMPTY = _Series(np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, dtype=object))


class History:
    """The state changes of a window, indexed by entity once; reuse it for every automation of a home."""

    def __init__(self, series: dict[str, _Series], start: datetime, end: datetime) -> None:
        self._series = series
        self.start = start
        self.end = end

    @classmethod
    def from_columns(
        cls,
        entity_id: Sequence[str],
        old_state: Sequence[str | None],
        new_state: Sequence[str | None],
        times: np.ndarray,
        start: datetime,
        end: datetime,
    ) -> History:
        """From parallel columns in time order (HomeStore.event_columns; times are unix seconds UTC)."""
        ids = np.asarray(entity_id, dtype=object)
        t = np.asarray(times, dtype=np.float64)
        new = np.asarray(new_state, dtype=object)
        old = np.asarray(old_state, dtype=object)
        series: dict[str, _Series] = {}
        if len(ids):
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            cuts = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
            for chunk in np.split(order, cuts):
                series[str(ids[chunk[0]])] = _Series(t[chunk], new[chunk], old[chunk])
        return cls(series, start, end)

    @classmethod
    def from_events(cls, events: Iterable[Any], start: datetime, end: datetime) -> History:
        """From Event-like records (entity_id, old_state, new_state, aware `time`), any order."""
        rows = sorted(((e.time.timestamp(), e.entity_id, e.old_state, e.new_state) for e in events), key=lambda r: r[0])
        return cls.from_columns(
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            np.array([r[0] for r in rows], dtype=np.float64),
            start,
            end,
        )

    def series(self, entity_id: str) -> _Series:
        """The entity's changes (empty when it has none)."""
        return self._series.get(entity_id, _EMPTY)

    def state_at(self, entity_id: str, times: np.ndarray) -> np.ndarray:
        """The entity's state at each time (its last new_state, else the first old_state, else None)."""
        s = self.series(entity_id)
        out = np.full(len(times), None, dtype=object)
        if not len(s.times):
            return out
        idx = np.searchsorted(s.times, times, side="right") - 1
        out[idx >= 0] = s.new[idx[idx >= 0]]
        out[idx < 0] = s.old[0]
        return out

    def changed_at(self, entity_id: str, times: np.ndarray) -> np.ndarray:
        """When the entity last changed at or before each time (-inf: not in the window)."""
        s = self.series(entity_id)
        if not len(s.times):
            return np.full(len(times), -np.inf)
        idx = np.searchsorted(s.times, times, side="right") - 1
        return np.where(idx >= 0, s.times[np.maximum(idx, 0)], -np.inf)


@dataclass(slots=True)
class Firing:
    """One moment it would have fired: local time, and whether someone did the same within the window."""

    time: str
    matched: bool
    already: bool = False


@dataclass(slots=True)
class BacktestResult:
    """What the automation would have done over the window."""

    days: float
    fired: int
    matched: int
    unmatched: int
    missed: int
    agreement: float | None
    coverage: float | None
    summary: str
    firings: list[Firing] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    window_minutes: int = DEFAULT_WINDOW_MINUTES

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return asdict(self)


class _Clock:
    """Local calendar helpers of one home and window."""

    def __init__(self, tz: ZoneInfo, start: datetime, end: datetime, lat: float | None, lon: float | None):
        self.tz = tz
        self.start = start.timestamp()
        self.end = end.timestamp()
        first = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date() + timedelta(days=1)
        self.dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        self.lat, self.lon = lat, lon
        self._sun: dict[date, tuple[float, float]] | None = None
        hours = np.arange(np.floor(self.start / 3600) - 24, np.ceil(self.end / 3600) + 25)
        self._hour0 = hours[0]
        self._offsets = np.array(
            [datetime.fromtimestamp(h * 3600, UTC).astimezone(tz).utcoffset().total_seconds() for h in hours]
        )

    def local(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Local seconds of day, weekday (0 Monday) and local day number of each unix time."""
        idx = np.clip((np.floor(times / 3600) - self._hour0).astype(np.int64), 0, len(self._offsets) - 1)
        local = times + self._offsets[idx]
        day = np.floor(local / 86400).astype(np.int64)
        return local - day * 86400.0, (day + 3) % 7, day

    def at_clock(self, clock: str) -> np.ndarray:
        parts = [int(p) for p in clock.split(":")]
        moment = time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0)
        return np.array([datetime.combine(d, moment, self.tz).timestamp() for d in self.dates])

    def sun(self) -> dict[date, tuple[float, float]]:
        if self._sun is None:
            self._sun = {}
            for d in self.dates:
                st = sun_times(self.lat, self.lon, d)  # type: ignore[arg-type]
                if st.sunrise and st.sunset:
                    self._sun[d] = (st.sunrise.timestamp(), st.sunset.timestamp())
        return self._sun

    def sun_for(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sunrise and sunset of each time's local date (nan on polar days)."""
        _secs, _wd, day = self.local(times)
        table = self.sun()
        rise = np.full(len(times), np.nan)
        set_ = np.full(len(times), np.nan)
        epoch = date(1970, 1, 1)
        for i, d in enumerate(day):
            pair = table.get(epoch + timedelta(days=int(d)))
            if pair:
                rise[i], set_[i] = pair
        return rise, set_


def _states(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _in(values: np.ndarray, allowed: list[str] | None) -> np.ndarray:
    if allowed is None:
        return np.ones(len(values), dtype=bool)
    return np.isin(values.astype(str), allowed) & (values != None)  # noqa: E711


def _held(history: History, entity_id: str, idx: np.ndarray, hold: float, ok: np.ndarray) -> np.ndarray:
    """Firing times of changes idx that then held `hold` seconds (while `ok` stays true), nan otherwise."""
    s = history.series(entity_id)
    bad = np.flatnonzero(~ok)
    out = np.full(len(idx), np.nan)
    for k, i in enumerate(idx):
        j = bad[np.searchsorted(bad, i, side="right")] if np.searchsorted(bad, i, side="right") < len(bad) else None
        leave = s.times[j] if j is not None else np.inf
        if leave > s.times[i] + hold:
            out[k] = s.times[i] + hold
    return out[~np.isnan(out)]


def _pattern_values(spec: str | None, limit: int, default_all: bool) -> np.ndarray:
    if spec is None or spec == "":
        return np.arange(limit) if default_all else np.array([0])
    spec = str(spec).strip()
    if spec == "*":
        return np.arange(limit)
    if spec.startswith("/"):
        return np.arange(0, limit, max(1, int(spec[1:])))
    return np.array([int(spec)])


def _trigger_times(automation: Automation, history: History, clock: _Clock, skipped: list[str]) -> np.ndarray:
    parts: list[np.ndarray] = []
    for index, trigger in enumerate(automation.triggers):
        path = f"trigger[{index}]"
        if not trigger.enabled:
            continue
        if isinstance(trigger, TimeTrigger):
            for at in trigger.at:
                if ":" in at and "." not in at:
                    parts.append(clock.at_clock(at))
                else:
                    skipped.append(f"{path}: time from {at}")
        elif isinstance(trigger, SunTrigger):
            if clock.lat is None or clock.lon is None:
                skipped.append(f"{path}: sun trigger without the home's location")
                continue
            col = 0 if trigger.event == "sunrise" else 1
            parts.append(np.array([v[col] for v in clock.sun().values()]) + trigger.offset)
        elif isinstance(trigger, StateTrigger):
            if trigger.attribute or isinstance(trigger.for_, str):
                skipped.append(f"{path}: state trigger on an attribute or with a template `for`")
                continue
            to, frm = _states(trigger.to), _states(trigger.from_)
            for entity_id in trigger.entity_id:
                s = history.series(entity_id)
                if not len(s.times):
                    continue
                changed = s.new != s.old
                ok = changed & _in(s.new, to) & _in(s.old, frm)
                if trigger.not_to:
                    ok &= ~_in(s.new, trigger.not_to)
                if trigger.not_from:
                    ok &= ~_in(s.old, trigger.not_from)
                idx = np.flatnonzero(ok)
                if trigger.for_:
                    parts.append(
                        _held(
                            history,
                            entity_id,
                            idx,
                            float(trigger.for_),
                            ~changed | _in(s.new, to) if to is not None else ~changed,
                        )
                    )
                else:
                    parts.append(s.times[idx])
        elif isinstance(trigger, NumericStateTrigger):
            if (
                trigger.attribute
                or trigger.value_template
                or isinstance(trigger.above, str)
                or isinstance(trigger.below, str)
                or isinstance(trigger.for_, str)
            ):
                skipped.append(f"{path}: numeric_state on an attribute, template or entity threshold")
                continue
            for entity_id in trigger.entity_id:
                s = history.series(entity_id)
                if not len(s.times):
                    continue
                new, old = s.numbers()
                inside = _range(new, trigger.above, trigger.below)
                before = _range(old, trigger.above, trigger.below)
                idx = np.flatnonzero(inside & ~before)
                if trigger.for_:
                    parts.append(_held(history, entity_id, idx, float(trigger.for_), inside))
                else:
                    parts.append(s.times[idx])
        elif isinstance(trigger, TimePatternTrigger):
            if trigger.seconds and str(trigger.seconds).strip() not in ("0", "00"):
                skipped.append(f"{path}: seconds of a time_pattern replayed at one-minute resolution")
            hours = _pattern_values(trigger.hours, 24, True)
            minutes = _pattern_values(trigger.minutes, 60, trigger.hours is None and not trigger.seconds)
            grid = np.arange(np.ceil(clock.start / 60) * 60, clock.end, 60.0)
            secs, _wd, _day = clock.local(grid)
            keep = np.isin((secs // 3600).astype(int), hours) & np.isin(((secs % 3600) // 60).astype(int), minutes)
            parts.append(grid[keep])
        else:
            skipped.append(
                f"{path}: {getattr(trigger, 'platform', '') or getattr(trigger, 'kind', 'trigger')} "
                "trigger is not replayed"
            )
    if not parts:
        return np.zeros(0)
    times = np.unique(np.concatenate(parts))
    return times[(times >= clock.start) & (times < clock.end)]


def _range(values: np.ndarray, above: Any, below: Any) -> np.ndarray:
    ok = ~np.isnan(values)
    if above is not None:
        ok &= values > float(above)
    if below is not None:
        ok &= values < float(below)
    return ok


def _clock_secs(text: str) -> float:
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _condition(
    cond: Condition, times: np.ndarray, history: History, clock: _Clock, skipped: list[str], path: str
) -> np.ndarray:
    yes = np.ones(len(times), dtype=bool)
    if not getattr(cond, "enabled", True):
        return yes
    if isinstance(cond, AndCondition | OrCondition | NotCondition):
        parts = [
            _condition(c, times, history, clock, skipped, f"{path}.conditions[{i}]")
            for i, c in enumerate(cond.conditions)
        ]
        if not parts:
            return yes
        if isinstance(cond, AndCondition):
            return np.logical_and.reduce(parts)
        anyof = np.logical_or.reduce(parts)
        return anyof if isinstance(cond, OrCondition) else ~anyof
    if isinstance(cond, TimeCondition):
        secs, weekday, _day = clock.local(times)
        ok = yes.copy()
        after = _clock_secs(cond.after) if cond.after and ":" in cond.after else None
        before = _clock_secs(cond.before) if cond.before and ":" in cond.before else None
        if (cond.after and after is None) or (cond.before and before is None):
            skipped.append(f"{path}: time condition on an entity")
        if after is not None and before is not None and after > before:
            ok &= (secs >= after) | (secs < before)
        else:
            if after is not None:
                ok &= secs >= after
            if before is not None:
                ok &= secs < before
        if cond.weekday:
            ok &= np.isin(weekday, [_DAYS.index(d) for d in cond.weekday])
        return ok
    if isinstance(cond, SunCondition):
        if clock.lat is None or clock.lon is None:
            skipped.append(f"{path}: sun condition without the home's location")
            return yes
        rise, set_ = clock.sun_for(times)
        ref = {"sunrise": rise, "sunset": set_}
        after = ref[cond.after] + cond.after_offset if cond.after else None
        before = ref[cond.before] + cond.before_offset if cond.before else None
        if after is not None and before is not None:
            if cond.after == "sunset" and cond.before == "sunrise":
                return (times > after) | (times < before)
            return (times > after) & (times < before)
        if after is not None:
            return times > after
        if before is not None:
            return times < before
        return yes
    if isinstance(cond, StateCondition):
        if cond.attribute or isinstance(cond.for_, str):
            skipped.append(f"{path}: state condition on an attribute")
            return yes
        allowed = _states(cond.state) or []
        results = []
        for entity_id in cond.entity_id:
            ok = _in(history.state_at(entity_id, times), allowed)
            if cond.for_:
                ok &= history.changed_at(entity_id, times) <= times - float(cond.for_)
            results.append(ok)
        if not results:
            return yes
        return np.logical_or.reduce(results) if cond.match == "any" else np.logical_and.reduce(results)
    if isinstance(cond, NumericStateCondition):
        if cond.attribute or cond.value_template or isinstance(cond.above, str) or isinstance(cond.below, str):
            skipped.append(f"{path}: numeric condition on an attribute, template or entity threshold")
            return yes
        results = []
        for entity_id in cond.entity_id:
            values = _to_float(history.state_at(entity_id, times))
            results.append(_range(values, cond.above, cond.below))
        return np.logical_and.reduce(results) if results else yes
    skipped.append(f"{path}: {type(cond).__name__} is taken as true")
    return yes


def _effects(automation: Automation, skipped: list[str]) -> tuple[list[tuple[str, str, float]], float]:
    """(entity, state, seconds after the trigger) the actions drive, and how long one run takes."""
    out: dict[tuple[str, str, float], None] = {}
    offset = 0.0
    for index, step in enumerate(automation.actions):
        for path, action in walk_actions([step], "action"):
            path = path.replace("action[0]", f"action[{index}]", 1)
            if isinstance(action, SceneAction):
                skipped.append(f"{path}: scene {action.scene} is not compared with the history")
            if not isinstance(action, ServiceAction):
                continue
            state = _EFFECTS.get(action.name)
            if state is None:
                continue
            for entity_id in action.target.entity_id:
                if "{" not in entity_id:
                    out.setdefault((entity_id, state, offset), None)
            if action.target.area_id or action.target.device_id:
                skipped.append(f"{path}: area/device targets are not compared with the history")
        if isinstance(step, DelayAction) and isinstance(step.delay, int):
            offset += step.delay
    return list(out), offset


def _single_mode(times: np.ndarray, run_s: float) -> np.ndarray:
    """Mode single: a trigger while a run (its delays) is still going is ignored."""
    keep = [times[0]]
    for t in times[1:]:
        if t >= keep[-1] + run_s:
            keep.append(t)
    return np.array(keep)


def _effect_times(history: History, entity_id: str, state: str) -> np.ndarray:
    s = history.series(entity_id)
    if not len(s.times):
        return np.zeros(0)
    ok = s.new != s.old
    if state != "*":
        ok &= s.new == state
    return s.times[ok]


def _near(points: np.ndarray, around: np.ndarray, window: float) -> np.ndarray:
    """For each of `around`, whether some of `points` (sorted) lies within +-window."""
    if not len(points):
        return np.zeros(len(around), dtype=bool)
    idx = np.searchsorted(points, around - window, side="left")
    inside = idx < len(points)
    return inside & (points[np.minimum(idx, len(points) - 1)] <= around + window)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def backtest(
    automation: Automation,
    history: History,
    *,
    time_zone: str,
    latitude: float | None = None,
    longitude: float | None = None,
    window_minutes: int = DEFAULT_WINDOW_MINUTES,
    max_firings: int = DEFAULT_MAX_FIRINGS,
) -> BacktestResult:
    """Replay one automation on a window of history.

    Args:
        automation: The parsed automation.
        history: The window's state changes (History.from_columns / from_events), its start and end.
        time_zone: The home's IANA time zone (clock times, weekdays and the firings' local times).
        latitude: The home's latitude (sun triggers and conditions).
        longitude: The home's longitude.
        window_minutes: A firing is matched when its target reached the action's state within this many
            minutes before or after by other means.
        max_firings: How many firings (the most recent) the result lists; the counts cover all.

    Returns:
        The BacktestResult: fired, matched, unmatched, missed (done by hand without a firing),
        agreement (matched / fired), coverage (hand actions it would have covered), the firings in
        local time, a plain-language summary and what could not be replayed.
    """
    tz = ZoneInfo(time_zone)
    clock = _Clock(tz, history.start, history.end, latitude, longitude)
    skipped: list[str] = []
    times = _trigger_times(automation, history, clock, skipped)
    if len(times):
        for index, cond in enumerate(automation.conditions):
            times = times[_condition(cond, times, history, clock, skipped, f"condition[{index}]")]
    effects, run_s = _effects(automation, skipped)
    if automation.mode == "single" and run_s > 0 and len(times) > 1:
        times = _single_mode(times, run_s)
    # A firing is matched on its first effects (what it does at once, or after its first delay).
    first = min((o for _e, _s, o in effects), default=0.0)
    primary = [(e, st, o) for e, st, o in effects if o == first]
    window = window_minutes * 60.0
    days = (history.end - history.start).total_seconds() / 86400.0
    fired = len(times)
    matched_mask = np.ones(fired, dtype=bool) if effects else np.zeros(fired, dtype=bool)
    already = np.zeros(fired, dtype=bool)
    missed = 0
    hand: np.ndarray = np.zeros(0)
    for k, (entity_id, state, after) in enumerate(primary):
        points = _effect_times(history, entity_id, state)
        matched_mask &= _near(points, times + after, window)
        if state != "*":
            already |= history.state_at(entity_id, times + after - 1e-6) == state
        if k == 0:
            hand = points
            # Hand actions count as missed only where its conditions held (a weekday automation
            # misses nothing on a Sunday).
            for index, cond in enumerate(automation.conditions):
                hand = hand[_condition(cond, hand, history, clock, [], f"condition[{index}]")] if len(hand) else hand
            missed = int((~_near(times + after, hand, window)).sum()) if len(hand) else 0
    matched = int(matched_mask.sum())
    unmatched = fired - matched if effects else 0
    agreement = matched / fired if effects and fired else None
    covered = len(hand) - missed
    coverage = covered / len(hand) if effects and len(hand) else None
    shown = times[-max_firings:] if max_firings > 0 else times[:0]
    offset = fired - len(shown)
    firings = [
        Firing(
            datetime.fromtimestamp(float(t), UTC).astimezone(tz).isoformat(timespec="minutes"),
            bool(matched_mask[offset + i]),
            bool(already[offset + i]),
        )
        for i, t in enumerate(shown)
    ]
    span = f"Over the last {round(days)} days"
    if not fired:
        summary = f"{span} it would not have fired."
    else:
        summary = f"{span} it would have fired {_plural(fired, 'time')}."
    if effects and fired:
        summary += (
            f" It would have done what you did {matched} of {fired} times; "
            f"{_plural(unmatched, 'time')} it would have acted when nobody did."
        )
    if effects and missed:
        summary += f" {_plural(missed, 'time')} you did it yourself without it."
    if not effects:
        summary += " Its actions change no state to compare with the history."
    if skipped:
        summary += f" Not replayed: {len(skipped)} part(s)."
    return BacktestResult(
        days=round(days, 2),
        fired=fired,
        matched=matched,
        unmatched=unmatched,
        missed=missed,
        agreement=None if agreement is None else round(agreement, 3),
        coverage=None if coverage is None else round(coverage, 3),
        summary=summary,
        firings=firings,
        effects=[f"{e} -> {st}" + (f" after {round(o)} s" if o else "") for e, st, o in effects],
        not_evaluated=skipped,
        window_minutes=window_minutes,
    )
