"""The local home store: areas, devices, entities and events in the shared database, and its source."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import msgspec
import numpy as np
from sqlalchemy import String, and_, func, or_, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from homeiq_ai.kernel.db import Database, check_time_range, utcnow
from homeiq_ai.kernel.homedata.model import MAX_STATE_LENGTH, Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.models import (
    HomeArea,
    HomeDevice,
    HomeEntity,
    HomeEvent,
    HomeInfoRecord,
    HomeSyncState,
)

if TYPE_CHECKING:
    from homeiq_ai.settings import Settings

__all__ = [
    "AreaList",
    "DeviceList",
    "EntityPage",
    "EventColumns",
    "EventLike",
    "EventPage",
    "HomeStore",
    "InsertResult",
    "LocalHomeSource",
    "SyncState",
    "decode_cursor",
    "domain_of",
    "encode_cursor",
]

# Rows per executemany call; SQLite writes each call in one go, PostgreSQL splits it into multi-row
# INSERTs of SQLAlchemy's insertmanyvalues size.
EXECUTEMANY_ROWS = 20_000
_SQLITE_INSERT_EVENT = (
    "INSERT INTO home_event (entity_id, old_state, new_state, attributes, time, context_id) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entity_id, time) DO NOTHING"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(-?\d+)\.(\d+)$")
_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode
# Time slices of the chosen-entity scan: the first one, and the shortest.
FIRST_SLICE = timedelta(days=1)
MIN_SLICE = timedelta(milliseconds=1)


class EventLike(Protocol):
    """Anything shaped like a state change: `Event`, or an ingest/import line."""

    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime
    attributes: dict[str, Any] | None
    context_id: str | None


class InsertResult(NamedTuple):
    """How many events a write stored, and how many it skipped as already stored."""

    inserted: int
    duplicates: int


class EventColumns(NamedTuple):
    """A window's state changes as parallel columns, in time order (the fast read for analysis)."""

    entity_id: list[str]
    old_state: list[str | None]
    new_state: list[str | None]
    time: np.ndarray  # float64 seconds since the Unix epoch, UTC


class SyncState(msgspec.Struct, kw_only=True):
    """How far one source has been synced into the local store."""

    source: str
    last_synced: datetime | None
    details: dict[str, Any] | None
    updated_at: datetime


class AreaList(msgspec.Struct, kw_only=True):
    """Every area of the home."""

    items: list[Area]
    total: int


class DeviceList(msgspec.Struct, kw_only=True):
    """Every device of the home."""

    items: list[Device]
    total: int


class EntityPage(msgspec.Struct, kw_only=True):
    """One page of entities, ordered by entity_id."""

    items: list[Entity]
    total: int
    limit: int
    offset: int


class EventPage(msgspec.Struct, kw_only=True):
    """One page of events in time order; pass `next_cursor` as `cursor` for the next (None: no more)."""

    items: list[Event]
    next_cursor: str | None


