"""Query module through the real app: storing, reading and refining queries, and their suggestions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from helpers import assert_error
from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.query.api import (
    MAX_TEXT_CHARS,
    InvalidQueryError,
    QueryNotFoundError,
    QueryRequest,
    RefineRequest,
)
from homeiq_ai.query.client import HttpQueryApi
from homeiq_ai.query.models import QuerySuggestionRecord
from homeiq_ai.settings import Settings

QUERY = "/api/v1/query/"


async def _create(client: Any, **body: Any) -> dict[str, Any]:
    response = await client.post(QUERY, json={"query": "turn on the porch light at sunset", **body})
    assert response.status_code == 201, response.text
    return response.json()


# --- POST /api/v1/query/ ---------------------------------------------------------------------------


async def test_create_query_in_an_empty_home_asks_and_stores_no_plan(app_client: Callable[..., Any]) -> None:
    """A query is stored stripped; with no entity to name it asks (needs_clarification) and has no plan; 201."""
    async with app_client(["query"]) as client:
        response = await client.post(
            QUERY,
            json={"query": "  dim the lights at movie time \n", "user_id": "u1", "context": {"area": "den"}},
        )
        assert response.status_code == 201, response.text
        query = response.json()
        assert len(query["id"]) == 32
        assert query["text"] == "dim the lights at movie time"
        assert query["status"] == "needs_clarification"
        assert query["plan"] is None and query["plans"] == []
        assert query["query_id"] == query["id"]
        assert query["questions"], query
        assert {c["id"] for c in query["clarifications"]} == {q["id"] for q in query["questions"]}
        assert query["refinements"] == []
        assert (query["user_id"], query["context"]) == ("u1", {"area": "den"})
        assert query["created_at"] == query["updated_at"]
        stored = await client.get(f"{QUERY}{query['id']}")
        assert stored.status_code == 200
        assert stored.json() == query


async def test_create_query_without_the_trailing_slash(app_client: Callable[..., Any]) -> None:
    """`/api/v1/query` and `/api/v1/query/` are the same route."""
    async with app_client(["query"]) as client:
        assert (await client.post("/api/v1/query", json={"query": "x"})).status_code == 201


async def test_query_of_exactly_the_maximum_length_is_accepted(app_client: Callable[..., Any]) -> None:
    """1000 characters are allowed; surrounding blanks do not count."""
    async with app_client(["query"]) as client:
        query = await _create(client, query="  " + "a" * MAX_TEXT_CHARS + "  ")
        assert len(query["text"]) == MAX_TEXT_CHARS


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "a" * (MAX_TEXT_CHARS + 1)])
async def test_empty_blank_or_too_long_query_is_400(app_client: Callable[..., Any], text: str) -> None:
    """Empty, blank-only and over-long queries answer 400 `invalid_query`."""
    async with app_client(["query"]) as client:
        body = assert_error(await client.post(QUERY, json={"query": text}), 400, "invalid_query")
        assert "query" in body["message"]


async def test_too_long_user_id_is_400(app_client: Callable[..., Any]) -> None:
    """A user id longer than the column holds is refused, naming the field."""
    async with app_client(["query"]) as client:
        response = await client.post(QUERY, json={"query": "x", "user_id": "u" * 256})
        body = assert_error(response, 400, "invalid_query")
        assert "user_id" in body["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": 5}, "query"),
        ({"query": ["a"]}, "query"),
        ({"query": "x", "user_id": 7}, "user_id"),
        ({"query": "x", "context": "den"}, "context"),
        ({}, "query"),
        ({"query": "x", "priority": "high"}, "priority"),
    ],
)
async def test_wrong_json_is_400_naming_the_field(
    app_client: Callable[..., Any], body: dict[str, Any], field: str
) -> None:
    """Wrong types, a missing `query` and unknown fields answer 400 naming the field."""
    async with app_client(["query"]) as client:
        error = assert_error(await client.post(QUERY, json=body), 400, "invalid_request")
        assert field in error["message"]


async def test_malformed_or_missing_body_is_400(app_client: Callable[..., Any]) -> None:
    """A body that is not JSON, or none at all, is refused with 400."""
    async with app_client(["query"]) as client:
        response = await client.post(QUERY, content=b"{query:", headers={"content-type": "application/json"})
        assert_error(response, 400, "invalid_request")
        assert_error(await client.post(QUERY), 400, "invalid_request")


# --- GET /api/v1/query/{query_id} ------------------------------------------------------------------


async def test_get_unknown_query_is_404(app_client: Callable[..., Any]) -> None:
    """An id that does not exist answers 404 `query_not_found`."""
    async with app_client(["query"]) as client:
        body = assert_error(await client.get(f"{QUERY}nope"), 404, "query_not_found")
        assert "nope" in body["message"]


# --- POST /api/v1/query/{query_id}/refine ------------------------------------------------------------


async def test_refine_appends_and_updates_the_time(app_client: Callable[..., Any]) -> None:
    """Each refinement is appended, stripped, in order; updated_at moves; with no home entities no plan."""
    async with app_client(["query"]) as client:
        query = await _create(client)
        first = await client.post(f"{QUERY}{query['id']}/refine", json={"refinement": " only on weekdays "})
        assert first.status_code == 200, first.text
        assert first.json()["refinements"] == ["only on weekdays"]
        second = (await client.post(f"{QUERY}{query['id']}/refine", json={"refinement": "and at 50%"})).json()
        assert second["refinements"] == ["only on weekdays", "and at 50%"]
        assert second["updated_at"] >= first.json()["updated_at"] > query["updated_at"]
        assert second["created_at"] == query["created_at"]
        assert (second["status"], second["plan"]) == ("needs_clarification", None)
        assert (await client.get(f"{QUERY}{query['id']}")).json() == second


async def test_refine_unknown_query_is_404(app_client: Callable[..., Any]) -> None:
    """Refining a query that does not exist answers 404 `query_not_found`."""
    async with app_client(["query"]) as client:
        assert_error(
            await client.post(f"{QUERY}nope/refine", json={"refinement": "x"}), 404, "query_not_found"
        )


@pytest.mark.parametrize("text", ["", "  ", "b" * (MAX_TEXT_CHARS + 1)])
async def test_empty_or_too_long_refinement_is_400(app_client: Callable[..., Any], text: str) -> None:
    """Empty, blank-only and over-long refinements answer 400 `invalid_query` and change nothing."""
    async with app_client(["query"]) as client:
        query = await _create(client)
        body = assert_error(
            await client.post(f"{QUERY}{query['id']}/refine", json={"refinement": text}), 400, "invalid_query"
        )
        assert "refinement" in body["message"]
        assert (await client.get(f"{QUERY}{query['id']}")).json()["refinements"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"refinement": 3}, "refinement"), ({"answers": ["x"]}, "answers"), ({"refinement": "x", "extra": 1}, "extra")],
)
async def test_wrong_refine_json_is_400_naming_the_field(
    app_client: Callable[..., Any], body: dict[str, Any], field: str
) -> None:
    """A refinement of the wrong type, a missing one, or an unknown field answers 400 naming the field."""
    async with app_client(["query"]) as client:
        query = await _create(client)
        error = assert_error(
            await client.post(f"{QUERY}{query['id']}/refine", json=body), 400, "invalid_request"
        )
        assert field in error["message"]


async def test_refine_with_neither_answers_nor_refinement_is_400(app_client: Callable[..., Any]) -> None:
    """An empty refine body answers 400 `invalid_query` naming both fields."""
    async with app_client(["query"]) as client:
        query = await _create(client)
        error = assert_error(await client.post(f"{QUERY}{query['id']}/refine", json={}), 400, "invalid_query")
        assert "answers" in error["message"] and "refinement" in error["message"]


async def test_concurrent_refinements_are_all_kept(
    any_database_url: str, make_settings: Callable[..., Settings], app_client: Callable[..., Any]
) -> None:
    """Refinements sent at once are all appended (none lost to a race), on SQLite and PostgreSQL."""
    async with app_client(["query"], make_settings(DATABASE_URL=any_database_url)) as client:
        query = await _create(client)
        texts = [f"refinement {i}" for i in range(5)]
        responses = await asyncio.gather(
            *(client.post(f"{QUERY}{query['id']}/refine", json={"refinement": t}) for t in texts)
        )
        assert [r.status_code for r in responses] == [200] * 5
        stored = (await client.get(f"{QUERY}{query['id']}")).json()
        assert sorted(stored["refinements"]) == texts
        assert (await client.get(f"{QUERY}{query['id']}/suggestions")).json() == {"items": [], "total": 0}


# --- GET /api/v1/query/{query_id}/suggestions --------------------------------------------------------


async def test_suggestions_are_empty_for_a_new_query(app_client: Callable[..., Any]) -> None:
    """No suggestions are made in this version: an empty page."""
    async with app_client(["query"]) as client:
        query = await _create(client)
        response = await client.get(f"{QUERY}{query['id']}/suggestions")
        assert response.status_code == 200
        assert response.json() == {"items": [], "total": 0}


async def test_suggestions_of_unknown_query_is_404(app_client: Callable[..., Any]) -> None:
    """Suggestions of a query that does not exist answer 404 `query_not_found`."""
    async with app_client(["query"]) as client:
        assert_error(await client.get(f"{QUERY}nope/suggestions"), 404, "query_not_found")


async def test_stored_suggestions_come_most_confident_first(
    app_client: Callable[..., Any], db: Database
) -> None:
    """Stored suggestions of the query (and only of it) are listed by confidence."""
    async with app_client(["query"]) as client:
        query = await _create(client)
        other = await _create(client, query="another")
        now = utcnow()
        async with db.session() as session:
            session.add_all(
                [
                    QuerySuggestionRecord(
                        id="s1",
                        query_id=query["id"],
                        title="Porch at sunset",
                        description="d1",
                        plan={"trigger": "sun"},
                        confidence=0.6,
                        created_at=now,
                    ),
                    QuerySuggestionRecord(
                        id="s2",
                        query_id=query["id"],
                        title="Porch at dusk",
                        description="d2",
                        plan={},
                        confidence=0.9,
                        created_at=now + timedelta(seconds=1),
                    ),
                    QuerySuggestionRecord(
                        id="s3",
                        query_id=other["id"],
                        title="Other",
                        description="d3",
                        plan={},
                        confidence=1.0,
                        created_at=now,
                    ),
                ]
            )
        page = (await client.get(f"{QUERY}{query['id']}/suggestions")).json()
        assert page["total"] == 2
        assert [s["id"] for s in page["items"]] == ["s2", "s1"]
        assert page["items"][1] == {
            "id": "s1",
            "query_id": query["id"],
            "title": "Porch at sunset",
            "description": "d1",
            "plan": {"trigger": "sun"},
            "confidence": 0.6,
            "created_at": page["items"][1]["created_at"],
        }


# --- the api implementations -------------------------------------------------------------------------


async def test_http_api_behaves_like_the_local_one(app_client: Callable[..., Any]) -> None:
    """HttpQueryApi returns the same DTOs and raises the same declared errors as LocalQueryApi."""
    async with app_client(["query"]) as client:
        services = ServiceClients(
            {"query": "http://query.test"}, tries=1, transport=httpx.ASGITransport(app=client.app)
        )
        try:
            http = HttpQueryApi(services.service("query"))
            local = client.app.state.local_apis["query"]
            query = await http.create_query(QueryRequest(query=" lights off at midnight ", context={"a": 1}))
            assert query.text == "lights off at midnight" and query.plan is None
            assert query == await local.get_query(query.id) == await http.get_query(query.id)
            refined = await http.refine_query(query.id, RefineRequest(refinement="weekends too"))
            assert refined.refinements == ["weekends too"]
            refined = await local.refine_query(query.id, RefineRequest(refinement="not in summer"))
            assert refined == await http.get_query(query.id)
            assert await http.list_suggestions(query.id) == await local.list_suggestions(query.id)
            for api in (http, local):
                with pytest.raises(InvalidQueryError):
                    await api.create_query(QueryRequest(query="   "))
                with pytest.raises(InvalidQueryError):
                    await api.refine_query(query.id, RefineRequest(refinement=""))
                with pytest.raises(QueryNotFoundError):
                    await api.get_query("missing?x=1")
                with pytest.raises(QueryNotFoundError):
                    await api.refine_query("missing", RefineRequest(refinement="x"))
                with pytest.raises(QueryNotFoundError):
                    await api.list_suggestions("missing")
        finally:
            await services.aclose()
