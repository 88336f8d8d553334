"""Per-client rate limits on query and deploy, through the real app: 429 with Retry-After, refill, off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from homeiq_ai.kernel.ratelimit import RateLimiter, limit_for
from homeiq_ai.settings import Settings, SettingsError, load_settings

BAD_QUERY = {"query": 1}  # a 400 from the handler: cheap, and it still spends a token


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limited(make_settings: Callable[..., Settings], query: str = "2", deploy: str = "1") -> Settings:
    return make_settings(RATE_LIMIT_QUERY_PER_MINUTE=query, RATE_LIMIT_DEPLOY_PER_MINUTE=deploy)


async def test_query_limit_trips_with_retry_after(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    """The third query in a minute from one client is a 429 in the error body shape, with Retry-After."""
    async with app_client("all", _limited(make_settings)) as client:
        client.app.state.rate_limiter.clock = FakeClock()
        first = await client.post("/api/v1/query/", json=BAD_QUERY)
        second = await client.post("/api/v1/query/", json=BAD_QUERY)
        third = await client.post("/api/v1/query/", json=BAD_QUERY)
    assert first.status_code == second.status_code == 400
    assert third.status_code == 429
    retry_after = int(third.headers["retry-after"])
    assert retry_after >= 1
    body = third.json()
    assert body["status"] == 429
    assert body["code"] == "rate_limited"
    assert "2 query requests a minute" in body["message"]
    assert body["details"]["retry_after_seconds"] == retry_after == 30


async def test_refine_shares_the_query_bucket(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    """Refining a query counts against the same per-client query limit."""
    async with app_client("all", _limited(make_settings, query="1")) as client:
        client.app.state.rate_limiter.clock = FakeClock()
        assert (await client.post("/api/v1/query/", json=BAD_QUERY)).status_code == 400
        refine = await client.post("/api/v1/query/q-none/refine", json={})
    assert refine.status_code == 429


async def test_other_clients_and_routes_are_unaffected(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    """Another key has its own bucket; GETs and other POSTs are not limited; deploy has its own limit."""
    async with app_client("all", _limited(make_settings, query="1", deploy="1")) as client:
        client.app.state.rate_limiter.clock = FakeClock()
        a, b = {"X-API-Key": "client-a"}, {"Authorization": "Bearer client-b"}
        assert (await client.post("/api/v1/query/", json=BAD_QUERY, headers=a)).status_code == 400
        assert (await client.post("/api/v1/query/", json=BAD_QUERY, headers=a)).status_code == 429
        assert (await client.post("/api/v1/query/", json=BAD_QUERY, headers=b)).status_code == 400
        # The client without a key is known by its address, a bucket of its own.
        assert (await client.post("/api/v1/query/", json=BAD_QUERY)).status_code == 400
        for _ in range(3):
            assert (await client.get("/api/v1/patterns", headers=a)).status_code == 200
            assert (await client.get("/health/live", headers=a)).status_code == 200
            other = await client.post("/api/v1/suggestions/generate", json={"x": "y"}, headers=a)
            assert other.status_code != 429
        deploy = {"suggestion_id": "nope"}
        assert (await client.post("/api/v1/deployment/deploy", json=deploy, headers=a)).status_code != 429
        limited = await client.post("/api/v1/automations/nope/rollback", json={}, headers=a)
        assert limited.status_code == 429
        assert "1 deploy requests a minute" in limited.json()["message"]
        assert int(limited.headers["retry-after"]) == 60


async def test_tokens_refill_with_time(app_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    """After 60/limit seconds one more request is accepted, and Retry-After shrinks as time passes."""
    async with app_client("all", _limited(make_settings, query="2")) as client:
        clock = FakeClock()
        client.app.state.rate_limiter.clock = clock
        for _ in range(2):
            assert (await client.post("/api/v1/query/", json=BAD_QUERY)).status_code == 400
        assert (await client.post("/api/v1/query/", json=BAD_QUERY)).headers["retry-after"] == "30"
        clock.now += 20.5
        assert (await client.post("/api/v1/query/", json=BAD_QUERY)).headers["retry-after"] == "10"
        clock.now += 9.6
        assert (await client.post("/api/v1/query/", json=BAD_QUERY)).status_code == 400
        assert (await client.post("/api/v1/query/", json=BAD_QUERY)).status_code == 429


async def test_zero_disables(app_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    """A limit of 0 turns it off; the other limit still applies."""
    async with app_client("all", _limited(make_settings, query="0", deploy="1")) as client:
        client.app.state.rate_limiter.clock = FakeClock()
        for _ in range(5):
            assert (await client.post("/api/v1/query/", json=BAD_QUERY)).status_code == 400
        first = await client.post("/api/v1/deployment/deploy", json={"suggestion_id": "nope"})
        second = await client.post("/api/v1/deployment/deploy", json={"suggestion_id": "nope"})
    assert first.status_code != 429
    assert second.status_code == 429


def test_memory_is_bounded() -> None:
    """Past max_clients the least recently used bucket goes; full buckets are swept after a while."""
    clock = FakeClock()
    limiter = RateLimiter({"query": 2}, max_clients=3, clock=clock)
    for client in ("a", "b", "c", "d"):
        assert limiter.take("query", client) == 0.0
    assert len(limiter) == 3
    assert limiter.take("query", "a") == 0.0  # "a" was dropped, so it starts with a full bucket
    clock.now += 120.0
    limiter.take("query", "e")
    assert len(limiter) == 1


def test_limited_routes() -> None:
    """Only POSTs to query, refine, deploy and rollback are limited."""
    assert limit_for("POST", "/api/v1/query/") == "query"
    assert limit_for("POST", "/api/v1/query/q-1/refine") == "query"
    assert limit_for("GET", "/api/v1/query/q-1/suggestions") is None
    assert limit_for("POST", "/api/v1/deployment/deploy") == "deploy"
    assert limit_for("POST", "/api/v1/automations/a-1/rollback") == "deploy"
    assert limit_for("POST", "/api/v1/automations/a-1/enable") is None
    assert limit_for("POST", "/api/v1/queryx") is None


@pytest.mark.parametrize("name", ["RATE_LIMIT_QUERY_PER_MINUTE", "RATE_LIMIT_DEPLOY_PER_MINUTE"])
def test_settings_validation(name: str) -> None:
    """Defaults 600 and 60; empty counts as unset; negative or non-integer values are refused by name."""
    base = {"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}
    default = 600 if "QUERY" in name else 60
    attr = name.lower()
    assert getattr(load_settings(base), attr) == default
    assert getattr(load_settings(base | {name: ""}), attr) == default
    assert getattr(load_settings(base | {name: "0"}), attr) == 0
    for bad in ("-1", "ten"):
        with pytest.raises(SettingsError, match=name):
            load_settings(base | {name: bad})
