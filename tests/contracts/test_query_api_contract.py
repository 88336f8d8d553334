"""The QueryApi contract, run against LocalQueryApi and HttpQueryApi with the same assertions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar.testing import AsyncTestClient

from homeiq_ai.app import create_app
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.query.api import InvalidQueryError, QueryApi, QueryNotFoundError, QueryRequest, RefineRequest
from homeiq_ai.query.client import HttpQueryApi
from homeiq_ai.settings import Settings
from query.catalogs import seed_home


@pytest.fixture(params=["local", "http"])
async def query_api(request: pytest.FixtureRequest, settings: Settings, database_url: str) -> AsyncIterator[QueryApi]:
    """The query api in-process or over HTTP, on a seeded synthetic home."""
    db = Database(database_url)
    try:
        await seed_home(HomeStore(db), "synthetic_family")
    finally:
        await db.dispose()
    app = create_app(settings, ["query"])
    async with AsyncTestClient(app=app):
        if request.param == "local":
            yield app.state.local_apis["query"]
            return
        services = ServiceClients({"query": "http://query.test"}, transport=httpx.ASGITransport(app=app))
        try:
            yield HttpQueryApi(services.service("query"))
        finally:
            await services.aclose()


async def test_plan_refine_suggest_and_errors(query_api: QueryApi) -> None:
    """Create, answer a question, read the suggestions, and the declared errors, the same either way."""
    query = await query_api.create_query(QueryRequest(query="at 7 turn on the kitchen ceiling light"))
    assert query.status == "needs_clarification" and query.plan is None
    question = query.questions[0]
    assert [o.id for o in question.options] == ["07:00:00", "19:00:00"]
    planned = await query_api.refine_query(query.id, RefineRequest(answers={question.id: "07:00:00"}))
    assert planned.status == "planned" and planned.plan == planned.plans[0].automation
    assert planned == await query_api.get_query(query.id)
    page = await query_api.list_suggestions(query.id)
    assert page.total == 1 and page.items[0].plan == planned.plan
    with pytest.raises(InvalidQueryError):
        await query_api.create_query(QueryRequest(query="  "))
    with pytest.raises(InvalidQueryError):
        await query_api.refine_query(query.id, RefineRequest())
    with pytest.raises(QueryNotFoundError):
        await query_api.get_query("nope")
    with pytest.raises(QueryNotFoundError):
        await query_api.list_suggestions("nope")
