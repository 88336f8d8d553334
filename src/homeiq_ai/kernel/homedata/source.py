"""The HomeDataSource Protocol every source implements (local store, Home Assistant, Data API, InfluxDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo

__all__ = ["HomeDataSource", "HomeDataUnavailableError", "split_windows"]


def split_windows(start: datetime, end: datetime, window: timedelta) -> list[tuple[datetime, datetime]]:
    """Cut [start, end) into consecutive [lower, upper) windows of at most `window` each."""
    out = []
    cursor = start
    while cursor < end:
        upper = min(cursor + window, end)
        out.append((cursor, upper))
        cursor = upper
    return out


class HomeDataUnavailableError(Exception):
    """The source cannot be reached or answered with an error after bounded retries."""


class HomeDataSource(Protocol):
    """Read access to one home's registry and history."""

    name: str

    async def home_info(self) -> HomeInfo:
        """Time zone and location of the home."""
        ...

    async def areas(self) -> list[Area]:
        """Every area."""
        ...

    async def devices(self) -> list[Device]:
        """Every device."""
        ...

    async def entities(self) -> list[Entity]:
        """Every entity, with its area resolved (own, else its device's)."""
        ...

    def events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[Event]]:
        """State changes with start <= time < end, in time order, in batches.

        Args:
            start: window start, timezone-aware.
            end: window end (exclusive), timezone-aware.
            entity_ids: only these entities; all when None.
            batch_size: the largest batch yielded.
        """
        ...
