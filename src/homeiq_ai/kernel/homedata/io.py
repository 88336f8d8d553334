"""Event and registry files: JSON Lines in and out, Home Assistant's history JSON, the registry JSON."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import msgspec

from homeiq_ai.kernel.db import check_time_range
from homeiq_ai.kernel.homedata.model import MAX_STATE_LENGTH, Area, Device, Entity
from homeiq_ai.kernel.homedata.store import HomeStore, domain_of

__all__ = [
    "ENTITY_ID_PATTERN",
    "HistoryState",
    "ImportProgress",
    "IngestBatch",
    "IngestResult",
    "LineError",
    "Registry",
    "RegistryArea",
    "RegistryDevice",
    "RegistryEntity",
    "RegistryResult",
    "StateChange",
    "apply_registry",
    "describe_validation_error",
    "detect_format",
    "export_events",
    "history_events",
    "import_events",
    "read_history",
    "read_jsonl",
    "read_registry",
    "registry_records",
]

ENTITY_ID_PATTERN = r"^[a-z_][a-z0-9_]*\.[a-z0-9_]+$"
EntityId = Annotated[str, msgspec.Meta(pattern=ENTITY_ID_PATTERN, max_length=255)]
State = Annotated[str, msgspec.Meta(max_length=MAX_STATE_LENGTH)]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
ContextId = Annotated[str, msgspec.Meta(max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
ShortText = Annotated[str, msgspec.Meta(max_length=64)]

# Lines between two progress reports of a long import, and events written per transaction.
PROGRESS_EVERY = 100_000
IMPORT_CHUNK = 20_000
ImportFormat = Literal["auto", "jsonl", "ha-history"]


class StateChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One state change in Home Assistant's shape: a JSON Lines line, or one item of an ingest batch.

    `time` must carry a UTC offset; states are at most 255 characters (Home Assistant's own limit).
    """

    entity_id: EntityId
    old_state: State | None
    new_state: State | None
    time: AwareDatetime
    attributes: dict[str, Any] | None = None
    context_id: ContextId | None = None

    def __post_init__(self) -> None:
        # msgspec reports this with the item's path, e.g. `$.events[3]`.
        check_time_range(self.time)


class IngestBatch(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of state changes to store (`POST /api/v1/home/events`)."""

    events: list[StateChange]


class IngestResult(msgspec.Struct, kw_only=True):
    """What an ingest or import stored: new events, and events already stored (skipped)."""

    inserted: int
    duplicates: int


class RegistryArea(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An area of the registry file; `area_id` defaults to the name in snake_case."""

    name: Name
    area_id: Name | None = None
    aliases: list[str] = msgspec.field(default_factory=list)


class RegistryDevice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A device of the registry file; `area` is an area_id or an area name."""

    device_id: Name
    name: Name
    area: Name | None = None
    manufacturer: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    model: Annotated[str, msgspec.Meta(max_length=255)] | None = None


class RegistryEntity(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An entity of the registry file; `area` is an area_id or an area name (its own, not its device's)."""

    entity_id: EntityId
    friendly_name: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    area: Name | None = None
    device_class: ShortText | None = None
    unit_of_measurement: ShortText | None = None
    aliases: list[str] = msgspec.field(default_factory=list)
    device_id: Name | None = None
    supported_features: Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647)] = 0
    entity_category: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class Registry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Areas, devices and entities of a home (`--entities REGISTRY.json`, `POST /api/v1/home/entities`)."""

    areas: list[RegistryArea] = msgspec.field(default_factory=list)
    devices: list[RegistryDevice] = msgspec.field(default_factory=list)
    entities: list[RegistryEntity] = msgspec.field(default_factory=list)


class RegistryResult(msgspec.Struct, kw_only=True):
    """How many areas, devices and entities a registry stored (areas named only by entities included)."""

    areas: int
    devices: int
    entities: int


class HistoryContext(msgspec.Struct):
    """The context of a state in Home Assistant's history; only its id is kept."""

    id: ContextId | None = None


class HistoryState(msgspec.Struct, kw_only=True):
    """One state object of Home Assistant's `/api/history/period` answer.

    With `minimal_response` only the first object of each list has `entity_id` and `attributes`.
    """

    entity_id: EntityId | None = None
    state: State
    attributes: dict[str, Any] | None = None
    last_changed: AwareDatetime | None = None
    last_updated: AwareDatetime | None = None
    context: HistoryContext | None = None


class LineError(ValueError):
    """A line (or item) of an input file is not acceptable; the message starts with where it is."""

    def __init__(self, line: int | None, reason: str, *, where: str = "") -> None:
        self.line = line
        self.reason = reason
        self.where = f"line {line}" if line is not None else where
        super().__init__(f"{self.where}: {reason}" if self.where else reason)


