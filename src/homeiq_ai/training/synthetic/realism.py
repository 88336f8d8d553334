"""How real a synthetic home is: "tight" (residents keep time to minutes) or "loose" (as people really live).

A loose home differs from a tight one of the same seed in what real recorded homes show:

- people's routines drift (the planted spread is widened 3.5 times, at most to 24 minutes: a
  wake-up light with a 6-minute spread now spreads 21 minutes; draws are clipped at 2.5 spreads, so
  every occurrence lies within +-30 to 60 minutes of the routine's time) and happen on 60-85% of days
  (each resident's routine skips 15-40% of its days); weekends and holidays shift them as in tight
  homes (the day-off wake time);
- each resident's bedroom has a door contact that opens a few minutes after waking and closes at
  bedtime: the first and the last change of the day in that room on most days;
- contact and motion sensors bounce: an "on" is followed, in 30% of cases, by one or two quick
  off/on pairs within a minute (a door opened and closed three times);
- drawer and cabinet contacts in the kitchen and bathroom open and close at random while someone is
  awake at home: other events interleave with every planted relation and carry no pattern;
- numeric power sensors report every few seconds, so that numbers outnumber the planted
  occurrences about 100 to 1.

The planted truth stays exact: bursts add changes after an occurrence, never before or instead of it;
the new entities are listed in the noise truth (chatty or background); the first and last changes of
the day are measured on the event stream itself (`day_marks`). Everything is drawn from a generator
of its own, so the tight draws, and a tight home's output, do not change.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from homeiq_ai.training.synthetic.events import EventBuffer, EventLog, from_us
from homeiq_ai.training.synthetic.spec import DayMark, Entity, GroundTruth, Routine
from homeiq_ai.training.synthetic.timeline import MINUTE_US, SECOND_US, Intervals, poisson_in

__all__ = [
    "DENSE",
    "LOOSE",
    "REALISMS",
    "TIGHT",
    "Realism",
    "add_bursts",
    "day_marks",
    "extra_entities",
    "human_spread",
    "plant_chatty_numbers",
    "plant_random_contacts",
]

BURSTY_CLASSES = frozenset({"door", "window", "opening", "garage_door", "motion", "occupancy", "presence"})
"""Binary sensor classes whose "on" may bounce."""

DAY_START_MINUTE = 4 * 60
"""A home's day runs from 04:00 to 04:00 local time: going to bed after midnight still ends the day before."""

MIN_MARK_SHARE = 0.6
"""A change is a planted first (last) of the day when it is the area's first (last) on this share of days."""


@dataclass(frozen=True, slots=True)
class Realism:
    """The knobs of a realism setting (see the module docstring)."""

    name: str
    spread_scale: float = 1.0
    max_spread_minutes: float | None = None
    """A widened spread (standard deviation, minutes) stops here: 24 keeps draws within +-60 minutes."""
    skip_range: tuple[float, float] | None = None
    bedroom_doors: bool = False
    burst_probability: float = 0.0
    random_contacts: int = 0
    random_contact_rate: float = 0.0
    """Openings per hour of each drawer or cabinet while someone is awake at home."""
    numbers_per_occurrence: float = 0.0
    kettle: bool = False
    """The kitchen gets a kettle, switched on 15-100 s after the radio: cooking becomes a 4-step sequence."""


def human_spread(realism: Realism, sd_min: float) -> float:
    """A person's spread (standard deviation, minutes) under a realism setting: widened, then capped."""
    sd = sd_min * realism.spread_scale
    return sd if realism.max_spread_minutes is None else min(sd, realism.max_spread_minutes)


TIGHT = Realism("tight")
LOOSE = Realism(
    "loose",
    spread_scale=3.5,
    max_spread_minutes=24.0,
    skip_range=(0.15, 0.4),
    bedroom_doors=True,
    burst_probability=0.3,
    random_contacts=12,
    random_contact_rate=0.6,
    numbers_per_occurrence=100.0,
    kettle=True,
)
DENSE = replace(LOOSE, name="dense", random_contacts=48)
"""A loose home with 48 drawer, cabinet and cupboard contacts firing at random (a dense recorded home has 72)."""
REALISMS: dict[str, Realism] = {"tight": TIGHT, "loose": LOOSE, "dense": DENSE}


def _slug(text: str) -> str:
    return text.lower().replace(" ", "_")


