"""CorrelationCache on SQLite and PostgreSQL: both tiers, TTL, LRU, invalidation, stats, DB failures."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from homeiq_ai.kernel.cache import CacheStats, CorrelationCache, pair_key
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.models import CorrelationCacheEntry

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TABLE = CorrelationCacheEntry.__table__


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def _create_pg_database(name: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        await engine.dispose()


async def _drop_pg_database(name: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    name = f"homeiq_test_cache_{uuid.uuid4().hex[:12]}"
    try:
        # A loop of its own: the database outlives every test's event loop.
        asyncio.run(_create_pg_database(name))
    except Exception as exc:
        pytest.skip(
            f"!!! PostgreSQL is NOT reachable at {PG_ADMIN_URL} ({type(exc).__name__}: {exc}): "
            "the cache's PostgreSQL path is NOT tested !!!"
        )
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_drop_pg_database(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    # Self-contained: only the cache table, whether or not migrations exist yet.
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: TABLE.drop(sync_conn, checkfirst=True))
        await conn.run_sync(lambda sync_conn: TABLE.create(sync_conn))
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


CacheFactory = Callable[..., CorrelationCache]


@pytest.fixture
def make_cache(database: Database, clock: FakeClock) -> CacheFactory:
    def _make(db: Database | None = None, **kwargs: Any) -> CorrelationCache:
        return CorrelationCache(db or database, clock=clock, **kwargs)

    return _make


async def _settle_failed_sqlite_connects() -> None:
    # aiosqlite answers a failed connect's cleanup from its thread a moment later; the test's loop
    # must still be open then, or the thread dies with "Event loop is closed".
    await asyncio.sleep(0.1)


async def _db_rows(db: Database) -> int:
    async with db.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(TABLE))).scalar_one()


def test_pair_key_is_order_independent() -> None:
    """The key of (a, b) is the key of (b, a), and different pairs have different keys."""
    assert pair_key("light.a", "light.b") == pair_key("light.b", "light.a")
    assert pair_key("light.a", "light.b") != pair_key("light.a", "light.c")
    assert pair_key("light.a", "light.a") == "light.a|light.a"


async def test_set_then_get_is_a_memory_hit(make_cache: CacheFactory) -> None:
    """A value just set is answered from memory, in either pair order."""
    cache = make_cache()
    await cache.set("light.a", "light.b", {"correlation": 0.8})

    assert await cache.get("light.a", "light.b") == {"correlation": 0.8}
    assert await cache.get("light.b", "light.a") == {"correlation": 0.8}
    stats = cache.stats()
    assert (stats.memory_hits, stats.db_hits, stats.misses) == (2, 0, 0)


async def test_returned_values_are_copies(make_cache: CacheFactory) -> None:
    """Mutating a returned or stored dict does not change the cached value."""
    cache = make_cache()
    stored = {"lags": [1, 2]}
    await cache.set("light.a", "light.b", stored)
    stored["lags"].append(3)
    got = await cache.get("light.a", "light.b")
    got["lags"].append(4)

    assert await cache.get("light.a", "light.b") == {"lags": [1, 2]}


async def test_fresh_instance_reads_the_db_tier(make_cache: CacheFactory, database: Database) -> None:
    """A new cache over the same DB (another process) finds the value and promotes it to memory."""
    await make_cache().set("sensor.b", "sensor.a", {"correlation": -0.5, "samples": 120})

    other_db = Database(database.url)
    try:
        fresh = make_cache(other_db)
        assert await fresh.get("sensor.a", "sensor.b") == {"correlation": -0.5, "samples": 120}
        assert await fresh.get("sensor.b", "sensor.a") == {"correlation": -0.5, "samples": 120}
        stats = fresh.stats()
        assert (stats.db_hits, stats.memory_hits, stats.memory_entries) == (1, 1, 1)
    finally:
        await other_db.dispose()


async def test_set_overwrites_the_previous_value(make_cache: CacheFactory, database: Database) -> None:
    """Setting a pair again replaces its value in both tiers (an upsert, one row)."""
    cache = make_cache()
    await cache.set("light.a", "light.b", {"v": 1})
    await cache.set("light.b", "light.a", {"v": 2})

    assert await cache.get("light.a", "light.b") == {"v": 2}
    assert await make_cache().get("light.a", "light.b") == {"v": 2}
    assert await _db_rows(database) == 1


async def test_entries_expire_after_their_ttl(make_cache: CacheFactory, clock: FakeClock) -> None:
    """Past its TTL an entry is a miss in memory and in the DB tier."""
    cache = make_cache(ttl_seconds=60)
    await cache.set("light.a", "light.b", {"v": 1})
    clock.advance(59)
    assert await cache.get("light.a", "light.b") == {"v": 1}

    clock.advance(2)
    assert await cache.get("light.a", "light.b") is None
    assert await make_cache().get("light.a", "light.b") is None
    assert cache.stats().misses == 1


async def test_per_entry_ttl_overrides_the_default(make_cache: CacheFactory, clock: FakeClock) -> None:
    """A ttl_seconds given to set() wins over the cache's default."""
    cache = make_cache(ttl_seconds=3600)
    await cache.set("light.a", "light.b", {"short": True}, ttl_seconds=10)
    await cache.set("light.a", "light.c", {"short": False})
    clock.advance(11)

    assert await cache.get("light.a", "light.b") is None
    assert await cache.get("light.a", "light.c") == {"short": False}
    with pytest.raises(ValueError):
        await cache.set("light.a", "light.b", {}, ttl_seconds=0)