@dataclass(slots=True)
class ImportProgress:
    """Where a running import is; `done` on the final report."""

    lines: int = 0
    events: int = 0
    inserted: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    phase: str = "validating"
    done: bool = False

    @property
    def events_per_second(self) -> float:
        """Events written per second so far."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The one-line progress report."""
        return (
            f"{self.phase}: {self.lines:,} lines, {self.inserted:,} inserted, "
            f"{self.duplicates:,} duplicates, {self.seconds:.1f} s, {self.events_per_second:,.0f} events/s"
        )


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def describe_validation_error(exc: msgspec.MsgspecError, root: str = "") -> str:
    """A msgspec error as `path: message`, e.g. `events[3].time: Expected datetime with a timezone`.

    Args:
        exc: the decode or validation error.
        root: a name for the document's root (`events` of a batch, empty for one line).
    """
    match = _AT.match(str(exc))
    message, path = (match.group("message"), match.group("path") or "") if match else (str(exc), "")
    path = (root + path).lstrip(".")
    return f"{path}: {message}" if path else message


# --- JSON Lines ---------------------------------------------------------------------------------------


_line_decoder = msgspec.json.Decoder(StateChange)


def read_jsonl(source: str | Path | IO[bytes]) -> Iterator[tuple[int, StateChange]]:
    """Stream the state changes of a JSON Lines file with their line numbers; blank lines are skipped.

    Raises:
        LineError: the first line that is not a valid state change, e.g. `line 17: time: ...`.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            yield from read_jsonl(fh)
        return
    decode = _line_decoder.decode
    for number, raw in enumerate(source, 1):
        if not raw.strip():
            continue
        try:
            yield number, decode(raw)
        except msgspec.MsgspecError as exc:
            raise LineError(number, describe_validation_error(exc)) from None


_line_encoder = msgspec.json.Encoder()


async def export_events(
    store: HomeStore,
    out: IO[bytes],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    entity_ids: Sequence[str] | None = None,
) -> int:
    """Write stored events as JSON Lines in time order (the shape `read_jsonl` reads); returns the count."""
    count = 0
    first = start or await store.oldest_event_time(entity_ids)
    last = await store.newest_event_time(entity_ids)
    if first is None or last is None:
        return 0
    stop = end or last + timedelta(microseconds=1)
    async for batch in store.events(first, stop, entity_ids or None):
        lines = [
            StateChange(
                entity_id=e.entity_id,
                old_state=e.old_state,
                new_state=e.new_state,
                time=e.time,
                attributes=e.attributes,
                context_id=e.context_id,
            )
            for e in batch
        ]
        out.write(_line_encoder.encode_lines(lines))
        count += len(lines)
    return count


# --- Home Assistant history JSON ----------------------------------------------------------------------


_history_decoder = msgspec.json.Decoder(list[list[HistoryState]])


def read_history(data: bytes) -> list[list[HistoryState]]:
    """Decode Home Assistant's history JSON (a list per entity of state objects).

    Raises:
        LineError: the document or one state object is not acceptable, e.g. `history[2][5].state: ...`.
    """
    try:
        return _history_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise LineError(None, describe_validation_error(exc, "history")) from None


def history_events(history: Sequence[Sequence[HistoryState]]) -> list[StateChange]:
    """Turn each entity's consecutive states into state changes, in time order.

    The first state of a list becomes an event with `old_state` None, each later state whose value differs
    from the one before it an event from that value; a repeated value (an attribute-only update) is no
    change and yields nothing. The time of an event is `last_changed` (else `last_updated`), as in the
    Home Assistant sync, so importing a history and syncing the same period store each change once. With
    `minimal_response` the entity_id of a list is that of its first object.

    Raises:
        LineError: a list without an entity_id, or a state without a time, named as `history[i][j]`.
    """
    events: list[StateChange] = []
    for i, states in enumerate(history):
        if not states:
            continue
        entity_id = states[0].entity_id
        if entity_id is None:
            raise LineError(None, "the first state of a list must have an entity_id", where=f"history[{i}][0]")
        previous: str | None = None
        for j, state in enumerate(states):
            if state.entity_id is not None and state.entity_id != entity_id:
                raise LineError(
                    None,
                    f"entity_id {state.entity_id!r} in the list of {entity_id!r}",
                    where=f"history[{i}][{j}]",
                )
            when = state.last_changed or state.last_updated
            if when is None:
                raise LineError(None, "a state needs last_changed or last_updated", where=f"history[{i}][{j}]")
            if j > 0 and state.state == previous:
                continue
            events.append(
                StateChange(
                    entity_id=entity_id,
                    old_state=previous,
                    new_state=state.state,
                    time=when,
                    attributes=state.attributes,
                    context_id=state.context.id if state.context is not None else None,
                )
            )
            previous = state.state
    events.sort(key=lambda e: e.time)
    return events


# --- registry -----------------------------------------------------------------------------------------


def read_registry(data: bytes) -> Registry:
    """Decode a registry JSON document.

    Raises:
        LineError: not a valid registry, e.g. `entities[2].entity_id: ...`.
    """
    try:
        return msgspec.json.decode(data, type=Registry)
    except msgspec.MsgspecError as exc:
        raise LineError(None, describe_validation_error(exc), where="registry") from None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_") or name


def registry_records(
    registry: Registry, known_areas: Sequence[Area] = ()
) -> tuple[list[Area], list[Device], list[Entity]]:
    """Areas, devices and entities to store for a registry.

    An `area` reference is an area_id (of the registry or already stored) or an area name, matched
    case-insensitively; a name matching no area creates one with the name in snake_case as its id.
    """
    by_id = {a.area_id: a.area_id for a in known_areas}
    by_name = {a.name.casefold(): a.area_id for a in known_areas}
    areas: list[Area] = []

    def add_area(area: Area) -> str:
        areas.append(area)
        by_id[area.area_id] = area.area_id
        by_name[area.name.casefold()] = area.area_id
        return area.area_id

    for item in registry.areas:
        add_area(Area(area_id=item.area_id or _slug(item.name), name=item.name, aliases=list(item.aliases)))

    def resolve(ref: str | None) -> str | None:
        if ref is None:
            return None
        found = by_id.get(ref) or by_name.get(ref.casefold()) or by_id.get(_slug(ref))
        return found or add_area(Area(area_id=_slug(ref), name=ref))

    devices = [
        Device(
            device_id=d.device_id,
            name=d.name,
            area_id=resolve(d.area),
            manufacturer=d.manufacturer,
            model=d.model,
        )
        for d in registry.devices
    ]
    entities = [
        Entity(
            entity_id=e.entity_id,
            domain=domain_of(e.entity_id),
            friendly_name=e.friendly_name,
            aliases=list(e.aliases),
            device_class=e.device_class,
            unit_of_measurement=e.unit_of_measurement,
            area_id=resolve(e.area),
            device_id=e.device_id,
            supported_features=e.supported_features,
            entity_category=e.entity_category,
        )
        for e in registry.entities
    ]
    return areas, devices, entities


async def apply_registry(store: HomeStore, registry: Registry) -> RegistryResult:
    """Store a registry's areas, devices and entities (insert or replace by id)."""
    areas, devices, entities = registry_records(registry, await store.areas())
    await store.upsert_areas(areas)
    await store.upsert_devices(devices)
    await store.upsert_entities(entities)
    return RegistryResult(areas=len(areas), devices=len(devices), entities=len(entities))


