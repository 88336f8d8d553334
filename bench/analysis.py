"""Speed and memory of a full nightly analysis: 30 days of a ~100-entity home, at 1x, 2x and 4x the events.

Each size runs in its own process (so peak RSS is that run's): a synthetic home (seed 7, ~100 entities,
30 days) is loaded into a fresh SQLite database at head, chatty numeric power sensors are added until the
window holds the target number of events, and then one analysis runs through the same pipeline the
service uses (bulk read, noise filter, every detector, synergies, storing). Targets for 1x (800,000
events, of which about 2,000 matter): <= 1 s wall and <= 300 MB peak RSS; at 2x and 4x the wall time grows
at most linearly. Exit status 1 when a target fails.

    .venv/bin/python bench/analysis.py [--events 800000] [--scales 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

TARGET_SECONDS = 1.0
TARGET_RSS_MB = 300.0
SEED, DAYS, ENTITIES = 7, 30, 100


async def _prepare(url: str, events: int) -> tuple[datetime, datetime, int]:
    from homeiq_ai.kernel import migrate
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.model import Entity, Event
    from homeiq_ai.kernel.homedata.store import HomeStore
    from homeiq_ai.training.service import load_home
    from homeiq_ai.training.synthetic import generate_home

    migrate.upgrade(url)
    home = generate_home(seed=SEED, days=DAYS, entity_target=ENTITIES)
    db = Database(url)
    store = HomeStore(db)
    try:
        await load_home(home, store)
        start = datetime.combine(home.spec.start, datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=DAYS)
        extra = max(0, events - len(home.events))
        # Chatty power sensors fill the rest: numbers every few seconds, as real plugs report.
        sensors = max(1, round(extra / (DAYS * 86400 / 10)))
        per_sensor = extra // sensors if extra else 0
        rng = np.random.default_rng(SEED)
        await store.upsert_entities(
            [
                Entity(entity_id=f"sensor.bench_plug_{i}_power", domain="sensor", device_class="power",
                       unit_of_measurement="W")
                for i in range(sensors)
            ]
        )
        span = (end - start).total_seconds()
        for i in range(sensors if extra else 0):
            offsets = np.sort(rng.uniform(0, span, per_sensor))
            values = np.round(rng.normal(60, 15, per_sensor), 1)
            batch: list[Event] = []
            previous: str | None = None
            for offset, value in zip(offsets.tolist(), values.tolist(), strict=True):
                state = f"{value:.1f}"
                batch.append(Event(entity_id=f"sensor.bench_plug_{i}_power", old_state=previous, new_state=state,
                                   time=start + timedelta(seconds=offset)))
                previous = state
                if len(batch) >= 50_000:
                    await store.insert_events(batch, register_entities=False)
                    batch = []
            if batch:
                await store.insert_events(batch, register_entities=False)
        total = await store.count_events(start, end)
    finally:
        await db.dispose()
    return start, end, total


async def _analyse(url: str, start: datetime, end: datetime) -> dict[str, object]:
    from contextlib import asynccontextmanager

    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.store import HomeStore, LocalHomeSource
    from homeiq_ai.pattern.analysis import AnalysisPipeline
    from homeiq_ai.pattern.detectors.registry import default_detectors
    from homeiq_ai.pattern.synergies.detect import detect_synergies

    db = Database(url)
    store = HomeStore(db)

    @asynccontextmanager
    async def source():
        yield LocalHomeSource(store, time_zone="Europe/Berlin", latitude=52.52, longitude=13.405)

    pipeline = AnalysisPipeline(db, source, default_detectors, detect_synergies)
    began = time.perf_counter()
    try:
        outcome = await pipeline.run("bench", start, end, datetime.now(UTC))
        wall = time.perf_counter() - began
        reads = await _read_latency(db)
    finally:
        await db.dispose()
    return {
        "wall_s": round(wall, 3),
        "read_ms": reads,
        "patterns": outcome.patterns,
        "synergies": outcome.synergies,
        "errors": outcome.errors,
        "timings": outcome.timings,
        "events_loaded": outcome.report.get("events_loaded"),
        "events_mined": outcome.report.get("events_mined"),
    }


async def _read_latency(db: object) -> dict[str, float]:
    """Median milliseconds of the list routes' service calls after the run (they read only stored findings)."""
    from homeiq_ai.pattern.api import PatternQuery, SynergyQuery
    from homeiq_ai.pattern.service import PatternService

    service = PatternService(db)  # type: ignore[arg-type]
    queries = {
        "patterns": lambda: service.list_patterns(PatternQuery(limit=50)),
        "patterns_by_type": lambda: service.list_patterns(PatternQuery(pattern_type="time_of_day", min_confidence=0.5)),
        "synergies": lambda: service.list_synergies(SynergyQuery(limit=50)),
        "synergies_depth3": lambda: service.list_synergies(SynergyQuery(depth=3)),
    }
    out: dict[str, float] = {}
    for name, call in queries.items():
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            await call()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = round(sorted(times)[len(times) // 2], 2)
    return out


def _run_child(*args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=800_000, help="events in the window at 1x")
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--prepare", nargs=2, metavar=("URL", "EVENTS"), help=argparse.SUPPRESS)
    parser.add_argument("--analyse", nargs=3, metavar=("URL", "START", "END"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        start, end, total = asyncio.run(_prepare(args.prepare[0], int(args.prepare[1])))
        print(json.dumps({"start": start.isoformat(), "end": end.isoformat(), "events": total}))
        return 0
    if args.analyse:
        url, start, end = args.analyse
        result = asyncio.run(_analyse(url, datetime.fromisoformat(start), datetime.fromisoformat(end)))
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return 0
    print(f"python {sys.version.split()[0]}; synthetic home seed {SEED}, ~{ENTITIES} entities, {DAYS} days, filled "
          "with chatty numeric sensors; the analysis runs in a process of its own (peak RSS is the analysis alone)")
    print(f"{'scale':>5} {'events':>10} {'mined':>8} {'wall s':>7} {'peak MB':>8} {'patterns':>8} {'synerg.':>7}  "
          "slowest steps")
    ok = True
    base_wall: float | None = None
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            try:
                window = _run_child("--prepare", url, str(args.events * scale))
                r = _run_child("--analyse", url, str(window["start"]), str(window["end"]))
            except RuntimeError as exc:
                print(exc)
                return 1
        steps = sorted(((k, v) for k, v in r["timings"].items() if k != "total"), key=lambda kv: -kv[1])[:4]
        print(f"{scale:>5} {window['events']:>10,} {r['events_mined']:>8,} {r['wall_s']:>7.2f} "
              f"{r['peak_rss_mb']:>8.0f} {r['patterns']:>8} {r['synergies']:>7}  "
              + ", ".join(f"{k} {v:.2f}" for k, v in steps))
        if r["errors"]:
            print(f"      errors: {r['errors']}")
        print("      list reads afterwards (median ms): " + ", ".join(f"{k} {v}" for k, v in r["read_ms"].items()))
        if scale == 1:
            base_wall = r["wall_s"]
            ok = r["wall_s"] <= TARGET_SECONDS and r["peak_rss_mb"] <= TARGET_RSS_MB
            print(f"      1x: {'PASS' if ok else 'FAIL'} (targets <= {TARGET_SECONDS:g} s and <= {TARGET_RSS_MB:g} MB)")
        elif base_wall is not None:
            linear = r["wall_s"] <= scale * base_wall
            ok = ok and linear
            print(f"      {scale}x: {'PASS' if linear else 'FAIL'} (at most linear: <= {scale} x {base_wall:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
