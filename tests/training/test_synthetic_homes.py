"""Synthetic homes through the API and the CLI: generated, saved with their truth, loaded into the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import assert_error

HOMES = "/api/v1/training/synthetic/homes"
CLI = [sys.executable, "-m", "homeiq_ai"]


async def test_generate_and_load_a_home(app_client: Callable[..., Any]) -> None:
    """A loaded home's registry and events are served by the home API; its files hold the truth."""
    async with app_client(["training"]) as client:
        response = await client.post(HOMES, json={"seed": 7, "home_type": "apartment", "days": 3, "load": True})
        assert response.status_code == 201, response.text
        home = response.json()
        assert home["loaded"] is True and home["inserted"] == home["events"] > 1000
        assert home["truth"]["routines"] > 0 and home["truth"]["causal_pairs"] > 0
        folder = Path(home["path"])
        assert {p.name for p in folder.iterdir()} >= {"events.jsonl", "registry.json", "truth.json", "home.json"}
        assert sum(1 for _ in (folder / "events.jsonl").open()) == home["events"]

        info = (await client.get("/api/v1/home")).json()
        assert (info["time_zone"], info["source"]) == ("Europe/Berlin", "synthetic")
        entities = (await client.get("/api/v1/home/entities", params={"limit": 500})).json()
        assert entities["total"] == home["entities"]
        lights = (await client.get("/api/v1/home/entities", params={"domain": "light"})).json()
        assert lights["total"] > 0 and all(e["area_id"] for e in lights["items"])

        again = (await client.post(HOMES, json={"seed": 7, "home_type": "apartment", "days": 3, "load": True})).json()
        assert (again["inserted"], again["duplicates"]) == (0, home["events"])


async def test_without_load_nothing_is_stored(app_client: Callable[..., Any]) -> None:
    """By default a home is only written to files; the store stays empty."""
    async with app_client(["training"]) as client:
        home = (await client.post(HOMES, json={"days": 1})).json()
        assert home["loaded"] is False and home["inserted"] == 0 and home["events"] > 0
        assert (await client.get("/api/v1/home/events")).json()["items"] == []


async def test_bad_requests_are_400(app_client: Callable[..., Any]) -> None:
    """Unknown home types, out-of-range days, unknown fields and unplaceable time zones are 400s."""
    async with app_client(["training"]) as client:
        for body in ({"home_type": "castle"}, {"days": 0}, {"days": 10_000}, {"rooms": 3}, {"seed": -1}):
            body_text = assert_error(await client.post(HOMES, json=body), 400, "invalid_request")
            assert next(iter(body)) in body_text["message"]
        for start in ("0001-01-01", "9999-12-30"):
            far = assert_error(await client.post(HOMES, json={"start": start}), 400, "invalid_synthetic_home")
            assert "supported range" in far["message"]
        error = assert_error(
            await client.post(HOMES, json={"time_zone": "Mars/Olympus"}), 400, "invalid_synthetic_home"
        )
        assert "Mars/Olympus" in error["message"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "HOMEIQ_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "", "HOME_TIME_ZONE": ""}


def test_demo_loads_once(tmp_path: Path) -> None:
    """`homeiq-ai demo` brings an empty database to head and loads a home; a second run leaves it alone."""
    first = subprocess.run(
        [*CLI, "demo", "--days", "2"], env=_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert "loaded a synthetic single family home" in first.stderr
    second = subprocess.run(
        [*CLI, "demo", "--days", "2"], env=_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert second.returncode == 0 and "already holds" in second.stderr, second.stderr


def test_synthetic_writes_a_home_to_a_folder(tmp_path: Path) -> None:
    """`homeiq-ai synthetic DIR` writes events, registry and truth that read back."""
    out = tmp_path / "home"
    result = subprocess.run(
        [*CLI, "synthetic", str(out), "--days", "2", "--seed", "3"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    truth = json.loads((out / "truth.json").read_text())
    assert truth["routines"], truth
    bad = subprocess.run(
        [*CLI, "synthetic", str(out), "--time-zone", "Mars/Olympus"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "Mars/Olympus" in bad.stderr
