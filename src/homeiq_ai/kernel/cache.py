"""CorrelationCache: an in-memory LRU over a DB-backed tier, with TTL and hit/miss statistics."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from homeiq_ai.kernel.db import Database, sqlite_path, utcnow
from homeiq_ai.kernel.models import CorrelationCacheEntry

__all__ = ["CacheStats", "CorrelationCache", "pair_key"]

log = logging.getLogger(__name__)

_TABLE = CorrelationCacheEntry.__table__
# Entity ids ("light.kitchen") never contain it, so a key splits back into its pair unambiguously.
_KEY_SEPARATOR = "|"


def pair_key(a: str, b: str) -> str:
    """Return the cache key of an entity pair; the same whichever order the pair is given in.

    Args:
        a: one entity id.
        b: the other entity id.

    Returns:
        `"<smaller id>|<larger id>"`.
    """
    low, high = (a, b) if a <= b else (b, a)
    return f"{low}{_KEY_SEPARATOR}{high}"


class CacheStats(msgspec.Struct, frozen=True, kw_only=True):
    """Counters of one CorrelationCache since it was created (per process)."""

    hits: int
    misses: int
    memory_hits: int
    db_hits: int
    hit_rate: float
    memory_entries: int
    max_entries: int
    ttl_seconds: int


@dataclass(slots=True)
class _Entry:
    entity_a: str
    entity_b: str
    value: dict[str, Any]
    expires_at: datetime


class CorrelationCache:
    """Correlations between entity pairs, cached in memory (LRU) and in a shared DB table.

    The memory tier answers repeated lookups of this process; the DB tier survives restarts and is
    shared by every process on the same database. The cache never fails a request: DB errors are
    logged and read as misses.

    Args:
        db: the database holding the `cache_correlation` table.
        ttl_seconds: default time to live of an entry.
        max_entries: size of the in-memory tier; the least recently used entry is evicted beyond it.
        own_table: True when `db` is a disposable cache database (CORRELATION_CACHE_DB) that Alembic
            does not manage: the table is then created on first use.
        clock: returns the current timezone-aware time; injectable so tests need not sleep.
    """

    def __init__(
        self,
        db: Database,
        *,
        ttl_seconds: int = 3600,
        max_entries: int = 10_000,
        own_table: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        if max_entries <= 0:
            raise ValueError(f"max_entries must be positive, got {max_entries}")
        self._db = db
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._own_table = own_table
        self._clock = clock
        self._memory: OrderedDict[str, _Entry] = OrderedDict()
        self._memory_hits = 0
        self._db_hits = 0
        self._misses = 0
        self._table_ready = not own_table
        self._table_lock = asyncio.Lock()
        self._db_failing = False

    # -- public api --------------------------------------------------------------------------------

    async def get(self, a: str, b: str) -> dict[str, Any] | None:
        """Return the cached value of a pair, or None on a miss (absent, expired or DB unreachable).

        Args:
            a: one entity id.
            b: the other entity id; the order of `a` and `b` does not matter.
        """
        key = pair_key(a, b)
        now = self._clock()
        entry = self._memory.get(key)
        if entry is not None:
            if entry.expires_at > now:
                self._memory.move_to_end(key)
                self._memory_hits += 1
                return copy.deepcopy(entry.value)
            del self._memory[key]
        # Another process may have stored (or renewed) the pair in the shared table.
        row = await self._db_lookup(key)
        if row is not None and row.expires_at > now:
            self._remember(key, row)
            self._db_hits += 1
            return copy.deepcopy(row.value)
        self._misses += 1
        return None

    async def set(self, a: str, b: str, value: Mapping[str, Any], ttl_seconds: int | None = None) -> None:
        """Store the value of a pair in both tiers, replacing any previous one.

        A DB error is logged; the memory tier is updated regardless.

        Args:
            a: one entity id.
            b: the other entity id; the order does not matter.
            value: a JSON-serialisable mapping.
            ttl_seconds: time to live of this entry; the cache's default when None.

        Raises:
            ValueError: `ttl_seconds` is not positive.
        """
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl}")
        key = pair_key(a, b)
        low, high = sorted((a, b))
        now = self._clock()
        entry = _Entry(low, high, copy.deepcopy(dict(value)), now + timedelta(seconds=ttl))
        self._remember(key, entry)
        await self._db_upsert(key, entry, now)

    async def invalidate(self, a: str, b: str | None = None) -> int:
        """Forget one pair, or every pair involving `a` when `b` is None, in both tiers.

        Returns:
            How many distinct pairs were removed.
        """
        if b is not None:
            key = pair_key(a, b)
            removed = {key} if self._memory.pop(key, None) is not None else set()
            condition = _TABLE.c.key == key
        else:
            removed = {k for k, e in self._memory.items() if a in (e.entity_a, e.entity_b)}
            for k in removed:
                del self._memory[k]
            condition = or_(_TABLE.c.entity_a == a, _TABLE.c.entity_b == a)
        removed |= await self._db_delete(condition, "invalidate")
        return len(removed)

    async def clear_expired(self) -> int:
        """Remove expired entries from both tiers.

        Returns:
            How many distinct pairs were removed.
        """
        now = self._clock()
        removed = {k for k, e in self._memory.items() if e.expires_at <= now}
        for k in removed:
            del self._memory[k]
        removed |= await self._db_delete(_TABLE.c.expires_at <= now, "clear_expired")
        return len(removed)

    def stats(self) -> CacheStats:
        """Return hit/miss counters and sizes of this process's cache."""
        hits = self._memory_hits + self._db_hits
        lookups = hits + self._misses
        return CacheStats(
            hits=hits,
            misses=self._misses,
            memory_hits=self._memory_hits,
            db_hits=self._db_hits,
            hit_rate=hits / lookups if lookups else 0.0,
            memory_entries=len(self._memory),
            max_entries=self.max_entries,
            ttl_seconds=self.ttl_seconds,
        )

    # -- memory tier -------------------------------------------------------------------------------

    def _remember(self, key: str, entry: _Entry) -> None:
        self._memory[key] = entry
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_entries:
            self._memory.popitem(last=False)

    # -- DB tier -----------------------------------------------------------------------------------

    async def _ensure_table(self) -> None:
        if self._table_ready:
            return
        async with self._table_lock:
            if self._table_ready:
                return
            path = sqlite_path(self._db.url)
            if path is not None:
                # A fresh cache file may sit in a directory nobody created yet.
                await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            async with self._db.engine.begin() as conn:
                await conn.run_sync(lambda sync_conn: _TABLE.create(sync_conn, checkfirst=True))
            self._table_ready = True

    def _db_error(self, operation: str, exc: BaseException) -> None:
        # One warning per outage, not one per lookup; details stay at debug level.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not self._db_failing:
            log.warning("correlation cache DB %s failed (serving from memory only): %s", operation, reason)
        else:
            log.debug("correlation cache DB %s failed: %s", operation, reason)
        self._db_failing = True

    def _db_ok(self) -> None:
        if self._db_failing:
            log.info("correlation cache DB reachable again")
        self._db_failing = False

    async def _db_lookup(self, key: str) -> _Entry | None:
        try:
            await self._ensure_table()
            async with self._db.engine.connect() as conn:
                result = await conn.execute(
                    select(_TABLE.c.entity_a, _TABLE.c.entity_b, _TABLE.c.value, _TABLE.c.expires_at).where(
                        _TABLE.c.key == key
                    )
                )
                row = result.first()
        except Exception as exc:
            self._db_error("read", exc)
            return None
        self._db_ok()
        if row is None or not isinstance(row.value, dict):
            return None
        return _Entry(row.entity_a, row.entity_b, row.value, row.expires_at)

    async def _db_upsert(self, key: str, entry: _Entry, now: datetime) -> None:
        values = {
            "key": key,
            "entity_a": entry.entity_a,
            "entity_b": entry.entity_b,
            "value": entry.value,
            "expires_at": entry.expires_at,
            "updated_at": now,
        }
        try:
            await self._ensure_table()
            async with self._db.engine.begin() as conn:
                dialect = self._db.dialect
                if dialect in ("sqlite", "postgresql"):
                    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
                    stmt = insert(_TABLE).values(**values)
                    stmt = stmt.on_conflict_do_update(
                        index_elements=[_TABLE.c.key],
                        set_={name: stmt.excluded[name] for name in values if name != "key"},
                    )
                    await conn.execute(stmt)
                else:
                    # No portable upsert: replace the row inside one transaction.
                    await conn.execute(delete(_TABLE).where(_TABLE.c.key == key))
                    await conn.execute(_TABLE.insert().values(**values))
        except Exception as exc:
            self._db_error("write", exc)
            return
        self._db_ok()

    async def _db_delete(self, condition: Any, operation: str) -> set[str]:
        try:
            await self._ensure_table()
            async with self._db.engine.begin() as conn:
                result = await conn.execute(select(_TABLE.c.key).where(condition))
                keys = set(result.scalars().all())
                if keys:
                    await conn.execute(delete(_TABLE).where(condition))
        except Exception as exc:
            self._db_error(operation, exc)
            return set()
        self._db_ok()
        return keys
