"""Health routes: health/live always answer; ready is 503 with a reason while the database is unusable."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from conftest import run_coro, sqlite_url
from homeiq_ai import __version__
from homeiq_ai.kernel import migrate
from homeiq_ai.kernel.db import Database
from homeiq_ai.settings import Settings
from integration.procs import REPO, ServerProcess, free_port, uvicorn_argv

DEAD_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/x"
NOBODY_UID = 65534

MODULE_SETS = [
    ("pattern", ["pattern"]),
    ("query", ["query"]),
    ("training", ["training"]),
    ("automation", ["automation"]),
    ("pattern,query", ["pattern", "query"]),
    ("all", ["training", "pattern", "query", "automation", "web"]),
]


@pytest.mark.parametrize(("modules", "expected"), MODULE_SETS, ids=[m for m, _ in MODULE_SETS])
async def test_health_and_live_list_modules(
    app_client: Callable[..., Any], modules: str, expected: list[str]
) -> None:
    """/health/health and /health/live answer 200 with the loaded modules and the version."""
    async with app_client(modules) as client:
        health = await client.get("/health/health")
        live = await client.get("/health/live")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "service": "homeiq-ai",
        "version": __version__,
        "modules": expected,
    }
    assert live.status_code == 200
    body = live.json()
    assert body["status"] == "alive"
    assert body["modules"] == expected and body["version"] == __version__
    assert body["uptime_seconds"] >= 0


@pytest.mark.parametrize("modules", ["pattern", "query", "all"])
async def test_ready_at_head(app_client: Callable[..., Any], modules: str) -> None:
    """/health/ready is 200 with database and schema checks ok on a database at head."""
    async with app_client(modules) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert "reason" not in body
    assert body["checks"]["database"] == {"ok": True, "detail": "sqlite"}
    assert body["checks"]["schema"]["ok"] is True
    assert migrate.head_revision() in body["checks"]["schema"]["detail"]
    assert all(check["ok"] for check in body["checks"].values()), body


def _assert_unready(response: Any, check: str) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][check]["ok"] is False
    assert body["reason"].startswith(f"{check}:") or f"; {check}:" in body["reason"], body["reason"]
    return body


async def test_ready_503_on_empty_database(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """An empty, un-migrated SQLite file is reachable but not ready: reason 'no schema'."""
    settings = make_settings(DATABASE_URL=sqlite_url(tmp_path / "empty.db"))
    async with app_client("pattern", settings) as client:
        response = await client.get("/health/ready")
        health = await client.get("/health/health")
    body = _assert_unready(response, "schema")
    assert body["checks"]["database"]["ok"] is True
    assert "no schema" in body["reason"]
    assert "db upgrade" in body["reason"]
    assert health.status_code == 200


async def test_ready_503_when_behind_head(app_client: Callable[..., Any], database_url: str) -> None:
    """A database at another revision than head is not ready; the reason names head."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = 'old0rev1'"))
    finally:
        await db.dispose()
    async with app_client("all") as client:
        response = await client.get("/health/ready")
    body = _assert_unready(response, "schema")
    head = migrate.head_revision()
    assert "old0rev1" in body["reason"]
    assert f"head is {head}" in body["reason"]


async def test_ready_503_when_database_folder_is_a_file(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A database path whose parent cannot exist (it is a regular file) gives 503 'unreachable'."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file, not a directory")
    settings = make_settings(DATABASE_URL=sqlite_url(blocker / "shared.db"))
    async with app_client("pattern", settings) as client:
        response = await client.get("/health/ready")
        health = await client.get("/health/health")
    body = _assert_unready(response, "database")
    assert "unreachable" in body["reason"]
    assert "schema" not in body["checks"]
    assert health.status_code == 200


def _chmod_denies(folder: Path) -> bool:
    """Whether removing a folder's permissions actually keeps this user out (not so for root)."""
    folder.chmod(0)
    try:
        return not os.access(folder, os.R_OK | os.X_OK)
    finally:
        folder.chmod(stat.S_IRWXU)