def encode_cursor(time: datetime, event_id: int) -> str:
    """An opaque position after the event (time, id) for keyset paging."""
    micros = (time - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{event_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Parse a cursor from `encode_cursor`.

    Raises:
        ValueError: not a cursor this store issued.
    """
    match = _CURSOR.match(cursor)
    if not match:
        raise ValueError(f"not a valid cursor: {cursor!r}")
    micros, event_id = int(match.group(1)), int(match.group(2))
    try:
        return _EPOCH + timedelta(microseconds=micros), event_id
    except OverflowError:
        raise ValueError(f"not a valid cursor: {cursor!r}") from None


def domain_of(entity_id: str) -> str:
    """The domain of an entity id (`light` of `light.kitchen`)."""
    return entity_id.split(".", 1)[0]


def _text(attributes: dict[str, Any] | None, key: str, limit: int) -> str | None:
    value = attributes.get(key) if attributes else None
    return str(value)[:limit] if value is not None else None


def _check_event(index: int, event: EventLike) -> None:
    if event.time.tzinfo is None or event.time.utcoffset() is None:
        raise ValueError(f"events[{index}].time: naive datetimes are not stored")
    check_time_range(event.time, f"events[{index}].time")
    for name in ("old_state", "new_state"):
        value = getattr(event, name)
        if value is not None and len(value) > MAX_STATE_LENGTH:
            raise ValueError(f"events[{index}].{name}: longer than {MAX_STATE_LENGTH} characters")


def _sqlite_time(value: datetime) -> str:
    # The text form SQLAlchemy's SQLite DATETIME stores, so that raw rows and bound parameters compare.
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _entity_dto(row: HomeEntity, device_area: str | None) -> Entity:
    return Entity(
        entity_id=row.entity_id,
        domain=row.domain,
        friendly_name=row.friendly_name,
        aliases=list(row.aliases or []),
        device_class=row.device_class,
        unit_of_measurement=row.unit_of_measurement,
        area_id=row.area_id or device_area,
        device_id=row.device_id,
        supported_features=row.supported_features or 0,
        entity_category=row.entity_category,
    )


def _matches(entity: Entity, needle: str) -> bool:
    if needle in entity.entity_id.casefold():
        return True
    if entity.friendly_name and needle in entity.friendly_name.casefold():
        return True
    return any(needle in alias.casefold() for alias in entity.aliases)


class HomeStore:
    """Reads and writes the `home_*` tables; each method runs in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- registry ---------------------------------------------------------------------------------

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert)(table)

    async def _upsert(self, table: Any, key: str, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        now = utcnow()
        for row in rows:
            row["updated_at"] = now
        # One row per key: the last one given wins, as in a sequence of updates.
        rows = list({row[key]: row for row in rows}.values())
        stmt = self._insert(table)
        columns = [c for c in rows[0] if c != key]
        stmt = stmt.on_conflict_do_update(index_elements=[key], set_={c: getattr(stmt.excluded, c) for c in columns})
        async with self.db.session() as session:
            for start in range(0, len(rows), 1000):
                await session.execute(stmt, rows[start : start + 1000])
        return len(rows)

    async def upsert_areas(self, areas: Iterable[Area]) -> int:
        """Insert or replace areas by area_id; returns how many were given."""
        rows = [{"area_id": a.area_id, "name": a.name, "aliases": list(a.aliases)} for a in areas]
        return await self._upsert(HomeArea.__table__, "area_id", rows)

    async def upsert_devices(self, devices: Iterable[Device]) -> int:
        """Insert or replace devices by device_id; returns how many were given."""
        rows = [
            {
                "device_id": d.device_id,
                "name": d.name,
                "area_id": d.area_id,
                "manufacturer": d.manufacturer,
                "model": d.model,
            }
            for d in devices
        ]
        return await self._upsert(HomeDevice.__table__, "device_id", rows)

    async def upsert_entities(self, entities: Iterable[Entity]) -> int:
        """Insert or replace entities by entity_id; returns how many were given.

        `area_id` is stored as the entity's own area: leave it None for entities that follow their device.
        """
        rows = [
            {
                "entity_id": e.entity_id,
                "domain": e.domain or domain_of(e.entity_id),
                "friendly_name": e.friendly_name,
                "aliases": list(e.aliases),
                "device_class": e.device_class,
                "unit_of_measurement": e.unit_of_measurement,
                "area_id": e.area_id,
                "device_id": e.device_id,
                "supported_features": e.supported_features,
                "entity_category": e.entity_category,
            }
            for e in entities
        ]
        return await self._upsert(HomeEntity.__table__, "entity_id", rows)

    async def areas(self) -> list[Area]:
        """Every area, by name."""
        async with self.db.session() as session:
            stmt = select(HomeArea).order_by(HomeArea.name, HomeArea.area_id)
            rows = (await session.execute(stmt)).scalars()
            return [Area(area_id=r.area_id, name=r.name, aliases=list(r.aliases or [])) for r in rows]

    async def devices(self) -> list[Device]:
        """Every device, by name."""
        async with self.db.session() as session:
            stmt = select(HomeDevice).order_by(HomeDevice.name, HomeDevice.device_id)
            return [
                Device(
                    device_id=r.device_id,
                    name=r.name,
                    area_id=r.area_id,
                    manufacturer=r.manufacturer,
                    model=r.model,
                )
                for r in (await session.execute(stmt)).scalars()
            ]

    async def entities(self, *, domain: str | None = None, area_id: str | None = None) -> list[Entity]:
        """Entities by entity_id, each with its area resolved (its own, else its device's).

        Args:
            domain: only entities of this domain.
            area_id: only entities whose resolved area is this one.
        """
        effective_area = func.coalesce(HomeEntity.area_id, HomeDevice.area_id)
        stmt = (
            select(HomeEntity, HomeDevice.area_id)
            .outerjoin(HomeDevice, HomeDevice.device_id == HomeEntity.device_id)
            .order_by(HomeEntity.entity_id)
        )
        if domain:
            stmt = stmt.where(HomeEntity.domain == domain)
        if area_id:
            stmt = stmt.where(effective_area == area_id)
        async with self.db.session() as session:
            return [_entity_dto(row, device_area) for row, device_area in (await session.execute(stmt)).all()]

    async def list_entities(
        self,
        *,
        domain: str | None = None,
        area_id: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> EntityPage:
        """One page of entities matching the filters.

        Args:
            domain: only this domain.
            area_id: only this resolved area.
            search: case-insensitive text in the entity_id, friendly name or an alias.
            limit: page size.
            offset: entities to skip.
        """
        # A home has thousands of entities at most; matching in Python handles any alphabet's case.
        items = await self.entities(domain=domain, area_id=area_id)
        needle = (search or "").strip().casefold()
        if needle:
            items = [e for e in items if _matches(e, needle)]
        return EntityPage(items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)

    # --- events -----------------------------------------------------------------------------------

    async def insert_events(self, events: Sequence[EventLike], *, register_entities: bool = True) -> InsertResult:
        """Store state changes in one transaction, skipping those already stored.

        An event is a duplicate when an event of the same entity at the same time is stored (or comes
        earlier in `events`). Entities not yet known are registered with their domain and the friendly
        name found in their attributes.

        Args:
            events: timezone-aware state changes; states of at most 255 characters.
            register_entities: also add unknown entities to the registry.

        Returns:
            (inserted, duplicates).

        Raises:
            ValueError: an event has a naive time or an over-long state; nothing is written.
        """
        if not events:
            return InsertResult(0, 0)
        for index, event in enumerate(events):
            _check_event(index, event)
        async with self.db.session() as session:
            conn = await session.connection()
            if register_entities:
                await self._register_entities(conn, events)
            if self.db.dialect == "sqlite":
                inserted = await self._insert_sqlite(conn, events)
            else:
                inserted = await self._insert_generic(conn, events)
        return InsertResult(inserted, len(events) - inserted)

    async def _register_entities(self, conn: AsyncConnection, events: Sequence[EventLike]) -> None:
        found: dict[str, dict[str, Any] | None] = {}
        for event in events:
            if found.get(event.entity_id) is None:
                found[event.entity_id] = event.attributes
        now = utcnow()
        rows = [
            {
                "entity_id": entity_id,
                "domain": domain_of(entity_id),
                "friendly_name": _text(attrs, "friendly_name", 255),
                "device_class": _text(attrs, "device_class", 64),
                "unit_of_measurement": _text(attrs, "unit_of_measurement", 64),
                "aliases": [],
                "supported_features": 0,
                "updated_at": now,
            }
            for entity_id, attrs in found.items()
        ]
        stmt = self._insert(HomeEntity.__table__).on_conflict_do_nothing(index_elements=["entity_id"])
        await conn.execute(stmt, rows)

    @staticmethod
    async def _insert_sqlite(conn: AsyncConnection, events: Sequence[EventLike]) -> int:
        # Plain tuples through the driver's executemany: no per-row SQLAlchemy type processing.
        encode = _json_encode
        inserted = 0
        for start in range(0, len(events), EXECUTEMANY_ROWS):
            rows = [
                (
                    e.entity_id,
                    e.old_state,
                    e.new_state,
                    None if e.attributes is None else encode(e.attributes).decode(),
                    _sqlite_time(e.time),
                    e.context_id,
                )
                for e in events[start : start + EXECUTEMANY_ROWS]
            ]
            result = await conn.exec_driver_sql(_SQLITE_INSERT_EVENT, rows)
            inserted += max(result.rowcount, 0)
        return inserted

    async def _insert_generic(self, conn: AsyncConnection, events: Sequence[EventLike]) -> int:
        table = HomeEvent.__table__
        stmt = self._insert(table).on_conflict_do_nothing(index_elements=["entity_id", "time"]).returning(table.c.id)
        inserted = 0
        for start in range(0, len(events), EXECUTEMANY_ROWS):
            rows = [
                {
                    "entity_id": e.entity_id,
                    "old_state": e.old_state,
                    "new_state": e.new_state,
                    "attributes": e.attributes,
                    "time": e.time,
                    "context_id": e.context_id,
                }
                for e in events[start : start + EXECUTEMANY_ROWS]
            ]
            inserted += len((await conn.execute(stmt, rows)).all())
        return inserted

    def _event_query(
        self,
        lo: datetime | None,
        hi: datetime | None,
        entity_ids: Sequence[str] | None,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> Any:
        t = HomeEvent.__table__.c
        if self.db.dialect == "sqlite":
            # Raw text: parsed in `_to_events` several times faster than by per-row type processing.
            attributes, time = type_coerce(t.attributes, String), type_coerce(t.time, String)
        else:
            attributes, time = t.attributes, t.time
        stmt = select(t.id, t.entity_id, t.old_state, t.new_state, attributes, time, t.context_id)
        conditions = []
        if after is not None:
            # One lower bound, at the cursor: given two, SQLite may start the index range at the window
            # start and read past every earlier page again.
            lo = after[0] if lo is None else max(lo, after[0])
        if lo is not None:
            conditions.append(t.time >= lo)
        if hi is not None:
            conditions.append(t.time < hi)
        if entity_ids is not None:
            conditions.append(t.entity_id.in_(list(entity_ids)))
        if after is not None:
            after_time, after_id = after
            conditions.append(or_(t.time > after_time, and_(t.time == after_time, t.id > after_id)))
        return stmt.where(*conditions).order_by(t.time, t.id).limit(limit)

    def _to_events(self, rows: Sequence[Any]) -> list[tuple[int, Event]]:
        if self.db.dialect != "sqlite":
            return [
                (event_id, Event(entity_id=e, old_state=o, new_state=n, attributes=a, time=t, context_id=c))
                for event_id, e, o, n, a, t, c in rows
            ]
        decode, parse = _json_decode, datetime.fromisoformat
        return [
            (
                event_id,
                Event(
                    entity_id=e,
                    old_state=o,
                    new_state=n,
                    attributes=None if a is None else decode(a),
                    time=parse(t + "+00:00"),
                    context_id=c,
                ),
            )
            for event_id, e, o, n, a, t, c in rows
        ]

    async def _fetch(
        self,
        lo: datetime | None,
        hi: datetime | None,
        entity_ids: Sequence[str] | None,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> list[tuple[int, Event]]:
        async with self.db.session() as session:
            result = await session.execute(self._event_query(lo, hi, entity_ids, after, limit))
            return self._to_events(result.all())

    async def _scan(
        self,
        start: datetime | None,
        end: datetime | None,
        entity_ids: Sequence[str] | None,
        after: tuple[datetime, int] | None,
        batch_size: int,
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        """Batches of (id, event) in (time, id) order, each its own short query (keyset on time, id)."""
        if entity_ids is None:
            # The time index yields rows in (time, id) order: each batch is a plain range read.
            while True:
                rows = await self._fetch(start, end, None, after, batch_size)
                if rows:
                    yield rows
                if len(rows) < batch_size:
                    return
                after = (rows[-1][1].time, rows[-1][0])
        if not entity_ids:
            return
        # For chosen entities the databases read the (entity_id, time) index and sort, so an unbounded
        # keyset query would sort the whole rest of the window for every batch. Time slices sized to
        # hold about one batch keep each sort small.
        if start is None:
            start = await self.oldest_event_time(entity_ids)
        if end is None:
            newest = await self.newest_event_time(entity_ids)
            end = newest + MIN_SLICE if newest is not None else None
        if start is None or end is None:
            return
        lo = max(start, after[0]) if after is not None else start
        span = min(FIRST_SLICE, end - lo)
        buffer: list[tuple[int, Event]] = []
        while lo < end:
            query_from = after[0] if after is not None else lo
            hi = min(end, query_from + span)
            rows = await self._fetch(lo, hi, entity_ids, after, batch_size)
            if len(rows) == batch_size:
                after = (rows[-1][1].time, rows[-1][0])
                covered = after[0] - query_from
            else:
                covered = hi - query_from
                lo, after = hi, None
            buffer.extend(rows)
            while len(buffer) >= batch_size:
                yield buffer[:batch_size]
                buffer = buffer[batch_size:]
            grown = span * 16
            span = covered * (batch_size / len(rows)) if rows else grown
            span = max(MIN_SLICE, min(span, grown, max(end - lo, MIN_SLICE)))
        if buffer:
            yield buffer

    async def events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[Event]]:
        """State changes with start <= time < end, in time order, in batches (see HomeDataSource.events).

        Each batch comes from its own short query, so no transaction stays open while the caller works.
        """
        async for rows in self._scan(start, end, entity_ids, None, batch_size):
            yield [event for _, event in rows]

    async def event_page(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        entity_ids: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 1000,
    ) -> EventPage:
        """One page of events in time order, from `cursor` (a previous page's `next_cursor`) on.

        Raises:
            ValueError: `cursor` is not one this store issued.
        """
        after = decode_cursor(cursor) if cursor else None
        rows: list[tuple[int, Event]] = []
        async for batch in self._scan(start, end, entity_ids or None, after, limit + 1):
            rows.extend(batch)
            if len(rows) > limit:
                break
        next_cursor = None
        if len(rows) > limit:
            last_id, last = rows[limit - 1]
            next_cursor = encode_cursor(last.time, last_id)
        return EventPage(items=[event for _, event in rows[:limit]], next_cursor=next_cursor)

    async def count_events(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        entity_ids: Sequence[str] | None = None,
    ) -> int:
        """How many events match."""
        t = HomeEvent.__table__.c
        stmt = select(func.count()).select_from(HomeEvent.__table__)
        if start is not None:
            stmt = stmt.where(t.time >= start)
        if end is not None:
            stmt = stmt.where(t.time < end)
        if entity_ids is not None:
            stmt = stmt.where(t.entity_id.in_(list(entity_ids)))
        async with self.db.session() as session:
            return int((await session.execute(stmt)).scalar_one())

    async def entity_event_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """How many state changes each entity has with start <= time < end (the database counts them)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if self.db.dialect == "sqlite":
            # "+time" keeps SQLite off the time index: it then counts along the (entity_id, time) index, which
            # is already grouped by entity (4x less work than a time-range search and a temporary B-tree).
            rows = await self._sqlite_rows(
                "SELECT entity_id, count(*) FROM home_event WHERE +time >= ? AND +time < ? GROUP BY entity_id",
                (_sqlite_time(start), _sqlite_time(end)),
            )
            return {str(e): int(n) for e, n in rows}
        t = HomeEvent.__table__.c
        stmt = select(t.entity_id, func.count()).where(t.time >= start, t.time < end).group_by(t.entity_id)
        async with self.db.session() as session:
            return {str(e): int(n) for e, n in (await session.execute(stmt)).all()}

    async def _sqlite_rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of one SQLite statement through the driver directly (no SQLAlchemy row objects)."""
        async with self.db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            cursor = await raw.driver_connection.execute(sql, params)
            rows = await cursor.fetchall()
            await cursor.close()
        return [tuple(r) for r in rows]

    async def entity_state_counts(
        self, start: datetime, end: datetime, entity_ids: Sequence[str]
    ) -> dict[str, dict[str | None, int]]:
        """Per entity (of these), how many of its changes in [start, end) went to each new state."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        out: dict[str, dict[str | None, int]] = {}
        if not entity_ids:
            return out
        t = HomeEvent.__table__.c
        ids = list(entity_ids)
        if self.db.dialect == "sqlite":
            for i in range(0, len(ids), 500):  # bounded IN lists
                chunk = ids[i : i + 500]
                # As in entity_event_counts: each entity's rows along the (entity_id, time) index.
                sql = (
                    "SELECT entity_id, new_state, count(*) FROM home_event WHERE +time >= ? AND +time < ? "
                    "AND entity_id IN ({}) GROUP BY entity_id, new_state".format(", ".join("?" for _ in chunk))
                )
                params = (_sqlite_time(start), _sqlite_time(end), *chunk)
                for entity_id, state, n in await self._sqlite_rows(sql, params):
                    out.setdefault(str(entity_id), {})[state] = int(n)
            return out
        async with self.db.session() as session:
            for i in range(0, len(ids), 500):  # bounded IN lists
                stmt = (
                    select(t.entity_id, t.new_state, func.count())
                    .where(t.time >= start, t.time < end, t.entity_id.in_(ids[i : i + 500]))
                    .group_by(t.entity_id, t.new_state)
                )
                for entity_id, state, n in (await session.execute(stmt)).all():
                    out.setdefault(str(entity_id), {})[state] = int(n)
        return out

    async def event_columns(
        self, start: datetime, end: datetime, entity_ids: Sequence[str] | None = None
    ) -> EventColumns:
        """Every state change with start <= time < end (of these entities, when given) as columns, in time order.

        This is the bulk read of an analysis (hundreds of thousands of rows): on SQLite it goes through
        the driver directly and parses the stored UTC text with numpy, which is about twice as fast as
        SQLAlchemy rows. With `entity_ids` only those entities' rows are read (the (entity_id, time) index).
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if entity_ids is not None and not entity_ids:
            return EventColumns([], [], [], np.zeros(0))
        only = ""
        ids = list(entity_ids) if entity_ids is not None else []
        if entity_ids is not None:
            only = " AND entity_id IN ({})".format(", ".join("?" for _ in ids))
        sql = (
            "SELECT entity_id, old_state, new_state, time FROM home_event "
            "WHERE time >= {lo} AND time < {hi}" + only + " ORDER BY time, id"
        )
        async with self.db.engine.connect() as conn:
            if self.db.dialect == "sqlite" and len(ids) < 900:  # SQLite's bound-parameter limit
                raw = await conn.get_raw_connection()
                cursor = await raw.driver_connection.execute(
                    sql.format(lo="?", hi="?"), (_sqlite_time(start), _sqlite_time(end), *ids)
                )
                rows = await cursor.fetchall()
                await cursor.close()
                if not rows:
                    return EventColumns([], [], [], np.zeros(0))
                entity_ids, old, new, times = (list(c) for c in zip(*rows, strict=True))
                stamps = np.array(times, dtype="datetime64[us]").astype(np.int64) / 1e6
                return EventColumns(entity_ids, old, new, stamps)
            stmt = (
                select(HomeEvent.entity_id, HomeEvent.old_state, HomeEvent.new_state, HomeEvent.time)
                .where(HomeEvent.time >= start, HomeEvent.time < end)
                .order_by(HomeEvent.time, HomeEvent.id)
            )
            if entity_ids is not None:
                stmt = stmt.where(HomeEvent.entity_id.in_(ids))
            result = await conn.execute(stmt)
            rows = result.all()
        if not rows:
            return EventColumns([], [], [], np.zeros(0))
        entity_ids, old, new, times = (list(c) for c in zip(*rows, strict=True))
        return EventColumns(entity_ids, old, new, np.array([t.timestamp() for t in times], dtype=np.float64))

    async def newest_event_time(self, entity_ids: Sequence[str] | None = None) -> datetime | None:
        """Time of the newest stored event (of these entities), or None when there is none."""
        t = HomeEvent.__table__.c
        stmt = select(func.max(t.time))
        if entity_ids is not None:
            stmt = stmt.where(t.entity_id.in_(list(entity_ids)))
        async with self.db.session() as session:
            value = (await session.execute(stmt)).scalar_one_or_none()
        return _aware(value)

    async def oldest_event_time(self, entity_ids: Sequence[str] | None = None) -> datetime | None:
        """Time of the oldest stored event (of these entities), or None when there is none."""
        t = HomeEvent.__table__.c
        stmt = select(func.min(t.time))
        if entity_ids is not None:
            stmt = stmt.where(t.entity_id.in_(list(entity_ids)))
        async with self.db.session() as session:
            value = (await session.execute(stmt)).scalar_one_or_none()
        return _aware(value)

    # --- home info ----------------------------------------------------------------------------------

    async def save_home_info(self, info: HomeInfo) -> None:
        """Remember the home info a source reported (e.g. Home Assistant's /api/config on each sync)."""
        await self._upsert(
            HomeInfoRecord.__table__,
            "source",
            [
                {
                    "source": info.source,
                    "name": info.name,
                    "time_zone": info.time_zone,
                    "latitude": info.latitude,
                    "longitude": info.longitude,
                    "elevation": info.elevation,
                }
            ],
        )

    async def stored_home_info(self) -> HomeInfo | None:
        """The home info a source reported most recently, or None when none was saved."""
        async with self.db.session() as session:
            stmt = select(HomeInfoRecord).order_by(HomeInfoRecord.updated_at.desc()).limit(1)
            row = (await session.execute(stmt)).scalar_one_or_none()
            if row is None:
                return None
            return HomeInfo(
                name=row.name,
                time_zone=row.time_zone,
                latitude=row.latitude,
                longitude=row.longitude,
                elevation=row.elevation,
                source=row.source,
            )

    # --- sync state -------------------------------------------------------------------------------

    async def get_sync_state(self, source: str) -> SyncState | None:
        """How far `source` has been synced, or None before its first sync."""
        async with self.db.session() as session:
            row = await session.get(HomeSyncState, source)
            if row is None:
                return None
            return SyncState(
                source=row.source, last_synced=row.last_synced, details=row.details, updated_at=row.updated_at
            )

    async def set_sync_state(
        self, source: str, last_synced: datetime | None, details: dict[str, Any] | None = None
    ) -> None:
        """Record how far `source` has been synced (`last_synced`: newest event time taken)."""
        await self._upsert(
            HomeSyncState.__table__,
            "source",
            [{"source": source, "last_synced": last_synced, "details": details}],
        )


def _aware(value: Any) -> datetime | None:
    # Aggregates lose the column type on SQLite and come back as text or naive datetimes.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LocalHomeSource:
    """HomeDataSource over the local store.

    The home's time zone and location are those Home Assistant reported at the last sync (saved with
    `HomeStore.save_home_info`), else HOME_TIME_ZONE, HOME_LATITUDE, HOME_LONGITUDE and HOME_ELEVATION.
    """

    name = "local"

    def __init__(
        self,
        store: HomeStore,
        *,
        time_zone: str = "UTC",
        latitude: float | None = None,
        longitude: float | None = None,
        elevation: float | None = None,
    ) -> None:
        self.store = store
        self._info = HomeInfo(
            time_zone=time_zone,
            latitude=latitude,
            longitude=longitude,
            elevation=elevation,
            source="settings",
        )

    @classmethod
    def from_settings(cls, store: HomeStore, settings: Settings) -> LocalHomeSource:
        """Build it from Settings (HOME_TIME_ZONE, HOME_LATITUDE, HOME_LONGITUDE, HOME_ELEVATION)."""
        return cls(
            store,
            time_zone=settings.home_time_zone,
            latitude=settings.home_latitude,
            longitude=settings.home_longitude,
            elevation=settings.home_elevation,
        )

    async def home_info(self) -> HomeInfo:
        """What Home Assistant's /api/config said at the last sync, else the settings."""
        return await self.store.stored_home_info() or self._info

    async def areas(self) -> list[Area]:
        """Every area."""
        return await self.store.areas()

    async def devices(self) -> list[Device]:
        """Every device."""
        return await self.store.devices()

    async def entities(self) -> list[Entity]:
        """Every entity, with its area resolved."""
        return await self.store.entities()

    def events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[Event]]:
        """State changes with start <= time < end, in time order, in batches."""
        return self.store.events(start, end, entity_ids, batch_size)
