"""Latency of /health/health in the all-in-one app against a bare Litestar app, over keep-alive HTTP/1.1.

Starts both apps with the same uvicorn options (one worker each, on free loopback ports), then for 1 and
16 concurrent clients sends the same number of requests to each and prints p50/p95/p99 and requests/s.
Targets: p95 < 5 ms at one client; p95 at 16 clients within 1.5x of the bare app's. Exit status 1 when
a target is missed.

    .venv/bin/python bench/health.py [--requests 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
UVICORN_OPTIONS = [
    "--host", HOST, "--workers", "1", "--no-access-log", "--log-level", "warning", "--lifespan", "on",
]
CLIENT_COUNTS = (1, 16)
TARGET_P95_ONE_CLIENT_MS = 5.0
TARGET_P95_RATIO = 1.5
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


# --- servers -------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class Server:
    """One uvicorn process serving one app."""

    name: str
    app: str
    bench_path: str
    ready_path: str
    env: dict[str, str]
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = _free_port()
        command = [sys.executable, "-m", "uvicorn", self.app, "--port", str(self.port), *UVICORN_OPTIONS]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_ready(self) -> None:
        assert self.proc is not None
        url = f"http://{HOST}:{self.port}{self.ready_path}"
        deadline = time.monotonic() + START_TIMEOUT_S
        last: int | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            last = _status(url)
            if last == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: {url} answered {last} after {START_TIMEOUT_S:g} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"{self.name} ignored SIGTERM for {STOP_TIMEOUT_S:g} s: killing it", file=sys.stderr)
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _app_environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MQTT_BROKER", "API_KEY", "CORRELATION_CACHE_DB", "HA_URL", "HA_TOKEN", "PORT", "HOST"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'shared.db'}",
        HOMEIQ_DATA_DIR=str(tmp / "data"),
        SCHEDULER_ENABLED="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
    )
    return env


def _upgrade_db(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "homeiq_ai", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"homeiq-ai db upgrade failed:\n{result.stdout}{result.stderr}")


# --- client ----------------------------------------------------------------------------------------------


async def _client(port: int, path: str, remaining: list[int], latencies: list[int]) -> None:
    """One keep-alive connection sending requests one after another while any remain."""
    reader, writer = await asyncio.open_connection(HOST, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n\r\n".encode()
    clock = time.perf_counter_ns
    try:
        while remaining[0] > 0:
            remaining[0] -= 1
            started = clock()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            at = head.lower().find(b"\r\ncontent-length:")
            if at < 0:
                raise RuntimeError(f"no Content-Length in the answer to GET {path}: {head[:300]!r}")
            end = head.index(b"\r\n", at + 2)
            await reader.readexactly(int(head[at + 17 : end]))
            latencies.append(clock() - started)
            if head[9:12] != b"200":
                status_line = head.split(b"\r\n", 1)[0]
                raise RuntimeError(f"GET {path} answered {status_line!r}")
    finally:
        writer.close()
        await writer.wait_closed()


async def _load(port: int, path: str, clients: int, requests: int) -> tuple[list[int], float]:
    """Send `requests` GETs over `clients` connections; latencies in ns and the wall time in s."""
    remaining = [requests]
    latencies: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, path, remaining, latencies) for _ in range(clients)))
    return latencies, time.perf_counter() - started


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    # The client takes most of the CPU of a small machine: the faster loop keeps it out of the figures.
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


# --- figures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The figures of one server at one client count."""

    server: str
    clients: int
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float


def _percentile(ordered: list[int], p: float) -> float:
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1] / 1e6


def _measure(run: Callable[[Coroutine[Any, Any, Any]], Any], server: Server, clients: int, requests: int,
             warmup: int) -> Result:
    run(_load(server.port, server.bench_path, clients, warmup))
    latencies, wall = run(_load(server.port, server.bench_path, clients, requests))
    ordered = sorted(latencies)
    return Result(
        server=server.name, clients=clients, requests=len(ordered), p50_ms=_percentile(ordered, 50),
        p95_ms=_percentile(ordered, 95), p99_ms=_percentile(ordered, 99), rps=len(ordered) / wall,
    )


def _report(results: list[Result], ours: str, bare: str) -> bool:
    header = ("server", "clients", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s")
    print("{:<16} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9}".format(*header))
    for r in results:
        print(f"{r.server:<16} {r.clients:>7} {r.requests:>8} {r.p50_ms:>8.3f} {r.p95_ms:>8.3f} "
              f"{r.p99_ms:>8.3f} {r.rps:>9.0f}")
    by_key = {(r.server, r.clients): r for r in results}
    one = by_key[(ours, 1)]
    many, many_bare = by_key[(ours, max(CLIENT_COUNTS))], by_key[(bare, max(CLIENT_COUNTS))]
    ratio = many.p95_ms / many_bare.p95_ms
    checks = [
        (f"p95 at 1 client: {one.p95_ms:.3f} ms (target < {TARGET_P95_ONE_CLIENT_MS:g} ms)",
         one.p95_ms < TARGET_P95_ONE_CLIENT_MS),
        (f"p95 at {many.clients} clients: {ratio:.2f}x the bare app's ({many.p95_ms:.3f} / "
         f"{many_bare.p95_ms:.3f} ms; target <= {TARGET_P95_RATIO:g}x)", ratio <= TARGET_P95_RATIO),
    ]
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; 0 when both targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=2000, help="measured requests per server and client count"
    )
    parser.add_argument("--warmup", type=int, default=200, help="requests sent first and not measured")
    args = parser.parse_args(argv)
    if args.requests < 100 or args.warmup < 0:
        parser.error("--requests must be at least 100 and --warmup at least 0")

    with tempfile.TemporaryDirectory(prefix="homeiq-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        env = _app_environment(tmp)
        ours = Server("homeiq-ai (all)", "entrypoints.all:app", "/health/health", "/health/ready", env,
                      tmp / "all.log")
        bare = Server("bare litestar", "bench.bare_app:app", "/health", "/health", env, tmp / "bare.log")
        servers = [bare, ours]
        try:
            _upgrade_db(env)
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
            print(f"python {platform.python_version()}, {os.cpu_count()} CPUs; "
                  f"uvicorn {' '.join(UVICORN_OPTIONS)};\n{args.requests} requests after {args.warmup} "
                  "warm-up, keep-alive HTTP/1.1\n")
            results = []
            with _runner() as runner:
                for clients in CLIENT_COUNTS:
                    for server in servers:
                        results.append(_measure(runner.run, server, clients, args.requests, args.warmup))
        except KeyboardInterrupt:
            print("interrupted: stopping the servers", file=sys.stderr)
            return 130
        finally:
            # Stopping must finish even when Ctrl-C comes again (the event loop may also re-deliver it).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for server in servers:
                try:
                    server.stop()
                except Exception as exc:  # one server failing to stop must not leave the other running
                    print(f"could not stop {server.name}: {exc}", file=sys.stderr)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return 0 if _report(results, ours.name, bare.name) else 1


if __name__ == "__main__":
    sys.exit(main())
