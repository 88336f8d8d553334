"""Soak: the four-process split under mixed load for N minutes, then the counts reconciled.

`.venv/bin/python bench/soak.py --db sqlite --minutes 10`
`.venv/bin/python bench/soak.py --db postgresql --minutes 10 --replicas 2`

Starts a real Home Assistant 2024.3.3 (demo home, as the integration tests do), loads the synthetic
demo home into a fresh database (a SQLite file, or a new PostgreSQL database on 127.0.0.1:5432), and
runs training, pattern, query and automation as separate uvicorn processes (`--replicas` copies of
pattern and query). Then, for `--minutes`:
- 2 clients ask queries (round robin over the query replicas);
- 1 client ingests batches of 200 new state changes;
- 1 client starts an analysis every 45 s (round robin over the pattern replicas), each over the same
  30 days (the demo home's, which ends before the first ingested event): RSS growth then measures what
  the processes keep, not a home whose mined history grows 200 events a second;
- 1 client writes a suggestion, approves it and deploys it to Home Assistant every 3 s.
Each process's RSS is sampled every 5 s. At the end the counts are reconciled against the database
and Home Assistant: every query answered 201 is stored once, every event sent is stored once, every
accepted analysis ran once and finished, every deploy answered 201 has one deployed version and one
automation in Home Assistant, nothing is left pending or running, no answer was a 5xx. RSS growth is
the peak of the last two minutes over the peak of minutes 1-3 (each window holds analyses). Prints a
JSON report; exits 1 when a count does not reconcile.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from homeiq_ai.kernel.migrate import upgrade  # noqa: E402
from integration.homeassistant.conftest import running_home_assistant  # noqa: E402
from integration.procs import ServerProcess, free_port, uvicorn_argv  # noqa: E402

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
URL_VARS = {
    "training": "AI_TRAINING_SERVICE_URL",
    "pattern": "AI_PATTERN_SERVICE_URL",
    "query": "AI_QUERY_SERVICE_URL",
    "automation": "AI_AUTOMATION_SERVICE_URL",
}
QUERIES = [
    "turn on the kitchen light at 7am",
    "porch light on at sunset on weekdays",
    "when motion is detected in the hallway after dark turn on the hallway light",
    "turn off all the lights at 11pm",
    "at 6:30 am on weekdays turn on the coffee maker",
    "when the front door opens turn on the hall light",
]
YAML = """\
alias: Soak {tag} {n}
trigger:
  - platform: state
    entity_id: input_boolean.homeiq_test
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.kitchen_lights
"""


class Load:
    """What the clients did: answers by kind and status, ids of what was created."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.query_ids: list[str] = []
        self.events_sent = 0
        self.events_inserted = 0
        self.events_duplicates = 0
        self.run_ids: list[str] = []
        self.deployed: list[str] = []
        self.deploy_aliases: list[str] = []
        self.errors: list[str] = []
        self.latencies: dict[str, list[float]] = {}

    def note(self, kind: str, response: httpx.Response | None, error: str | None = None, seconds: float = 0.0) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if response is None:
                self.statuses[f"{kind} {error}"] += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{kind}: {error}")
                return
            self.statuses[f"{kind} {response.status_code}"] += 1
            if response.status_code >= 500 and len(self.errors) < 20:
                self.errors.append(f"{kind}: {response.status_code} {response.text[:300]}")


def _post(http: httpx.Client, load: Load, kind: str, url: str, body: Any) -> httpx.Response | None:
    began = time.monotonic()
    try:
        response = http.post(url, json=body)
    except httpx.HTTPError as exc:
        load.note(kind, None, type(exc).__name__, time.monotonic() - began)
        return None
    load.note(kind, response, seconds=time.monotonic() - began)
    return response


