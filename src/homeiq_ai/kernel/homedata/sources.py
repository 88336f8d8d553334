"""Builds the HomeDataSource that DATA_SOURCE names, and closes what it opened.

Design: `build_source(settings, db)` returns a ready source; the HTTP clients it holds are closed by
`close_source(source)`. `open_source(settings, db)` is the two together as an async context manager,
which is what callers should use::

    async with open_source(settings, db) as source:
        async for batch in source.events(start, end): ...

Only the sources that own a client need closing: Home Assistant (its HomeAssistantClient), Data API
and InfluxDB (`aclose()`). The local source reads the shared database through `db`, which its owner
disposes of, so closing it does nothing.

| DATA_SOURCE | source | needs |
| --- | --- | --- |
| local | LocalHomeSource over HomeStore(db) | the database |
| home_assistant | HomeAssistantSource | HA_URL, HA_TOKEN |
| data_api | DataApiSource | DATA_API_URL (has a default), API_KEY if the Data API wants one |
| influxdb | InfluxDbSource | INFLUXDB_URL, INFLUXDB_TOKEN, INFLUXDB_ORG (INFLUXDB_BUCKET has a default) |
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.data_api_source import DataApiSource
from homeiq_ai.kernel.homedata.homeassistant_source import HomeAssistantSource
from homeiq_ai.kernel.homedata.influxdb_source import InfluxDbSource
from homeiq_ai.kernel.homedata.store import HomeStore, LocalHomeSource
from homeiq_ai.settings import DATA_SOURCES, SettingsError

if TYPE_CHECKING:
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.source import HomeDataSource
    from homeiq_ai.settings import Settings

__all__ = ["build_source", "close_source", "open_source"]


def _missing(required: dict[str, object]) -> list[str]:
    return [name for name, value in required.items() if value is None or value == ""]


def build_source(settings: Settings, db: Database) -> HomeDataSource:
    """The source DATA_SOURCE names; close it with `close_source` (or use `open_source`).

    Args:
        settings: the validated settings.
        db: the shared database (read by the local source only).

    Raises:
        SettingsError (a ValueError): DATA_SOURCE is unknown, or a variable the source needs is unset;
            the message names the variables, never a secret's value.
    """
    kind = settings.data_source
    if kind == "local":
        return LocalHomeSource.from_settings(HomeStore(db), settings)
    if kind == "home_assistant":
        missing = _missing({"HA_URL": settings.ha_url, "HA_TOKEN": settings.ha_token})
        client = None if missing else HomeAssistantClient.from_settings(settings)
        if client is None:
            raise SettingsError(f"DATA_SOURCE=home_assistant needs HA_URL and HA_TOKEN; unset: {', '.join(missing)}")
        return HomeAssistantSource(client)
    if kind == "data_api":
        return DataApiSource.from_settings(settings)
    if kind == "influxdb":
        missing = _missing(
            {
                "INFLUXDB_URL": settings.influxdb_url,
                "INFLUXDB_TOKEN": settings.influxdb_token,
                "INFLUXDB_ORG": settings.influxdb_org,
            }
        )
        if missing:
            raise SettingsError(
                f"DATA_SOURCE=influxdb needs INFLUXDB_URL, INFLUXDB_TOKEN and INFLUXDB_ORG; unset: {', '.join(missing)}"
            )
        return InfluxDbSource.from_settings(settings)
    raise SettingsError(f"DATA_SOURCE: expected one of {', '.join(DATA_SOURCES)}, got {kind!r}")


async def close_source(source: HomeDataSource) -> None:
    """Close the client a source holds; nothing to do for the local source."""
    if isinstance(source, DataApiSource | InfluxDbSource):
        await source.aclose()
    elif isinstance(source, HomeAssistantSource):
        await source.client.aclose()


@asynccontextmanager
async def open_source(settings: Settings, db: Database) -> AsyncIterator[HomeDataSource]:
    """`build_source` as an async context manager that closes the source on the way out."""
    source = build_source(settings, db)
    try:
        yield source
    finally:
        await close_source(source)
