"""The PatternApi contract, run against LocalPatternApi and HttpPatternApi with the same assertions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from litestar.testing import AsyncTestClient

from factories import STANDARD_PATTERNS, seed_patterns, seed_synergies
from homeiq_ai.app import create_app
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.pattern.api import (
    AnalysisRequest,
    AnalysisRunNotFoundError,
    InvalidAnalysisWindowError,
    InvalidFilterError,
    PatternApi,
    PatternNotFoundError,
    PatternQuery,
    SynergyQuery,
)
from homeiq_ai.pattern.client import HttpPatternApi
from homeiq_ai.settings import Settings


@pytest.fixture(params=["local", "http"])
async def pattern_api(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[PatternApi]:
    """The pattern api in-process, or over HTTP against the pattern routes."""
    app = create_app(settings, ["pattern"])
    async with AsyncTestClient(app=app):
        if request.param == "local":
            yield app.state.local_apis["pattern"]
            return
        services = ServiceClients({"pattern": "http://pattern.test"}, transport=httpx.ASGITransport(app=app))
        try:
            yield HttpPatternApi(services.service("pattern"))
        finally:
            await services.aclose()


async def test_empty_home_lists_nothing(pattern_api: PatternApi) -> None:
    """With no analysis yet, patterns and synergies are empty pages."""
    page = await pattern_api.list_patterns(PatternQuery())
    assert (page.items, page.total, page.limit, page.offset) == ([], 0, 50, 0)
    assert (await pattern_api.list_synergies(SynergyQuery())).total == 0


async def test_filters_and_paging(pattern_api: PatternApi, database_url: str) -> None:
    """Type, entity and confidence filters and paging give the same pages either way."""
    await seed_patterns(database_url, STANDARD_PATTERNS)
    everything = await pattern_api.list_patterns(PatternQuery())
    assert [p.id for p in everything.items] == ["p-evening-lamp", "p-door-hall", "p-morning", "p-fan"]
    assert everything.items[1].entity_ids == ["binary_sensor.front_door", "light.hall"]
    assert everything.items[0].last_seen == datetime(2026, 11, 1, 18, 0, tzinfo=UTC)

    by_entity = await pattern_api.list_patterns(PatternQuery(entity_id="light.hall"))
    assert {p.id for p in by_entity.items} == {"p-door-hall", "p-morning"}
    confident = await pattern_api.list_patterns(PatternQuery(min_confidence=0.8))
    assert confident.total == 2
    typed = await pattern_api.list_patterns(PatternQuery(pattern_type="sequence"))
    assert [p.id for p in typed.items] == ["p-morning"]
    second_page = await pattern_api.list_patterns(PatternQuery(limit=2, offset=2))
    assert ([p.id for p in second_page.items], second_page.total) == (["p-morning", "p-fan"], 4)


async def test_get_pattern_and_not_found(pattern_api: PatternApi, database_url: str) -> None:
    """One pattern by id; an unknown id raises PatternNotFoundError in both implementations."""
    await seed_patterns(database_url, STANDARD_PATTERNS)
    pattern = await pattern_api.get_pattern("p-fan")
    assert (pattern.pattern_type, pattern.entity_ids, pattern.details) == (
        "duration",
        ["fan.bathroom"],
        {"seeded": True},
    )
    with pytest.raises(PatternNotFoundError, match="nope"):
        await pattern_api.get_pattern("nope")


async def test_unknown_filter_value_is_a_declared_error(pattern_api: PatternApi) -> None:
    """An unknown pattern type raises InvalidFilterError, not a generic failure."""
    with pytest.raises(InvalidFilterError):
        await pattern_api.list_patterns(PatternQuery(pattern_type="telepathy"))
    with pytest.raises(InvalidFilterError):
        await pattern_api.list_synergies(SynergyQuery(synergy_type="telepathy"))


async def test_synergies_by_depth_and_entity(pattern_api: PatternApi, database_url: str) -> None:
    """Synergies filter by chain depth and entity and come best first."""
    await seed_synergies(
        database_url,
        [
            ("s-pair", ["binary_sensor.hall_motion", "light.hall"], 0.9),
            ("s-chain", ["binary_sensor.front_door", "light.hall", "light.kitchen"], 0.7),
        ],
    )
    page = await pattern_api.list_synergies(SynergyQuery())
    assert [s.id for s in page.items] == ["s-pair", "s-chain"]
    assert [s.id for s in (await pattern_api.list_synergies(SynergyQuery(depth=3))).items] == ["s-chain"]
    chain = (await pattern_api.list_synergies(SynergyQuery(entity_id="light.kitchen"))).items[0]
    assert chain.entity_ids == ["binary_sensor.front_door", "light.hall", "light.kitchen"]


async def test_analysis_run_lifecycle(pattern_api: PatternApi) -> None:
    """A started analysis is queued with its window, then completes and keeps its timings."""
    run = await pattern_api.start_analysis(AnalysisRequest(days=7))
    assert run.status in ("queued", "running", "completed")
    assert run.window_end is not None and run.window_start is not None
    assert (run.window_end - run.window_start).days == 7
    for _ in range(100):
        run = await pattern_api.get_analysis_run(run.id)
        if run.status == "completed":
            break
        await asyncio.sleep(0.02)
    assert run.status == "completed"
    assert "total" in run.timings and run.finished_at is not None


async def test_analysis_errors(pattern_api: PatternApi) -> None:
    """A bad window and an unknown run raise the declared errors."""
    with pytest.raises(InvalidAnalysisWindowError):
        await pattern_api.start_analysis(
            AnalysisRequest(start=datetime(2026, 2, 1, tzinfo=UTC), end=datetime(2026, 1, 1, tzinfo=UTC))
        )
    with pytest.raises(InvalidAnalysisWindowError):
        await pattern_api.start_analysis(AnalysisRequest(days=0))
    with pytest.raises(AnalysisRunNotFoundError):
        await pattern_api.get_analysis_run("0" * 32)