async def test_lru_evicts_the_least_recently_used_beyond_max_entries(make_cache: CacheFactory) -> None:
    """The memory tier keeps max_entries; an evicted pair is still served from the DB tier."""
    cache = make_cache(max_entries=3)
    for other in ("b", "c", "d"):
        await cache.set("light.a", f"light.{other}", {"other": other})
    await cache.get("light.a", "light.b")  # b becomes most recently used, c the least
    await cache.set("light.a", "light.e", {"other": "e"})

    assert cache.stats().memory_entries == 3
    assert "light.a|light.c" not in cache._memory
    assert await cache.get("light.a", "light.c") == {"other": "c"}
    assert cache.stats().db_hits == 1
    assert cache.stats().memory_entries == 3


async def test_invalidate_one_pair(make_cache: CacheFactory, database: Database) -> None:
    """invalidate(a, b) removes only that pair from both tiers."""
    cache = make_cache()
    await cache.set("light.a", "light.b", {"v": 1})
    await cache.set("light.a", "light.c", {"v": 2})

    assert await cache.invalidate("light.b", "light.a") == 1
    assert await cache.get("light.a", "light.b") is None
    assert await make_cache().get("light.a", "light.b") is None
    assert await cache.get("light.a", "light.c") == {"v": 2}
    assert await cache.invalidate("light.a", "light.b") == 0


async def test_invalidate_every_pair_of_an_entity(make_cache: CacheFactory, database: Database) -> None:
    """invalidate(a) removes every pair involving a, on either side, including DB-only rows."""
    writer = make_cache()
    await writer.set("light.m", "light.a", {"v": 1})
    await writer.set("light.z", "light.m", {"v": 2})
    await writer.set("light.a", "light.z", {"v": 3})
    reader = make_cache()
    assert await reader.get("light.a", "light.m") == {"v": 1}  # one pair in the reader's memory too

    assert await reader.invalidate("light.m") == 2
    assert await writer.get("light.m", "light.z") is not None  # the writer's memory is its own
    assert await make_cache().get("light.m", "light.z") is None
    assert await make_cache().get("light.m", "light.a") is None
    assert await make_cache().get("light.a", "light.z") == {"v": 3}
    assert await _db_rows(database) == 1


async def test_clear_expired_cleans_both_tiers(
    make_cache: CacheFactory, database: Database, clock: FakeClock
) -> None:
    """clear_expired removes expired pairs from memory and the DB and keeps live ones."""
    cache = make_cache(ttl_seconds=100)
    await cache.set("light.a", "light.b", {"v": 1}, ttl_seconds=10)
    await cache.set("light.a", "light.c", {"v": 2}, ttl_seconds=10)
    await cache.set("light.a", "light.d", {"v": 3})
    clock.advance(11)

    assert await cache.clear_expired() == 2
    assert cache.stats().memory_entries == 1
    assert await _db_rows(database) == 1
    assert await cache.clear_expired() == 0
    assert await cache.get("light.a", "light.d") == {"v": 3}


