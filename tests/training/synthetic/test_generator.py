"""generate_home: determinism, home types, climate zones, entity targets and Home Assistant naming."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import msgspec
import numpy as np
import pytest

from homeiq_ai.training.synthetic import CLIMATE_ZONES, HOME_TYPES, generate_home

ENTITY_ID = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


def test_same_seed_gives_identical_home() -> None:
    """The same seed and parameters give the same spec, events and truth."""
    a = generate_home(5, home_type="apartment", days=7)
    b = generate_home(5, home_type="apartment", days=7)
    assert a.spec == b.spec
    assert a.truth == b.truth
    assert a.events == b.events
    assert np.array_equal(a.events.time_us, b.events.time_us)


def test_different_seeds_give_different_homes() -> None:
    """Two seeds give different events and different residents or times."""
    a = generate_home(1, days=7)
    b = generate_home(2, days=7)
    assert a.events != b.events
    assert a.spec.residents != b.spec.residents or a.truth.routines != b.truth.routines


def test_layout_does_not_depend_on_days() -> None:
    """The registry of a seed stays the same whatever the number of days (initial states aside)."""
    short, long = generate_home(3, days=2).spec, generate_home(3, days=9).spec
    assert short.devices == long.devices and short.residents == long.residents
    assert [msgspec.structs.replace(e, initial_state="") for e in short.entities] == [
        msgspec.structs.replace(e, initial_state="") for e in long.entities
    ]


@pytest.mark.parametrize("home_type", HOME_TYPES)
def test_every_home_type_generates_a_valid_home(home_type: str) -> None:
    """Each home type has areas, unique valid entity ids, residents and events in its period."""
    home = generate_home(4, home_type=home_type, days=3)
    ids = [e.entity_id for e in home.spec.entities]
    assert len(HOME_TYPES) >= 5
    assert len(ids) == len(set(ids))
    assert all(
        ENTITY_ID.match(i) and i.split(".")[0] == e.domain
        for i, e in zip(ids, home.spec.entities, strict=True)
    )
    assert home.spec.areas and home.spec.residents and len(home.events) > 1000
    assert {e.area_id for e in home.spec.entities if e.area_id} <= {a.area_id for a in home.spec.areas}
    devices = {d.device_id for d in home.spec.devices}
    assert {e.device_id for e in home.spec.entities if e.device_id} <= devices
    assert set(home.events.entity_ids) == set(ids)


@pytest.mark.parametrize("zone", sorted(CLIMATE_ZONES))
def test_every_climate_zone_generates_weather(zone: str) -> None:
    """Each climate zone gives a weather entity with conditions and outdoor temperatures in range."""
    home = generate_home(6, home_type="bungalow", days=3, climate_zone=zone, start=date(2026, 7, 1))
    weather = home.events.for_entity("weather.home")
    assert len(weather) >= 3 * 24 - 1
    temps = [e.attributes["temperature"] for e in weather if e.attributes]
    assert all(-40 < t < 50 for t in temps)
    assert len(CLIMATE_ZONES) >= 3


def test_climate_zones_differ_in_summer_temperature() -> None:
    """A Mediterranean July is warmer than a Nordic one."""
    kwargs = {"home_type": "studio", "days": 14, "start": date(2026, 7, 1)}
    warm = generate_home(8, climate_zone="mediterranean", **kwargs)
    cold = generate_home(8, climate_zone="nordic", **kwargs)

    def mean_outdoor(home) -> float:
        events = home.events.for_entity("sensor.outdoor_temperature")
        values = [float(s) for s in events.state_column() if s not in ("unavailable", "unknown")]
        return sum(values) / len(values)

    assert mean_outdoor(warm) > mean_outdoor(cold) + 5


@pytest.mark.parametrize("target", [80, 150, 230])
def test_entity_target_is_met_exactly(target: int) -> None:
    """An entity target pads or trims the home to exactly that many entities."""
    home = generate_home(9, home_type="single_family", days=1, entity_target=target)
    assert len(home.spec.entities) == target


def test_entity_target_below_the_essentials_is_refused() -> None:
    """A target too small for the planted behaviour raises ValueError."""
    with pytest.raises(ValueError, match="entity_target"):
        generate_home(9, home_type="multi_storey", days=1, entity_target=10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1},
        {"days": 0},
        {"home_type": "castle"},
        {"climate_zone": "lunar"},
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "Africa/Nairobi"},
        {"latitude": 95.0, "longitude": 0.0},
    ],
)
def test_invalid_arguments_raise_value_error(kwargs: dict) -> None:
    """Bad arguments are refused with ValueError."""
    args = {"seed": 1, "days": 1, **kwargs}
    with pytest.raises(ValueError):
        generate_home(**args)


def test_unknown_time_zone_with_location_is_accepted() -> None:
    """A time zone without a default location works once latitude and longitude are given."""
    home = generate_home(
        1, days=2, time_zone="Africa/Nairobi", latitude=-1.29, longitude=36.82, climate_zone="subtropical"
    )
    assert home.spec.time_zone == "Africa/Nairobi"
    assert home.truth.sun_routines


def test_home_assistant_naming_and_classes(home) -> None:
    """Entities carry Home Assistant ids, device classes, units and diagnostic categories."""
    by_id = {e.entity_id: e for e in home.spec.entities}
    assert by_id["binary_sensor.front_door"].device_class == "door"
    assert by_id["binary_sensor.hallway_motion"].device_class == "motion"
    assert by_id["sensor.living_room_temperature"].device_class == "temperature"
    assert by_id["sensor.living_room_temperature"].unit_of_measurement == "°C"
    assert by_id["sensor.router_uptime"].entity_category == "diagnostic"
    for entity_id in (
        "light.kitchen_ceiling", "switch.coffee_maker", "fan.bathroom", "climate.living_room",
        "media_player.living_room_tv", "lock.front_door", "cover.bedroom_blinds", "sun.sun", "weather.home",
    ):  # fmt: skip
        assert entity_id in by_id
    assert all(e.friendly_name for e in home.spec.entities)
    assert all(p.person_entity_id in by_id for p in home.spec.residents)


def test_generator_needs_no_torch() -> None:
    """Importing and running the generator loads no torch."""
    code = (
        "import sys; from homeiq_ai.training.synthetic import generate_home; generate_home(1, days=1); "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
