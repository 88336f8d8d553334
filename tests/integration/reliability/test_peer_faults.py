"""The LLM, the Data API and InfluxDB failing under a real running process, then coming back without a restart.

Each peer is a real loopback HTTP server speaking its protocol (the recorded answers of tests/fixtures), started
late, made slow or made to answer 5xx, at the address the process was started with.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import sqlite_url
from integration.procs import ServerProcess, free_port, uvicorn_argv
from kernel.homedata.test_data_api_source import FakeDataApi, Recorded, ReplayServer, Reply, recorded_events
from kernel.homedata.test_influxdb_source import BUCKET, ORG, TOKEN, FakeInfluxDb

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0
TRIES = 2
OPENAI_KEY = "sk-test-peer-faults-0123456789abcdef"
# The recorded Data API and InfluxDB answers cover these two days.
WINDOW = {"start": "2026-01-05T00:00:00Z", "end": "2026-01-07T00:00:00Z"}
# The offline parser finds no trigger in this request, so the model is asked.
VAGUE = "light up the basement when it gets dark"
PLAN = {
    "alias": "Basement light at dusk",
    "summary": "At sunset, turn on the basement light.",
    "trigger": [{"platform": "sun", "event": "sunset"}],
    "condition": [],
    "action": [{"service": "light.turn_on", "target": {"entity_id": "light.basement"}}],
    "mode": "single",
}


def start(name: str, db_file: Path, tmp_path: Path, **extra: str) -> ServerProcess:
    port = free_port()
    env = {
        "DATABASE_URL": sqlite_url(db_file),
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        "SERVICE_TIMEOUT": str(TIMEOUT_S),
        "SERVICE_RETRIES": str(TRIES),
        **extra,
    }
    server = ServerProcess(name, uvicorn_argv("all", port), env, port, tmp_path)
    server.wait_ready(60)
    return server


def chat_reply(request: Recorded) -> Reply:
    """An OpenAI-compatible chat completion whose content is PLAN."""
    body = json.loads(request.body)
    reply = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": json.dumps(PLAN)}}
        ],
    }
    return 200, "application/json", json.dumps(reply).encode()


def slow(seconds: float, then: Any) -> Any:
    def _handler(request: Recorded) -> Reply:
        time.sleep(seconds)
        return then(request)  # type: ignore[no-any-return]

    return _handler


def failing(_request: Recorded) -> Reply:
    return 500, "application/json", b'{"detail": "fault injected"}'


def run_analysis(server: ServerProcess) -> tuple[dict[str, Any], float]:
    """Start an analysis of WINDOW and wait for its end: the run and the seconds it took."""
    started = time.monotonic()
    answer = httpx.post(f"{server.url}/api/v1/analysis/run", json=WINDOW, timeout=10)
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["id"]
    while True:
        run = httpx.get(f"{server.url}/api/v1/analysis/runs/{run_id}", timeout=10).json()
        if run["status"] in ("completed", "failed"):
            return run, time.monotonic() - started
        assert time.monotonic() - started < 60, (run, server.log()[-3000:])
        time.sleep(0.05)


def assert_nothing_running(server: ServerProcess) -> None:
    runs = httpx.get(f"{server.url}/api/v1/analysis/runs", params={"limit": 100}, timeout=10).json()["items"]
    assert all(r["status"] in ("completed", "failed") for r in runs), runs
    assert httpx.get(f"{server.url}/health/ready", timeout=10).status_code == 200


def ask(server: ServerProcess) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    answer = httpx.post(f"{server.url}/api/v1/query/", json={"query": VAGUE}, timeout=30)
    assert answer.status_code == 201, answer.text
    return dict(answer.json()), time.monotonic() - started


def test_the_llm_hanging_down_then_back_under_a_running_query_process(demo_db: Path, tmp_path: Path) -> None:
    """A model that hangs or is away: the offline answer after one try and one retry of OPENAI_TIMEOUT each, the
    query stored as answered; once the model answers, the next request is planned by it, without a restart."""
    db_file = tmp_path / "shared.db"
    shutil.copyfile(demo_db, db_file)
    port = free_port()
    server = start(
        "query",
        db_file,
        tmp_path,
        OPENAI_API_KEY=OPENAI_KEY,
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        OPENAI_TIMEOUT="0.5",
        OPENAI_RETRIES="1",
    )
    try:
        # away: connection refused
        query, seconds = ask(server)
        assert query["engine"] == "offline_fallback" and query["notes"], query
        assert seconds < 10
        stored = httpx.get(f"{server.url}/api/v1/query/{query['id']}", timeout=10).json()
        assert (stored["engine"], stored["status"]) == (query["engine"], query["status"])

        # hanging: 5 s per answer against a 0.5 s timeout
        chat = ReplayServer(slow(5.0, chat_reply), port=port)
        try:
            query, seconds = ask(server)
            assert query["engine"] == "offline_fallback", query
            assert len(chat.requests) == 2  # one try and one retry, no more
            assert seconds < 5, seconds

            # back: the same process plans with the model
            chat.handler = chat_reply
            query, _ = ask(server)
            assert (query["engine"], query["status"]) == ("llm", "planned"), query
            assert query["plan"]["action"][0]["target"] == {"entity_id": "light.basement"}
            assert len(chat.requests) == 3
        finally:
            chat.close()
        assert OPENAI_KEY not in server.log()
    finally:
        server.stop()


def test_the_data_api_down_slow_then_back_under_a_running_process(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """DATA_SOURCE=data_api: down, slow and 5xx each fail the run with a reason that names the Data API, within
    the bounded tries, with nothing left running; once it answers, the next run reads its events."""
    db_file = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, db_file)
    port = free_port()
    server = start("pattern", db_file, tmp_path, DATA_SOURCE="data_api", DATA_API_URL=f"http://127.0.0.1:{port}")
    try:
        run, seconds = run_analysis(server)
        assert run["status"] == "failed" and "data_api" in " ".join(run["errors"]), run
        assert seconds < 15
        assert_nothing_running(server)

        peer = ReplayServer(slow(3 * TIMEOUT_S, FakeDataApi(recorded_events())), port=port)
        try:
            run, seconds = run_analysis(server)
            assert run["status"] == "failed" and "data_api" in " ".join(run["errors"]), run
            assert len(peer.requests) == TRIES, [r.path for r in peer.requests]
            assert seconds < 15

            peer.handler = failing
            peer.requests.clear()
            run, _ = run_analysis(server)
            assert run["status"] == "failed" and "data_api" in " ".join(run["errors"]), run
            assert len(peer.requests) == TRIES
            assert_nothing_running(server)

            peer.handler = FakeDataApi(recorded_events())
            run, _ = run_analysis(server)
            assert run["status"] == "completed", run
            assert run["report"]["events_loaded"] > 0, run["report"]
        finally:
            peer.close()
    finally:
        server.stop()


def test_influxdb_down_failing_then_back_under_a_running_process(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """DATA_SOURCE=influxdb: down and 5xx fail the run with a reason that names InfluxDB, never its token; once
    it answers, the next run reads its events."""
    db_file = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, db_file)
    port = free_port()
    server = start(
        "pattern",
        db_file,
        tmp_path,
        DATA_SOURCE="influxdb",
        INFLUXDB_URL=f"http://127.0.0.1:{port}",
        INFLUXDB_TOKEN=TOKEN,
        INFLUXDB_ORG=ORG,
        INFLUXDB_BUCKET=BUCKET,
    )
    try:
        run, seconds = run_analysis(server)
        reason = " ".join(run["errors"])
        assert run["status"] == "failed" and "influx" in reason.lower() and TOKEN not in reason, run
        assert seconds < 15

        peer = ReplayServer(failing, port=port)
        try:
            run, _ = run_analysis(server)
            assert run["status"] == "failed" and "influx" in " ".join(run["errors"]).lower(), run
            assert len(peer.requests) == TRIES
            assert_nothing_running(server)

            peer.handler = FakeInfluxDb()
            run, _ = run_analysis(server)
            assert run["status"] == "completed", run
            assert run["report"]["events_loaded"] > 0, run["report"]
        finally:
            peer.close()
        assert TOKEN not in server.log()
    finally:
        server.stop()
