"""Database access: SQLite pragmas, UTC timestamps on both databases, pool sizes, rollback, two writers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.pool import StaticPool

from conftest import sqlite_url
from homeiq_ai.kernel.db import SQLITE_BUSY_TIMEOUT_MS, Database, UTCDateTime, sqlite_path, utcnow
from homeiq_ai.kernel.migrate import head_revision
from homeiq_ai.query.models import QueryRecord

BERLIN = ZoneInfo("Europe/Berlin")


def _query(created_at: datetime | None = None, query_id: str | None = None) -> QueryRecord:
    now = utcnow()
    return QueryRecord(
        id=query_id or uuid.uuid4().hex,
        text="porch light at sunset",
        status="received",
        refinements=[],
        clarifications=[],
        created_at=created_at or now,
        updated_at=now,
    )


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(QueryRecord))).scalar_one())


async def test_sqlite_pragmas(db: Database) -> None:
    """Every SQLite connection runs in WAL mode with foreign keys on and a 5 s busy timeout."""
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one().lower() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
    assert SQLITE_BUSY_TIMEOUT_MS == 5000


async def test_sqlite_pragmas_on_every_pooled_connection(db: Database) -> None:
    """Several connections held at once each have the pragmas, not only the first one."""
    conns = [await db.engine.connect() for _ in range(3)]
    try:
        for conn in conns:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
    finally:
        for conn in conns:
            await conn.close()


async def test_foreign_keys_enforced(db: Database) -> None:
    """A row pointing at a missing parent is refused on SQLite (foreign_keys=ON)."""
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO query_suggestion (id, query_id, title, description, plan, confidence, "
                    "created_at) VALUES ('s1', 'missing', 't', 'd', '{}', 0.5, '2025-01-01 00:00:00')"
                )
            )


async def test_utc_datetime_round_trip(any_database_url: str) -> None:
    """An aware time in any zone is stored as UTC and read back aware UTC (SQLite and PostgreSQL)."""
    database = Database(any_database_url)
    local = datetime(2025, 3, 30, 4, 30, 15, 123456, tzinfo=BERLIN)  # the day Berlin moves to summer time
    record = _query(created_at=local)
    try:
        async with database.session() as session:
            session.add(record)
        async with database.session() as session:
            loaded = await session.get(QueryRecord, record.id)
            assert loaded is not None
            read_back = loaded.created_at
            raw = (
                await session.execute(select(QueryRecord.created_at).where(QueryRecord.id == record.id))
            ).scalar_one()
    finally:
        await database.dispose()
    assert read_back == local
    assert read_back.tzinfo is not None
    assert read_back.utcoffset() == timedelta(0)
    assert read_back == datetime(2025, 3, 30, 2, 30, 15, 123456, tzinfo=UTC)
    assert raw.utcoffset() == timedelta(0)


async def test_utc_datetime_rejects_naive(any_database_url: str) -> None:
    """A naive datetime is refused (StatementError from ValueError) and nothing is stored."""
    database = Database(any_database_url)
    try:
        with pytest.raises(StatementError) as caught:
            async with database.session() as session:
                session.add(_query(created_at=datetime(2025, 1, 1, 12, 0)))
        assert isinstance(caught.value.orig, ValueError)
        assert "naive" in str(caught.value.orig)
        assert await _count(database) == 0
    finally:
        await database.dispose()


def test_utc_datetime_type_rules() -> None:
    """The type converts aware values to UTC, refuses naive ones and marks naive results as UTC."""
    column_type = UTCDateTime()
    aware = datetime(2025, 7, 1, 14, 0, tzinfo=BERLIN)
    bound = column_type.process_bind_param(aware, None)
    assert bound == aware and bound.tzinfo is UTC
    assert column_type.process_bind_param(None, None) is None
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2025, 7, 1, 14, 0), None)
    naive_result = column_type.process_result_value(datetime(2025, 7, 1, 12, 0), None)
    assert naive_result == datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    assert column_type.process_result_value(aware, None).tzinfo is UTC
    assert utcnow().tzinfo is UTC


async def test_pool_sizes_on_file_sqlite(tmp_path: Path) -> None:
    """A file SQLite engine pools 10 connections with 5 overflow; in-memory uses one static connection."""
    file_db = Database(sqlite_url(tmp_path / "pool.db"))
    memory_db = Database("sqlite+aiosqlite:///:memory:")
    pg_db = Database("postgresql+asyncpg://u@127.0.0.1:1/x")
    try:
        assert file_db.engine.pool.size() == 10
        assert file_db.engine.pool._max_overflow == 5
        assert isinstance(memory_db.engine.pool, StaticPool)
        assert pg_db.engine.pool.size() == 10
        assert pg_db.engine.pool._max_overflow == 5
        assert file_db.dialect == "sqlite" and pg_db.dialect == "postgresql"
    finally:
        for database in (file_db, memory_db, pg_db):
            await database.dispose()
    assert not (tmp_path / "pool.db").exists(), "creating a Database must not open a connection"


def test_sqlite_path() -> None:
    """sqlite_path returns the file of a SQLite URL and None for memory or other databases."""
    assert sqlite_path("sqlite+aiosqlite:////tmp/x/shared.db") == Path("/tmp/x/shared.db")
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_path("sqlite+aiosqlite://") is None
    assert sqlite_path("postgresql+asyncpg://u@h/db") is None


async def test_session_rolls_back_on_exception(db: Database) -> None:
    """An exception inside `session()` rolls back everything written in it, flushed or not."""
    with pytest.raises(RuntimeError, match="half-way"):
        async with db.session() as session:
            session.add(_query())
            await session.flush()
            session.add(_query())
            raise RuntimeError("half-way")
    assert await _count(db) == 0


async def test_session_rolls_back_on_database_error(db: Database) -> None:
    """A failing second statement (duplicate key) leaves the first one unwritten too."""
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(_query(query_id="q-1"))
            await session.flush()
            session.add(_query(query_id="q-1"))
    assert await _count(db) == 0
    async with db.session() as session:
        session.add(_query(query_id="q-1"))
    assert await _count(db) == 1


async def test_two_writers_on_one_file(database_url: str) -> None:
    """Two Database objects writing the same SQLite file at once both succeed (WAL + busy_timeout)."""
    first, second = Database(database_url), Database(database_url)
    rounds = 15

    async def writer(database: Database, prefix: str) -> int:
        for i in range(rounds):
            async with database.session() as session:
                session.add(_query(query_id=f"{prefix}-{i}"))
                await session.flush()
                # Hold the write lock for a while so that the other writer has to wait for it.
                await asyncio.sleep(0.01)
        return rounds

    try:
        done = await asyncio.wait_for(asyncio.gather(writer(first, "a"), writer(second, "b")), timeout=60)
        assert done == [rounds, rounds]
        assert await _count(first) == 2 * rounds
        async with second.session() as session:
            ids = set((await session.execute(select(QueryRecord.id))).scalars())
        assert ids == {f"a-{i}" for i in range(rounds)} | {f"b-{i}" for i in range(rounds)}
    finally:
        await first.dispose()
        await second.dispose()


async def test_reader_not_blocked_by_writer(database_url: str) -> None:
    """In WAL mode a reader sees the last committed state while another connection holds a write."""
    writer_db, reader_db = Database(database_url), Database(database_url)
    try:
        async with writer_db.session() as session:
            session.add(_query(query_id="committed"))
        async with writer_db.session() as session:
            session.add(_query(query_id="pending"))
            await session.flush()
            assert await asyncio.wait_for(_count(reader_db), timeout=2) == 1
        assert await _count(reader_db) == 2
    finally:
        await writer_db.dispose()
        await reader_db.dispose()


async def test_ping_and_schema_revision(db: Database, tmp_path: Path) -> None:
    """ping() succeeds; schema_revision() is head on a migrated file and None on an empty one."""
    await db.ping()
    assert await db.schema_revision() == head_revision()
    empty = Database(sqlite_url(tmp_path / "empty.db"))
    try:
        assert await empty.schema_revision() is None
    finally:
        await empty.dispose()
