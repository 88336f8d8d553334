"""API key: when API_KEY is set every /api/ route needs it; health and schema stay open; never echoed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from homeiq_ai.kernel.db import Database
from homeiq_ai.query.models import QueryRecord
from homeiq_ai.settings import Settings

API_KEY = "k3y-0f-the-h0use-5e1f"
WRONG_KEY = "n0t-the-key-77aa"
API_ROUTES = ["/api/v1/patterns", "/api/v1/synergies", "/api/v1/training/runs"]
OPEN_ROUTES = ["/health/health", "/health/live", "/health/ready", "/schema/openapi.json"]


@pytest.fixture
def keyed_settings(make_settings: Callable[..., Settings]) -> Settings:
    """Settings with API_KEY set."""
    return make_settings(API_KEY=API_KEY)


async def _stored_queries(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.session() as session:
            return int((await session.execute(select(func.count()).select_from(QueryRecord))).scalar_one())
    finally:
        await db.dispose()


def _assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"status", "code", "message"}
    assert body["status"] == 401 and body["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert API_KEY not in response.text
    assert WRONG_KEY not in response.text


@pytest.mark.parametrize("path", API_ROUTES)
async def test_api_needs_the_key(app_client: Callable[..., Any], keyed_settings: Settings, path: str) -> None:
    """Without a key, or with a wrong one in either header, /api/ routes answer 401 unauthorized."""
    async with app_client("all", keyed_settings) as client:
        responses = [
            await client.get(path),
            await client.get(path, headers={"Authorization": f"Bearer {WRONG_KEY}"}),
            await client.get(path, headers={"X-API-Key": WRONG_KEY}),
            await client.get(path, headers={"Authorization": f"Basic {API_KEY}"}),
            await client.get(path, headers={"Authorization": "Bearer "}),
            await client.get(path, headers={"Authorization": f"Bearer {API_KEY}x"}),
        ]
    for response in responses:
        _assert_unauthorized(response)


async def test_post_without_key_is_refused_before_anything_runs(
    app_client: Callable[..., Any], keyed_settings: Settings, database_url: str
) -> None:
    """A POST without the key is refused with 401, and the query it carried is not stored."""
    async with app_client("all", keyed_settings) as client:
        refused = await client.post("/api/v1/query/", json={"query": "porch light at sunset"})
        _assert_unauthorized(refused)
        created = await client.post(
            "/api/v1/query/", json={"query": "porch light at sunset"}, headers={"X-API-Key": API_KEY}
        )
        assert created.status_code == 201, created.text
        query_id = created.json()["id"]
        fetched = await client.get(f"/api/v1/query/{query_id}", headers={"X-API-Key": API_KEY})
        assert fetched.status_code == 200
    assert await _stored_queries(database_url) == 1


@pytest.mark.parametrize("path", API_ROUTES)
async def test_api_accepts_the_key(
    app_client: Callable[..., Any], keyed_settings: Settings, path: str
) -> None:
    """The key is accepted as `Authorization: Bearer KEY` and as `X-API-Key: KEY`."""
    async with app_client("all", keyed_settings) as client:
        bearer = await client.get(path, headers={"Authorization": f"Bearer {API_KEY}"})
        lower_scheme = await client.get(path, headers={"authorization": f"bearer {API_KEY}"})
        header = await client.get(path, headers={"X-API-Key": API_KEY})
    for response in (bearer, lower_scheme, header):
        assert response.status_code == 200, response.text
        assert API_KEY not in response.text


@pytest.mark.parametrize("path", OPEN_ROUTES)
async def test_health_and_schema_stay_open(
    app_client: Callable[..., Any], keyed_settings: Settings, path: str
) -> None:
    """/health/* and /schema answer without a key."""
    async with app_client("all", keyed_settings) as client:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    assert API_KEY not in response.text


async def test_unknown_api_route_without_key(
    app_client: Callable[..., Any], keyed_settings: Settings
) -> None:
    """An unknown /api/ route without a key reveals nothing beyond 401 or 404."""
    async with app_client("all", keyed_settings) as client:
        response = await client.get("/api/v1/nothing-here")
    assert response.status_code in (401, 404)
    assert API_KEY not in response.text


async def test_key_never_logged(
    app_client: Callable[..., Any], keyed_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the configured key nor a presented one appears in any log record."""
    caplog.set_level(logging.DEBUG)
    async with app_client("all", keyed_settings) as client:
        await client.get("/api/v1/patterns")
        await client.get("/api/v1/patterns", headers={"Authorization": f"Bearer {WRONG_KEY}"})
        await client.get("/api/v1/patterns", headers={"X-API-Key": API_KEY})
        await client.post("/api/v1/query/", json={"query": 1}, headers={"X-API-Key": API_KEY})
        await client.get("/health/ready")
    assert caplog.records, "expected some log records at DEBUG"
    for record in caplog.records:
        text = record.getMessage() + (caplog.text if record.exc_info else "")
        assert API_KEY not in text, record
        assert WRONG_KEY not in text, record
    assert API_KEY not in caplog.text and WRONG_KEY not in caplog.text


async def test_without_api_key_api_is_open(app_client: Callable[..., Any], settings: Settings) -> None:
    """Without API_KEY, /api/ routes answer without any key."""
    assert settings.api_key is None
    async with app_client("all") as client:
        for path in API_ROUTES:
            response = await client.get(path)
            assert response.status_code == 200, response.text
