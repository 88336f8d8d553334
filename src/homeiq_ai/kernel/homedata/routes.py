"""HTTP routes of the home, mounted in every process: home info, areas, devices, entities, events, ingest."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from homeiq_ai.kernel.errors import BadRequestError, HomeIQError
from homeiq_ai.kernel.homedata.io import (
    IngestBatch,
    IngestResult,
    Registry,
    RegistryResult,
    apply_registry,
    describe_validation_error,
)
from homeiq_ai.kernel.homedata.model import HomeInfo
from homeiq_ai.kernel.homedata.store import AreaList, DeviceList, EntityPage, EventPage, HomeStore, LocalHomeSource

if TYPE_CHECKING:
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.settings import Settings

__all__ = [
    "BatchTooLargeError",
    "HomeController",
    "HomeOverview",
    "HomeTypeGuess",
    "HomeTypeSource",
    "build_router",
    "home_router",
]

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="items to skip")]
EventLimit = Annotated[int, Parameter(ge=1, le=10_000, description="page size")]


class HomeTypeGuess(msgspec.Struct, kw_only=True):
    """The kind of home a trained classifier sees in the stored home, and how sure it is (0..1)."""

    home_type: str
    confidence: float
    model: str


class HomeOverview(HomeInfo, kw_only=True):
    """Home info, plus the predicted home type while a module that can tell it has an active model."""

    predicted_type: HomeTypeGuess | msgspec.UnsetType = msgspec.UNSET


# Answers the home's type, or None while it cannot tell; given by a loaded module via app.py.
HomeTypeSource = Callable[[], Awaitable[HomeTypeGuess | None]]


class BatchTooLargeError(HomeIQError):
    """An ingest batch holds more events than INGEST_MAX_BATCH."""

    status_code = 413
    code = "payload_too_large"


_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$")
_UTC_MIN = datetime.min.replace(tzinfo=UTC)
_UTC_MAX = datetime.max.replace(tzinfo=UTC)


def _aware(name: str, raw: str | None) -> datetime | None:
    """An RFC 3339 date-time with its offset, as the schema declares it; else 400 naming the parameter.

    A leap second (:60) reads as :59, fractions past microseconds are cut, and a time whose offset puts it
    before year 1 or after year 9999 in UTC is clamped to those ends (it still selects nothing or everything).
    """
    if raw is None:
        return None

    def bad(message: str) -> BadRequestError:
        return BadRequestError(
            f"invalid request: {name}: {message}",
            details=[{"field": name, "source": "query", "message": message}],
        )

    match = _RFC3339.match(raw.strip())
    if match is None:
        raise bad("not an RFC 3339 date-time with a UTC offset (e.g. 2026-01-01T00:00:00Z)")
    day, hour, minute, second, fraction, offset = match.groups()
    if offset is None:
        raise bad("give a UTC offset (e.g. 2026-01-01T00:00:00Z)")
    second = "59" if second == "60" else second
    text = f"{day}T{hour}:{minute}:{second}.{(fraction or '0')[:6].ljust(6, '0')}"
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        local = datetime.fromisoformat(text)
        sign = 1 if offset[0] == "+" else -1
        delta = sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        if delta >= timedelta(hours=24) or delta <= timedelta(hours=-24):
            raise ValueError("offset out of range")
    except ValueError as exc:
        raise bad(f"not a valid date-time ({exc})") from None
    try:
        return (local - delta).replace(tzinfo=UTC)
    except OverflowError:
        return _UTC_MIN if delta > timedelta(0) else _UTC_MAX


class HomeController(Controller):
    """The home as the local store holds it: filled by ingest, import, the demo and Home Assistant sync."""

    path = "/home"
    tags = ["home"]

    @get("/", summary="The home's time zone and location")
    async def home(self, source: LocalHomeSource, home_types: Sequence[HomeTypeSource]) -> HomeOverview:
        """Name, time zone, latitude, longitude and elevation (Home Assistant's, else the settings').

        `predicted_type` (home type, confidence, model) appears while a trained home type model is active.
        """
        info = await source.home_info()
        overview = HomeOverview(**msgspec.structs.asdict(info))
        for guess_type in home_types:
            guess = await guess_type()
            if guess is not None:
                overview.predicted_type = guess
                break
        return overview

    @get("/areas", summary="List areas")
    async def list_areas(self, store: HomeStore) -> AreaList:
        """Every area, by name."""
        items = await store.areas()
        return AreaList(items=items, total=len(items))

    @get("/devices", summary="List devices")
    async def list_devices(self, store: HomeStore) -> DeviceList:
        """Every device, by name."""
        items = await store.devices()
        return DeviceList(items=items, total=len(items))

    @get("/entities", summary="List entities")
    async def list_entities(
        self,
        store: HomeStore,
        domain: str | None = None,
        area_id: str | None = None,
        search: Annotated[str | None, Parameter(description="text in the entity_id, friendly name or an alias")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> EntityPage:
        """Entities by entity_id, each with its area (its own, else its device's); filtered and paged."""
        return await store.list_entities(domain=domain, area_id=area_id, search=search, limit=limit, offset=offset)

    @post("/entities", status_code=HTTP_200_OK, summary="Register areas, devices and entities")
    async def register(self, store: HomeStore, data: Registry) -> RegistryResult:
        """Insert or replace areas, devices and entities (the shape of `homeiq-ai import --entities`).

        An `area` is an area_id or an area name; an unknown name creates the area.
        """
        return await apply_registry(store, data)

    @get("/events", summary="List events")
    async def list_events(
        self,
        store: HomeStore,
        entity_id: Annotated[
            list[str] | None, Parameter(description="only these entities (repeat the parameter)")
        ] = None,
        start: Annotated[
            str | None, Parameter(description="from this time on (with offset)", schema_extra={"format": "date-time"})
        ] = None,
        end: Annotated[
            str | None, Parameter(description="before this time (with offset)", schema_extra={"format": "date-time"})
        ] = None,
        cursor: Annotated[
            str | None,
            Parameter(description="`next_cursor` of the previous page", pattern=r"^-?\d{1,16}\.\d{1,18}$"),
        ] = None,
        limit: EventLimit = 1000,
    ) -> EventPage:
        """State changes in time order; follow `next_cursor` until it is null."""
        start, end = _aware("start", start), _aware("end", end)
        if start is not None and end is not None and end <= start:
            raise BadRequestError(
                "invalid request: end: must be after start",
                details=[{"field": "end", "source": "query", "message": "must be after start"}],
            )
        try:
            return await store.event_page(start=start, end=end, entity_ids=entity_id, cursor=cursor, limit=limit)
        except ValueError as exc:
            raise BadRequestError(
                f"invalid request: cursor: {exc}",
                details=[{"field": "cursor", "source": "query", "message": str(exc)}],
            ) from None

    @post("/events", status_code=HTTP_201_CREATED, summary="Ingest a batch of state changes")
    async def ingest(
        self, request: Request[Any, Any, Any], store: HomeStore, max_batch: int, data: IngestBatch
    ) -> IngestResult:
        """Store state changes in one transaction; events already stored are counted as duplicates.

        Each event has exactly entity_id, old_state, new_state, time (ISO-8601 with a UTC offset), and
        optionally attributes and context_id. Any rejected event (400, naming `events[i].field`) or a batch
        over INGEST_MAX_BATCH (413) stores nothing.
        """
        # Litestar converts leniently (a number would pass as a Unix time); events are held to the same
        # strict rules as an imported file by decoding the raw body once more.
        try:
            data = _strict_batch(await request.body())
        except msgspec.ValidationError as exc:
            field, _, message = describe_validation_error(exc).partition(": ")
            raise BadRequestError(
                f"invalid request: {field}: {message}",
                details=[{"field": field, "source": "body", "message": message}],
            ) from None
        count = len(data.events)
        if count > max_batch:
            raise BatchTooLargeError(
                f"the batch holds {count} events; at most {max_batch} are accepted per request",
                details={"count": count, "max": max_batch},
            )
        result = await store.insert_events(data.events)
        return IngestResult(inserted=result.inserted, duplicates=result.duplicates)


_strict_batch = msgspec.json.Decoder(IngestBatch).decode


def build_router(
    store: HomeStore, source: LocalHomeSource, max_batch: int, home_types: Sequence[HomeTypeSource] = ()
) -> Router:
    """The home's router at /api/v1 with its store and source bound for injection.

    `home_types` may still be filled after this call (app.py adds the loaded modules' sources).
    """
    return Router(
        path="/api/v1",
        route_handlers=[HomeController],
        dependencies={
            "store": Provide(lambda: store, sync_to_thread=False),
            "source": Provide(lambda: source, sync_to_thread=False),
            "max_batch": Provide(lambda: max_batch, sync_to_thread=False),
            "home_types": Provide(lambda: home_types, sync_to_thread=False),
        },
    )


def home_router(settings: Settings, db: Database, home_types: Sequence[HomeTypeSource] = ()) -> Router:
    """The home's router on the shared database, as every process mounts it."""
    store = HomeStore(db)
    return build_router(store, LocalHomeSource.from_settings(store, settings), settings.ingest_max_batch, home_types)