async def test_hit_rate_counts_every_lookup(make_cache: CacheFactory) -> None:
    """hit_rate is 0.0 before any lookup, then hits / (hits + misses)."""
    cache = make_cache(ttl_seconds=120, max_entries=50)
    empty = cache.stats()
    assert empty == CacheStats(
        hits=0,
        misses=0,
        memory_hits=0,
        db_hits=0,
        hit_rate=0.0,
        memory_entries=0,
        max_entries=50,
        ttl_seconds=120,
    )

    await cache.set("light.a", "light.b", {"v": 1})
    await cache.get("light.a", "light.b")
    await cache.get("light.a", "light.x")
    await cache.get("light.a", "light.b")
    await cache.get("light.a", "light.y")

    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.hit_rate) == (2, 2, 0.5)


async def test_own_table_is_created_lazily(tmp_path: Path, clock: FakeClock) -> None:
    """With own_table the cache creates its one table (and folder) in a fresh cache DB on first use."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'not-yet' / 'correlation_cache.db'}"
    db = Database(url)
    try:
        cache = CorrelationCache(db, own_table=True, clock=clock)
        await cache.set("light.a", "light.b", {"v": 1})
        fresh = CorrelationCache(db, own_table=True, clock=clock)
        assert await fresh.get("light.a", "light.b") == {"v": 1}
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
        assert tables == ["cache_correlation"]
    finally:
        await db.dispose()


async def test_unusable_db_makes_get_a_miss_and_set_memory_only(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An unwritable cache DB path never raises: get() misses, set() still fills memory."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    db = Database(f"sqlite+aiosqlite:///{blocker / 'cache.db'}")
    try:
        cache = CorrelationCache(db, own_table=True, clock=clock)
        with caplog.at_level(logging.WARNING, logger="homeiq_ai.kernel.cache"):
            assert await cache.get("light.a", "light.b") is None
            await cache.set("light.a", "light.b", {"v": 1})
            assert await cache.invalidate("light.c") == 0
            assert await cache.get("light.a", "light.b") == {"v": 1}
        assert cache.stats().misses == 1
        # One warning per outage, not one per call.
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    finally:
        await db.dispose()
        await _settle_failed_sqlite_connects()


async def test_disposed_db_pointed_elsewhere_is_a_miss(
    make_cache: CacheFactory, database: Database, tmp_path: Path
) -> None:
    """After the DB is disposed and pointed at an unusable path, a DB-tier lookup is a miss."""
    cache = make_cache(max_entries=1)
    await cache.set("light.a", "light.b", {"v": 1})
    await cache.set("light.a", "light.c", {"v": 2})  # evicts (a, b) from memory
    await database.dispose()
    database.engine = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}").engine

    assert await cache.get("light.a", "light.b") is None
    assert await cache.get("light.a", "light.c") == {"v": 2}
    await _settle_failed_sqlite_connects()


async def test_missing_table_is_a_miss(tmp_path: Path, clock: FakeClock) -> None:
    """Without own_table and before migrations ran, lookups miss and writes stay in memory."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        cache = CorrelationCache(db, clock=clock)
        assert await cache.get("light.a", "light.b") is None
        await cache.set("light.a", "light.b", {"v": 1})
        assert await cache.get("light.a", "light.b") == {"v": 1}
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
        assert tables == []  # only Alembic creates tables in the shared database
    finally:
        await db.dispose()


async def test_invalid_arguments_are_rejected() -> None:
    """Non-positive ttl_seconds or max_entries are refused at construction."""
    database = Database("sqlite+aiosqlite:///:memory:")
    with pytest.raises(ValueError):
        CorrelationCache(database, ttl_seconds=0)
    with pytest.raises(ValueError):
        CorrelationCache(database, max_entries=0)
