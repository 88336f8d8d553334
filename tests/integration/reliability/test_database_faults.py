"""SQLite under four writing processes at once (WAL + busy_timeout), and PostgreSQL dropping the app's
connections (pg_terminate_backend) between and during requests (pool_pre_ping)."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import sqlite_url

WRITERS = 4
BATCHES = 60
PER_BATCH = 25


def _writer(url: str, number: int, start: float, errors: Any) -> None:
    """One process: wait for the common start, then write BATCHES transactions of PER_BATCH events."""
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.model import Event
    from homeiq_ai.kernel.homedata.store import HomeStore

    async def run() -> None:
        db = Database(url)
        store = HomeStore(db)
        base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number)
        while time.time() < start:
            await asyncio.sleep(0.005)
        try:
            for batch in range(BATCHES):
                events = [
                    Event(
                        entity_id=f"sensor.writer_{number}",
                        old_state=None,
                        new_state=str(i),
                        time=base + timedelta(seconds=batch * PER_BATCH + i),
                    )
                    for i in range(PER_BATCH)
                ]
                await store.insert_events(events)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except Exception as exc:
        errors.put(f"writer {number}: {type(exc).__name__}: {exc}")


@pytest.mark.integration
def test_sqlite_four_processes_writing_at_once(migrated_sqlite_template: Path, tmp_path: Path) -> None:
    """Four processes, 60 transactions each, all at once: no 'database is locked', no lost row."""
    db_file = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, db_file)
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    start = time.time() + 3.0  # every process has imported and opened its engine by then
    procs = [ctx.Process(target=_writer, args=(sqlite_url(db_file), n, start, errors)) for n in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    took = time.time() - start
    problems = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert not problems, problems
    assert [p.exitcode for p in procs] == [0] * WRITERS
    with sqlite3.connect(db_file) as conn:
        counts = dict(conn.execute("SELECT entity_id, count(*) FROM home_event GROUP BY entity_id").fetchall())
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert counts == {f"sensor.writer_{n}": BATCHES * PER_BATCH for n in range(WRITERS)}, counts
    print(f"sqlite: {WRITERS} processes x {BATCHES} transactions x {PER_BATCH} events in {took:.2f} s")


async def _terminate_app_connections(database: str) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from conftest import PG_ADMIN_URL

    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.integration
async def test_postgres_connections_dropped_between_and_during_runs(
    pg_database_factory: Callable[[], str], app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """Every app connection killed: the next request works (pre-ping); a run whose connection is killed mid-way
    ends completed or failed, never stuck `running`, and the next run completes."""
    from homeiq_ai.kernel import migrate

    url = pg_database_factory()
    await asyncio.to_thread(migrate.upgrade, url)
    database = url.rsplit("/", 1)[1]
    settings = make_settings(DATABASE_URL=url)
    async with app_client("all", settings) as client:
        base = datetime.now(UTC) - timedelta(days=5)
        events = [
            {"entity_id": f"light.pg_{n % 5}", "old_state": "off", "new_state": "on" if i % 2 else "off",
             "time": (base + timedelta(minutes=7 * i + n)).isoformat()}
            for n in range(5)
            for i in range(400)
        ]  # fmt: skip
        stored = await client.post("/api/v1/home/events", json={"events": events})
        assert stored.status_code == 201, stored.text
        killed = await _terminate_app_connections(database)
        assert killed >= 1
        # Between requests: the pool's pre-ping replaces the dead connections; the next request just works.
        first = await client.post("/api/v1/analysis/run", json={})
        assert first.status_code == 202, first.text
        run_id = first.json()["id"]
        # During the run: kill every app connection every 50 ms for a second.
        terminated = 0
        for _ in range(20):
            terminated += await _terminate_app_connections(database)
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 30
        while True:
            answer = await client.get(f"/api/v1/analysis/runs/{run_id}")
            assert answer.status_code == 200, answer.text
            if answer.json()["status"] in ("completed", "failed"):
                break
            assert time.monotonic() < deadline, answer.json()
            await asyncio.sleep(0.1)
        ended = answer.json()
        print(f"postgres: {killed} + {terminated} connections terminated; run {ended['status']} {ended['errors'][:1]}")
        nxt = (await client.post("/api/v1/analysis/run", json={})).json()
        deadline = time.monotonic() + 30
        while (run := (await client.get(f"/api/v1/analysis/runs/{nxt['id']}")).json())["status"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, run
            await asyncio.sleep(0.1)
        assert run["status"] == "completed", run
        listed = (await client.get("/api/v1/analysis/runs")).json()
        assert "running" not in {r["status"] for r in listed["items"]}
