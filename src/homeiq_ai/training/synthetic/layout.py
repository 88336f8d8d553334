"""Home types -> areas -> devices -> entities, named the way Home Assistant names them."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from homeiq_ai.training.synthetic.spec import Area, Device, Entity, Resident

__all__ = ["HOME_TYPES", "Layout", "SensorInfo", "build_layout", "home_areas"]


class _E(NamedTuple):
    """An entity template: `{a}` in the object id and `{A}` in the name stand for the area."""

    domain: str
    object_id: str
    name: str
    device_class: str | None = None
    unit: str | None = None
    sensor: str | None = None  # the chatty-sensor kind that produces its states
    role: str | None = None  # what planted behaviour may use it for (first claim wins)
    priority: int = 4  # trimmed first when high; role entities that claim their role are kept
    category: str | None = None


class _D(NamedTuple):
    """A device template."""

    name: str
    manufacturer: str
    model: str
    entities: tuple[_E, ...]
    load_w: float = 0.0  # power drawn by the device's main entity while it is on


def _battery(obj: str, name: str) -> _E:
    return _E("sensor", f"{obj}_battery", f"{name} Battery", "battery", "%", "battery", None, 6, "diagnostic")


def _multisensor(motion: bool = True, humidity: bool = True, lux: bool = False) -> _D:
    ents = [_E("sensor", "{a}_temperature", "{A} Temperature", "temperature", "°C", "temp_in", None, 2)]
    if humidity:
        ents.append(_E("sensor", "{a}_humidity", "{A} Humidity", "humidity", "%", "hum_in", None, 3))
    if lux:
        ents.append(
            _E("sensor", "{a}_illuminance", "{A} Illuminance", "illuminance", "lx", "lux_in", None, 4)
        )
    if motion:
        ents.append(_E("binary_sensor", "{a}_motion", "{A} Motion", "motion", None, None, None, 4))
    ents.append(_battery("{a}_sensor", "{A} Sensor"))
    return _D("{A} Multisensor", "Aqara", "RTCGQ11LM", tuple(ents))


def _window(obj: str = "{a}_window", name: str = "{A} Window") -> _D:
    return _D(
        name,
        "Aqara",
        "MCCGQ11LM",
        (_E("binary_sensor", obj, name, "window", None, None, None, 5), _battery(obj, name)),
    )


def _thermostat() -> _D:
    return _D(
        "{A} Thermostat",
        "Eurotronic",
        "Spirit Zigbee",
        (
            _E("climate", "{a}", "{A} Thermostat", None, None, None, "climate", 3),
            _battery("{a}_thermostat", "{A} Thermostat"),
        ),
    )


def _plug(obj: str, name: str, role: str | None, load: float, priority: int = 4, energy: bool = True) -> _D:
    ents = [
        _E("switch", obj, name, "outlet", None, None, role, priority),
        _E("sensor", f"{obj}_power", f"{name} Power", "power", "W", "power", None, 3),
    ]
    if energy:
        ents.append(_E("sensor", f"{obj}_energy", f"{name} Energy", "energy", "kWh", "energy", None, 5))
    return _D(name, "Shelly", "Plug S", tuple(ents), load)


def _light(obj: str, name: str, role: str | None = None, priority: int = 4) -> _D:
    return _D(
        name, "Philips", "Hue White Ambiance", (_E("light", obj, name, None, None, None, role, priority),)
    )


def _motion_light_pair(key: str) -> tuple[_D, ...]:
    return (
        _light("{a}", "{A} Light", f"motion_light:{key}", 1),
        _D(
            "{A} Motion Sensor",
            "Philips",
            "Hue Motion Sensor",
            (
                _E(
                    "binary_sensor",
                    "{a}_motion",
                    "{A} Motion",
                    "motion",
                    None,
                    None,
                    f"motion_sensor:{key}",
                    1,
                ),
                _E("sensor", "{a}_illuminance", "{A} Illuminance", "illuminance", "lx", "lux_in", None, 5),
                _battery("{a}_motion", "{A} Motion Sensor"),
            ),
        ),
    )


_COVER = _D(
    "{A} Blinds",
    "Somfy",
    "Sonesse 30",
    (_E("cover", "{a}_blinds", "{A} Blinds", "blind", None, None, "blinds", 2),),
)

# Area kind -> device templates. Roles name what the behaviour planner looks for.
_AREA_DEVICES: dict[str, tuple[_D, ...]] = {
    "hallway": (
        *_motion_light_pair("hallway"),
        _D(
            "Front Door Contact",
            "Aqara",
            "MCCGQ11LM",
            (
                _E("binary_sensor", "front_door", "Front Door", "door", None, None, "front_door", 0),
                _battery("front_door", "Front Door"),
            ),
        ),
        _D(
            "Front Door Lock",
            "Nuki",
            "Smart Lock 3.0",
            (
                _E("lock", "front_door", "Front Door Lock", None, None, None, "lock", 2),
                _battery("front_door_lock", "Front Door Lock"),
            ),
        ),
        _light("entrance", "Entrance Light", "entrance_light", 0),
    ),
    "landing": _motion_light_pair("landing"),
    "stairs": _motion_light_pair("stairs"),
    "living_room": (
        _light("{a}_ceiling", "{A} Ceiling Light"),
        _light("{a}_lamp", "{A} Lamp", "tv_lamp", 0),
        _D(
            "{A} TV",
            "LG",
            "OLED55C3",
            (
                _E("media_player", "{a}_tv", "{A} TV", "tv", None, None, "tv", 0),
                _E("sensor", "{a}_tv_power", "{A} TV Power", "power", "W", "power", None, 3),
            ),
            95.0,
        ),
        _D(
            "{A} Soundbar",
            "Sonos",
            "Beam",
            (_E("media_player", "{a}_soundbar", "{A} Soundbar", "speaker", None, None, "soundbar", 0),),
        ),
        _thermostat(),
        _multisensor(motion=True, humidity=True, lux=True),
        _COVER,
        _window(),
        _D(
            "{A} Air Quality",
            "Netatmo",
            "Healthy Home Coach",
            (_E("sensor", "{a}_co2", "{A} CO2", "carbon_dioxide", "ppm", "co2", None, 5),),
        ),
    ),
    "kitchen": (
        _light("{a}_ceiling", "{A} Ceiling Light", "kitchen_light", 0),
        _D(
            "{A} Hood",
            "Bosch",
            "DWF97RV60",
            (_E("fan", "{a}_hood", "{A} Hood", None, None, None, "hood", 0),),
            180.0,
        ),
        _D(
            "{A} Radio",
            "Sonos",
            "One",
            (_E("media_player", "{a}_radio", "{A} Radio", "speaker", None, None, "radio", 0),),
        ),
        _plug("coffee_maker", "Coffee Maker", "coffee_maker", 1100.0, 0),
        _D(
            "Fridge Plug",
            "Shelly",
            "Plug S",
            (
                _E("sensor", "fridge_power", "Fridge Power", "power", "W", "fridge", None, 2),
                _E("sensor", "fridge_energy", "Fridge Energy", "energy", "kWh", "energy", None, 5),
            ),
        ),
        _plug("kettle", "Kettle", None, 2000.0, 4, energy=False),
        _plug("dishwasher", "Dishwasher", "dishwasher", 1700.0, 4),
        _multisensor(motion=True, humidity=True),
        _window(),
    ),
    "bedroom": (
        _light("{a}_ceiling", "{A} Ceiling Light", "wake_light", 0),
        _light("{a}_bedside", "{A} Bedside Lamp"),
        _D(
            _COVER.name, _COVER.manufacturer, _COVER.model, (_COVER.entities[0]._replace(role="wake_blinds"),)
        ),
        _thermostat(),
        _multisensor(motion=False, humidity=True),
        _window(),
        _D(
            "{A} Speaker",
            "Sonos",
            "One SL",
            (_E("media_player", "{a}_speaker", "{A} Speaker", "speaker", None, None, None, 5),),
        ),
    ),
    "bathroom": (
        _light("{a}", "{A} Light", "bath_light", 0),
        _D("{A} Fan", "Shelly", "1PM", (_E("fan", "{a}", "{A} Fan", None, None, None, "bath_fan", 0),), 35.0),
        _multisensor(motion=False, humidity=True),
        _plug("{a}_towel_warmer", "{A} Towel Warmer", None, 300.0, 5, energy=False),
        _window(),
    ),
    "toilet": (
        _light("{a}", "{A} Light"),
        _D(
            "{A} Motion Sensor",
            "Aqara",
            "RTCGQ11LM",
            (_E("binary_sensor", "{a}_motion", "{A} Motion", "motion", None, None, None, 5),),
        ),
    ),
    "office": (
        _light("{a}_ceiling", "{A} Ceiling Light"),
        _plug("{a}_desk", "{A} Desk", "desk", 110.0, 3),
        _thermostat(),
        _multisensor(motion=True, humidity=True),
        _window(),
    ),
    "laundry": (
        *_motion_light_pair("laundry"),
        _plug("washing_machine", "Washing Machine", "washer", 1900.0, 3),
        _plug("dryer", "Dryer", None, 2200.0, 5),
    ),
    "garage": (
        *_motion_light_pair("garage"),
        _D(
            "Garage Door",
            "Meross",
            "MSG100",
            (_E("cover", "garage_door", "Garage Door", "garage", None, None, None, 3),),
        ),
        _multisensor(motion=False, humidity=False),
        _plug("ev_charger", "EV Charger", None, 7400.0, 4),
    ),
    "basement": (*_motion_light_pair("basement"), _multisensor(motion=False, humidity=True)),
    "attic": (_light("{a}", "{A} Light"), _multisensor(motion=False, humidity=True)),
    "dining_room": (
        _light("{a}_ceiling", "{A} Ceiling Light"),
        _light("{a}_pendant", "{A} Pendant"),
        _window(),
    ),
    "garden": (
        _light("garden", "Garden Lights", "garden_light", 1),
        _D(
            "Irrigation Valve",
            "Gardena",
            "Smart Water Control",
            (_E("switch", "garden_irrigation", "Garden Irrigation", None, None, None, "irrigation", 1),),
        ),
        _D(
            "Outdoor Sensor",
            "Netatmo",
            "Outdoor Module",
            (
                _E(
                    "sensor",
                    "outdoor_temperature",
                    "Outdoor Temperature",
                    "temperature",
                    "°C",
                    "temp_out",
                    None,
                    1,
                ),
                _E("sensor", "outdoor_humidity", "Outdoor Humidity", "humidity", "%", "hum_out", None, 2),
                _E(
                    "sensor",
                    "outdoor_illuminance",
                    "Outdoor Illuminance",
                    "illuminance",
                    "lx",
                    "lux_out",
                    None,
                    3,
                ),
                _battery("outdoor_sensor", "Outdoor Sensor"),
            ),
        ),
        _D(
            "Garden Motion Sensor",
            "Philips",
            "Hue Outdoor Sensor",
            (_E("binary_sensor", "garden_motion", "Garden Motion", "motion", None, None, None, 5),),
        ),
    ),
    "porch": (_light("porch", "Porch Light", "porch_light", 1),),
    "balcony": (
        _light("balcony", "Balcony Light", "porch_light", 1),
        _D(
            "Balcony Sensor",
            "Aqara",
            "WSDCGQ11LM",
            (
                _E(
                    "sensor",
                    "outdoor_temperature",
                    "Outdoor Temperature",
                    "temperature",
                    "°C",
                    "temp_out",
                    None,
                    1,
                ),
                _E("sensor", "outdoor_humidity", "Outdoor Humidity", "humidity", "%", "hum_out", None, 2),
                _battery("outdoor_sensor", "Outdoor Sensor"),
            ),
        ),
    ),
}

# Devices every home has, outside any area or in the first area named.
_HOME_DEVICES: tuple[_D, ...] = (
    _D(
        "Router",
        "AVM",
        "FRITZ!Box 7590",
        (
            _E("sensor", "router_uptime", "Router Uptime", "duration", "s", "uptime", None, 5, "diagnostic"),
            _E(
                "binary_sensor", "router_wan", "Router WAN", "connectivity", None, None, None, 5, "diagnostic"
            ),
            _E(
                "sensor",
                "router_download_speed",
                "Router Download Speed",
                "data_rate",
                "Mbit/s",
                "download",
                None,
                5,
                "diagnostic",
            ),
            _E("sensor", "router_wifi_clients", "Router Wi-Fi Clients", None, None, "wifi_clients", None, 5),
        ),
    ),
    _D(
        "Smart Meter",
        "Tibber",
        "Pulse",
        (
            _E("sensor", "grid_power", "Grid Power", "power", "W", "grid_power", None, 1),
            _E("sensor", "grid_energy", "Grid Energy", "energy", "kWh", "grid_energy", None, 3),
        ),
    ),
)

# Home type -> areas: (area_id, name, floor, kind). The first area of a kind claims its roles.
_HOMES: dict[str, tuple[tuple[str, str, int, str], ...]] = {
    "studio": (
        ("hallway", "Hallway", 0, "hallway"), ("living_room", "Living Room", 0, "living_room"),
        ("kitchen", "Kitchenette", 0, "kitchen"), ("bedroom", "Sleeping Alcove", 0, "bedroom"),
        ("bathroom", "Bathroom", 0, "bathroom"), ("balcony", "Balcony", 0, "balcony"),
    ),
    "apartment": (
        ("hallway", "Hallway", 0, "hallway"), ("living_room", "Living Room", 0, "living_room"),
        ("kitchen", "Kitchen", 0, "kitchen"), ("bedroom", "Bedroom", 0, "bedroom"),
        ("bedroom_2", "Second Bedroom", 0, "bedroom"), ("bathroom", "Bathroom", 0, "bathroom"),
        ("office", "Office", 0, "office"), ("toilet", "Guest Toilet", 0, "toilet"),
        ("balcony", "Balcony", 0, "balcony"),
    ),
    "townhouse": (
        ("hallway", "Hallway", 0, "hallway"), ("living_room", "Living Room", 0, "living_room"),
        ("kitchen", "Kitchen", 0, "kitchen"), ("toilet", "Guest Toilet", 0, "toilet"),
        ("stairs", "Stairs", 0, "stairs"), ("bedroom", "Bedroom", 1, "bedroom"),
        ("bedroom_2", "Kids Room", 1, "bedroom"), ("bedroom_3", "Guest Room", 1, "bedroom"),
        ("bathroom", "Bathroom", 1, "bathroom"), ("office", "Office", 2, "office"),
        ("porch", "Porch", 0, "porch"), ("garden", "Garden", 0, "garden"),
    ),
    "bungalow": (
        ("hallway", "Hallway", 0, "hallway"), ("living_room", "Living Room", 0, "living_room"),
        ("dining_room", "Dining Room", 0, "dining_room"), ("kitchen", "Kitchen", 0, "kitchen"),
        ("bedroom", "Bedroom", 0, "bedroom"), ("bedroom_2", "Guest Room", 0, "bedroom"),
        ("bathroom", "Bathroom", 0, "bathroom"), ("laundry", "Laundry", 0, "laundry"),
        ("garage", "Garage", 0, "garage"), ("porch", "Porch", 0, "porch"), ("garden", "Garden", 0, "garden"),
    ),
    "single_family": (
        ("hallway", "Hallway", 0, "hallway"), ("living_room", "Living Room", 0, "living_room"),
        ("dining_room", "Dining Room", 0, "dining_room"), ("kitchen", "Kitchen", 0, "kitchen"),
        ("toilet", "Guest Toilet", 0, "toilet"), ("stairs", "Stairs", 0, "stairs"),
        ("bedroom", "Bedroom", 1, "bedroom"), ("bedroom_2", "Kids Room", 1, "bedroom"),
        ("bedroom_3", "Second Kids Room", 1, "bedroom"), ("bathroom", "Bathroom", 1, "bathroom"),
        ("office", "Office", 1, "office"), ("laundry", "Laundry", -1, "laundry"),
        ("basement", "Basement", -1, "basement"), ("garage", "Garage", 0, "garage"),
        ("porch", "Porch", 0, "porch"), ("garden", "Garden", 0, "garden"),
    ),
    "multi_storey": (
        ("hallway", "Hallway", 0, "hallway"), ("living_room", "Living Room", 0, "living_room"),
        ("dining_room", "Dining Room", 0, "dining_room"), ("kitchen", "Kitchen", 0, "kitchen"),
        ("toilet", "Guest Toilet", 0, "toilet"), ("stairs", "Stairs", 0, "stairs"),
        ("landing", "Landing", 1, "landing"), ("bedroom", "Bedroom", 1, "bedroom"),
        ("bedroom_2", "Kids Room", 1, "bedroom"), ("bedroom_3", "Second Kids Room", 1, "bedroom"),
        ("bedroom_4", "Third Kids Room", 2, "bedroom"), ("bathroom", "Bathroom", 1, "bathroom"),
        ("bathroom_2", "Top Floor Bathroom", 2, "bathroom"), ("office", "Office", 2, "office"),
        ("attic", "Attic", 3, "attic"), ("laundry", "Laundry", -1, "laundry"),
        ("basement", "Basement", -1, "basement"), ("garage", "Garage", 0, "garage"),
        ("porch", "Porch", 0, "porch"), ("garden", "Garden", 0, "garden"),
    ),
}  # fmt: skip

HOME_TYPES = tuple(_HOMES)

# Extra devices used to reach an entity target, cycled over the indoor areas.
_PADDING: tuple[_D, ...] = (
    _plug("{a}_plug_{n}", "{A} Plug {n}", None, 60.0, 4),
    _light("{a}_lamp_{n}", "{A} Lamp {n}", None, 4),
    _window("{a}_window_{n}", "{A} Window {n}"),
    _D(
        "{A} Climate Sensor {n}",
        "Aqara",
        "WSDCGQ11LM",
        (
            _E(
                "sensor",
                "{a}_temperature_{n}",
                "{A} Temperature {n}",
                "temperature",
                "°C",
                "temp_in",
                None,
                4,
            ),
            _E("sensor", "{a}_humidity_{n}", "{A} Humidity {n}", "humidity", "%", "hum_in", None, 4),
            _battery("{a}_climate_sensor_{n}", "{A} Climate Sensor {n}"),
        ),
    ),
)

_STATE_CLASS = {
    "temperature": "measurement", "humidity": "measurement", "illuminance": "measurement",
    "power": "measurement", "carbon_dioxide": "measurement", "battery": "measurement",
    "data_rate": "measurement", "energy": "total_increasing", "duration": "total_increasing",
}  # fmt: skip


class SensorInfo(NamedTuple):
    """How a chatty sensor's states are produced: its kind, area, linked entity and load."""

    kind: str
    area_id: str | None
    link: str | None  # power: the switch/media player it measures; energy: its power sensor
    load_w: float