# --- import -------------------------------------------------------------------------------------------


def _read_bytes(path: str | Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def detect_format(path: Path) -> Literal["jsonl", "ha-history"]:
    """`ha-history` for a file whose first non-blank character is `[`, else `jsonl`."""
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    return "ha-history" if head.startswith(b"[") else "jsonl"


async def import_events(
    store: HomeStore,
    path: str | Path,
    *,
    fmt: ImportFormat = "auto",
    registry_path: str | Path | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
    chunk: int = IMPORT_CHUNK,
) -> ImportProgress:
    """Import a JSON Lines or Home Assistant history file (and a registry) into the local store.

    Everything is validated before anything is written: the first bad line aborts the import and
    nothing of it is stored. Events are then written in transactions of `chunk` events; events already
    stored are counted as duplicates.

    Args:
        store: the local store.
        path: the events file.
        fmt: `jsonl`, `ha-history`, or `auto` (from the first character of the file).
        registry_path: a registry JSON file applied before the events.
        progress: called every `progress_every` lines and once at the end (`done`).
        progress_every: lines between progress reports.
        chunk: events per transaction.

    Returns:
        The final counts.

    Raises:
        LineError: a bad line (`line N: ...`), history item or registry entry; nothing was written.
    """
    path = Path(path)
    started = time.perf_counter()
    report = ImportProgress()

    def tick(final: bool = False) -> None:
        report.seconds = time.perf_counter() - started
        report.done = final
        if progress is not None:
            progress(report)

    # A command-line batch job: blocking file reads stall no one, and keep the hot loop simple.
    registry = None
    if registry_path is not None:
        registry = read_registry(_read_bytes(registry_path))
    kind = detect_format(path) if fmt == "auto" else fmt

    history: list[StateChange] | None = None
    if kind == "ha-history":
        states = read_history(_read_bytes(path))
        history = history_events(states)
        report.lines = sum(len(entity_states) for entity_states in states)
    else:
        next_report = progress_every
        for number, _ in read_jsonl(path):
            if number >= next_report:
                next_report += progress_every
                report.lines = number
                tick()

    report.phase = "importing"
    if registry is not None:
        await apply_registry(store, registry)

    async def write(batch: list[StateChange]) -> None:
        result = await store.insert_events(batch)
        report.events += len(batch)
        report.inserted += result.inserted
        report.duplicates += result.duplicates

    if history is not None:
        for begin in range(0, len(history), chunk):
            await write(history[begin : begin + chunk])
            tick()
    else:
        batch: list[StateChange] = []
        next_report = progress_every
        for number, change in read_jsonl(path):
            batch.append(change)
            if len(batch) >= chunk:
                await write(batch)
                batch = []
            report.lines = number
            if number >= next_report:
                next_report += progress_every
                tick()
        if batch:
            await write(batch)
    report.phase = "imported"
    tick(final=True)
    return report
