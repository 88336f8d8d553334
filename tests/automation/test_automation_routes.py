"""Automation routes through the real app: suggestions from patterns and queries, approval, deployment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from factories import STANDARD_PATTERNS, seed_patterns
from helpers import assert_error


async def test_generate_from_patterns_is_idempotent(app_client: Callable[..., Any], database_url: str) -> None:
    """Each stored pattern above the threshold becomes one suggestion; a second call creates none."""
    await seed_patterns(database_url, STANDARD_PATTERNS)
    async with app_client("all") as client:
        first = await client.post("/api/v1/suggestions/generate", json={"min_confidence": 0.7})
        assert first.status_code == 201, first.text
        created = first.json()["created"]
        assert {s["source_id"] for s in created} == {"p-evening-lamp", "p-door-hall", "p-morning"}
        assert all(s["status"] == "proposed" and s["source"] == "pattern" for s in created)
        door = next(s for s in created if s["source_id"] == "p-door-hall")
        assert door["entity_ids"] == ["binary_sensor.front_door", "light.hall"]
        again = (await client.post("/api/v1/suggestions/generate", json={"min_confidence": 0.7})).json()
        assert again == {"created": [], "already_suggested": 3}
        listed = (await client.get("/api/v1/suggestions/", params={"status": "proposed"})).json()
        assert listed["total"] == 3


async def test_generate_with_no_body_uses_defaults(app_client: Callable[..., Any]) -> None:
    """An empty POST generates from patterns with the defaults (nothing stored: nothing created)."""
    async with app_client("all") as client:
        response = await client.post("/api/v1/suggestions/generate")
        assert response.status_code == 201, response.text
        assert response.json() == {"created": [], "already_suggested": 0}


async def test_generate_rejects_bad_bodies(app_client: Callable[..., Any]) -> None:
    """Unknown fields, wrong types, out-of-range values and broken JSON are 400s naming the problem."""
    async with app_client("all") as client:
        body = assert_error(
            await client.post("/api/v1/suggestions/generate", json={"colour": "red"}), 400, "invalid_request"
        )
        assert "colour" in body["message"]
        body = assert_error(
            await client.post("/api/v1/suggestions/generate", json={"limit": "ten"}), 400, "invalid_request"
        )
        assert "limit" in body["message"]
        body = assert_error(
            await client.post("/api/v1/suggestions/generate", json={"min_confidence": 2}),
            400,
            "invalid_request",
        )
        assert "min_confidence" in body["message"]
        assert_error(
            await client.post(
                "/api/v1/suggestions/generate",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            400,
            "invalid_request",
        )


async def test_generate_from_query_without_plan_is_409(app_client: Callable[..., Any]) -> None:
    """A query the parser has not planned yet cannot become a suggestion; an unknown query is 404."""
    async with app_client("all") as client:
        query = (await client.post("/api/v1/query/", json={"query": "porch light on at sunset"})).json()
        body = assert_error(
            await client.post("/api/v1/suggestions/generate", json={"source": "query", "query_id": query["id"]}),
            409,
            "source_not_ready",
        )
        assert query["id"] in body["message"]
        assert_error(
            await client.post("/api/v1/suggestions/generate", json={"source": "query", "query_id": "nope"}),
            404,
            "query_not_found",
        )
        assert_error(
            await client.post("/api/v1/suggestions/generate", json={"source": "query"}),
            409,
            "source_not_ready",
        )


async def test_approve_then_deploy_rules(app_client: Callable[..., Any], database_url: str) -> None:
    """Approve is idempotent; deploying needs an approved suggestion with a config; unknown ids are 404."""
    await seed_patterns(database_url, STANDARD_PATTERNS[:1])
    async with app_client("all") as client:
        suggestion = (await client.post("/api/v1/suggestions/generate")).json()["created"][0]
        sid = suggestion["id"]
        assert_error(
            await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid}),
            409,
            "invalid_suggestion_state",
        )
        approved = await client.post(f"/api/v1/suggestions/{sid}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        assert (await client.post(f"/api/v1/suggestions/{sid}/approve")).json()["status"] == "approved"
        body = assert_error(
            await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid}),
            409,
            "invalid_suggestion_state",
        )
        assert "no Home Assistant automation config" in body["message"]
        assert_error(await client.post("/api/v1/suggestions/nope/approve"), 404, "suggestion_not_found")
        assert_error(
            await client.post("/api/v1/deployment/deploy", json={"suggestion_id": "nope"}),
            404,
            "suggestion_not_found",
        )
        assert_error(await client.post("/api/v1/deployment/deploy", json={}), 400, "invalid_request")
        deployments = (await client.get("/api/v1/deployment/deployments")).json()
        assert deployments == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_automation_alone_reaches_a_missing_pattern_service_with_503(
    app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """Loaded alone with its peers unreachable, generate answers 503 naming the pattern service."""
    settings = make_settings(AI_PATTERN_SERVICE_URL="http://127.0.0.1:9", SERVICE_RETRIES="2", SERVICE_TIMEOUT="1")
    async with app_client(["automation"], settings) as client:
        body = assert_error(await client.post("/api/v1/suggestions/generate"), 503, "peer_unavailable")
        assert "pattern" in body["message"]


MANUAL = """\
alias: Hall light with the door
trigger:
  - platform: state
    entity_id: binary_sensor.front_door
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.hall
"""


async def test_manual_suggestion_lifecycle_and_illegal_moves(app_client: Callable[..., Any]) -> None:
    """A hand-written automation is stored with its YAML and validation; illegal moves are 409 with the state."""
    async with app_client("all") as client:
        bad = assert_error(
            await client.post("/api/v1/suggestions/", json={"yaml": "alias: x\naction: []\n"}),
            400,
            "invalid_automation",
        )
        assert "trigger" in bad["message"]
        created = await client.post("/api/v1/suggestions/", json={"yaml": MANUAL})
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["source"] == "manual" and body["automation"]["trigger"][0]["platform"] == "state"
        assert "light.turn_on" in body["yaml"] and "results" not in body["validation"]
        sid = body["id"]
        rejected = (await client.post(f"/api/v1/suggestions/{sid}/reject", json={"reason": "not now"})).json()
        assert rejected["status"] == "rejected" and rejected["status_reason"] == "not now"
        conflict = assert_error(
            await client.post(f"/api/v1/suggestions/{sid}/approve"), 409, "invalid_suggestion_state"
        )
        assert "rejected" in conflict["message"]
        listed = (await client.get("/api/v1/suggestions/", params={"entity": "light.hall"})).json()
        assert [s["id"] for s in listed["items"]] == [sid]
        assert (await client.get("/api/v1/suggestions/", params={"entity": "light.other"})).json()["total"] == 0
        assert_error(await client.get("/api/v1/automations/nope"), 404, "automation_not_found")


async def test_edit_validates_again(app_client: Callable[..., Any]) -> None:
    """PATCH with new YAML replaces the automation; broken YAML is a 400 naming the line."""
    async with app_client("all") as client:
        sid = (await client.post("/api/v1/suggestions/", json={"yaml": MANUAL})).json()["id"]
        edited = await client.patch(
            f"/api/v1/suggestions/{sid}", json={"yaml": MANUAL.replace("light.hall", "light.porch")}
        )
        assert edited.status_code == 200 and "light.porch" in edited.json()["yaml"]
        body = assert_error(
            await client.patch(f"/api/v1/suggestions/{sid}", json={"yaml": "alias: [\n"}), 400, "invalid_automation"
        )
        assert "line" in body["message"]
