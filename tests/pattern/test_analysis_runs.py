"""Analysis runs end to end on a stored synthetic home: findings, stable ids, feedback, lease, notices."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from conftest import port_open
from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.pattern.api import AnalysisRequest
from homeiq_ai.pattern.models import AnalysisRunRecord
from homeiq_ai.pattern.service import PatternService
from homeiq_ai.training.service import load_home
from pattern.homes import synthetic_home

RUNS = "/api/v1/analysis/runs"


async def _load(database_url: str, days: int = 21) -> tuple[datetime, datetime]:
    home = synthetic_home(3, "apartment", days)
    db = Database(database_url)
    try:
        await load_home(home, HomeStore(db))
    finally:
        await db.dispose()
    start = datetime.combine(home.spec.start, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    return start, start + timedelta(days=days + 2)


async def _finish(client: Any, run_id: str, timeout: float = 120.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        run = (await client.get(f"{RUNS}/{run_id}")).json()
        if run["status"] in ("completed", "failed"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


async def _analyse(client: Any, start: datetime, end: datetime) -> dict[str, Any]:
    started = await client.post("/api/v1/analysis/run", json={"start": start.isoformat(), "end": end.isoformat()})
    assert started.status_code == 202, started.text
    return await _finish(client, started.json()["id"])


async def test_a_run_finds_routines_and_keeps_their_ids(app_client: Callable[..., Any], database_url: str) -> None:
    """Routines are stored with evidence; a second run over the same history keeps every id and first_seen."""
    start, end = await _load(database_url)
    async with app_client(["training", "pattern"]) as client:
        first = await _analyse(client, start, end)
        assert first["status"] == "completed", first
        assert first["patterns_detected"] > 0
        assert first["report"]["events_loaded"] > first["report"]["events_mined"] > 0
        assert "total" in first["timings"] and "load" in first["timings"]
        routines = (await client.get("/api/v1/patterns", params={"pattern_type": "time_of_day", "limit": 500})).json()
        assert routines["total"] > 0
        one = routines["items"][0]
        assert one["details"]["occurrence_times"] and len(one["details"]["histogram"]) == 24
        assert one["first_seen"] and one["last_seen"] and 0 < one["quality"] <= 1

        second = await _analyse(client, start, end)
        assert second["status"] == "completed", second
        again = (await client.get("/api/v1/patterns", params={"pattern_type": "time_of_day", "limit": 500})).json()
        assert {p["id"] for p in again["items"]} == {p["id"] for p in routines["items"]}
        by_id = {p["id"]: p for p in again["items"]}
        assert by_id[one["id"]]["first_seen"] == one["first_seen"]


async def test_feedback_hides_rejected_and_lifts_accepted(app_client: Callable[..., Any], database_url: str) -> None:
    """A rejected pattern leaves the default list and stays hidden after a rerun; accepting raises quality."""
    start, end = await _load(database_url)
    async with app_client(["training", "pattern"]) as client:
        await _analyse(client, start, end)
        items = (await client.get("/api/v1/patterns", params={"limit": 500})).json()["items"]
        assert len(items) >= 2
        rejected = items[0]
        accepted = min(items[1:], key=lambda p: p["quality"])
        assert accepted["quality"] < 0.85, "every pattern is already at the top; nothing to lift"
        response = await client.post(f"/api/v1/patterns/{rejected['id']}/feedback", json={"action": "reject"})
        assert response.status_code == 200 and response.json()["status"] == "rejected"
        liked = (await client.post(f"/api/v1/patterns/{accepted['id']}/feedback", json={"action": "accept"})).json()
        assert liked["feedback"] == "accepted" and liked["quality"] > accepted["quality"]

        await _analyse(client, start, end)
        visible = {p["id"] for p in (await client.get("/api/v1/patterns", params={"limit": 500})).json()["items"]}
        assert rejected["id"] not in visible and accepted["id"] in visible
        hidden = (await client.get("/api/v1/patterns", params={"status": "rejected"})).json()["items"]
        assert [p["id"] for p in hidden] == [rejected["id"]]

        bad = await client.post(f"/api/v1/patterns/{accepted['id']}/feedback", json={"action": "rate"})
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_feedback"
        rated = await client.post(f"/api/v1/patterns/{accepted['id']}/feedback", json={"action": "rate", "rating": 5})
        assert rated.json()["rating"] == 5.0
        missing = await client.post("/api/v1/patterns/nope/feedback", json={"action": "accept"})
        assert missing.status_code == 404


async def test_one_analysis_at_a_time_across_processes(database_url: str) -> None:
    """While another process holds the lease a run stays queued, then runs once the lease is free."""
    db = Database(database_url)
    try:
        other = PatternService(db)
        assert await other._try_lease("other-process:run")
        waiting = PatternService(db, lease_wait_seconds=30)
        run = await waiting.start_analysis(AnalysisRequest(days=1))
        await asyncio.sleep(1.5)
        assert (await waiting.get_analysis_run(run.id)).status == "queued"
        await other._release_lease("other-process:run")
        for _ in range(100):
            if (await waiting.get_analysis_run(run.id)).status != "queued":
                break
            await asyncio.sleep(0.1)
        finished = await waiting.get_analysis_run(run.id)
        # No pipeline is configured in these bare services, so the run fails with that reason, after the lease.
        assert finished.status == "failed" and "pipeline" in finished.errors[0]
        await waiting.close()
    finally:
        await db.dispose()


async def test_a_lease_release_that_loses_its_connection_is_retried(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies as a run gives the lease back: the release is tried again on a fresh connection, so
    the next run starts at once instead of waiting out the lease (CI saw a run queued for the lease's 60 s)."""
    from sqlalchemy.exc import DBAPIError

    from homeiq_ai.pattern.repository import PatternRepository

    real = PatternRepository.release_lease
    calls = 0

    async def flaky(self: PatternRepository, name: str, holder: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise DBAPIError("DELETE FROM pattern_lease", None, ConnectionResetError("connection reset by peer"))
        await real(self, name, holder)

    monkeypatch.setattr(PatternRepository, "release_lease", flaky)
    db = Database(database_url)
    try:
        service = PatternService(db, lease_wait_seconds=30)
        first = await service.execute_run((await _queued(service)).id)
        assert first.status == "failed" and calls == 2  # no pipeline in a bare service; released on the 2nd try
        other = PatternService(db)
        assert await other._try_lease("other-process:run"), "the lease was left held"
        await other._release_lease("other-process:run")
        await service.close()
    finally:
        await db.dispose()


async def _queued(service: PatternService) -> Any:
    """A queued run stored without the background task that start_analysis spawns."""
    record = AnalysisRunRecord(
        id=uuid.uuid4().hex,
        status="queued",
        trigger="manual",
        window_start=utcnow() - timedelta(days=1),
        window_end=utcnow(),
        requested_days=1,
        requested_at=utcnow(),
        errors=[],
        timings={},
        report={},
    )
    async with service._db.session() as session:
        session.add(record)
    return record


async def test_queued_runs_left_behind_are_taken_up(app_client: Callable[..., Any], database_url: str) -> None:
    """A run queued by a process that stopped is run by the next one at start-up (nothing lost)."""
    db = Database(database_url)
    async with db.session() as session:
        session.add(AnalysisRunRecord(id="q" * 32, status="queued", trigger="manual", requested_at=utcnow(),
                                      window_start=utcnow() - timedelta(days=1), window_end=utcnow(),
                                      errors=[], timings={}, report={}))
    await db.dispose()
    async with app_client(["training", "pattern"]) as client:
        run = await _finish(client, "q" * 32)
        assert run["status"] == "completed"


@pytest.mark.integration
async def test_completion_notice_on_mosquitto(app_client: Callable[..., Any], make_settings: Callable[..., Any],
                                              database_url: str) -> None:
    """A finished run publishes its notice with QoS 1 on the real broker."""
    if not port_open("127.0.0.1", 1883):
        pytest.skip("SKIPPED (MQTT): Mosquitto is not reachable on 127.0.0.1:1883")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    received: list[tuple[str, bytes, int]] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-sub")
    sub.on_message = lambda _c, _u, msg: received.append((msg.topic, msg.payload, msg.qos))
    sub.connect("127.0.0.1", 1883)
    sub.subscribe(f"{prefix}/#", qos=1)
    sub.loop_start()
    try:
        start, end = await _load(database_url, days=7)
        settings = make_settings(MQTT_BROKER="127.0.0.1", MQTT_TOPIC_PREFIX=prefix)
        async with app_client(["training", "pattern"], settings) as client:
            for _ in range(50):
                if client.app.state.mqtt.connected:
                    break
                await asyncio.sleep(0.1)
            run = await _analyse(client, start, end)
            for _ in range(50):
                if received:
                    break
                await asyncio.sleep(0.1)
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert received, "no notice arrived"
    topic, payload, qos = received[0]
    assert topic == f"{prefix}/analysis/pattern/complete" and qos == 1
    body = json.loads(payload)
    assert body["run_id"] == run["id"] and body["status"] == "completed" and body["service"] == "pattern"
    assert {"timestamp", "patterns_detected", "synergies_detected", "duration_seconds", "errors"} <= set(body)