async def test_ready_503_when_database_folder_is_unreadable(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """chmod 000 on the database's folder makes ready 503 (in process; needs a user chmod applies to)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    url = sqlite_url(folder / "shared.db")
    migrate.upgrade(url)
    if not _chmod_denies(folder):
        pytest.skip(
            "SKIPPED (permissions): running as root, for whom chmod 000 has no effect; "
            "covered by test_ready_503_as_nobody_when_database_folder_is_unreadable"
        )
    settings = make_settings(DATABASE_URL=url)
    folder.chmod(0)
    try:
        async with app_client("pattern", settings) as client:
            response = await client.get("/health/ready")
            health = await client.get("/health/health")
    finally:
        folder.chmod(stat.S_IRWXU)
    body = _assert_unready(response, "database")
    assert "unreachable" in body["reason"]
    assert health.status_code == 200


async def test_ready_503_on_dead_postgresql(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    """A dead PostgreSQL gives ready 503 with a reason within 10 s; health keeps answering."""
    settings = make_settings(DATABASE_URL=DEAD_PG_URL)
    async with app_client("all", settings) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        elapsed = time.monotonic() - started
        health = await client.get("/health/health")
        live = await client.get("/health/live")
        again = await client.get("/health/ready")
    assert elapsed < 10, f"ready took {elapsed:.1f} s on a dead database"
    body = _assert_unready(response, "database")
    assert "unreachable" in body["reason"]
    assert health.status_code == 200 and live.status_code == 200
    assert again.status_code == 503


# --- real uvicorn processes -------------------------------------------------------------------------




def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "HOMEIQ_DATA_DIR": str(data_dir),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        "MQTT_BROKER": "",
        "API_KEY": "",
    }




def _assert_serving_but_unready(server: ServerProcess, check: str) -> str:
    """health answers 200 and ready 503 naming `check`, several times over; returns the reason."""
    server.wait_until("/health/health")
    reason = ""
    for _ in range(3):
        started = time.monotonic()
        ready = httpx.get(f"{server.url}/health/ready", timeout=15.0)
        assert time.monotonic() - started < 10, "ready took too long"
        body = _assert_unready(ready, check)
        reason = body["reason"]
        assert httpx.get(f"{server.url}/health/health", timeout=5.0).status_code == 200
        time.sleep(0.2)
    assert server.proc.poll() is None, f"the process died:\n{server.log()}"
    return reason


@pytest.mark.integration
def test_uvicorn_on_dead_postgresql_keeps_serving(tmp_path: Path) -> None:
    """A real uvicorn process on a dead PostgreSQL starts, answers health 200 and ready 503, stops cleanly."""
    port = free_port()
    server = ServerProcess(
        "pattern-dead-pg", uvicorn_argv("pattern", port), _env(DEAD_PG_URL, tmp_path / "data"), port, tmp_path
    )
    try:
        reason = _assert_serving_but_unready(server, "database")
        assert "unreachable" in reason
    finally:
        code = server.stop()
    assert code == 0, server.log()
    assert "Traceback" not in server.log(), server.log()


def _as_nobody(argv: list[str]) -> list[str]:
    """argv run as the unprivileged user `nobody`, for whom file permissions apply."""
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [setpriv, f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups", *argv]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder outside the root-only pytest tmp tree, traversable by `nobody`."""
    folder = Path(tempfile.mkdtemp(prefix="homeiq-nobody-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in (folder, *folder.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def _nobody_can_run_python() -> str | None:
    """None when a process dropped to `nobody` can import the package, else why not."""
    try:
        result = subprocess.run(
            _as_nobody([sys.executable, "-c", "import homeiq_ai.app, uvicorn, aiosqlite"]),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot start a process as nobody: {exc}"
    if result.returncode != 0:
        return f"nobody cannot run {sys.executable}: {result.stderr.strip()[-300:]}"
    return None


@pytest.mark.integration
def test_ready_503_as_nobody_when_database_folder_is_unreadable(shared_tmp: Path, tmp_path: Path) -> None:
    """As `nobody`, a uvicorn process whose DB folder is chmod 000 keeps serving: health 200, ready 503."""
    if os.geteuid() != 0:
        pytest.skip(
            "SKIPPED (permissions): not root; test_ready_503_when_database_folder_is_unreadable covers it"
        )
    why_not = _nobody_can_run_python()
    if why_not:
        pytest.skip(f"SKIPPED (permissions): {why_not}")
    folder = shared_tmp / "locked"
    folder.mkdir()
    url = sqlite_url(folder / "shared.db")
    migrate.upgrade(url)
    run_coro(lambda: _dispose_after_ping(url))
    for path in (folder, *folder.iterdir()):
        os.chown(path, NOBODY_UID, NOBODY_UID)
    folder.chmod(0)
    port = free_port()
    env = {**_env(url, shared_tmp), "HOME": str(shared_tmp), "PYTHONDONTWRITEBYTECODE": "1"}
    server = ServerProcess("pattern-locked", _as_nobody(uvicorn_argv("pattern", port)), env, port, tmp_path)
    try:
        reason = _assert_serving_but_unready(server, "database")
        assert "unreachable" in reason
        # Giving the permissions back makes the same process ready without a restart.
        folder.chmod(0o755)
        server.wait_ready(timeout=20)
    finally:
        folder.chmod(0o755)
        code = server.stop()
    assert code == 0, server.log()


async def _dispose_after_ping(url: str) -> None:
    db = Database(url)
    try:
        await db.ping()
    finally:
        await db.dispose()
