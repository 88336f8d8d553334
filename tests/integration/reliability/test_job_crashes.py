"""`kill -9` of a real uvicorn process during an analysis and during a training run: on restart nothing is
left `running`, nothing is run twice, and the next run completes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import sqlite_url
from integration.procs import REPO, ServerProcess, free_port, uvicorn_argv

pytestmark = pytest.mark.integration

TINY_GNN = {"train_seeds": [1], "test_seeds": [101], "home_types": ["studio"], "days": 5, "epochs": 400}


def start(name: str, db_file: Path, tmp_path: Path, **extra: str) -> ServerProcess:
    port = free_port()
    env = {
        "DATABASE_URL": sqlite_url(db_file),
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        **extra,
    }
    server = ServerProcess(name, uvicorn_argv("all", port), env, port, tmp_path)
    server.wait_ready(60)
    return server


def kill9(server: ServerProcess) -> None:
    server.proc.kill()
    server.proc.wait(10)
    server.stop()


def statuses(db_file: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(db_file) as conn:
        return dict(conn.execute(f"SELECT id, status FROM {table}").fetchall())


def wait_status(server: ServerProcess, path: str, wanted: set[str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(f"{server.url}{path}", timeout=10).json()
        if run["status"] in wanted:
            return dict(run)
        assert time.monotonic() < deadline, (run, server.log()[-3000:])
        time.sleep(0.05)


def test_analysis_killed_while_running(demo_db: Path, tmp_path: Path) -> None:
    """The killed run is failed at once on restart (its lease names a dead pid); the next run completes."""
    db_file = tmp_path / "shared.db"
    shutil.copyfile(demo_db, db_file)
    first = start("pattern-1", db_file, tmp_path)
    try:
        run = httpx.post(f"{first.url}/api/v1/analysis/run", json={}, timeout=30).json()
        wait_status(first, f"/api/v1/analysis/runs/{run['id']}", {"running"})
    finally:
        kill9(first)
    assert statuses(db_file, "pattern_analysis_run") == {run["id"]: "running"}

    began = time.monotonic()
    second = start("pattern-2", db_file, tmp_path)
    try:
        killed = httpx.get(f"{second.url}/api/v1/analysis/runs/{run['id']}", timeout=10).json()
        recovered_s = time.monotonic() - began
        assert killed["status"] == "failed" and "stopped before it finished" in killed["errors"][0], killed
        nxt = httpx.post(f"{second.url}/api/v1/analysis/run", json={}, timeout=30).json()
        done = wait_status(second, f"/api/v1/analysis/runs/{nxt['id']}", {"completed", "failed"})
        assert done["status"] == "completed", done
        again = httpx.post(f"{second.url}/api/v1/analysis/run", json={}, timeout=30).json()
        done_again = wait_status(second, f"/api/v1/analysis/runs/{again['id']}", {"completed", "failed"})
        assert done_again["status"] == "completed", done_again
        # A rerun over the same events keeps the same patterns: nothing duplicated by the crash or the reruns.
        assert done_again["patterns_detected"] == done["patterns_detected"] > 0
        patterns = httpx.get(f"{second.url}/api/v1/patterns", params={"limit": 1}, timeout=10).json()["total"]
        assert patterns <= done["patterns_detected"]
    finally:
        assert second.stop() == 0, second.log()
    assert "running" not in statuses(db_file, "pattern_analysis_run").values()
    print(f"analysis crash: the killed run was failed {recovered_s:.2f} s after the restart began")


def test_training_killed_while_running(tmp_path: Path, migrated_sqlite_template: Path) -> None:
    """The killed run is requeued once its lease (5 s) runs out and completes on the restarted worker."""
    db_file = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, db_file)
    env = {"SCHEDULER_ENABLED": "true", "TRAINING_LEASE_SECONDS": "5"}
    first = start("training-1", db_file, tmp_path, **env)
    try:
        run = httpx.post(f"{first.url}/api/v1/training/gnn_synergy", json={"params": TINY_GNN}, timeout=30).json()
        wait_status(first, f"/api/v1/training/runs/{run['id']}", {"running"}, timeout=60)
    finally:
        kill9(first)
    assert statuses(db_file, "training_run") == {run["id"]: "running"}

    began = time.monotonic()
    second = start("training-2", db_file, tmp_path, **env)
    try:
        done = wait_status(second, f"/api/v1/training/runs/{run['id']}", {"completed", "failed"}, timeout=120)
        assert done["status"] == "completed", done
        assert done["attempts"] == 2, done
        models = httpx.get(f"{second.url}/api/v1/training/models", timeout=10).json()
        assert models["total"] == 1, models  # the killed attempt stored nothing
    finally:
        assert second.stop() == 0, second.log()
    assert list(statuses(db_file, "training_run").values()) == ["completed"]
    print(f"training crash: the requeued run completed {time.monotonic() - began:.2f} s after the restart began")


def event_count(db_file: Path) -> int:
    with sqlite3.connect(db_file, timeout=10) as conn:
        return int(conn.execute("SELECT count(*) FROM home_event").fetchone()[0])


def test_import_killed_while_writing(demo_db: Path, tmp_path: Path, migrated_sqlite_template: Path) -> None:
    """An import killed between its transactions keeps what it committed; importing the file again stores the
    rest once (what was stored is skipped as duplicates), so the home ends with every event exactly once."""
    exported = tmp_path / "events.jsonl"
    env = {**os.environ, "DATABASE_URL": sqlite_url(demo_db), "HOMEIQ_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "homeiq_ai", "export", str(exported)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    total = event_count(demo_db)
    assert sum(1 for _ in exported.open()) == total > 100_000

    db_file = tmp_path / "target.db"
    shutil.copyfile(migrated_sqlite_template, db_file)
    env["DATABASE_URL"] = sqlite_url(db_file)
    argv = [sys.executable, "-m", "homeiq_ai", "import", str(exported)]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while event_count(db_file) == 0:  # the file is validated first, then written chunk by chunk
            assert proc.poll() is None and time.monotonic() < deadline, "the import ended before it was killed"
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait(10)
    stored = event_count(db_file)
    assert 0 < stored < total, (stored, total)

    again = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert event_count(db_file) == total
    with sqlite3.connect(db_file) as conn:
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT entity_id, time FROM home_event GROUP BY entity_id, time HAVING count(*) > 1)"
        ).fetchone()[0]
    assert twice == 0
    print(f"import crash: {stored:,} of {total:,} events were stored when it was killed; the rerun stored the rest")
