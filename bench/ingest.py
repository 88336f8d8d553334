"""Events/s into SQLite through the ingest API, `homeiq-ai import` and sync; query time of an event window.

Generates its own deterministic home: 100 entities (lights, switches, motion sensors, power and temperature
sensors) and 1,000,000 state changes spread over 60 days, about 1 in 10 with attributes. Then:

(a) ingest API: a real uvicorn process (`homeiq-ai serve --modules pattern`, one worker) on a fresh SQLite
    file, fed sequential `POST /api/v1/home/events` batches of 5,000 over one keep-alive HTTP/1.1 connection;
(b) import: `homeiq-ai import EVENTS.jsonl` of all 1,000,000 lines into a fresh SQLite file, timed as a
    subprocess from start to exit (interpreter start-up included); target < 30 s;
(c) sync: the real Home Assistant sync (HomeAssistantClient over loopback HTTP and WebSocket,
    HomeAssistantSource in day-long windows, HomeAssistantSync, HomeStore) into a fresh SQLite file, from
    bench/fake_homeassistant.py in its own process: a stand-in speaking Home Assistant 2024.3's REST and
    WebSocket shapes (as recorded in tests/fixtures/homeassistant/), serving the same number of changes over
    30 days on 100 entities, its history answers encoded before the clock starts; then a second, resumed
    sync that should store nothing new (its 5-minute overlap comes back as duplicates);
(d) query: the imported database read back with `HomeStore.events` over a 30-day window (days 15-45),
    for all 100 entities named, for every entity (no filter), and for a 10-entity subset.

Exit status 1 when the import misses its target.

    .venv/bin/python bench/ingest.py [--events 1000000] [--api-events 200000] [--only PART ...] [--keep DIR]

PART is api, import, sync or query (query also runs the import it reads); default: all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

import fake_homeassistant  # noqa: E402
from homeiq_ai.kernel import migrate  # noqa: E402
from homeiq_ai.kernel.db import Database  # noqa: E402
from homeiq_ai.kernel.homeassistant import HomeAssistantClient, history_entity_chunks  # noqa: E402
from homeiq_ai.kernel.homedata.homeassistant_source import DEFAULT_WINDOW, HomeAssistantSource  # noqa: E402
from homeiq_ai.kernel.homedata.store import HomeStore, InsertResult  # noqa: E402
from homeiq_ai.kernel.homedata.sync import (  # noqa: E402
    DEFAULT_OVERLAP,
    DEFAULT_SAFETY_LAG,
    HomeAssistantSync,
    SyncResult,
)
from homeiq_ai.settings import Secret  # noqa: E402

HOST = "127.0.0.1"
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 60
WINDOW = (START + timedelta(days=15), START + timedelta(days=45))
API_BATCH = 5_000
IMPORT_TARGET_S = 30.0
QUERY_REPEATS = 3


# --- the generated home -------------------------------------------------------------------------------


def entity_ids() -> list[str]:
    """100 entities across the common domains."""
    kinds = [("light", 30), ("switch", 15), ("binary_sensor", 25), ("sensor", 30)]
    names = []
    for domain, count in kinds:
        names += [f"{domain}.bench_{i:03d}" for i in range(count)]
    return names


def generate(count: int, seed: int = 42) -> Iterator[dict[str, object]]:
    """`count` state changes in time order, one every DAYS/count, on random entities (deterministic)."""
    rng = random.Random(seed)
    entities = entity_ids()
    last: dict[str, str | None] = dict.fromkeys(entities)
    step = timedelta(days=DAYS) / count
    for i in range(count):
        entity_id = entities[rng.randrange(len(entities))]
        if entity_id.startswith("sensor."):
            new = f"{rng.uniform(0, 3000):.1f}" if entity_id.endswith(("0", "2", "4")) else f"{rng.gauss(21, 2):.2f}"
        else:
            new = "off" if last[entity_id] == "on" else "on"
        event: dict[str, object] = {
            "entity_id": entity_id,
            "old_state": last[entity_id],
            "new_state": new,
            "time": START + step * i,
        }
        if i % 10 == 0:
            event["attributes"] = {"friendly_name": entity_id.split(".")[1].replace("_", " "), "brightness": i % 255}
        last[entity_id] = new
        yield event


def write_jsonl(path: Path, count: int) -> float:
    """Write the generated events as JSON Lines; returns seconds taken."""
    started = time.perf_counter()
    encoder = msgspec.json.Encoder()
    with path.open("wb") as fh:
        chunk: list[dict[str, object]] = []
        for event in generate(count):
            chunk.append(event)
            if len(chunk) == 50_000:
                fh.write(encoder.encode_lines(chunk))
                chunk = []
        if chunk:
            fh.write(encoder.encode_lines(chunk))
    return time.perf_counter() - started


# --- helpers ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _environment(db_path: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MQTT_BROKER", "API_KEY", "CORRELATION_CACHE_DB", "HA_URL", "HA_TOKEN", "PORT", "HOST"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        HOMEIQ_DATA_DIR=str(data_dir),
        SCHEDULER_ENABLED="false",
        LOG_LEVEL="WARNING",
        MAX_BODY_BYTES=str(64 * 1024 * 1024),
        INGEST_MAX_BATCH=str(API_BATCH),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p),
    )
    return env


def _fresh_db(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    return url


def _homeiq() -> list[str]:
    return [sys.executable, "-m", "homeiq_ai"]


# --- (a) ingest API -----------------------------------------------------------------------------------


def bench_api(tmp: Path, count: int) -> tuple[int, float]:
    """POST `count` events in batches of 5,000 to a real server; returns (inserted, seconds)."""
    db_path = tmp / "api.db"
    _fresh_db(db_path)
    env = _environment(db_path, tmp / "data-api")
    port = _free_port()
    log = (tmp / "api-server.log").open("wb")
    proc = subprocess.Popen(
        [*_homeiq(), "serve", "--modules", "pattern", "--host", HOST, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {(tmp / 'api-server.log').read_text()}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready after 60 s")
            time.sleep(0.2)
        encoder = msgspec.json.Encoder()
        bodies: list[bytes] = []
        batch: list[dict[str, object]] = []
        for event in generate(count, seed=7):
            batch.append(event)
            if len(batch) == API_BATCH:
                bodies.append(encoder.encode({"events": batch}))
                batch = []
        if batch:
            bodies.append(encoder.encode({"events": batch}))
        inserted = 0
        with httpx.Client(base_url=base, timeout=60, headers={"content-type": "application/json"}) as client:
            started = time.perf_counter()
            for body in bodies:
                response = client.post("/api/v1/home/events", content=body)
                if response.status_code != 201:
                    raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:500]}")
                inserted += response.json()["inserted"]
            seconds = time.perf_counter() - started
        return inserted, seconds
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


# --- (b) import ---------------------------------------------------------------------------------------


def bench_import(tmp: Path, jsonl: Path) -> tuple[Path, float, str]:
    """Run `homeiq-ai import` on a fresh SQLite file; returns (database, wall seconds, its summary line)."""
    db_path = tmp / "import.db"
    _fresh_db(db_path)
    env = _environment(db_path, tmp / "data-import")
    started = time.perf_counter()
    result = subprocess.run(
        [*_homeiq(), "import", str(jsonl)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"homeiq-ai import failed ({result.returncode}):\n{result.stderr[-2000:]}")
    lines = [ln for ln in result.stderr.splitlines() if "imported:" in ln]
    return db_path, seconds, lines[-1] if lines else result.stderr.strip()


# --- (c) sync -----------------------------------------------------------------------------------------


SYNC_DAYS = 30
SYNC_TOKEN = "homeiq-bench-token"  # the fake Home Assistant's own, nothing real
SERVER_START_TIMEOUT_S = 300


class _TimedClient(HomeAssistantClient):
    """The real client; only adds up the time its history calls take (HTTP and JSON decode)."""

    history_seconds = 0.0
    history_calls = 0

    async def history(self, start: datetime, end: datetime, entity_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        started = time.perf_counter()
        try:
            return await super().history(start, end, entity_ids)
        finally:
            self.history_seconds += time.perf_counter() - started
            self.history_calls += len(history_entity_chunks(list(entity_ids)))


class _TimedStore(HomeStore):
    """The real store; only adds up the time its event inserts take."""

    insert_seconds = 0.0

    async def insert_events(self, events: Sequence[Any], *, register_entities: bool = True) -> InsertResult:
        started = time.perf_counter()
        try:
            return await super().insert_events(events, register_entities=register_entities)
        finally:
            self.insert_seconds += time.perf_counter() - started


def _sync_plan(source: HomeAssistantSource, data_end: datetime, entities: list[str]) -> dict[str, object]:
    """The history calls both syncs will make: a fresh one over SYNC_DAYS, then a resumed one (overlap only)."""
    lead = timedelta(seconds=1)  # HomeAssistantSource asks from 1 s before each window (_LEAD)
    windows = source.windows(data_end - timedelta(days=SYNC_DAYS), data_end)
    windows += source.windows(data_end - DEFAULT_OVERLAP, data_end)
    return {
        "windows": [[(lower - lead).isoformat(), upper.isoformat()] for lower, upper in windows],
        "chunks": history_entity_chunks(entities),
    }


async def _run_syncs(base: str, db_path: Path, now: datetime) -> dict[str, Any]:
    db = Database(_fresh_db(db_path))
    out: dict[str, Any] = {}
    try:
        store = _TimedStore(db)
        async with (
            _TimedClient(base, Secret(SYNC_TOKEN), timeout=30, history_timeout=300) as client,
            httpx.AsyncClient(base_url=base) as bench,
        ):
            source = HomeAssistantSource(client, window=DEFAULT_WINDOW)
            sync = HomeAssistantSync(source, store, initial_span=timedelta(days=SYNC_DAYS))
            out["server_before"] = (await bench.get("/bench/stats")).json()
            started = time.perf_counter()
            out["first"] = await sync.run(now=now)
            out["seconds"] = time.perf_counter() - started
            out["server_after"] = (await bench.get("/bench/stats")).json()
            out["history_seconds"] = client.history_seconds
            out["history_calls"] = client.history_calls
            out["insert_seconds"] = store.insert_seconds
            started = time.perf_counter()
            out["second"] = await sync.run(now=now)
            out["second_seconds"] = time.perf_counter() - started
        out["stored"] = await store.count_events()
    finally:
        await db.dispose()
    return out


def bench_sync(tmp: Path, count: int) -> tuple[int, float, list[str]]:
    """Sync a fake Home Assistant's `count` changes over SYNC_DAYS into a fresh SQLite file, then again.

    The real path: HomeAssistantClient over loopback HTTP and WebSocket, HomeAssistantSource (one history
    call per day-long window), HomeAssistantSync and HomeStore. The server (bench/fake_homeassistant.py, its
    own process) answers as Home Assistant 2024.3 does, from history bodies encoded before the clock starts;
    its own time answering is reported beside the total. Returns (events stored, seconds, detail lines).
    """
    data_end = START + timedelta(days=SYNC_DAYS)
    now = data_end + DEFAULT_SAFETY_LAG  # the sync stops at now - safety lag: exactly the data's end
    port = _free_port()
    base = f"http://{HOST}:{port}"
    source = HomeAssistantSource(HomeAssistantClient(base, Secret(SYNC_TOKEN)), window=DEFAULT_WINDOW)
    plan_path = tmp / "sync-plan.json"
    plan_path.write_text(json.dumps(_sync_plan(source, data_end, fake_homeassistant.entity_ids())))
    log_path = tmp / "fake-ha.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "fake_homeassistant.py"),
            *("--host", HOST, "--port", str(port), "--token", SYNC_TOKEN, "--events", str(count)),
            *("--days", str(SYNC_DAYS), "--start", START.isoformat(), "--plan", str(plan_path)),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        headers = {"Authorization": f"Bearer {SYNC_TOKEN}"}
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"fake Home Assistant exited: {log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/api/config", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"fake Home Assistant not ready after {SERVER_START_TIMEOUT_S} s")
            time.sleep(0.2)
        result = asyncio.run(_run_syncs(base, tmp / "sync.db", now))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()

    first: SyncResult = result["first"]
    second: SyncResult = result["second"]
    seconds = result["seconds"]
    before, after = result["server_before"], result["server_after"]
    server_answer = after["answer_seconds"] - before["answer_seconds"]
    server_cpu = after["cpu_seconds"] - before["cpu_seconds"]
    fetch, insert = result["history_seconds"], result["insert_seconds"]
    served = log_path.read_text(errors="replace").strip().splitlines()
    lines = [
        f"    {served[0] if served else 'fake home assistant: no output'}; "
        f"{after['prepared_bytes'] / 1e6:.0f} MB of JSON, before the clock",
        f"    first sync: {first.inserted:,} new events, {first.duplicates:,} duplicates, {first.windows} windows "
        f"of {DEFAULT_WINDOW.days} day, {result['history_calls']} history calls "
        f"({after['built_on_demand'] - before['built_on_demand']:.0f} answers built on demand), "
        f"{first.entities} entities, {first.devices} devices, {first.areas} areas",
        f"    of {seconds:.1f} s: history calls {fetch:.1f} s (HTTP + JSON decode; the server spent "
        f"{server_answer:.2f} s answering, {server_cpu:.2f} s CPU), SQLite inserts {insert:.1f} s, "
        f"the rest {seconds - fetch - insert:.1f} s (conversion to events, registries, cursor); "
        f"without the server's answering: {first.inserted / (seconds - server_answer):,.0f} events/s",
        f"    second sync (resumed, same now): {second.inserted:,} new, {second.duplicates:,} duplicates "
        f"(the {DEFAULT_OVERLAP.total_seconds() / 60:g} min overlap) in {second.windows} window, "
        f"{result['second_seconds']:.2f} s",
        f"    stored: {result['stored']:,} events (generated {count:,})"
        + ("" if result["stored"] == count else "  <-- MISMATCH"),
    ]
    return first.inserted, seconds, lines


# --- (d) query ----------------------------------------------------------------------------------------


async def bench_query(db_path: Path) -> list[tuple[str, int, float, float]]:
    """Read the 30-day window back; returns (label, events, best s, median s) per case."""
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    store = HomeStore(db)
    entities = entity_ids()
    rng = random.Random(3)
    subset = sorted(rng.sample(entities, 10))
    cases = [
        ("100 entities named", entities),
        ("all entities (no filter)", None),
        ("10 entities", subset),
    ]
    results = []
    try:
        for label, chosen in cases:
            times = []
            count = 0
            for _ in range(QUERY_REPEATS):
                started = time.perf_counter()
                count = 0
                async for batch in store.events(*WINDOW, chosen, 10_000):
                    count += len(batch)
                times.append(time.perf_counter() - started)
            results.append((label, count, min(times), statistics.median(times)))
        started = time.perf_counter()
        page = await store.event_page(start=WINDOW[0], end=WINDOW[1], entity_ids=subset, limit=1000)
        results.append(("API page: 1,000 events of 10 entities", len(page.items), time.perf_counter() - started, 0.0))
    finally:
        await db.dispose()
    return results


# --- main ---------------------------------------------------------------------------------------------


PARTS = ("api", "import", "sync", "query")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events imported and synced (default 1,000,000)")
    parser.add_argument("--api-events", type=int, default=200_000, help="events sent to the API (default 200,000)")
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable; query runs the import it reads); default: all",
    )
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    if "query" in parts:
        parts.add("import")

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="homeiq-bench-ingest-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
        f"{platform.machine()} {platform.system()}; work folder {tmp}"
    )
    failed = False
    try:
        if "import" in parts:
            jsonl = tmp / "events.jsonl"
            generated = write_jsonl(jsonl, args.events)
            size_mb = jsonl.stat().st_size / 1e6
            print(f"generated {args.events:,} events, 100 entities, {DAYS} days: {size_mb:.0f} MB in {generated:.1f} s")

        if "api" in parts:
            inserted, seconds = bench_api(tmp, args.api_events)
            print(
                f"(a) ingest API (uvicorn process, batches of {API_BATCH:,}, sequential): "
                f"{inserted:,} events in {seconds:.1f} s = {inserted / seconds:,.0f} events/s"
            )

        if "import" in parts:
            db_path, seconds, summary = bench_import(tmp, jsonl)
            status = "OK" if seconds < IMPORT_TARGET_S else "MISSED"
            failed = seconds >= IMPORT_TARGET_S
            print(
                f"(b) homeiq-ai import: {args.events:,} lines in {seconds:.1f} s wall = "
                f"{args.events / seconds:,.0f} events/s (target < {IMPORT_TARGET_S:g} s: {status})"
            )
            print(f"    the command said: {re.sub(r'^homeiq-ai import: ', '', summary)}")

        if "sync" in parts:
            synced, seconds, details = bench_sync(tmp, args.events)
            print(
                f"(c) sync (fake Home Assistant on loopback -> HomeAssistantSync -> fresh SQLite, {SYNC_DAYS} days): "
                f"{synced:,} events in {seconds:.1f} s = {synced / seconds:,.0f} events/s"
            )
            print("\n".join(details))

        if "query" in parts:
            print(
                f"(d) query, window {WINDOW[0]:%Y-%m-%d} .. {WINDOW[1]:%Y-%m-%d} (30 days), "
                "HomeStore.events, batches of 10,000:"
            )
            for label, count, best, median in asyncio.run(bench_query(db_path)):
                extra = f", median {median:.2f} s" if median else ""
                print(
                    f"    {label}: {count:,} events in {best:.2f} s best of {QUERY_REPEATS}{extra}"
                    + (f" = {count / best:,.0f} events/s" if best else "")
                )
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
