"""Residents and their schedules, public holidays by country, vacations, and the calendar of days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

import numpy as np

from homeiq_ai.training.synthetic.spec import Resident, Vacation

__all__ = [
    "SCHEDULES",
    "DayInfo",
    "build_calendar",
    "country_for_time_zone",
    "easter_sunday",
    "make_residents",
    "plan_vacations",
    "public_holidays",
]

SCHEDULES = ("office_worker", "remote_worker", "shift_worker", "retired", "student")

_NAMES = (
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hannah", "jonas", "lena", "max", "mia",
    "noah", "olivia", "paul", "sofia", "tom", "zoe",
)  # fmt: skip

# Household make-up per home type: the adults' schedules are drawn from the first list, children
# (students) are added by the count range.
_HOUSEHOLDS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "studio": ((1, 1), (0, 0)),
    "apartment": ((1, 2), (0, 1)),
    "townhouse": ((2, 2), (0, 2)),
    "bungalow": ((1, 2), (0, 0)),
    "single_family": ((2, 2), (1, 2)),
    "multi_storey": ((2, 2), (2, 3)),
}


def _hhmm(minutes: float) -> str:
    m = round(minutes) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) given weekday of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def public_holidays(year: int, country: str) -> list[date]:
    """Nationwide public holidays of a year for "DE", "GB", "US" or "AU" (others: New Year and Christmas).

    Args:
        year: The calendar year.
        country: ISO 3166 code.

    Returns:
        Sorted dates.
    """
    easter = easter_sunday(year)
    if country == "DE":
        days = [
            date(year, 1, 1),
            easter - timedelta(days=2),
            easter + timedelta(days=1),
            date(year, 5, 1),
            easter + timedelta(days=39),
            easter + timedelta(days=50),
            date(year, 10, 3),
            date(year, 12, 25),
            date(year, 12, 26),
        ]
    elif country == "GB":
        days = [
            date(year, 1, 1),
            easter - timedelta(days=2),
            easter + timedelta(days=1),
            _nth_weekday(year, 5, 0, 1),
            _nth_weekday(year, 5, 0, -1),
            _nth_weekday(year, 8, 0, -1),
            date(year, 12, 25),
            date(year, 12, 26),
        ]
    elif country == "US":
        days = [
            date(year, 1, 1),
            _nth_weekday(year, 1, 0, 3),
            _nth_weekday(year, 2, 0, 3),
            _nth_weekday(year, 5, 0, -1),
            date(year, 6, 19),
            date(year, 7, 4),
            _nth_weekday(year, 9, 0, 1),
            _nth_weekday(year, 11, 3, 4),
            date(year, 12, 25),
        ]
    elif country == "AU":
        days = [
            date(year, 1, 1), date(year, 1, 26), easter - timedelta(days=2), easter + timedelta(days=1),
            date(year, 4, 25), date(year, 12, 25), date(year, 12, 26),
        ]  # fmt: skip
    else:
        days = [date(year, 1, 1), date(year, 12, 25)]
    return sorted(set(days))


def country_for_time_zone(time_zone: str) -> str:
    """The country whose holidays a home in this IANA time zone keeps.

    London is "GB", America "US", Australia "AU", the rest of Europe "DE" (an approximation); anywhere
    else "XX", which keeps only New Year and Christmas.
    """
    if time_zone in ("Europe/London", "Europe/Belfast"):
        return "GB"
    if time_zone.startswith(("America/", "US/")):
        return "US"
    if time_zone.startswith("Australia/"):
        return "AU"
    if time_zone.startswith("Europe/"):
        return "DE"
    return "XX"


class DayInfo:
    """One local calendar day of the generated period and how the household treats it."""

    __slots__ = ("date", "day_off", "index", "is_holiday", "vacation", "weekday")

    def __init__(self, index: int, day: date, is_holiday: bool, vacation: bool) -> None:
        self.index = index
        self.date = day
        self.weekday = day.weekday()
        self.is_holiday = is_holiday
        # Holidays count as weekends for every schedule.
        self.day_off = self.weekday >= 5 or is_holiday
        self.vacation = vacation


def plan_vacations(start: date, days: int, rng: np.random.Generator) -> list[Vacation]:
    """Household vacations: about one long and one short trip a year, none in the first week.

    Args:
        start: First local date of the period.
        days: Number of days generated.
        rng: The seeded generator for the calendar.

    Returns:
        Vacations inside the period, sorted; none for periods under 45 days.
    """
    if days < 45:
        return []
    out: list[Vacation] = []
    n_long = max(1, round(days / 365))
    n_short = max(0, round(days / 200))
    lengths = [int(rng.integers(9, 16)) for _ in range(n_long)] + [
        int(rng.integers(3, 6)) for _ in range(n_short)
    ]
    taken: list[tuple[int, int]] = []
    for length in lengths:
        for _ in range(50):
            first = int(rng.integers(7, max(8, days - length - 3)))
            last = first + length - 1
            if all(last + 7 < a or first > b + 7 for a, b in taken):
                taken.append((first, last))
                break
    for a, b in sorted(taken):
        out.append(Vacation(start=start + timedelta(days=a), end=start + timedelta(days=b)))
    return out


def build_calendar(
    start: date, days: int, country: str, vacations: list[Vacation]
) -> tuple[list[DayInfo], list[date]]:
    """The days of the period with their holiday and vacation flags, and the holidays inside it.

    Args:
        start: First local date.
        days: Number of days.
        country: ISO code for public holidays.
        vacations: The household's vacations.

    Returns:
        (days in order, sorted public holidays within the period).
    """
    end = start + timedelta(days=days - 1)
    holidays: set[date] = set()
    for year in range(start.year, end.year + 1):
        holidays.update(d for d in public_holidays(year, country) if start <= d <= end)
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        on_vacation = any(v.start <= d <= v.end for v in vacations)
        out.append(DayInfo(i, d, d in holidays, on_vacation))
    return out, sorted(holidays)


class _Times(NamedTuple):
    wake_workday: float
    wake_day_off: float
    bedtime: float
    work_days: list[int]
    leave: float | None
    back: float | None


def _schedule_times(schedule: str, rng: np.random.Generator) -> _Times:
    """Wake, bed, leave and return times (minutes after local midnight) and work days of a schedule."""

    def near(minutes: float, spread: int) -> float:
        return minutes + 5 * int(rng.integers(-spread, spread + 1))

    if schedule == "office_worker":
        wake = near(6 * 60 + 40, 3)
        leave = wake + 55 + 5 * int(rng.integers(0, 4))
        return _Times(
            wake, near(8 * 60 + 30, 4), near(22 * 60 + 45, 3), [0, 1, 2, 3, 4], leave, near(17 * 60 + 40, 6)
        )
    if schedule == "student":
        wake = near(6 * 60 + 50, 2)
        leave = wake + 50 + 5 * int(rng.integers(0, 3))
        return _Times(wake, near(9 * 60 + 30, 4), near(21 * 60 + 45, 3), [0, 1, 2, 3, 4], leave, None)
    if schedule == "shift_worker":
        days = sorted(int(d) for d in rng.choice(7, size=4, replace=False))
        wake = near(9 * 60 + 15, 3)
        return _Times(wake, wake, near(23 * 60 + 50, 2), days, near(13 * 60 + 15, 3), near(22 * 60 + 35, 2))
    if schedule == "retired":
        wake = near(7 * 60 + 15, 3)
        return _Times(wake, wake, near(22 * 60 + 15, 3), [], None, None)
    # remote_worker
    return _Times(near(7 * 60 + 20, 3), near(8 * 60 + 45, 4), near(23 * 60, 3), [], None, None)


def make_residents(home_type: str, bedrooms: list[str], rng: np.random.Generator) -> list[Resident]:
    """The household of a home type: adults (office/remote/shift worker or retired) and students.

    Adults share the first bedroom; each student gets their own while bedrooms last.

    Args:
        home_type: One of the layout's home types.
        bedrooms: Area ids of the bedrooms, master first.
        rng: The seeded generator for residents.

    Returns:
        Residents in a stable order; the first one owns the household routines.
    """
    (a_lo, a_hi), (c_lo, c_hi) = _HOUSEHOLDS.get(home_type, ((1, 2), (0, 1)))
    n_adults = int(rng.integers(a_lo, a_hi + 1))
    n_children = int(rng.integers(c_lo, c_hi + 1))
    n_children = min(n_children, max(0, len(bedrooms) - 1))
    adult_kinds = ["office_worker", "remote_worker", "shift_worker", "retired"]
    probs = [0.45, 0.25, 0.15, 0.15] if n_children == 0 else [0.55, 0.3, 0.15, 0.0]
    schedules = [str(rng.choice(adult_kinds, p=probs)) for _ in range(n_adults)]
    if n_adults == 2 and schedules[0] == "retired":
        schedules[1] = "retired"
    schedules += ["student"] * n_children
    names = [str(n) for n in rng.choice(_NAMES, size=len(schedules), replace=False)]
    out = []
    for i, (name, schedule) in enumerate(zip(names, schedules, strict=True)):
        t = _schedule_times(schedule, rng)
        bedroom = bedrooms[0] if schedule != "student" else bedrooms[min(len(bedrooms) - 1, 1 + i - n_adults)]
        out.append(
            Resident(
                resident_id=f"resident_{i + 1}",
                name=name.capitalize(),
                person_entity_id=f"person.{name}",
                schedule=schedule,  # type: ignore[arg-type]
                bedroom_area_id=bedroom,
                wake_workday=_hhmm(t.wake_workday),
                wake_day_off=_hhmm(t.wake_day_off),
                bedtime=_hhmm(t.bedtime),
                work_days=t.work_days,
                leave_time=None if t.leave is None else _hhmm(t.leave),
                return_time=None if t.back is None else _hhmm(t.back),
            )
        )
    return out
