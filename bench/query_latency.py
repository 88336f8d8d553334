"""Latency of POST /api/v1/query/ (offline path) over HTTP against a real uvicorn process, 3,000-entity home.

Starts the query service (entrypoints/query.py) on a migrated SQLite database seeded with a home of
3,000 entities (the labelled synthetic family home plus generated rooms), then sends keep-alive requests
with 1 and 32 concurrent clients and prints p50/p95/p99 and requests/s, beside GET /health/health of the
same process at 32 clients. Each request is planned and its session stored, as in production.
Target: p95 < 10 ms at one client. Exit status 1 when it is missed.

    .venv/bin/python bench/query_latency.py [--requests 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from health import HOST, Server, _app_environment, _load, _percentile, _runner, _upgrade_db  # noqa: E402

ENTITIES = 3000
TARGET_P95_MS = 10.0
REQUESTS = [
    "porch light on at sunset on weekdays",
    "when motion is detected in the hallway after dark turn on the hallway light and turn it off after 5 minutes",
    "when nobody is home and the living room temperature goes above 25 close the living room blinds",
    "at 10pm turn off the room 17 lamp 3",
    "at 6:30pm dim the living room lamp to 30%",
    "when the dishwasher power drops below 5 send a notification saying the dishes are done",
    "at 7 turn on the room 204 lamp 1",
    "turn on the porhc light at sunrise",
]


async def _seed(url: str) -> int:
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.homedata.model import Area, Entity
    from homeiq_ai.kernel.homedata.store import HomeStore
    from query.catalogs import seed_home

    db = Database(url)
    try:
        store = HomeStore(db)
        await seed_home(store, "synthetic_family")
        have = len(await store.entities())
        rooms = (ENTITIES - have) // 10 + 1
        await store.upsert_areas([Area(area_id=f"room_{i}", name=f"Room {i}") for i in range(rooms)])
        extra = [
            Entity(
                entity_id=f"light.room_{i}_lamp_{j}" if j < 6 else f"sensor.room_{i}_sensor_{j}",
                domain="light" if j < 6 else "sensor",
                friendly_name=f"Room {i} Lamp {j}" if j < 6 else f"Room {i} Sensor {j}",
                area_id=f"room_{i}",
            )
            for i in range(rooms)
            for j in range(10)
        ][: ENTITIES - have]
        await store.upsert_entities(extra)
        return len(await store.entities())
    finally:
        await db.dispose()


async def _post_client(port: int, remaining: list[int], latencies: list[int], offset: int) -> None:
    """One keep-alive connection posting requests one after another while any remain."""
    reader, writer = await asyncio.open_connection(HOST, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    bodies = []
    for text in REQUESTS:
        body = json.dumps({"query": text}).encode()
        bodies.append(
            f"POST /api/v1/query/ HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    clock = time.perf_counter_ns
    n = offset
    try:
        while remaining[0] > 0:
            remaining[0] -= 1
            n += 1
            started = clock()
            writer.write(bodies[n % len(bodies)])
            head = await reader.readuntil(b"\r\n\r\n")
            at = head.lower().find(b"\r\ncontent-length:")
            end = head.index(b"\r\n", at + 2)
            await reader.readexactly(int(head[at + 17 : end]))
            latencies.append(clock() - started)
            if head[9:12] != b"201":
                status_line = head.split(b"\r\n", 1)[0]
                raise RuntimeError(f"POST answered {status_line!r}")
    finally:
        writer.close()
        await writer.wait_closed()


async def _post_load(port: int, clients: int, requests: int) -> tuple[list[int], float]:
    remaining = [requests]
    latencies: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(_post_client(port, remaining, latencies, i) for i in range(clients)))
    return latencies, time.perf_counter() - started


def _figures(name: str, clients: int, latencies: list[int], wall: float) -> dict[str, float | str | int]:
    ordered = sorted(latencies)
    return {
        "what": name,
        "clients": clients,
        "requests": len(ordered),
        "p50_ms": round(_percentile(ordered, 50), 3),
        "p95_ms": round(_percentile(ordered, 95), 3),
        "p99_ms": round(_percentile(ordered, 99), 3),
        "rps": round(len(ordered) / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the bench; print the figures as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        env = _app_environment(tmp)
        _upgrade_db(env)
        count = asyncio.run(_seed(env["DATABASE_URL"]))
        print(json.dumps({"entities": count}))
        server = Server("query", "entrypoints.query:app", "/health/health", "/health/health", env, tmp / "query.log")
        server.start()
        ok = True
        try:
            server.wait_ready()
            with _runner() as runner:
                runner.run(_post_load(server.port, 1, args.warmup))
                for clients in (1, 32):
                    latencies, wall = runner.run(_post_load(server.port, clients, args.requests))
                    result = _figures("POST /api/v1/query/", clients, latencies, wall)
                    print(json.dumps(result))
                    if clients == 1 and result["p95_ms"] >= TARGET_P95_MS:
                        ok = False
                latencies, wall = runner.run(_load(server.port, "/health/health", 32, args.requests))
                print(json.dumps(_figures("GET /health/health", 32, latencies, wall)))
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
