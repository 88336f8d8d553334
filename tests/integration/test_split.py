"""The four entrypoints as real uvicorn processes over one SQLite file, and the same flow all-in-one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import run_coro, sqlite_url
from factories import STANDARD_PATTERNS, seed_patterns
from homeiq_ai.kernel import migrate
from homeiq_ai.settings import MODULE_NAMES
from integration.procs import ServerProcess, free_port, uvicorn_argv

pytestmark = pytest.mark.integration

URL_VARS = {
    "training": "AI_TRAINING_SERVICE_URL",
    "pattern": "AI_PATTERN_SERVICE_URL",
    "query": "AI_QUERY_SERVICE_URL",
    "automation": "AI_AUTOMATION_SERVICE_URL",
}


@pytest.fixture
def shared_db(tmp_path: Path) -> str:
    """One SQLite file at head with a few stored patterns, shared by every process."""
    url = sqlite_url(tmp_path / "data" / "shared.db")
    migrate.upgrade(url)
    run_coro(lambda: seed_patterns(url, STANDARD_PATTERNS))
    return url


def _base_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        "HOST": "127.0.0.1",
        "MQTT_BROKER": "",
    }




def _exercise(automation: str, query: str, pattern: str) -> None:
    """The cross-module flow: automation reads patterns and queries through their apis."""
    with httpx.Client(timeout=10) as http:
        generated = http.post(f"{automation}/api/v1/suggestions/generate", json={"min_confidence": 0.7})
        assert generated.status_code == 201, generated.text
        assert {s["source_id"] for s in generated.json()["created"]} == {
            "p-evening-lamp",
            "p-door-hall",
            "p-morning",
        }
        created_query = http.post(f"{query}/api/v1/query/", json={"query": "porch light on at sunset"})
        assert created_query.status_code == 201, created_query.text
        from_query = http.post(
            f"{automation}/api/v1/suggestions/generate",
            json={"source": "query", "query_id": created_query.json()["id"]},
        )
        assert from_query.status_code == 409 and from_query.json()["code"] == "source_not_ready"
        missing = http.post(
            f"{automation}/api/v1/suggestions/generate",
            json={"source": "query", "query_id": "does-not-exist"},
        )
        assert missing.status_code == 404 and missing.json()["code"] == "query_not_found"
        run = http.post(f"{pattern}/api/v1/analysis/run", json={"days": 7})
        assert run.status_code == 202, run.text


@pytest.fixture
def split(shared_db: str, tmp_path: Path) -> Iterator[dict[str, ServerProcess]]:
    """The four module processes, each told where the others are."""
    ports = {name: free_port() for name in MODULE_NAMES}
    env = _base_env(shared_db, tmp_path)
    env.update({URL_VARS[name]: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    procs = {
        name: ServerProcess(name, uvicorn_argv(name, ports[name]), env, ports[name], tmp_path)
        for name in MODULE_NAMES
    }
    try:
        yield procs
    finally:
        for proc in procs.values():
            if proc.proc.poll() is None:
                proc.proc.kill()


def test_four_processes(split: dict[str, ServerProcess]) -> None:
    """Each process is ready with only its module, the cross-module calls go over HTTP, all stop cleanly."""
    for name, proc in split.items():
        ready = proc.wait_ready().json()
        # The automation process also serves the owner's page (module web).
        assert ready["modules"] == ([name, "web"] if name == "automation" else [name])
        assert ready["status"] == "ready"
        assert ready["checks"]["schema"]["ok"] is True
        # Another module's routes are not mounted here.
        other = "/api/v1/patterns" if name != "pattern" else "/api/v1/query/x/suggestions"
        assert httpx.get(f"{proc.url}{other}").status_code == 404
    _exercise(split["automation"].url, split["query"].url, split["pattern"].url)
    # The automation process really went over HTTP: stopping pattern makes it answer 503.
    assert split["pattern"].stop() == 0
    down = httpx.post(f"{split['automation'].url}/api/v1/suggestions/generate", timeout=30)
    assert down.status_code == 503 and "pattern" in down.json()["message"]
    for name in ("automation", "query", "training"):
        assert split[name].stop() == 0, split[name].log()
        assert "Traceback" not in split[name].log(), split[name].log()


def test_all_in_one_process(shared_db: str, tmp_path: Path) -> None:
    """The same flow through one process serving every module on one port."""
    port = free_port()
    proc = ServerProcess("all", uvicorn_argv("all", port), _base_env(shared_db, tmp_path), port, tmp_path)
    try:
        ready = proc.wait_ready().json()
        assert ready["modules"] == [*MODULE_NAMES, "web"]
        _exercise(proc.url, proc.url, proc.url)
    finally:
        code = proc.stop()
    assert code == 0, proc.log()
    assert "Traceback" not in proc.log(), proc.log()
