"""Deploys against a real Home Assistant 2024.3.3 from real uvicorn processes: a `kill -9` between Home
Assistant's answer and our version record is reconciled from HA's read-back at restart, and two processes
deploying the same suggestion at once deploy it once."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import sqlite_url
from integration.homeassistant.conftest import HomeAssistantInstance
from integration.procs import ServerProcess, free_port, uvicorn_argv
from integration.reliability.faulty import SAVE_PREFIX, FaultyHomeAssistant
from integration.reliability.test_home_assistant_faults import automation_yaml

pytestmark = pytest.mark.integration


@pytest.fixture
def db_file(migrated_sqlite_template: Path, tmp_path: Path) -> Path:
    """A SQLite file at head for the processes of one test."""
    target = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, target)
    return target


@pytest.fixture
def proxy(home_assistant: HomeAssistantInstance) -> Iterator[FaultyHomeAssistant]:
    """The fault proxy in front of the real Home Assistant, passing everything through."""
    with FaultyHomeAssistant(home_assistant.url) as faulty:
        yield faulty


def start(name: str, db_file: Path, ha_url: str, token: str, tmp_path: Path) -> ServerProcess:
    """The all-in-one app as a uvicorn process on the shared file, ready."""
    port = free_port()
    env = {
        "DATABASE_URL": sqlite_url(db_file),
        "HOMEIQ_DATA_DIR": str(tmp_path / name),
        "HA_URL": ha_url,
        "HA_TOKEN": token,
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "INFO",
    }
    server = ServerProcess(name, uvicorn_argv("all", port), env, port, tmp_path)
    server.wait_ready(60)
    return server


def approved(server: ServerProcess, alias: str) -> str:
    created = httpx.post(f"{server.url}/api/v1/suggestions/", json={"yaml": automation_yaml(alias)}, timeout=30)
    assert created.status_code == 201, created.text
    sid = str(created.json()["id"])
    answer = httpx.post(f"{server.url}/api/v1/suggestions/{sid}/approve", json={"reason": "t"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return sid


def rows(db_file: Path, sid: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file) as conn:
        return conn.execute(
            "SELECT version, status FROM automation_deployment WHERE suggestion_id = ? ORDER BY version", (sid,)
        ).fetchall()


def test_deploy_killed_after_home_assistant_answered_is_reconciled(
    home_assistant: HomeAssistantInstance, proxy: FaultyHomeAssistant, db_file: Path, tmp_path: Path
) -> None:
    """kill -9 while HA has stored the automation but we have not recorded it: the restart records it, once."""
    ha = home_assistant
    alias = f"HomeIQ crash deploy {uuid.uuid4().hex[:8]}"
    first = start("app-1", db_file, proxy.url, ha.token, tmp_path)
    try:
        sid = approved(first, alias)
        proxy.hold_after_save = True
        answers: list[Any] = []

        def deploy() -> None:
            try:
                answers.append(
                    httpx.post(f"{first.url}/api/v1/deployment/deploy", json={"suggestion_id": sid}, timeout=30)
                )
            except httpx.HTTPError as exc:
                answers.append(exc)

        caller = threading.Thread(target=deploy)
        caller.start()
        assert proxy.save_answered.wait(20), first.log()
        first.proc.kill()  # SIGKILL: no shutdown, no cleanup
        first.proc.wait(10)
        caller.join(10)
        assert isinstance(answers[0], httpx.HTTPError), answers
    finally:
        proxy.hold_after_save = False
        proxy.release.set()
        first.stop()
    assert rows(db_file, sid) == [(1, "pending")]
    stored = httpx.get(f"{ha.url}{SAVE_PREFIX}homeiq_{sid}", headers=ha.headers(), timeout=10)
    assert stored.status_code == 200 and stored.json()["alias"] == alias

    began = time.monotonic()
    second = start("app-2", db_file, proxy.url, ha.token, tmp_path)
    try:
        deadline = time.monotonic() + 20
        while rows(db_file, sid) != [(1, "deployed")]:
            assert time.monotonic() < deadline, (rows(db_file, sid), second.log())
            time.sleep(0.1)
        reconciled_s = time.monotonic() - began
        automation = httpx.get(f"{second.url}/api/v1/automations/{sid}", timeout=10).json()
        assert automation["status"] == "deployed" and automation["entity_id"].startswith("automation."), automation
        assert [v["version"] for v in automation["versions"]] == [1]
        assert "read-back" in (automation["versions"][0].get("note") or ""), automation["versions"][0]
        assert "recorded now" in second.log()
        # The next deploy (a rollback to version 1, recorded as 2) works and HA still holds one entry.
        rolled = httpx.post(f"{second.url}/api/v1/automations/{sid}/rollback", json={"version": 1}, timeout=30)
        assert rolled.status_code == 200, rolled.text
        assert rows(db_file, sid) == [(1, "deployed"), (2, "deployed")]
        assert httpx.delete(f"{second.url}/api/v1/automations/{sid}", timeout=30).status_code == 204
    finally:
        assert second.stop() == 0, second.log()
    print(f"deploy crash: reconciled {reconciled_s:.2f} s after the restart began")


def test_two_processes_deploying_at_once_deploy_once(
    home_assistant: HomeAssistantInstance, proxy: FaultyHomeAssistant, db_file: Path, tmp_path: Path
) -> None:
    """Two processes get the same deploy at the same moment: one 201, one 409 deploy_in_progress, one save."""
    ha = home_assistant
    alias = f"HomeIQ race deploy {uuid.uuid4().hex[:8]}"
    a = start("app-a", db_file, proxy.url, ha.token, tmp_path)
    b = start("app-b", db_file, proxy.url, ha.token, tmp_path)
    try:
        sid = approved(a, alias)
        # The first save is held until the other deploy has been answered, so both claims are made while
        # it is in flight however slow the machine (a fixed delay raced on CI's two cores).
        gate = threading.Event()
        proxy.save_gate = gate
        barrier = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def deploy(server: ServerProcess) -> None:
            barrier.wait()
            answers[server.name] = httpx.post(
                f"{server.url}/api/v1/deployment/deploy", json={"suggestion_id": sid}, timeout=30
            )

        threads = [threading.Thread(target=deploy, args=(s,)) for s in (a, b)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
        gate.set()
        for thread in threads:
            thread.join(30)
        statuses = sorted(r.status_code for r in answers.values())
        assert statuses == [201, 409], {k: r.text for k, r in answers.items()}
        loser = next(r for r in answers.values() if r.status_code == 409)
        assert loser.json()["code"] == "deploy_in_progress", loser.text
        assert proxy.saves_forwarded == 1
        assert rows(db_file, sid) == [(1, "deployed")]
        proxy.save_gate = None
        assert httpx.delete(f"{a.url}/api/v1/automations/{sid}", timeout=30).status_code == 204
    finally:
        a.stop()
        b.stop()
