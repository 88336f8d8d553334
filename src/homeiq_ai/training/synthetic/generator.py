"""generate_home: a whole synthetic home, deterministic by seed, with its events and ground truth."""

from __future__ import annotations

import zlib
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import numpy as np

from homeiq_ai.training.synthetic.behaviour import Planter
from homeiq_ai.training.synthetic.events import EventBuffer
from homeiq_ai.training.synthetic.layout import HOME_TYPES, build_layout, home_areas
from homeiq_ai.training.synthetic.realism import (
    BURSTY_CLASSES,
    REALISMS,
    TIGHT,
    add_bursts,
    day_marks,
    extra_entities,
    plant_chatty_numbers,
    plant_random_contacts,
)
from homeiq_ai.training.synthetic.residents import (
    build_calendar,
    country_for_time_zone,
    make_residents,
    plan_vacations,
)
from homeiq_ai.training.synthetic.sensors import plant_sensors
from homeiq_ai.training.synthetic.spec import Entity, GeneratedHome, HomeSpec
from homeiq_ai.training.synthetic.timeline import Clock
from homeiq_ai.training.synthetic.weather import CLIMATE_ZONES, generate_weather

__all__ = ["DEFAULT_START", "KNOWN_LOCATIONS", "generate_home"]

DEFAULT_START = date(2026, 1, 5)

# Time zone -> (latitude, longitude, climate zone) used when the caller gives no location.
KNOWN_LOCATIONS: dict[str, tuple[float, float, str]] = {
    "Europe/Berlin": (52.52, 13.405, "temperate"),
    "Europe/London": (51.5074, -0.1278, "temperate"),
    "Europe/Paris": (48.8566, 2.3522, "temperate"),
    "Europe/Amsterdam": (52.3676, 4.9041, "temperate"),
    "Europe/Madrid": (40.4168, -3.7038, "mediterranean"),
    "Europe/Rome": (41.9028, 12.4964, "mediterranean"),
    "Europe/Athens": (37.9838, 23.7275, "mediterranean"),
    "Europe/Stockholm": (59.3293, 18.0686, "nordic"),
    "Europe/Oslo": (59.9139, 10.7522, "nordic"),
    "Europe/Helsinki": (60.1699, 24.9384, "nordic"),
    "Europe/Warsaw": (52.2297, 21.0122, "continental"),
    "America/New_York": (40.7128, -74.0060, "continental"),
    "America/Chicago": (41.8781, -87.6298, "continental"),
    "America/Denver": (39.7392, -104.9903, "continental"),
    "America/Los_Angeles": (34.0522, -118.2437, "mediterranean"),
    "America/Phoenix": (33.4484, -112.0740, "subtropical"),
    "America/Toronto": (43.6532, -79.3832, "continental"),
    "Australia/Sydney": (-33.8688, 151.2093, "subtropical"),
    "Asia/Tokyo": (35.6762, 139.6503, "subtropical"),
}

_INITIAL_BY_DOMAIN = {
    "light": "off", "switch": "off", "fan": "off", "binary_sensor": "off", "media_player": "off",
    "input_boolean": "off", "cover": "closed", "lock": "locked", "person": "home", "climate": "off",
}  # fmt: skip


