"""Home Assistant -> local store sync against a real Home Assistant: idempotent, resumable, scheduled, CLI."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import run_coro
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.homeassistant_source import HomeAssistantSource
from homeiq_ai.kernel.homedata.model import Event
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.kernel.homedata.sync import DEFAULT_OVERLAP, SYNC_JOB_ID, HomeAssistantSync, SyncResult, sync_job
from homeiq_ai.settings import Secret, load_settings
from integration.procs import free_port

from .conftest import HomeAssistantInstance
from .helpers import force_states, unique_entity, wait_recorded

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

WINDOW = timedelta(seconds=20)
SPAN = timedelta(minutes=10)


class Crash(RuntimeError):
    """The simulated crash."""


class CrashingStore:
    """A HomeStore that dies at a chosen point: before storing a window, or after storing it."""

    def __init__(self, store: HomeStore, *, fail_insert_after: int | None = None, fail_cursor_after: int | None = None):
        self.store = store
        self.fail_insert_after = fail_insert_after
        self.fail_cursor_after = fail_cursor_after
        self.stored_windows = 0
        self.cursor_moves = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def insert_events(self, events: Sequence[Event]) -> Any:
        if events and self.fail_insert_after is not None and self.stored_windows >= self.fail_insert_after:
            raise Crash("the store died before this window")
        result = await self.store.insert_events(events)
        if events:
            self.stored_windows += 1
        return result

    async def set_sync_state(self, source: str, last_synced: datetime | None, details: Any = None) -> None:
        if self.fail_cursor_after is not None and self.stored_windows > self.fail_cursor_after:
            raise Crash("the process died after storing a window, before moving the cursor")
        self.cursor_moves += 1
        await self.store.set_sync_state(source, last_synced, details)


@pytest.fixture
async def client(home_assistant: HomeAssistantInstance) -> AsyncIterator[HomeAssistantClient]:
    """A client of the session's Home Assistant."""
    async with HomeAssistantClient(home_assistant.url, Secret(home_assistant.token), timeout=10) as ha:
        yield ha