def extra_entities(
    realism: Realism, areas: list[tuple[str, str]], bedrooms: list[str]
) -> tuple[list[Entity], dict[str, str], list[str]]:
    """The entities a realism setting adds: bedroom doors (with their roles) and drawer/cabinet contacts.

    Args:
        realism: The setting.
        areas: (area_id, name) of the home's areas.
        bedrooms: Area ids of the bedrooms.

    Returns:
        (entities, roles, random contact entity ids).
    """
    entities: list[Entity] = []
    roles: dict[str, str] = {}
    contacts: list[str] = []
    names = dict(areas)
    if realism.bedroom_doors:
        for bed in bedrooms:
            entity_id = f"binary_sensor.{bed}_door"
            entities.append(
                Entity(
                    entity_id=entity_id,
                    domain="binary_sensor",
                    friendly_name=f"{names[bed]} Door",
                    area_id=bed,
                    device_class="door",
                )
            )
            roles[f"bedroom_door:{bed}"] = entity_id
    kitchens = [a for a, _ in areas if a.startswith("kitchen")]
    if realism.kettle and kitchens:
        entity_id = f"switch.{kitchens[0]}_kettle"
        entities.append(
            Entity(
                entity_id=entity_id, domain="switch", area_id=kitchens[0], friendly_name=f"{names[kitchens[0]]} Kettle"
            )
        )
        roles["kettle"] = entity_id
    hosts = [a for a, _ in areas if a.startswith(("kitchen", "bathroom"))] or [a for a, _ in areas[:1]]
    kinds = ("drawer", "cabinet", "cupboard")
    for k in range(realism.random_contacts):
        area = hosts[k % len(hosts)]
        kind = kinds[k % len(kinds)]
        entity_id = f"binary_sensor.{area}_{kind}_{k // len(kinds) + 1}"
        entities.append(
            Entity(
                entity_id=entity_id,
                domain="binary_sensor",
                area_id=area,
                device_class="opening",
                friendly_name=f"{names[area]} {kind.capitalize()} {k // len(kinds) + 1}",
            )
        )
        contacts.append(entity_id)
    numbers = realism.numbers_per_occurrence > 0
    if numbers:
        for k in range(4):
            area = [a for a, _ in areas][k % len(areas)]
            entity_id = f"sensor.{_slug(area)}_plug_{k + 1}_power"
            entities.append(
                Entity(
                    entity_id=entity_id,
                    domain="sensor",
                    area_id=area,
                    device_class="power",
                    friendly_name=f"{names[area]} Plug {k + 1} Power",
                    unit_of_measurement="W",
                    state_class="measurement",
                )
            )
    return entities, roles, contacts


def plant_random_contacts(
    buffer: EventBuffer, contacts: list[str], awake_home: Intervals, realism: Realism, rng: np.random.Generator
) -> None:
    """Drawers and cabinets open and close at random while someone is awake at home (no pattern)."""
    for entity_id in contacts:
        for t in poisson_in(awake_home, realism.random_contact_rate, rng, min_gap_us=MINUTE_US):
            buffer.add(t, entity_id, "on")
            buffer.add(t + round(float(rng.uniform(3, 40)) * SECOND_US), entity_id, "off")


def add_bursts(buffer: EventBuffer, bursty: list[str], realism: Realism, rng: np.random.Generator) -> int:
    """Quick off/on bounces after some "on" changes of contact and motion sensors; returns how many were added.

    A bounce never reaches the entity's next planted change: the state the planted stream had is the one
    it keeps, and every planted occurrence stays where it was.
    """
    if realism.burst_probability <= 0 or not bursty:
        return 0
    t, e, s = buffer.discrete()
    on = buffer.state_code("on")
    added = 0
    for entity_id in bursty:
        idx = np.flatnonzero(e == buffer.index[entity_id])
        if idx.size == 0:
            continue
        order = idx[np.argsort(t[idx], kind="stable")]
        times, states = t[order], s[order]
        for k in range(times.shape[0]):
            if states[k] != on or rng.random() >= realism.burst_probability:
                continue
            limit = times[k + 1] - 2 * SECOND_US if k + 1 < times.shape[0] else times[k] + 60 * SECOND_US
            limit = min(limit, times[k] + 60 * SECOND_US)
            at = int(times[k])
            for _ in range(int(rng.integers(1, 3))):
                t_off = at + round(float(rng.uniform(2, 10)) * SECOND_US)
                t_on = t_off + round(float(rng.uniform(2, 10)) * SECOND_US)
                if t_on >= limit:
                    break
                buffer.add(t_off, entity_id, "off")
                buffer.add(t_on, entity_id, "on")
                added += 2
                at = t_on
    return added


