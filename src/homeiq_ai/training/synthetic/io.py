"""Files of a synthetic home: events as JSON Lines (Home Assistant's shape), registry, spec, ground truth."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from homeiq_ai.training.synthetic.events import EventLog, to_us
from homeiq_ai.training.synthetic.spec import (
    Entity,
    Event,
    GeneratedHome,
    GroundTruth,
    HomeSpec,
)

__all__ = [
    "EVENTS_FILE",
    "REGISTRY_FILE",
    "SPEC_FILE",
    "TRUTH_FILE",
    "Registry",
    "RegistryArea",
    "RegistryDevice",
    "RegistryEntity",
    "entities_of",
    "read_events",
    "read_home",
    "read_registry",
    "read_spec",
    "read_truth",
    "write_events",
    "write_home",
    "write_registry",
    "write_spec",
    "write_truth",
]

EVENTS_FILE = "events.jsonl"
REGISTRY_FILE = "registry.json"
SPEC_FILE = "home.json"
TRUTH_FILE = "truth.json"

_CHUNK = 200_000


class RegistryArea(msgspec.Struct, kw_only=True):
    """An area as the registry file lists it."""

    area_id: str
    name: str


class RegistryDevice(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A device as the registry file lists it: `area` is its area_id."""

    device_id: str
    name: str
    area: str | None = None
    manufacturer: str | None = None
    model: str | None = None


