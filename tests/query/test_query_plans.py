"""Query sessions through the real app on a seeded home: plans, questions, refine with answers, suggestions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers import assert_error
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.store import HomeStore
from query.catalogs import seed_home

QUERY = "/api/v1/query/"


async def _seed(database_url: str, home: str = "synthetic_family") -> None:
    db = Database(database_url)
    try:
        await seed_home(HomeStore(db), home)
    finally:
        await db.dispose()


async def test_a_clear_request_is_planned_with_entities_and_a_suggestion(
    database_url: str, app_client: Callable[..., Any]
) -> None:
    """201 `planned`: plan == plans[0].automation (HA config), entities with scores, one suggestion."""
    await _seed(database_url)
    async with app_client(["query"]) as client:
        response = await client.post(QUERY, json={"query": "porch light on at sunset on weekdays"})
        assert response.status_code == 201, response.text
        query = response.json()
        assert query["status"] == "planned" and query["questions"] == []
        assert query["engine"] == "offline"
        plan = query["plans"][0]
        assert plan["summary"] and 0 < plan["confidence"] <= 1
        assert query["plan"] == plan["automation"]
        assert plan["automation"]["trigger"] == [{"platform": "sun", "event": "sunset"}]
        assert {"alias", "trigger", "condition", "action", "mode"} <= set(plan["automation"])
        assert query["entities"] == [{"entity_id": "light.porch", "name": "Porch Light", "score": 1.0}]
        page = (await client.get(f"{QUERY}{query['id']}/suggestions")).json()
        assert page["total"] == 1 and page["items"][0]["plan"] == query["plan"]
        assert (await client.get(f"{QUERY}{query['id']}")).json() == query


async def test_questions_answered_by_option_id_plan_and_are_not_asked_again(
    database_url: str, app_client: Callable[..., Any]
) -> None:
    """am/pm and which-light questions; answering one keeps it answered; answering both plans."""
    await _seed(database_url)
    async with app_client(["query"]) as client:
        query = (await client.post(QUERY, json={"query": "at 7 turn on the bedroom light"})).json()
        assert query["status"] == "needs_clarification" and query["plan"] is None
        questions = {q["id"]: q for q in query["questions"]}
        time_q = next(q for q in questions if q.startswith("time_"))
        light_q = next(q for q in questions if q.startswith("entity_"))
        assert (await client.get(f"{QUERY}{query['id']}/suggestions")).json()["total"] == 0
        first = (await client.post(f"{QUERY}{query['id']}/refine", json={"answers": {time_q: "19:00:00"}})).json()
        assert [q["id"] for q in first["questions"]] == [light_q]
        assert first["answers"] == {time_q: "19:00:00"}
        done = await client.post(f"{QUERY}{query['id']}/refine", json={"answers": {light_q: "light.bedroom_ceiling"}})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["status"] == "planned" and body["questions"] == []
        assert body["plan"]["trigger"] == [{"platform": "time", "at": "19:00:00"}]
        assert body["plan"]["action"][0]["target"] == {"entity_id": "light.bedroom_ceiling"}
        assert {c["id"]: c["answer"] for c in body["clarifications"]} == {
            time_q: "19:00:00",
            light_q: "light.bedroom_ceiling",
        }
        assert (await client.get(f"{QUERY}{query['id']}/suggestions")).json()["total"] == 1


async def test_free_text_answer_to_a_missing_trigger(database_url: str, app_client: Callable[..., Any]) -> None:
    """'turn on the basement light' asks for a trigger; 'at sunset' as free text completes the plan."""
    await _seed(database_url)
    async with app_client(["query"]) as client:
        query = (await client.post(QUERY, json={"query": "turn on the basement light"})).json()
        assert [q["id"] for q in query["questions"]] == ["no_trigger"]
        body = (await client.post(f"{QUERY}{query['id']}/refine", json={"answers": {"no_trigger": "at sunset"}})).json()
        assert body["status"] == "planned", body
        assert body["plan"]["trigger"] == [{"platform": "sun", "event": "sunset"}]


async def test_wrong_answers_are_400_and_change_nothing(database_url: str, app_client: Callable[..., Any]) -> None:
    """An unknown question id or an option that is not offered answers 400 `invalid_query`."""
    await _seed(database_url)
    async with app_client(["query"]) as client:
        query = (await client.post(QUERY, json={"query": "at 7 turn on the kitchen ceiling light"})).json()
        qid = query["questions"][0]["id"]
        body = assert_error(
            await client.post(f"{QUERY}{query['id']}/refine", json={"answers": {"nope": "x"}}), 400, "invalid_query"
        )
        assert "nope" in body["message"]
        assert_error(
            await client.post(f"{QUERY}{query['id']}/refine", json={"answers": {qid: "13:00:00"}}), 400, "invalid_query"
        )
        assert (await client.get(f"{QUERY}{query['id']}")).json() == query


async def test_nonsense_is_a_polite_question_not_an_error(database_url: str, app_client: Callable[..., Any]) -> None:
    """Words that name nothing: 201 with 'I could not find a trigger' and no plan."""
    await _seed(database_url, "ha_demo")
    async with app_client(["query"]) as client:
        response = await client.post(QUERY, json={"query": "zxcv lorem ipsum"})
        assert response.status_code == 201
        query = response.json()
        assert query["plan"] is None and "could not find a trigger" in query["questions"][0]["text"]