def _percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/max in ms of every answer of a kind (errors included: a timeout is a slow answer)."""
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": round(at(0.5) * 1000, 1),
        "p95_ms": round(at(0.95) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def query_client(urls: list[str], load: Load, stop: threading.Event) -> None:
    cycle = itertools.cycle(urls)
    texts = itertools.cycle(QUERIES)
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            answer = _post(http, load, "query", f"{next(cycle)}/api/v1/query", {"query": next(texts)})
            if answer is not None and answer.status_code == 201:
                with load.lock:
                    load.query_ids.append(answer.json()["id"])
            stop.wait(0.05)


def ingest_client(url: str, entities: list[str], load: Load, stop: threading.Event) -> None:
    # New times after everything the demo home holds: none of them can be a duplicate.
    clock = datetime.now(UTC) + timedelta(days=1)
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            batch = []
            for i in range(200):
                clock += timedelta(seconds=1)
                batch.append(
                    {
                        "entity_id": entities[i % len(entities)],
                        "old_state": "off",
                        "new_state": "on" if i % 2 else "off",
                        "time": clock.isoformat(),
                    }
                )
            answer = _post(http, load, "ingest", f"{url}/api/v1/home/events", {"events": batch})
            if answer is not None and answer.status_code == 201:
                body = answer.json()
                with load.lock:
                    load.events_sent += len(batch)
                    load.events_inserted += body["inserted"]
                    load.events_duplicates += body["duplicates"]
            stop.wait(1.0)


def analysis_client(urls: list[str], window: dict[str, str], load: Load, stop: threading.Event) -> None:
    cycle = itertools.cycle(urls)
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            answer = _post(http, load, "analysis", f"{next(cycle)}/api/v1/analysis/run", window)
            if answer is not None and answer.status_code == 202:
                with load.lock:
                    load.run_ids.append(answer.json()["id"])
            stop.wait(45)


def deploy_client(url: str, tag: str, load: Load, stop: threading.Event) -> None:
    with httpx.Client(timeout=60) as http:
        for n in itertools.count():
            if stop.is_set():
                return
            created = _post(http, load, "suggest", f"{url}/api/v1/suggestions", {"yaml": YAML.format(tag=tag, n=n)})
            if created is None or created.status_code != 201:
                stop.wait(3)
                continue
            sid = created.json()["id"]
            approved = _post(http, load, "approve", f"{url}/api/v1/suggestions/{sid}/approve", None)
            if approved is not None and approved.status_code == 200:
                deployed = _post(http, load, "deploy", f"{url}/api/v1/deployment/deploy", {"suggestion_id": sid})
                if deployed is not None and deployed.status_code == 201:
                    with load.lock:
                        load.deployed.append(sid)
                        load.deploy_aliases.append(f"Soak {tag} {n}")
            stop.wait(3)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _scalar_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    return asyncio.run(_scalar_rows(url, sql))


def make_database(kind: str, tmp: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}/soak.db", None
    name = f"homeiq_soak_{uuid.uuid4().hex[:8]}"

    async def _create() -> None:
        engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await engine.dispose()

    asyncio.run(_create())
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


def drop_database(name: str) -> None:
    async def _drop() -> None:
        engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await engine.dispose()

    asyncio.run(_drop())


def soak(args: argparse.Namespace, ha: Any, tmp: Path) -> dict[str, Any]:
    db_url, pg_name = make_database(args.db, tmp)
    procs: list[ServerProcess] = []
    try:
        upgrade(db_url)
        env = {
            "DATABASE_URL": db_url,
            "HOMEIQ_DATA_DIR": str(tmp / "data"),
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "MQTT_BROKER": "",
            "HA_URL": ha.url,
            "HA_TOKEN": ha.token,
            "RATE_LIMIT_QUERY_PER_MINUTE": "1000000",
            "RATE_LIMIT_DEPLOY_PER_MINUTE": "1000000",
        }
        demo = subprocess.run(
            [sys.executable, "-m", "homeiq_ai", "demo", "--days", "30"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if demo.returncode != 0:
            raise SystemExit(f"soak: the demo home did not load: {demo.stderr}")
        counts = {
            "pattern": args.replicas,
            "query": args.replicas,
            "training": 1,
            "automation": 1,
        }
        ports = {name: [free_port() for _ in range(n)] for name, n in counts.items()}
        env.update({URL_VARS[name]: f"http://127.0.0.1:{p[0]}" for name, p in ports.items()})
        for name, plist in ports.items():
            for i, port in enumerate(plist):
                procs.append(ServerProcess(f"{name}-{i}", uvicorn_argv(name, port), env, port, tmp))
        for proc in procs:
            proc.wait_ready(90)
        urls = {name: [f"http://127.0.0.1:{p}" for p in plist] for name, plist in ports.items()}
        entities = [r[0] for r in rows(db_url, "SELECT entity_id FROM home_entity ORDER BY entity_id") if "." in r[0]][
            :40
        ]
        events_before = rows(db_url, "SELECT count(*) FROM home_event")[0][0]
        newest = rows(db_url, "SELECT max(time) FROM home_event")[0][0]
        newest = datetime.fromisoformat(newest) if isinstance(newest, str) else newest
        newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
        window = {
            "start": (newest - timedelta(days=30)).isoformat(),
            "end": (newest + timedelta(seconds=1)).isoformat(),
        }

        load, stop = Load(), threading.Event()
        tag = uuid.uuid4().hex[:6]
        threads = [
            threading.Thread(target=query_client, args=(urls["query"], load, stop)),
            threading.Thread(target=query_client, args=(urls["query"][::-1], load, stop)),
            threading.Thread(target=ingest_client, args=(urls["pattern"][0], entities, load, stop)),
            threading.Thread(target=analysis_client, args=(urls["pattern"], window, load, stop)),
            threading.Thread(target=deploy_client, args=(urls["automation"][0], tag, load, stop)),
        ]
        samples: dict[str, list[tuple[float, float]]] = {p.name: [] for p in procs}
        started = time.monotonic()
        for t in threads:
            t.start()
        end = started + args.minutes * 60
        while time.monotonic() < end:
            for proc in procs:
                if proc.proc.poll() is not None:
                    raise SystemExit(f"soak: {proc.name} exited with {proc.proc.returncode}:\n{proc.log()[-3000:]}")
                samples[proc.name].append((time.monotonic() - started, rss_mb(proc.proc.pid)))
            time.sleep(5)
        stop.set()
        for t in threads:
            t.join(120)

        # Let the accepted analyses finish (one at a time across the replicas).
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            open_runs = rows(db_url, "SELECT count(*) FROM pattern_analysis_run WHERE status IN ('queued', 'running')")[
                0
            ][0]
            if not open_runs:
                break
            time.sleep(2)
        return reconcile(args, db_url, ha, load, samples, events_before, procs, started)
    finally:
        for proc in procs:
            try:
                proc.stop(20)
            except AssertionError as exc:
                print(f"soak: {exc}", file=sys.stderr)
        if pg_name:
            drop_database(pg_name)


def _growth(series: list[tuple[float, float]], minutes: float) -> dict[str, float]:
    """Peak and mean RSS of minutes 1-3 against the last two minutes (an analysis spikes for seconds)."""
    base = [mb for t, mb in series if 60 <= t < 180] or [series[0][1]]
    tail = [mb for t, mb in series if t >= minutes * 60 - 120] or [series[-1][1]]
    return {
        "base_peak_mb": round(max(base), 1),
        "end_peak_mb": round(max(tail), 1),
        "base_mean_mb": round(statistics.mean(base), 1),
        "end_mean_mb": round(statistics.mean(tail), 1),
        "growth_pct": round((max(tail) / max(base) - 1) * 100, 1),
    }


def reconcile(
    args: argparse.Namespace,
    db_url: str,
    ha: Any,
    load: Load,
    samples: dict[str, list[tuple[float, float]]],
    events_before: int,
    procs: list[ServerProcess],
    started: float,
) -> dict[str, Any]:
    checks: dict[str, bool] = {}
    stored_queries = rows(db_url, "SELECT id FROM query_query")
    checks["every query answered 201 is stored once"] = sorted(r[0] for r in stored_queries) == sorted(
        load.query_ids
    ) and len(set(load.query_ids)) == len(load.query_ids)
    events_after = rows(db_url, "SELECT count(*) FROM home_event")[0][0]
    checks["every event sent is stored once"] = (
        load.events_inserted == load.events_sent
        and load.events_duplicates == 0
        and events_after - events_before == load.events_sent
    )
    runs = {r[0]: r[1:] for r in rows(db_url, "SELECT id, status, started_at, finished_at FROM pattern_analysis_run")}
    checks["every accepted analysis ran once and finished"] = set(runs) == set(load.run_ids) and all(
        status == "completed" and s is not None and f is not None for status, s, f in runs.values()
    )
    deployments = rows(db_url, "SELECT suggestion_id, version, status FROM automation_deployment")
    deployed_rows = Counter(sid for sid, _v, status in deployments if status == "deployed")
    checks["every deploy answered 201 has one deployed version"] = sorted(deployed_rows) == sorted(
        load.deployed
    ) and set(deployed_rows.values()) <= {1}
    checks["no deployment is left pending"] = not [1 for *_x, status in deployments if status != "deployed"]
    states = httpx.get(f"{ha.url}/api/states", headers=ha.headers(), timeout=30).json()
    in_ha = Counter(
        s["attributes"].get("friendly_name")
        for s in states
        if s["entity_id"].startswith("automation.")
        and str(s["attributes"].get("friendly_name", "")).startswith("Soak ")
    )
    checks["every deploy is one automation in Home Assistant"] = sorted(in_ha) == sorted(load.deploy_aliases) and set(
        in_ha.values()
    ) <= {1}
    tracebacks = {p.name: p.log().count("Traceback") for p in procs}
    for proc in procs:
        if tracebacks[proc.name]:
            # the temporary directory goes with the run: the first traceback is kept on stderr
            log = proc.log()
            first = log.index("Traceback")
            print(f"soak: {proc.name}: first traceback:\n{log[max(0, first - 500) : first + 3000]}", file=sys.stderr)
    checks["no 5xx answer"] = not [k for k in load.statuses if k.split()[-1].startswith("5")]
    rss = {name: _growth(series, args.minutes) for name, series in samples.items() if series}
    checks["memory flat (RSS growth under 10%)"] = all(v["growth_pct"] < 10 for v in rss.values())
    return {
        "db": args.db,
        "replicas": args.replicas,
        "minutes": args.minutes,
        "wall_s": round(time.monotonic() - started, 1),
        "queries": len(load.query_ids),
        "events_sent": load.events_sent,
        "analyses": len(load.run_ids),
        "deploys": len(load.deployed),
        "answers": dict(sorted(load.statuses.items())),
        "latency": {kind: _percentiles(v) for kind, v in sorted(load.latencies.items()) if v},
        "errors": load.errors,
        "tracebacks_in_logs": tracebacks,
        "rss": rss,
        "checks": checks,
        "ok": all(checks.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--replicas", type=int, default=1, help="processes of pattern and of query each")
    args = parser.parse_args()
    if args.minutes < 5:
        parser.error("--minutes must be at least 5 (RSS growth compares minutes 1-3 with the last two)")
    if args.db == "sqlite" and args.replicas > 1:
        print("soak: note: replicas over one SQLite file share its single writer", file=sys.stderr)
    venv = Path(
        subprocess.run(["bash", str(REPO / "scripts" / "ha-venv.sh")], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "ha").mkdir()
        with running_home_assistant(venv, tmp / "ha") as ha:
            report = soak(args, ha, tmp)
    print(json.dumps(report, indent=1))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
