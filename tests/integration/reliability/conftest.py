"""The real Home Assistant fixture of tests/integration/homeassistant, and the demo home, for the fault and crash
tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import sqlite_url
from homeiq_ai.kernel import migrate
from integration.homeassistant.conftest import *  # noqa: F403  (fixtures: home_assistant, ha_venv, ...)
from integration.procs import REPO


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at head holding the demo home (~250k events: an analysis takes a few seconds); copy it."""
    folder = tmp_path_factory.mktemp("demo-home")
    path = folder / "demo.db"
    migrate.upgrade(sqlite_url(path))
    env = {**os.environ, "DATABASE_URL": sqlite_url(path), "HOMEIQ_DATA_DIR": str(folder)}
    done = subprocess.run(
        [sys.executable, "-m", "homeiq_ai", "demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return path
