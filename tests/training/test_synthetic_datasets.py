"""Synthetic datasets: generate, list and download weather, calendar, occupancy and homes, same by seed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from helpers import assert_error

URL = "/api/v1/training/synthetic/datasets"


@pytest.mark.parametrize("kind", ["weather", "calendar", "occupancy", "home"])
async def test_each_kind_is_generated_listed_and_downloaded_the_same_by_seed(
    app_client: Callable[..., Any], kind: str
) -> None:
    """Two datasets of the same values hold the same rows (checksum); the download is the JSON Lines file."""
    async with app_client(["training"]) as client:
        body = {"kind": kind, "seed": 3, "home_type": "studio", "days": 3}
        first = await client.post(URL, json=body)
        assert first.status_code == 201, first.text
        second = (await client.post(URL, json=body)).json()
        a = first.json()
        assert a["rows"] > 0 and a["sha256"] == second["sha256"] and a["id"] != second["id"]
        assert (a["kind"], a["seed"], a["days"], a["home_type"]) == (kind, 3, 3, "studio")
        other = (await client.post(URL, json=body | {"seed": 4})).json()
        if kind != "calendar":  # the calendar depends on dates and country, not on the seed
            assert other["sha256"] != a["sha256"]
        listed = (await client.get(URL)).json()
        assert listed["total"] == 3 and {d["id"] for d in listed["items"]} >= {a["id"], second["id"]}
        download = await client.get(a["download"])
        assert download.status_code == 200
        rows = [json.loads(line) for line in download.text.splitlines()]
        assert len(rows) == a["rows"]
        if kind == "calendar":
            assert [r["date"] for r in rows] == ["2026-01-05", "2026-01-06", "2026-01-07"]
        if kind == "occupancy":
            assert all(r["person"].startswith("person.") for r in rows)


async def test_bad_dataset_requests_are_4xx(app_client: Callable[..., Any]) -> None:
    """Unknown kind, days out of range or an unknown time zone: 400; an unknown id: 404."""
    async with app_client(["training"]) as client:
        assert_error(await client.post(URL, json={"kind": "tides"}), 400, "invalid_request")
        assert_error(await client.post(URL, json={"kind": "weather", "days": 0}), 400, "invalid_request")
        body = assert_error(
            await client.post(URL, json={"kind": "weather", "time_zone": "Mars/Olympus"}), 400, "invalid_synthetic_home"
        )
        assert "Mars/Olympus" in body["message"]
        assert (await client.get(URL)).json()["total"] == 0
        assert_error(await client.get(f"{URL}/nope/download"), 404, "synthetic_dataset_not_found")
        assert_error(await client.get(f"{URL}/..hidden/download"), 404, "synthetic_dataset_not_found")
        assert (await client.get(f"{URL}/..%2F..%2Fetc/download")).status_code == 404
