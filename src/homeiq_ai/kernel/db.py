"""Async database access: engines, sessions, the shared metadata and column types."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "Database",
    "UTCDateTime",
    "check_time_range",
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
                kwargs.update(
                    pool_size=10, max_overflow=5, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
                )
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

    async def ping(self, timeout: float = 3.0) -> None:
        """Run `SELECT 1`; raises on an unreachable database or after `timeout` seconds."""
        async with asyncio.timeout(timeout), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def schema_revision(self, timeout: float = 3.0) -> str | None:
        """Return the Alembic revision the database is at, or None when it has none."""
        async with asyncio.timeout(timeout), self.engine.connect() as conn:
            has_table = await conn.run_sync(
                lambda sync_conn: sync_conn.dialect.has_table(sync_conn, "alembic_version")
            )
            if not has_table:
                return None
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            return ",".join(sorted(rows)) if rows else None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