def _rng(seed: int, part: str) -> np.random.Generator:
    """A generator for one part of the home, so that e.g. the layout does not change with `days`."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(part.encode())])))


def generate_home(
    seed: int,
    home_type: str = "single_family",
    days: int = 30,
    start: date | None = None,
    entity_target: int | None = None,
    time_zone: str = "Europe/Berlin",
    latitude: float | None = None,
    longitude: float | None = None,
    climate_zone: str | None = None,
    realism: str = "tight",
) -> GeneratedHome:
    """Generate a synthetic home: registry, residents, state-change events and ground truth.

    The same arguments always give the same home and events; nothing reads the clock or global
    random state. Routines are planted on the home's local wall clock; events are UTC. Anomalies are
    injected from 10 days on (one of each kind per 60 days, at least one), vacations from 45 days on.

    Args:
        seed: Non-negative seed.
        home_type: One of "studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey".
        days: Number of local days generated, from local midnight of `start`.
        start: First local date (default 2026-01-05, a Monday).
        entity_target: Exact entity count wanted; None keeps the home type's natural size.
        time_zone: IANA time zone of the home.
        latitude: Degrees north; default from the time zone when it is a known one.
        longitude: Degrees east; default from the time zone when it is a known one.
        climate_zone: One of "temperate", "continental", "mediterranean", "subtropical", "nordic";
            default from the time zone, else "temperate".
        realism: "tight" (residents keep time to minutes; the default) or "loose" (drifting, skipped
            routines, bedroom doors, bouncing contacts, random drawers and chatty numbers; see
            training.synthetic.realism). A loose home has the tight home's registry plus its extra
            entities, and the same deterministic output for the same arguments.

    Returns:
        The GeneratedHome: spec, events sorted by time, ground truth.

    Raises:
        ValueError: For a negative seed, days < 1, an unknown home type, time zone or climate zone, a
            missing location for an unknown time zone, an unknown realism, or an entity target the home
            cannot meet.
    """
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    if realism not in REALISMS:
        raise ValueError(f"unknown realism {realism!r}; choose one of {', '.join(REALISMS)}")
    setting = REALISMS[realism]
    if home_type not in HOME_TYPES:
        raise ValueError(f"unknown home type {home_type!r}; choose one of {', '.join(HOME_TYPES)}")
    try:
        tz = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {time_zone!r}") from exc
    known = KNOWN_LOCATIONS.get(time_zone)
    if latitude is None or longitude is None:
        if known is None:
            raise ValueError(f"give latitude and longitude for time zone {time_zone!r}")
        latitude = known[0] if latitude is None else latitude
        longitude = known[1] if longitude is None else longitude
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError("latitude must be within [-90, 90] and longitude within [-180, 180]")
    zone = climate_zone or (known[2] if known else "temperate")
    if zone not in CLIMATE_ZONES:
        raise ValueError(f"unknown climate zone {zone!r}; choose one of {', '.join(CLIMATE_ZONES)}")
    first_day = start or DEFAULT_START
    country = country_for_time_zone(time_zone)

    areas = home_areas(home_type)
    bedrooms = [a.area_id for a in areas if a.area_id.startswith("bedroom")]
    residents = make_residents(home_type, bedrooms, _rng(seed, "residents"))
    layout = build_layout(home_type, residents, _rng(seed, "layout"), entity_target)
    extra, extra_roles, contacts = extra_entities(setting, [(a.area_id, a.name) for a in areas], bedrooms)
    if extra:
        layout = layout._replace(entities=[*layout.entities, *extra], roles={**layout.roles, **extra_roles})
    vacations = plan_vacations(first_day, days, _rng(seed, "calendar"))
    calendar, holidays = build_calendar(first_day, days, country, vacations)
    clock = Clock(tz, calendar, latitude, longitude)
    weather = generate_weather(zone, latitude, longitude, clock.start_us / 1e6, days, _rng(seed, "weather"))

    entity_ids = [e.entity_id for e in layout.entities]
    buffer = EventBuffer(entity_ids)
    loose_rng = _rng(seed, "realism")
    planter = Planter(
        clock, layout, residents, vacations, buffer, weather, zone, _rng(seed, "behaviour"), setting, loose_rng
    )
    planter.plant()
    extra_initial: dict[str, str] = {}
    numbers = [e.entity_id for e in extra if e.domain == "sensor"]
    if setting is not TIGHT:
        plant_random_contacts(buffer, contacts, planter.awake_home, setting, loose_rng)
        bursty = [
            e.entity_id
            for e in layout.entities
            if e.domain == "binary_sensor" and e.device_class in BURSTY_CLASSES
        ]
        add_bursts(buffer, bursty, setting, loose_rng)
        planted = sum(len(d.occ) for d in planter.routines if d.derived_from is None)
        planted += sum(len(p.occ) for p in planter.pairs) + sum(len(q.occ) for q in planter.sequences)
        extra_initial = plant_chatty_numbers(
            buffer, numbers, clock.start_us, clock.end_us, round(planted * setting.numbers_per_occurrence), loose_rng
        )
    sensors = plant_sensors(
        clock, layout, planter, weather, buffer, _rng(seed, "sensors"), latitude, longitude
    )

    initial: dict[str, str] = {}
    for e in layout.entities:
        state = _INITIAL_BY_DOMAIN.get(e.domain, "unknown")
        if e.domain == "binary_sensor" and e.device_class == "connectivity":
            state = "on"
        initial[e.entity_id] = state
    initial.update(planter.initial_states)
    initial.update(sensors.initial_states)
    initial.update(extra_initial)
    log = buffer.build(initial, clock.start_us, clock.end_us)
    noise = sensors.noise
    if setting is not TIGHT:
        noise = msgspec.structs.replace(
            noise,
            chatty_entities=sorted([*noise.chatty_entities, *numbers]),
            background_entities=sorted([*noise.background_entities, *contacts]),
        )
    truth = planter.finalize(log, noise, holidays, vacations)
    if setting is not TIGHT:
        epoch = date(1970, 1, 1)
        marks = day_marks(log, truth, layout.entities, time_zone, {(d - epoch).days for d in holidays})
        truth = msgspec.structs.replace(truth, day_marks=marks)
    entities: list[Entity] = [
        msgspec.structs.replace(e, initial_state=initial[e.entity_id]) for e in layout.entities
    ]
    spec = HomeSpec(
        seed=seed,
        home_type=home_type,
        time_zone=time_zone,
        latitude=float(latitude),
        longitude=float(longitude),
        climate_zone=zone,
        country=country,
        start=first_day,
        days=days,
        areas=layout.areas,
        devices=layout.devices,
        entities=entities,
        residents=residents,
        realism=realism,
    )
    return GeneratedHome(spec=spec, events=log, truth=truth)