@pytest.fixture
async def other_db(migrated_sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A second database at head, for a clean sync to compare with."""
    target = tmp_path / "clean.db"
    target.write_bytes(migrated_sqlite_template.read_bytes())
    database = Database(f"sqlite+aiosqlite:///{target}")
    yield database
    await database.dispose()


def _sync(
    client: HomeAssistantClient,
    store: Any,
    *,
    window: timedelta = WINDOW,
    span: timedelta = SPAN,
    overlap: timedelta = timedelta(minutes=5),
) -> HomeAssistantSync:
    source = HomeAssistantSource(client, window=window)
    return HomeAssistantSync(source, store, initial_span=span, overlap=overlap, safety_lag=timedelta(0))


async def _all_events(store: HomeStore) -> list[tuple[str, str | None, str | None, datetime]]:
    out = []
    far = datetime(2000, 1, 1, tzinfo=UTC)
    async for batch in store.events(far, datetime.now(UTC) + timedelta(days=1)):
        out.extend((e.entity_id, e.old_state, e.new_state, e.time) for e in batch)
    return out


async def _recorded_changes(client: HomeAssistantClient, gap: float = 0.3) -> tuple[str, datetime, datetime]:
    """A fresh entity with three changes, all committed; returns it, its first change and a `now`.

    `now` lies a little in the past once this returns, so the recorder (commit interval 1 s) has
    written everything before it and every sync up to `now` reads the same history.
    """
    sensor = unique_entity()
    times = await force_states(client, sensor, ["10", "20", "30"], gap=gap)
    await wait_recorded(client, sensor, times[0] - timedelta(seconds=1), 3)
    now = datetime.now(UTC)
    await asyncio.sleep(1.5)
    return sensor, times[0], now


async def test_sync_twice_stores_nothing_twice(client: HomeAssistantClient, db: Database) -> None:
    """The second sync of the same span inserts nothing; a later one takes only what is new."""
    sensor, _, now = await _recorded_changes(client)
    store = HomeStore(db)
    sync = _sync(client, store)
    first = await sync.run(now=now)
    assert first.inserted > 0
    assert first.windows == len(sync.source.windows(now - SPAN, now))
    assert (first.start, first.end) == (now - SPAN, now)
    stored = await _all_events(store)
    assert len(stored) == first.inserted
    assert [(o, n) for e, o, n, _ in stored if e == sensor] == [(None, "10"), ("10", "20"), ("20", "30")]
    assert (await store.get_sync_state("home_assistant")).last_synced == now

    second = await sync.run(now=now)
    assert second.inserted == 0
    assert second.duplicates >= 0
    assert await _all_events(store) == stored

    later = await force_states(client, sensor, ["40"])
    await wait_recorded(client, sensor, later[0] - timedelta(seconds=1), 1)
    await asyncio.sleep(1.5)
    third = await sync.run(now=datetime.now(UTC))
    new = [row for row in await _all_events(store) if row not in stored]
    assert ("30", "40", later[0]) in [(o, n, t) for e, o, n, t in new if e == sensor]
    assert third.inserted == len(new)
    assert third.start == now - sync.overlap


async def test_sync_stores_registries(client: HomeAssistantClient, db: Database) -> None:
    """Areas, devices and entities land in the store, areas resolved there as in Home Assistant."""
    store = HomeStore(db)
    result = await _sync(client, store).run()
    assert result.areas >= 5 and result.devices >= 40 and result.entities >= 90
    assert {"office", "garden", "kitchen"} <= {a.area_id for a in await store.areas()}
    entities = {e.entity_id: e for e in await store.entities()}
    assert entities["light.kitchen_lights"].area_id == "kitchen"  # through its device
    assert entities["light.ceiling_lights"].area_id == "office"
    assert entities["sensor.outside_temperature"].unit_of_measurement == "°C"


@pytest.mark.parametrize("crash", ["before_storing_a_window", "after_storing_before_the_cursor"])
async def test_sync_resumed_after_a_crash_equals_a_clean_sync(
    client: HomeAssistantClient, db: Database, other_db: Database, crash: str
) -> None:
    """A sync that died half-way, run again, holds exactly what one clean sync holds."""
    _, first_change, _ = await _recorded_changes(client, gap=0.4)
    sensor_b, _, now = await _recorded_changes(client, gap=0.4)
    # Half-second windows over just this test's changes: several windows hold events.
    kwargs: dict[str, Any] = {
        "window": timedelta(milliseconds=500),
        "span": now - first_change + timedelta(seconds=1),
        "overlap": timedelta(milliseconds=200),
    }
    clean_store = HomeStore(other_db)
    clean = await _sync(client, clean_store, **kwargs).run(now=now)
    expected = await _all_events(clean_store)
    assert clean.windows > 3

    crash_at = {"fail_insert_after": 1} if crash == "before_storing_a_window" else {"fail_cursor_after": 1}
    crashing = CrashingStore(HomeStore(db), **crash_at)
    with pytest.raises(Crash):
        await _sync(client, crashing, **kwargs).run(now=now)
    partial = await _all_events(HomeStore(db))
    assert 0 < len(partial) < len(expected)
    assert set(partial) <= set(expected)

    resumed = await _sync(client, HomeStore(db), **kwargs).run(now=now)
    final = await _all_events(HomeStore(db))
    assert final == expected  # nothing lost, nothing twice, same order
    assert resumed.inserted == len(expected) - len(partial)
    assert resumed.windows < clean.windows  # it started from the cursor, not from the beginning
    assert any(row[0] == sensor_b for row in final)


async def test_sync_job_runs_on_the_configured_interval(
    home_assistant: HomeAssistantInstance, db: Database, database_url: str, tmp_path: Path
) -> None:
    """sync_job is None without Home Assistant, else an interval job that syncs."""
    base = {"DATABASE_URL": database_url, "HOMEIQ_DATA_DIR": str(tmp_path)}
    assert sync_job(load_settings(base), db) is None
    assert sync_job(load_settings({**base, "HA_URL": home_assistant.url}), db) is None
    settings = load_settings(
        {**base, "HA_URL": home_assistant.url, "HA_TOKEN": home_assistant.token, "SYNC_INTERVAL_MINUTES": "7"}
    )
    job = sync_job(settings, db)
    assert job is not None
    assert (job.id, job.trigger, job.seconds, job.run_at_start) == (SYNC_JOB_ID, "interval", 420, True)
    assert sync_job(load_settings({**base, "HA_URL": home_assistant.url, "HA_TOKEN": "t"}), db).seconds == 900
    await job.func()
    assert (await HomeStore(db).get_sync_state("home_assistant")).last_synced is not None


async def test_sync_job_logs_and_survives_an_unreachable_home_assistant(
    db: Database, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A scheduled run that cannot reach Home Assistant logs one warning and leaves the cursor alone."""
    token = "job-secret-token-0123456789"
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "HOMEIQ_DATA_DIR": str(tmp_path),
            "HA_URL": f"http://127.0.0.1:{free_port()}",
            "HA_TOKEN": token,
            "SERVICE_RETRIES": "2",
        }
    )
    job = sync_job(settings, db)
    assert job is not None
    caplog.set_level("DEBUG")
    await job.func()
    assert "home assistant sync skipped this time" in caplog.text
    assert "unreachable" in caplog.text
    assert token not in caplog.text
    assert await HomeStore(db).get_sync_state("home_assistant") is None


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HA_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "homeiq_ai", "sync", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_sync_prints_the_result_and_a_second_run_adds_only_new(
    home_assistant: HomeAssistantInstance, database_url: str, tmp_path: Path
) -> None:
    """`homeiq-ai sync` syncs and prints one summary; a second run starts at the first's end less the overlap."""
    # The first run stops 5 s (the safety lag) before now: Home Assistant must have history older than that.
    time.sleep(max(0.0, home_assistant.started_at + 7 - time.time()))
    env = {
        "DATABASE_URL": database_url,
        "HOMEIQ_DATA_DIR": str(tmp_path),
        "HA_URL": home_assistant.url,
        "HA_TOKEN": home_assistant.token,
    }
    text = _cli(env, "--initial-days", "1")
    assert text.returncode == 0, text.stderr
    line = re.fullmatch(r"synced (\d+) new events \(\d+ already stored\) in 1 windows \[.*\]; .*s\n", text.stdout)
    assert line, text.stdout
    assert home_assistant.token not in text.stdout + text.stderr
    first = msgspec.json.decode(_cli(env, "--json").stdout, type=SyncResult)
    second = msgspec.json.decode(_cli(env, "--json").stdout, type=SyncResult)
    assert int(line.group(1)) > 0
    assert second.start == first.end - DEFAULT_OVERLAP

    async def _counts() -> tuple[int, int]:
        database = Database(database_url)
        try:
            store = HomeStore(database)
            return await store.count_events(), await store.count_events(second.start, first.end)
        finally:
            await database.dispose()

    total, in_overlap = run_coro(_counts)
    assert total == int(line.group(1)) + first.inserted + second.inserted
    assert second.duplicates == in_overlap  # what it read again was stored already, and only that


def test_cli_sync_unreachable_or_unconfigured_is_one_clear_line(database_url: str, tmp_path: Path) -> None:
    """Exit 1 with one line naming the problem; the token never shows."""
    token = "cli-secret-token-0123456789"
    base = {"DATABASE_URL": database_url, "HOMEIQ_DATA_DIR": str(tmp_path)}
    unconfigured = _cli(base)
    assert unconfigured.returncode == 1
    assert unconfigured.stderr.strip().splitlines() == [
        "homeiq-ai sync: Home Assistant is not configured: set HA_URL and HA_TOKEN"
    ]
    port = free_port()
    env = {**base, "HA_URL": f"http://127.0.0.1:{port}", "HA_TOKEN": token, "SERVICE_RETRIES": "2"}
    unreachable = _cli(env)
    assert unreachable.returncode == 1
    lines = unreachable.stderr.strip().splitlines()
    assert len(lines) == 1, unreachable.stderr
    assert lines[0].startswith("homeiq-ai sync: ")
    assert f"Home Assistant is unreachable at http://127.0.0.1:{port}" in lines[0]
    assert token not in unreachable.stdout + unreachable.stderr
