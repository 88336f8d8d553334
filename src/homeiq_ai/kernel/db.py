"""Async database access: engines, sessions, the shared metadata and column types."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "Database",
    "UTCDateTime",
    "check_time_range",
    "connection_lost",
    "metadata",
    "sqlite_path",
    "utcnow",
]

log = logging.getLogger(__name__)

# Stable constraint names so that Alembic (and SQLite batch mode) can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

SQLITE_BUSY_TIMEOUT_MS = 5000
# A unit of work whose connection died (PostgreSQL restarted, pg_terminate_backend, a network cut) is tried
# this many times in all, RECONNECT_DELAY_S apart; the pool's pre-ping hands the next try a fresh connection.
RECONNECT_TRIES = 3
RECONNECT_DELAY_S = 0.5

T = TypeVar("T")


class Base(DeclarativeBase):
    """Declarative base of every ORM class; all tables share one metadata."""

    metadata = metadata


# Times the project stores and computes with; beyond these, date arithmetic overflows (year 1 or 9999).
EARLIEST_TIME = datetime(1970, 1, 2, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)


def check_time_range(value: datetime, name: str = "time") -> None:
    """Raise ValueError naming `name` when an aware time lies outside the supported range (1970-2200)."""
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise ValueError(f"{name}: {value.isoformat()} is outside the supported range 1970-01-02 .. 2200-01-01")


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zone type, so naive values coming back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sqlite_path(url: str) -> Path | None:
    """Return the file path of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the four processes of a split install read while one writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


_LOST_CONNECTION_WORDS = (
    "connection was closed",
    "connection is closed",
    "terminating connection",
    "server closed the connection",
    "cannot perform operation: another operation is in progress",
    "the database system is shutting down",
    "the database system is starting up",
)


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` says the database connection went away (worth one more try on a fresh connection).

    A constraint violation, a syntax error or SQLite's "database is locked" are not: they would fail again.
    """
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc.orig, ConnectionError):  # e.g. reset by peer
            return True
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return any(words in message for words in _LOST_CONNECTION_WORDS)
    return isinstance(exc, ConnectionError)


class Database:
    """One async engine and its session factory for one database URL.

    Creating it opens no connection; the first query does. `dispose()` closes the pool.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = self._create_engine(url, echo)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False
        )

    @property
    def dialect(self) -> str:
        """The dialect name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @staticmethod
    def _create_engine(url: str, echo: bool) -> AsyncEngine:
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if parsed.drivername.startswith("sqlite"):
            if sqlite_path(url) is None:
                # An in-memory database lives as long as its one connection.
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                kwargs.update(pool_size=10, max_overflow=5, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        else:
            kwargs.update(pool_size=10, max_overflow=5, connect_args={"timeout": 5, "command_timeout": 30})
        engine = create_async_engine(url, **kwargs)
        if parsed.drivername.startswith("sqlite"):
            event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def retrying(self, work: Callable[[AsyncSession], Awaitable[T]], *, what: str = "a database write") -> T:
        """Run `work(session)` in its own transaction; again (at most RECONNECT_TRIES in all) when the
        connection was lost mid-way. Safe only for work that can run twice: the lost try was rolled back."""
        for attempt in range(1, RECONNECT_TRIES + 1):
            try:
                async with self.session() as session:
                    return await work(session)
            except (DBAPIError, ConnectionError) as exc:
                if attempt == RECONNECT_TRIES or not connection_lost(exc):
                    raise
                log.warning(
                    "%s lost its database connection (try %d of %d); trying again", what, attempt, RECONNECT_TRIES
                )
                await asyncio.sleep(RECONNECT_DELAY_S)
        raise AssertionError("unreachable")

    async def ping(self, timeout: float = 3.0) -> None:
        """Run `SELECT 1`; raises on an unreachable database or after `timeout` seconds."""
        async with asyncio.timeout(timeout), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def schema_revision(self, timeout: float = 3.0) -> str | None:
        """Return the Alembic revision the database is at, or None when it has none."""
        async with asyncio.timeout(timeout), self.engine.connect() as conn:
            has_table = await conn.run_sync(lambda sync_conn: sync_conn.dialect.has_table(sync_conn, "alembic_version"))
            if not has_table:
                return None
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            return ",".join(sorted(rows)) if rows else None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