class RegistryEntity(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An entity as the registry file lists it: `area` is its area_id."""

    entity_id: str
    friendly_name: str | None = None
    area: str | None = None
    device_id: str | None = None
    device_class: str | None = None
    unit_of_measurement: str | None = None
    entity_category: str | None = None


class Registry(msgspec.Struct, kw_only=True):
    """The registry file: areas, devices and entities, in the shape the home-data import reads."""

    areas: list[RegistryArea]
    devices: list[RegistryDevice]
    entities: list[RegistryEntity]


class _Row(msgspec.Struct, kw_only=True):
    entity_id: str
    old_state: str | None = None
    new_state: str
    time: str
    attributes: dict[str, Any] | None = None


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def write_events(path: str | Path, events: EventLog | Iterable[Event]) -> int:
    """Write events as JSON Lines: one state change a line, times ISO-8601 in UTC with "+00:00".

    Each line holds `entity_id`, `old_state` (null when unknown), `new_state`, `time` and, when
    there are any, `attributes`.

    Args:
        path: File to write.
        events: An EventLog (fast path) or any iterable of Event.

    Returns:
        Number of lines written.
    """
    if not isinstance(events, EventLog):
        events = _log_from_events(list(events))
    ids = [_json(e) for e in events.entity_ids]
    states = [_json(s) for s in events.states] + ["null"]
    attrs = [f',"attributes":{_json(a)}' for a in events.attributes] + [""]
    n = len(events)
    with open(path, "w", encoding="utf-8") as f:
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            times = np.datetime_as_string(events.time_us[lo:hi].astype("datetime64[us]"), unit="us").tolist()
            f.writelines(
                f'{{"entity_id":{ids[e]},"old_state":{states[o]},"new_state":{states[s]},"time":"{t}+00:00"{attrs[a]}}}\n'
                for e, o, s, t, a in zip(
                    events.entity[lo:hi].tolist(),
                    events.old_state[lo:hi].tolist(),
                    events.new_state[lo:hi].tolist(),
                    times,
                    events.attr[lo:hi].tolist(),
                    strict=True,
                )
            )
    return n


def _log_from_events(events: list[Event], entity_ids: list[str] | None = None) -> EventLog:
    """An EventLog from Event records, in the order given."""
    ids: dict[str, int] = {e: i for i, e in enumerate(entity_ids or [])}
    states: dict[str, int] = {}
    attributes: list[dict[str, Any]] = []
    n = len(events)
    t = np.empty(n, dtype=np.int64)
    ent = np.empty(n, dtype=np.int32)
    new = np.empty(n, dtype=np.int32)
    old = np.empty(n, dtype=np.int32)
    attr = np.full(n, -1, dtype=np.int32)
    for k, ev in enumerate(events):
        t[k] = to_us(ev.time)
        ent[k] = ids.setdefault(ev.entity_id, len(ids))
        new[k] = states.setdefault(ev.new_state, len(states))
        old[k] = -1 if ev.old_state is None else states.setdefault(ev.old_state, len(states))
        if ev.attributes is not None:
            attr[k] = len(attributes)
            attributes.append(ev.attributes)
    return EventLog(t, ent, new, old, attr, list(ids), list(states), attributes)


def _parse_times(times: list[str]) -> np.ndarray:
    """Microseconds since the epoch of ISO-8601 times; a vectorised path for UTC ones."""
    if all(x.endswith("+00:00") for x in times):
        return np.asarray([x[:-6] for x in times], dtype="datetime64[us]").astype(np.int64)
    if all(x.endswith("Z") for x in times):
        return np.asarray([x[:-1] for x in times], dtype="datetime64[us]").astype(np.int64)
    return np.asarray([to_us(datetime.fromisoformat(x)) for x in times], dtype=np.int64)


def read_events(path: str | Path, entity_ids: list[str] | None = None) -> EventLog:
    """Read a JSON Lines event file written by write_events (or exported from Home Assistant).

    Args:
        path: The file.
        entity_ids: Entity ids to number first (e.g. the registry's, so entities without events
            keep their place); others are added as met.

    Returns:
        An EventLog in file order.

    Raises:
        msgspec.ValidationError: When a line lacks `entity_id`, `new_state` or `time`.
    """
    rows = msgspec.json.Decoder(_Row).decode_lines(Path(path).read_bytes())
    ids: dict[str, int] = {e: i for i, e in enumerate(entity_ids or [])}
    states: dict[str, int] = {}
    attributes: list[dict[str, Any]] = []
    n = len(rows)
    ent = np.fromiter((ids.setdefault(r.entity_id, len(ids)) for r in rows), dtype=np.int32, count=n)
    new = np.fromiter((states.setdefault(r.new_state, len(states)) for r in rows), dtype=np.int32, count=n)
    old = np.fromiter(
        (-1 if r.old_state is None else states.setdefault(r.old_state, len(states)) for r in rows),
        dtype=np.int32,
        count=n,
    )
    attr = np.full(n, -1, dtype=np.int32)
    for k, r in enumerate(rows):
        if r.attributes is not None:
            attr[k] = len(attributes)
            attributes.append(r.attributes)
    t = _parse_times([r.time for r in rows]) if n else np.empty(0, dtype=np.int64)
    return EventLog(t, ent, new, old, attr, list(ids), list(states), attributes)


def write_registry(path: str | Path, spec: HomeSpec) -> None:
    """Write the registry file: {"areas": [...], "devices": [...], "entities": [...]}.

    The shape is the one the kernel's home-data import reads (`area` holds an area_id); the spec file
    keeps what it leaves out (domains, state classes, floors, initial states).
    """
    registry = Registry(
        areas=[RegistryArea(area_id=a.area_id, name=a.name) for a in spec.areas],
        devices=[
            RegistryDevice(
                device_id=d.device_id, name=d.name, area=d.area_id, manufacturer=d.manufacturer, model=d.model
            )
            for d in spec.devices
        ],
        entities=[
            RegistryEntity(
                entity_id=e.entity_id,
                friendly_name=e.friendly_name,
                area=e.area_id,
                device_id=e.device_id,
                device_class=e.device_class,
                unit_of_measurement=e.unit_of_measurement,
                entity_category=e.entity_category,
            )
            for e in spec.entities
        ],
    )
    Path(path).write_bytes(msgspec.json.format(msgspec.json.encode(registry), indent=2))


def read_registry(path: str | Path) -> Registry:
    """Read a registry file."""
    return msgspec.json.decode(Path(path).read_bytes(), type=Registry)


def write_truth(path: str | Path, truth: GroundTruth) -> None:
    """Write the ground truth as JSON (times ISO-8601 UTC)."""
    Path(path).write_bytes(msgspec.json.format(msgspec.json.encode(truth), indent=1))


def read_truth(path: str | Path) -> GroundTruth:
    """Read a ground-truth file."""
    return msgspec.json.decode(Path(path).read_bytes(), type=GroundTruth)


def write_spec(path: str | Path, spec: HomeSpec) -> None:
    """Write the home's spec (parameters, registry with initial states, residents) as JSON."""
    Path(path).write_bytes(msgspec.json.format(msgspec.json.encode(spec), indent=1))


def read_spec(path: str | Path) -> HomeSpec:
    """Read a spec file."""
    return msgspec.json.decode(Path(path).read_bytes(), type=HomeSpec)


def write_home(directory: str | Path, home: GeneratedHome) -> dict[str, Path]:
    """Write a generated home into a directory: events, registry, spec and ground truth side by side.

    Args:
        directory: Created when missing.
        home: The home.

    Returns:
        The paths written, by kind ("events", "registry", "spec", "truth").
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": d / EVENTS_FILE,
        "registry": d / REGISTRY_FILE,
        "spec": d / SPEC_FILE,
        "truth": d / TRUTH_FILE,
    }
    write_events(paths["events"], home.events)
    write_registry(paths["registry"], home.spec)
    write_spec(paths["spec"], home.spec)
    write_truth(paths["truth"], home.truth)
    return paths


def read_home(directory: str | Path) -> GeneratedHome:
    """Read a home written by write_home; it equals the one written."""
    d = Path(directory)
    spec = read_spec(d / SPEC_FILE)
    events = read_events(d / EVENTS_FILE, entity_ids=[e.entity_id for e in spec.entities])
    return GeneratedHome(spec=spec, events=events, truth=read_truth(d / TRUTH_FILE))


def entities_of(registry: Registry) -> list[Entity]:
    """Registry entities as spec Entities (initial states unknown, state classes not kept)."""
    return [
        Entity(
            entity_id=e.entity_id,
            domain=e.entity_id.split(".", 1)[0],
            friendly_name=e.friendly_name or e.entity_id,
            area_id=e.area,
            device_id=e.device_id,
            device_class=e.device_class,
            unit_of_measurement=e.unit_of_measurement,
            entity_category=e.entity_category,
        )
        for e in registry.entities
    ]
