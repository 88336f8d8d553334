"""`kill -9` of `homeiq-ai sync` in the middle of a run of changes: the rerun resumes from the stored cursor, and
the store ends with the same events as a clean sync of the same span, each once."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from conftest import sqlite_url
from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.sync import DEFAULT_OVERLAP, SyncResult
from homeiq_ai.settings import Secret
from integration.homeassistant.conftest import HomeAssistantInstance
from integration.homeassistant.helpers import force_states, unique_entity, wait_recorded
from integration.procs import REPO

from .faulty import FaultyHomeAssistant

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SPAN_DAYS = 90 / 86400  # 90 s of history
WINDOW_HOURS = 1 / 3600  # one Home Assistant call per second of it: about 90 windows
FORCED = 12  # one a second: the kill lands with some of them stored and the rest still to fetch


def sync_argv(*extra: str, span_days: float = SPAN_DAYS) -> list[str]:
    return [
        sys.executable,
        "-m",
        "homeiq_ai",
        "sync",
        "--initial-days",
        str(span_days),
        "--window-hours",
        str(WINDOW_HOURS),
        *extra,
    ]


def sync_env(db_file: Path, tmp_path: Path, ha_url: str, token: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": sqlite_url(db_file),
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "HA_URL": ha_url,
        "HA_TOKEN": token,
    }


def cursor(db_file: Path) -> str | None:
    try:
        with sqlite3.connect(db_file) as conn:
            row = conn.execute("SELECT last_synced FROM home_sync_state").fetchone()
    except sqlite3.OperationalError:  # the writer holds the file for a moment
        return None
    return row[0] if row else None


def stored_count(db_file: Path, entity_id: str) -> int:
    """Events of the entity stored so far (0 while the writer holds the file)."""
    try:
        with sqlite3.connect(db_file) as conn:
            return conn.execute("SELECT count(*) FROM home_event WHERE entity_id = ?", (entity_id,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def events(db_file: Path, since: str, until: str) -> list[tuple[str, str, str | None]]:
    """(entity, time, new state) of the events with since <= time < until, in order."""
    with sqlite3.connect(db_file) as conn:
        return conn.execute(
            "SELECT entity_id, time, new_state FROM home_event WHERE time >= ? AND time < ? ORDER BY entity_id, time",
            (since, until),
        ).fetchall()


def stored_time(moment: datetime) -> str:
    """A time as the SQLite store writes it (naive UTC), for comparisons in SQL."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def test_sync_killed_in_the_middle(
    home_assistant: HomeAssistantInstance, migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """The kill lands with some of the forced changes stored and the rest still to fetch; the rerun starts at the
    stored cursor less the overlap, skips what is stored and stores the rest; the result equals a clean sync's,
    no event twice."""
    entity = unique_entity()

    async def _history() -> list[datetime]:
        async with HomeAssistantClient(home_assistant.url, Secret(home_assistant.token), timeout=10) as client:
            since = datetime.now(UTC)
            times = await force_states(client, entity, [str(n) for n in range(FORCED)], gap=1.0)
            await wait_recorded(client, entity, since, FORCED)
            return times

    forced = asyncio.run(_history())
    time.sleep(6)  # older than the sync's 5 s safety lag

    db_file = tmp_path / "killed.db"
    db_file.write_bytes(migrated_sqlite_template.read_bytes())
    log_path = tmp_path / "sync-killed.log"
    with FaultyHomeAssistant(home_assistant.url) as proxy, log_path.open("wb") as log:
        proxy.delay = 0.1  # about 0.15 s a window: the forced changes take about 2 s to fetch
        env = sync_env(db_file, tmp_path, proxy.url, home_assistant.token)
        proc = subprocess.Popen(sync_argv("--verbose"), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while stored_count(db_file, entity) == 0:
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.02)
        proc.kill()
        assert proc.wait(10) == -9
    stored_at_kill = stored_count(db_file, entity)
    assert 0 < stored_at_kill < FORCED, stored_at_kill  # some of the forced changes stored, the rest not
    text = log_path.read_text()
    began = re.search(r"first sync from (\S+) to (\S+) in (\d+) windows", text)
    assert began, text
    start, until, windows = datetime.fromisoformat(began[1]), datetime.fromisoformat(began[2]), int(began[3])
    assert windows > 50
    stored_cursor = cursor(db_file)
    assert stored_cursor is not None
    at_kill = datetime.fromisoformat(stored_cursor).replace(tzinfo=UTC)
    assert start < at_kill < max(forced) < until, (start, at_kill, forced, until)

    rerun = subprocess.run(
        sync_argv("--json"),
        cwd=REPO,
        env=sync_env(db_file, tmp_path, home_assistant.url, home_assistant.token),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    resumed = msgspec.json.decode(rerun.stdout, type=SyncResult)
    assert resumed.start == at_kill - DEFAULT_OVERLAP
    assert resumed.duplicates >= stored_at_kill  # the overlap fetched again what the killed run had stored
    assert resumed.end is not None

    clean_file = tmp_path / "clean.db"
    clean_file.write_bytes(migrated_sqlite_template.read_bytes())
    # The clean sync reaches back past the killed one's start, so that both cover [start, resumed.end).
    reach = (datetime.now(UTC) - start + timedelta(seconds=30)).total_seconds() / 86400
    clean = subprocess.run(
        sync_argv("--json", span_days=reach),
        cwd=REPO,
        env=sync_env(clean_file, tmp_path, home_assistant.url, home_assistant.token),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert clean.returncode == 0, clean.stderr
    clean_result = msgspec.json.decode(clean.stdout, type=SyncResult)
    assert clean_result.start is not None and clean_result.start <= start

    # Over the span both covered: the same events, each once; the forced changes all among them.
    since, upto = stored_time(start), stored_time(resumed.end)
    after_kill_and_rerun = events(db_file, since, upto)
    assert after_kill_and_rerun == events(clean_file, since, upto)
    assert len(after_kill_and_rerun) == len(set(after_kill_and_rerun))
    assert [state for eid, _t, state in after_kill_and_rerun if eid == entity] == [str(n) for n in range(FORCED)]
    done = sum(1 for _ in re.finditer(r"sync: window \d+/", text))
    print(
        f"sync crash: killed after {done} of {windows} windows, {stored_at_kill} of {FORCED} forced changes stored; "
        f"the rerun fetched {resumed.windows} windows and "
        f"stored {resumed.inserted} events ({resumed.duplicates} already stored); {len(after_kill_and_rerun)} events "
        "equal a clean sync's"
    )