def plant_chatty_numbers(
    buffer: EventBuffer, entity_ids: list[str], start_us: int, end_us: int, total: int, rng: np.random.Generator
) -> dict[str, str]:
    """Numeric power readings (whole watts of a random walk) spread over the sensors; returns initial states."""
    initial: dict[str, str] = {}
    if not entity_ids or total <= 0:
        return initial
    per = max(1, total // len(entity_ids))
    codes = np.asarray([buffer.state_code(str(w)) for w in range(0, 401)], dtype=np.int32)
    for entity_id in entity_ids:
        times = np.sort(rng.integers(start_us, end_us, per, dtype=np.int64))
        walk = np.clip(np.cumsum(rng.normal(0, 6, per)) + float(rng.uniform(20, 200)), 0, 400)
        buffer.add_block(times, entity_id, codes[np.round(walk).astype(np.int64)])
        initial[entity_id] = "0"
    return initial


def _hhmm(minute: float) -> str:
    m = round(minute) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def day_marks(
    log: EventLog,
    truth: GroundTruth,
    entities: list[Entity],
    time_zone: str,
    holidays: set[int],
) -> list[DayMark]:
    """The planted firsts and lasts of the day, measured on the event stream.

    Per area and home day (04:00 to 04:00 local), the first and the last change of the area's
    behaviour entities (not chatty, diagnostic or numeric sensors) is taken. A planted routine's entity
    and state is a first (last) of the day when it is that change on at least MIN_MARK_SHARE of the
    days of its day set on which the area saw any change, and on at least 4 days.

    Args:
        log: The home's events.
        truth: Its ground truth (routines and noise).
        entities: The registry.
        time_zone: The home's time zone.
        holidays: Public holidays as days since 1970-01-01 (they count as weekend days).

    Returns:
        The marks, by area, kind and entity.
    """
    tz = zoneinfo.ZoneInfo(time_zone)
    noise = set(truth.noise.chatty_entities) | set(truth.noise.diagnostic_entities)
    area_of = {
        e.entity_id: e.area_id
        for e in entities
        if e.area_id
        and e.entity_id not in noise
        and e.domain not in ("sensor", "weather", "sun", "update")
        and e.entity_category is None
    }
    codes = np.asarray([log.entity_ids[i] in area_of for i in range(len(log.entity_ids))], dtype=bool)
    sel = np.flatnonzero(codes[log.entity])
    if sel.size == 0:
        return []
    t_s = log.time_us[sel] / 1e6
    # Local minute and home day, per distinct hour's UTC offset.
    hours = np.floor(t_s / 3600).astype(np.int64)
    uh, inv = np.unique(hours, return_inverse=True)
    offsets = np.asarray([datetime.fromtimestamp(int(h) * 3600, tz=tz).utcoffset().total_seconds() for h in uh])  # type: ignore[union-attr]
    local = t_s + offsets[inv]
    home_day = np.floor((local - DAY_START_MINUTE * 60) / 86400).astype(np.int64)
    # Minutes since local midnight, counted on past 24:00 until 04:00 (23:50 and 00:20 stay 30 minutes apart).
    minute = np.mod(local - DAY_START_MINUTE * 60, 86400) / 60.0 + DAY_START_MINUTE
    ent = log.entity[sel]
    state = log.new_state[sel]
    areas = np.asarray([area_of[log.entity_ids[i]] for i in ent.tolist()], dtype=object)
    routines = {(r.entity_id, r.state): r for r in truth.routines}
    marks: list[DayMark] = []
    for area in sorted(set(areas.tolist())):
        in_area = np.flatnonzero(areas == area)
        days = home_day[in_area]
        uniq, first_pos = np.unique(days, return_index=True)
        last_pos = np.r_[first_pos[1:], in_area.size] - 1
        weekday = (uniq + 3) % 7
        day_off = (weekday >= 5) | np.isin(uniq, list(holidays))
        for kind, pos in (("first", first_pos), ("last", last_pos)):
            picks = in_area[pos]
            keys = [(log.entity_ids[int(ent[p])], log.states[int(state[p])]) for p in picks.tolist()]
            for key in sorted(set(keys)):
                r: Routine | None = routines.get(key)
                if r is None:
                    continue
                hit = np.asarray([k == key for k in keys])
                for day_set, in_set in (
                    ("all", np.ones(uniq.size, bool)),
                    ("weekdays", ~day_off),
                    ("weekends", day_off),
                ):
                    n = int(in_set.sum())
                    h = int((hit & in_set).sum())
                    if n == 0 or h < 4 or h / n < MIN_MARK_SHARE:
                        continue
                    at = picks[hit & in_set]
                    mins = np.sort(minute[at])
                    lo, hi = np.quantile(mins, [0.1, 0.9])
                    marks.append(
                        DayMark(
                            kind=kind,
                            area_id=area,
                            entity_id=key[0],
                            state=key[1],
                            local_time=_hhmm(float(np.median(mins))),
                            window_start=_hhmm(float(lo)),
                            window_end=_hhmm(float(hi)),
                            days=day_set,
                            share_of_days=round(h / n, 3),
                            occurrences=[from_us(int(log.time_us[sel[p]])) for p in at],
                        )
                    )
                    break  # the widest day set that holds it
    return marks
