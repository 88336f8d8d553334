"""Local-time arithmetic for the generated period and sorted, disjoint time intervals in microseconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from homeiq_ai.kernel.sun import sun_times
from homeiq_ai.training.synthetic.events import EPOCH, to_us
from homeiq_ai.training.synthetic.residents import DayInfo

__all__ = [
    "HOUR_US",
    "MINUTE_US",
    "SECOND_US",
    "Clock",
    "Intervals",
    "hhmm",
    "intersect",
    "merge",
    "poisson_in",
    "subtract",
]

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
_US = timedelta(microseconds=1)

Intervals = list[tuple[int, int]]


def hhmm(minutes: float) -> str:
    """Minutes after local midnight as "HH:MM" (wrapped to one day)."""
    m = round(minutes) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


class Clock:
    """The generated period: its local days, their UTC midnights and their sunrises and sunsets."""

    def __init__(self, tz: ZoneInfo, days: list[DayInfo], latitude: float, longitude: float) -> None:
        self.tz = tz
        self.days = days
        self.midnights = [self.local_us(i, 0.0) for i in range(len(days))]
        self.midnights.append(self.local_us(len(days) - 1, 1440.0))
        self.start_us = self.midnights[0]
        self.end_us = self.midnights[-1]
        self.sunrise: list[int | None] = []
        self.sunset: list[int | None] = []
        for d in days:
            st = sun_times(latitude, longitude, d.date)
            self.sunrise.append(None if st.sunrise is None else to_us(st.sunrise))
            self.sunset.append(None if st.sunset is None else to_us(st.sunset))

    def local_us(self, day_index: int, minutes: float) -> int:
        """UTC microseconds of a local wall-clock time: `minutes` after midnight of a generated day.

        The wall clock is what counts, so 07:00 stays 07:00 local across a DST change; minutes past
        1440 fall on the next day.
        """
        d = self.days[day_index].date if day_index < len(self.days) else self.days[-1].date
        naive = datetime(d.year, d.month, d.day) + timedelta(minutes=minutes)
        return (naive.replace(tzinfo=self.tz) - EPOCH) // _US

    def local_minutes(self, t_us: int) -> float:
        """Minutes after local midnight of a UTC microsecond time."""
        local = (EPOCH + timedelta(microseconds=t_us)).astimezone(self.tz)
        return local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60.0

    def day_of(self, t_us: int) -> int:
        """Index of the generated day a time falls on (-1 before, len(days) after)."""
        return int(np.searchsorted(np.asarray(self.midnights), t_us, side="right")) - 1


def merge(intervals: Intervals) -> Intervals:
    """Sorted union of intervals [start, end)."""
    out: Intervals = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two sorted disjoint interval lists."""
    out: Intervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """The parts of sorted disjoint `a` outside sorted disjoint `b`."""
    out: Intervals = []
    j = 0
    for s, e in a:
        cur = s
        while j < len(b) and b[j][1] <= cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            if b[k][0] > cur:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            k += 1
        if cur < e:
            out.append((cur, e))
    return out


def poisson_in(
    intervals: Intervals,
    rate_per_hour: float,
    rng: np.random.Generator,
    min_gap_us: int = 0,
    tail_us: int = 0,
) -> list[int]:
    """Times of a Poisson process running only inside `intervals`, thinned to a minimum gap.

    Args:
        intervals: Sorted disjoint [start, end) in microseconds.
        rate_per_hour: Events per hour of interval time.
        rng: Generator.
        min_gap_us: Drop an event closer than this to the previous kept one.
        tail_us: Keep each event at least this long before its interval ends.

    Returns:
        Sorted event times in microseconds.
    """
    usable = [(s, e - tail_us) for s, e in intervals if e - tail_us > s]
    if not usable:
        return []
    starts = np.asarray([s for s, _ in usable], dtype=np.float64)
    lengths = np.asarray([e - s for s, e in usable], dtype=np.float64)
    total = float(lengths.sum())
    n = int(rng.poisson(rate_per_hour * total / HOUR_US))
    if n == 0:
        return []
    u = np.sort(rng.random(n) * total)
    cum = np.cumsum(lengths)
    idx = np.minimum(np.searchsorted(cum, u, side="right"), len(usable) - 1)
    times = (starts[idx] + u - (cum[idx] - lengths[idx])).astype(np.int64).tolist()
    out: list[int] = []
    for t in times:
        if not out or t - out[-1] >= min_gap_us:
            out.append(t)
    return out
