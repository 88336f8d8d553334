"""Pattern routes through the real app: filters, paging, analysis runs, and their 4xx answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from factories import STANDARD_PATTERNS, seed_patterns


async def test_list_and_get_patterns(app_client: Callable[..., Any], database_url: str) -> None:
    """Stored patterns come back filtered and paged, one by id, unknown ids 404."""
    await seed_patterns(database_url, STANDARD_PATTERNS)
    async with app_client(["pattern"]) as client:
        page = (await client.get("/api/v1/patterns", params={"min_confidence": 0.8, "limit": 1})).json()
        assert page["total"] == 2 and [p["id"] for p in page["items"]] == ["p-evening-lamp"]
        one = (await client.get("/api/v1/patterns/p-morning")).json()
        assert one["entity_ids"] == ["binary_sensor.hall_motion", "light.hall", "light.kitchen"]
        missing = await client.get("/api/v1/patterns/nope")
        assert missing.status_code == 404 and missing.json()["code"] == "pattern_not_found"


async def test_bad_query_parameters_are_400_naming_the_field(app_client: Callable[..., Any]) -> None:
    """Out-of-range and wrongly typed parameters are rejected with the parameter named."""
    async with app_client(["pattern"]) as client:
        for params, field in (
            ({"limit": 0}, "limit"),
            ({"limit": "x"}, "limit"),
            ({"min_confidence": 1.5}, "min_confidence"),
            ({"depth": 9}, "depth"),
        ):
            path = "/api/v1/synergies" if field == "depth" else "/api/v1/patterns"
            response = await client.get(path, params=params)
            assert response.status_code == 400, response.text
            assert field in response.json()["message"]
        response = await client.get("/api/v1/patterns", params={"pattern_type": "telepathy"})
        assert response.status_code == 400 and response.json()["code"] == "invalid_filter"


async def test_analysis_run_202_and_status(app_client: Callable[..., Any]) -> None:
    """POST starts a run (202, body optional); its status is readable and it completes."""
    async with app_client(["pattern"]) as client:
        started = await client.post("/api/v1/analysis/run")
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        for _ in range(100):
            run = (await client.get(f"/api/v1/analysis/runs/{run_id}")).json()
            if run["status"] == "completed":
                break
            await asyncio.sleep(0.02)
        assert run["status"] == "completed"
        runs = (await client.get("/api/v1/analysis/runs")).json()
        assert runs["total"] == 1 and runs["items"][0]["id"] == run_id


async def test_analysis_run_rejects_bad_windows(app_client: Callable[..., Any]) -> None:
    """Naive timestamps, reversed windows, bad days and unknown fields are 400s; unknown runs 404."""
    async with app_client(["pattern"]) as client:
        cases = [
            ({"start": "2026-01-01T00:00:00"}, "invalid_analysis_window"),
            ({"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "invalid_analysis_window"),
            ({"days": -3}, "invalid_analysis_window"),
            ({"days": "many"}, "invalid_request"),
            ({"weeks": 2}, "invalid_request"),
            ({"start": "yesterday"}, "invalid_request"),
            ({"start": "0001-01-02T00:00:00Z", "end": "0001-01-03T00:00:00Z"}, "invalid_analysis_window"),
            ({"start": "9999-12-30T00:00:00Z"}, "invalid_analysis_window"),
        ]
        for body, code in cases:
            response = await client.post("/api/v1/analysis/run", json=body)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["code"] == code, (body, response.json())
        missing = await client.get("/api/v1/analysis/runs/nope")
        assert missing.status_code == 404 and missing.json()["code"] == "analysis_run_not_found"
        runs = (await client.get("/api/v1/analysis/runs")).json()
        assert runs["total"] == 0, "a rejected request stored a run"


async def test_unfinished_runs_are_failed_at_startup(
    app_client: Callable[..., Any], database_url: str
) -> None:
    """A run left running by a crashed process is marked failed when the module starts again."""
    from homeiq_ai.kernel.db import Database, utcnow
    from homeiq_ai.pattern.models import AnalysisRunRecord

    db = Database(database_url)
    async with db.session() as session:
        session.add(
            AnalysisRunRecord(
                id="r" * 32,
                status="running",
                trigger="schedule",
                requested_at=utcnow(),
                errors=[],
                timings={},
            )
        )
    await db.dispose()
    async with app_client(["pattern"]) as client:
        run = (await client.get(f"/api/v1/analysis/runs/{'r' * 32}")).json()
        assert run["status"] == "failed"
        assert "stopped before it finished" in run["errors"][0]
