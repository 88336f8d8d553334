"""Incremental copy of Home Assistant into the local store, so history outlives HA's recorder purge.

Crash safety comes from the order of writes, not from one transaction: a window's events are stored
first (idempotent on (entity_id, time)), then the cursor moves to the window's end. A crash in between
repeats that window next time, and its events come back as duplicates that are skipped. Windows
start a little before the cursor to pick up changes the recorder wrote late; idempotency makes that
overlap free of duplicates too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from homeiq_ai.kernel.db import utcnow
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event

if TYPE_CHECKING:
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.homeassistant_source import HomeAssistantSource
    from homeiq_ai.kernel.modules import JobSpec
    from homeiq_ai.settings import Settings

__all__ = [
    "DEFAULT_INITIAL_DAYS",
    "DEFAULT_INITIAL_SPAN",
    "DEFAULT_OVERLAP",
    "DEFAULT_SAFETY_LAG",
    "SYNC_JOB_ID",
    "HomeAssistantSync",
    "SyncResult",
    "SyncStore",
    "run_sync_once",
    "sync_job",
]

log = logging.getLogger(__name__)

# Home Assistant's recorder keeps 10 days by default: the first sync takes what it still has.
DEFAULT_INITIAL_DAYS = 10
DEFAULT_INITIAL_SPAN = timedelta(days=DEFAULT_INITIAL_DAYS)
# Each sync starts this much before the cursor, for states the recorder committed late.
DEFAULT_OVERLAP = timedelta(minutes=5)
# Each sync stops this much before now, so that the newest window is mostly committed already (the
# recorder commits every second by default); what it still misses, the next run's overlap picks up.
DEFAULT_SAFETY_LAG = timedelta(seconds=5)
SYNC_JOB_ID = "homedata.sync_home_assistant"


class SyncStore(Protocol):
    """What the sync needs of the local store (kernel.homedata.store.HomeStore)."""

    async def upsert_areas(self, areas: Sequence[Area]) -> int: ...

    async def upsert_devices(self, devices: Sequence[Device]) -> int: ...

    async def upsert_entities(self, entities: Sequence[Entity]) -> int: ...

    async def insert_events(self, events: Sequence[Event]) -> Any: ...

    async def get_sync_state(self, source: str) -> Any: ...

    async def set_sync_state(
        self, source: str, last_synced: datetime | None, details: dict[str, Any] | None = None
    ) -> None: ...


class SyncResult(msgspec.Struct, kw_only=True):
    """What one sync did: events stored and skipped, windows fetched, the span covered, how long."""

    inserted: int
    duplicates: int
    windows: int
    start: datetime | None
    end: datetime | None
    seconds: float
    areas: int = 0
    devices: int = 0
    entities: int = 0

    def summary(self) -> str:
        """One line for people."""
        span = f"{self.start.isoformat()} .. {self.end.isoformat()}" if self.start and self.end else "nothing new"
        return (
            f"synced {self.inserted} new events ({self.duplicates} already stored) in {self.windows} windows "
            f"[{span}]; {self.areas} areas, {self.devices} devices, {self.entities} entities; "
            f"{self.seconds:.1f}s"
        )


def _counts(result: Any) -> tuple[int, int]:
    inserted, duplicates = result
    return int(inserted), int(duplicates)


class HomeAssistantSync:
    """Copies registries and new state changes from Home Assistant into the local store."""

    def __init__(
        self,
        source: HomeAssistantSource,
        store: SyncStore,
        *,
        initial_span: timedelta = DEFAULT_INITIAL_SPAN,
        overlap: timedelta = DEFAULT_OVERLAP,
        safety_lag: timedelta = DEFAULT_SAFETY_LAG,
    ) -> None:
        if initial_span <= timedelta(0):
            raise ValueError("initial_span must be positive")
        if overlap < timedelta(0) or safety_lag < timedelta(0):
            raise ValueError("overlap and safety_lag must not be negative")
        self.source = source
        self.store = store
        self.initial_span = initial_span
        self.overlap = overlap
        self.safety_lag = safety_lag

    @property
    def state_key(self) -> str:
        """The sync-state row of this source."""
        return self.source.name

    async def _cursor(self) -> datetime | None:
        state = await self.store.get_sync_state(self.state_key)
        return getattr(state, "last_synced", None) if state is not None else None

    async def run(self, now: datetime | None = None) -> SyncResult:
        """Sync the registries, then every window from the cursor up to `now` less the safety lag.

        Args:
            now: the present, timezone-aware (default: the clock); tests pin it.

        Returns:
            What was stored.

        Raises:
            HomeDataUnavailableError: Home Assistant could not be read; what was stored so far stays.
        """
        started = time.monotonic()
        now = now or utcnow()
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        until = now - self.safety_lag

        registry = await self.source.registry()
        # The home's own time zone and location, so routines read in local time without HOME_TIME_ZONE.
        await self.store.save_home_info(await self.source.home_info())
        await self.store.upsert_areas(registry.areas)
        await self.store.upsert_devices(registry.devices)
        await self.store.upsert_entities(registry.entities)
        entity_ids = [e.entity_id for e in registry.entities]

        cursor = await self._cursor()
        start = cursor - self.overlap if cursor else until - self.initial_span
        windows = self.source.windows(start, until) if entity_ids else []
        log.info(
            "home assistant sync: %s from %s to %s in %d windows (%d entities)",
            "resuming" if cursor else "first sync",
            start.isoformat(),
            until.isoformat(),
            len(windows),
            len(entity_ids),
        )
        inserted = duplicates = 0
        previous: dict[str, str | None] = {}
        for number, (lower, upper) in enumerate(windows, start=1):
            events = await self.source.window_events(lower, upper, entity_ids, previous)
            added, skipped = _counts(await self.store.insert_events(events))
            inserted += added
            duplicates += skipped
            # Only after the window is stored; the cursor never moves back (a concurrent sync got further).
            if cursor is None or upper > cursor:
                await self.store.set_sync_state(
                    self.state_key, upper, {"source": self.source.name, "last_run": now.isoformat()}
                )
                cursor = upper
            log.info(
                "home assistant sync: window %d/%d %s .. %s: %d new, %d already stored",
                number,
                len(windows),
                lower.isoformat(),
                upper.isoformat(),
                added,
                skipped,
            )
        result = SyncResult(
            inserted=inserted,
            duplicates=duplicates,
            windows=len(windows),
            start=start if windows else None,
            end=until if windows else None,
            seconds=round(time.monotonic() - started, 3),
            areas=len(registry.areas),
            devices=len(registry.devices),
            entities=len(registry.entities),
        )
        log.info("home assistant sync: %s", result.summary())
        return result


async def run_sync_once(
    settings: Settings,
    db: Database,
    *,
    initial_span: timedelta = DEFAULT_INITIAL_SPAN,
    window: timedelta | None = None,
) -> SyncResult:
    """Run one sync with the configured Home Assistant (HA_URL, HA_TOKEN) into `db`.

    Raises:
        ValueError: HA_URL or HA_TOKEN is not set.
        HomeDataUnavailableError: Home Assistant could not be read.
    """
    from homeiq_ai.kernel.homeassistant import HomeAssistantClient
    from homeiq_ai.kernel.homedata.homeassistant_source import DEFAULT_WINDOW, HomeAssistantSource
    from homeiq_ai.kernel.homedata.store import HomeStore

    client = HomeAssistantClient.from_settings(settings)
    if client is None:
        raise ValueError("HA_URL and HA_TOKEN must both be set to sync from Home Assistant")
    async with client:
        source = HomeAssistantSource(client, window=window or DEFAULT_WINDOW)
        sync = HomeAssistantSync(source, HomeStore(db), initial_span=initial_span)
        return await sync.run()


def sync_job(settings: Settings, db: Database) -> JobSpec | None:
    """The scheduled sync every SYNC_INTERVAL_MINUTES, or None when Home Assistant is not configured."""
    from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError
    from homeiq_ai.kernel.modules import JobSpec

    if not settings.ha_url or settings.ha_token is None:
        return None

    async def _sync() -> None:
        try:
            await run_sync_once(settings, db)
        except HomeDataUnavailableError as exc:
            # Nothing is lost: the next run starts from the stored cursor.
            log.warning("home assistant sync skipped this time: %s", exc)

    # The first sync runs at start: a new install should not wait a whole interval for its home.
    return JobSpec(
        id=SYNC_JOB_ID,
        func=_sync,
        trigger="interval",
        seconds=settings.sync_interval_minutes * 60,
        run_at_start=True,
    )