class Layout(NamedTuple):
    """A home's registry plus what the generator needs to plant behaviour in it."""

    areas: list[Area]
    devices: list[Device]
    entities: list[Entity]
    roles: dict[str, str]  # role (e.g. "tv", "wake_light:bedroom") -> entity_id
    sensors: dict[str, SensorInfo]  # chatty sensors
    area_kinds: dict[str, str]
    loads: dict[str, float]  # entity_id of a switch/media/fan -> watts while on


def home_areas(home_type: str) -> list[Area]:
    """The areas of a home type.

    Args:
        home_type: One of HOME_TYPES.

    Returns:
        Areas in layout order.

    Raises:
        ValueError: For an unknown home type.
    """
    if home_type not in _HOMES:
        raise ValueError(f"unknown home type {home_type!r}; choose one of {', '.join(HOME_TYPES)}")
    return [Area(area_id=a, name=n, floor=f) for a, n, f, _ in _HOMES[home_type]]


class _Pending(NamedTuple):
    entity: Entity
    template: _E
    device_index: int
    role: str | None
    order: int


def build_layout(
    home_type: str, residents: list[Resident], rng: np.random.Generator, entity_target: int | None = None
) -> Layout:
    """Areas, devices and entities of a home type, padded or trimmed to `entity_target` entities.

    Args:
        home_type: One of HOME_TYPES.
        residents: The household; each gets a `person.*` entity.
        rng: The seeded generator for the layout (device ids).
        entity_target: Exact number of entities wanted; None keeps the home type's natural size.

    Returns:
        The Layout.

    Raises:
        ValueError: For an unknown home type or a target below the entities behaviour needs.
    """
    areas = home_areas(home_type)
    kinds = {a: k for a, _, _, k in _HOMES[home_type]}
    names = {a.area_id: a.name for a in areas}
    devices: list[Device] = []
    pending: list[_Pending] = []
    loads_by_device: dict[int, float] = {}
    claimed: set[str] = set()
    used_ids: set[str] = set()

    def add_device(tpl: _D, area_id: str | None, n: int = 0) -> None:
        a = area_id or ""
        area_name = names.get(a, "")
        dev_name = tpl.name.replace("{A}", area_name).replace("{n}", str(n)).strip()
        index = len(devices)
        devices.append(
            Device(
                device_id=rng.bytes(16).hex(),
                name=dev_name,
                area_id=area_id,
                manufacturer=tpl.manufacturer,
                model=tpl.model,
            )
        )
        loads_by_device[index] = tpl.load_w
        for et in tpl.entities:
            object_id = et.object_id.replace("{a}", a).replace("{n}", str(n))
            entity_id = f"{et.domain}.{object_id}"
            if entity_id in used_ids:
                continue
            used_ids.add(entity_id)
            role = None
            if et.role is not None:
                role = et.role
                if role in ("wake_light", "wake_blinds"):
                    role = f"{role}:{a}"
                if role in claimed:
                    role = None
                else:
                    claimed.add(role)
            entity = Entity(
                entity_id=entity_id,
                domain=et.domain,
                friendly_name=et.name.replace("{A}", area_name).replace("{n}", str(n)).strip(),
                area_id=area_id,
                device_id=devices[index].device_id,
                device_class=et.device_class,
                unit_of_measurement=et.unit,
                state_class=_STATE_CLASS.get(et.device_class or "") if et.domain == "sensor" else None,
                entity_category=et.category,
            )
            pending.append(_Pending(entity, et, index, role, len(pending)))

    for area_id, kind in kinds.items():
        for tpl in _AREA_DEVICES[kind]:
            add_device(tpl, area_id)
    for tpl in _HOME_DEVICES:
        add_device(tpl, None)
    for resident in residents:
        add_device(
            _D(
                f"{resident.name}'s Phone",
                "Apple",
                "iPhone",
                (
                    _E(
                        "person",
                        resident.person_entity_id.split(".", 1)[1],
                        resident.name,
                        priority=0,
                    ),
                ),
            ),
            None,
        )
    for e in (
        Entity(entity_id="sun.sun", domain="sun", friendly_name="Sun"),
        Entity(entity_id="weather.home", domain="weather", friendly_name="Home"),
    ):
        pending.append(_Pending(e, _E(e.domain, "", e.friendly_name, priority=0), -1, None, len(pending)))

    if entity_target is not None:
        indoor = [a for a, k in kinds.items() if k not in ("garden", "porch", "balcony", "garage")]
        n = 0
        while len(pending) < entity_target:
            area = indoor[n % len(indoor)]
            add_device(_PADDING[(n // len(indoor)) % len(_PADDING)], area, n // len(indoor) + 2)
            n += 1
        essential = [p for p in pending if p.role is not None or p.template.priority == 0]
        if entity_target < len(essential):
            raise ValueError(
                f"entity_target {entity_target} is below the {len(essential)} entities a {home_type} needs"
            )
        if len(pending) > entity_target:
            optional = [p for p in pending if not (p.role is not None or p.template.priority == 0)]
            optional.sort(key=lambda p: (-p.template.priority, -p.order))
            drop = {p.order for p in optional[: len(pending) - entity_target]}
            pending = [p for p in pending if p.order not in drop]

    entities = [p.entity for p in pending]
    roles = {p.role: p.entity.entity_id for p in pending if p.role is not None}
    kept_devices = {p.device_index for p in pending}
    sensors: dict[str, SensorInfo] = {}
    loads: dict[str, float] = {}
    by_device: dict[int, list[_Pending]] = {}
    for p in pending:
        by_device.setdefault(p.device_index, []).append(p)
    for index, members in by_device.items():
        main = next(
            (p for p in members if p.entity.domain in ("switch", "media_player", "fan", "light")), None
        )
        power = next((p for p in members if p.template.sensor in ("power",)), None)
        if main is not None and index >= 0 and loads_by_device.get(index):
            loads[main.entity.entity_id] = loads_by_device[index]
        for p in members:
            kind = p.template.sensor
            if kind is None:
                continue
            link = None
            if kind == "power":
                link = main.entity.entity_id if main is not None else None
            elif kind == "energy":
                src = power or next((q for q in members if q.template.sensor == "fridge"), None)
                link = src.entity.entity_id if src is not None else None
            load = loads_by_device.get(index, 0.0)
            sensors[p.entity.entity_id] = SensorInfo(kind, p.entity.area_id, link, load)
    devices = [d for i, d in enumerate(devices) if i in kept_devices]
    used_areas = {e.area_id for e in entities}
    areas = [a for a in areas if a.area_id in used_areas]
    return Layout(
        areas, devices, entities, roles, sensors, {a.area_id: kinds[a.area_id] for a in areas}, loads
    )
