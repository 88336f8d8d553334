"""build_source / open_source: one source per DATA_SOURCE value, clear errors for missing configuration."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.data_api_source import DataApiSource
from homeiq_ai.kernel.homedata.homeassistant_source import HomeAssistantSource
from homeiq_ai.kernel.homedata.influxdb_source import InfluxDbSource
from homeiq_ai.kernel.homedata.sources import build_source, close_source, open_source
from homeiq_ai.kernel.homedata.store import LocalHomeSource
from homeiq_ai.settings import Settings, SettingsError

HA_TOKEN = "ha-long-lived-token-abcdef0123456789"
INFLUX_TOKEN = "influx-token-0123456789abcdef"

MakeSettings = Callable[..., Settings]


async def test_local_reads_the_shared_database(make_settings: MakeSettings, db: Database) -> None:
    """DATA_SOURCE=local (the default) is the local store with the HOME_* settings."""
    source = build_source(make_settings(HOME_TIME_ZONE="Europe/Berlin"), db)
    assert isinstance(source, LocalHomeSource) and source.name == "local"
    assert source.store.db is db
    assert (await source.home_info()).time_zone == "Europe/Berlin"
    await close_source(source)  # nothing to close, and no error


async def test_home_assistant_needs_its_url_and_token(make_settings: MakeSettings, db: Database) -> None:
    """HA_URL and HA_TOKEN give a HomeAssistantSource; either missing is named, the token never shown."""
    settings = make_settings(DATA_SOURCE="home_assistant", HA_URL="http://ha.local:8123", HA_TOKEN=HA_TOKEN)
    source = build_source(settings, db)
    assert isinstance(source, HomeAssistantSource)
    assert source.client.base_url == "http://ha.local:8123"
    await close_source(source)
    assert source.client._http.is_closed

    with pytest.raises(SettingsError, match=r"HA_URL and HA_TOKEN; unset: HA_URL, HA_TOKEN"):
        build_source(make_settings(DATA_SOURCE="home_assistant"), db)
    with pytest.raises(ValueError, match=r"unset: HA_URL$"):
        build_source(make_settings(DATA_SOURCE="home_assistant", HA_TOKEN=HA_TOKEN), db)
    with pytest.raises(ValueError) as caught:
        build_source(make_settings(DATA_SOURCE="home_assistant", HA_URL="http://ha.local:8123"), db)
    assert "unset: HA_TOKEN" in str(caught.value)


async def test_data_api_uses_data_api_url_and_the_home_settings(make_settings: MakeSettings, db: Database) -> None:
    """DATA_SOURCE=data_api reads DATA_API_URL (the seed's default when unset) and HOME_TIME_ZONE."""
    source = build_source(
        make_settings(DATA_SOURCE="data_api", DATA_API_URL="http://data-api.local:8006/", HOME_TIME_ZONE="Europe/Oslo"),
        db,
    )
    assert isinstance(source, DataApiSource)
    assert source.base_url == "http://data-api.local:8006"
    info = await source.home_info()
    assert info.time_zone == "Europe/Oslo" and info.source == "data_api"
    await close_source(source)
    assert source._http.is_closed

    default = build_source(make_settings(DATA_SOURCE="data_api"), db)
    assert isinstance(default, DataApiSource) and default.base_url == "http://data-api:8006"
    await close_source(default)


async def test_influxdb_needs_url_token_and_org(make_settings: MakeSettings, db: Database) -> None:
    """INFLUXDB_URL, INFLUXDB_TOKEN and INFLUXDB_ORG give an InfluxDbSource; the missing ones are named."""
    settings = make_settings(
        DATA_SOURCE="influxdb",
        INFLUXDB_URL="http://influxdb.local:8086",
        INFLUXDB_TOKEN=INFLUX_TOKEN,
        INFLUXDB_ORG="homeiq",
    )
    source = build_source(settings, db)
    assert isinstance(source, InfluxDbSource)
    assert (source.url, source.org, source.bucket) == ("http://influxdb.local:8086", "homeiq", "home_assistant_events")
    await close_source(source)
    assert source._http.is_closed

    with pytest.raises(SettingsError) as caught:
        build_source(make_settings(DATA_SOURCE="influxdb", INFLUXDB_TOKEN=INFLUX_TOKEN), db)
    message = str(caught.value)
    assert "INFLUXDB_URL, INFLUXDB_TOKEN and INFLUXDB_ORG" in message
    assert message.endswith("unset: INFLUXDB_URL, INFLUXDB_ORG")
    assert INFLUX_TOKEN not in message
    with pytest.raises(ValueError, match=r"unset: INFLUXDB_URL, INFLUXDB_TOKEN, INFLUXDB_ORG$"):
        build_source(make_settings(DATA_SOURCE="influxdb"), db)


async def test_an_unknown_data_source_is_refused(settings: Settings, db: Database) -> None:
    """A Settings built by hand with another value names the accepted ones."""
    from dataclasses import replace

    with pytest.raises(SettingsError, match="DATA_SOURCE: expected one of local, home_assistant, data_api, influxdb"):
        build_source(replace(settings, data_source="mqtt"), db)


async def test_open_source_closes_the_client_on_the_way_out(make_settings: MakeSettings, db: Database) -> None:
    """The context manager closes the source's HTTP client, also when the block raises."""
    settings = make_settings(DATA_SOURCE="data_api")
    async with open_source(settings, db) as source:
        assert isinstance(source, DataApiSource) and not source._http.is_closed
    assert source._http.is_closed

    settings = make_settings(
        DATA_SOURCE="influxdb", INFLUXDB_URL="http://influxdb.local:8086", INFLUXDB_TOKEN=INFLUX_TOKEN, INFLUXDB_ORG="o"
    )
    with pytest.raises(RuntimeError, match="boom"):
        async with open_source(settings, db) as failing:
            raise RuntimeError("boom")
    assert isinstance(failing, InfluxDbSource) and failing._http.is_closed
