"""Deployment against a real Home Assistant 2024.3.3: deploy, read back, act, disable, edit, roll back, delete."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from helpers import assert_error
from integration.homeassistant.conftest import HomeAssistantInstance
from integration.procs import free_port

AUTOMATION_YAML = """\
alias: HomeIQ test kitchen follows switch
description: deploy test
trigger:
  - platform: state
    entity_id: input_boolean.homeiq_test
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.kitchen_lights
"""


def _ha_state(ha: HomeAssistantInstance, entity_id: str) -> dict[str, Any]:
    return httpx.get(f"{ha.url}/api/states/{entity_id}", headers=ha.headers(), timeout=10).json()


def _ha_call(ha: HomeAssistantInstance, service: str, entity_id: str) -> None:
    domain, name = service.split(".")
    answer = httpx.post(
        f"{ha.url}/api/services/{domain}/{name}", headers=ha.headers(), json={"entity_id": entity_id}, timeout=10
    )
    answer.raise_for_status()


async def _wait_state(ha: HomeAssistantInstance, entity_id: str, state: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ha_state(ha, entity_id).get("state") == state:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_deploy_act_disable_edit_rollback_delete(
    home_assistant: HomeAssistantInstance, app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """The whole life of a hand-written automation in a real Home Assistant."""
    ha = home_assistant
    settings = make_settings(HA_URL=ha.url, HA_TOKEN=ha.token)
    async with app_client("all", settings) as client:
        created = await client.post("/api/v1/suggestions/", json={"yaml": AUTOMATION_YAML})
        assert created.status_code == 201, created.text
        suggestion = created.json()
        assert suggestion["source"] == "manual" and suggestion["validation"]["valid"], suggestion["validation"]
        sid = suggestion["id"]
        assert_error(
            await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid}), 409, "invalid_suggestion_state"
        )
        assert (await client.post(f"/api/v1/suggestions/{sid}/approve", json={"reason": "test"})).status_code == 200
        deployed = await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid})
        assert deployed.status_code == 201, deployed.text
        result = deployed.json()
        assert result["automation_id"] == sid and result["version"] == 1
        ha_id, entity_id = result["ha_automation_id"], result["entity_id"]
        assert entity_id == "automation.homeiq_test_kitchen_follows_switch"
        stored = httpx.get(f"{ha.url}/api/config/automation/config/{ha_id}", headers=ha.headers(), timeout=10).json()
        assert stored["id"] == ha_id and stored["alias"] == "HomeIQ test kitchen follows switch"
        assert _ha_state(ha, entity_id)["attributes"]["id"] == ha_id

        # It acts: the switch turns on -> the kitchen lights turn on.
        _ha_call(ha, "light.turn_off", "light.kitchen_lights")
        _ha_call(ha, "input_boolean.turn_off", "input_boolean.homeiq_test")
        assert await _wait_state(ha, "light.kitchen_lights", "off")
        _ha_call(ha, "input_boolean.turn_on", "input_boolean.homeiq_test")
        assert await _wait_state(ha, "light.kitchen_lights", "on"), "the deployed automation did not act"

        # Disabled, it does not act.
        disabled = await client.post(f"/api/v1/automations/{sid}/disable")
        assert disabled.status_code == 200 and disabled.json()["status"] == "disabled", disabled.text
        assert await _wait_state(ha, entity_id, "off")
        _ha_call(ha, "input_boolean.turn_off", "input_boolean.homeiq_test")
        _ha_call(ha, "light.turn_off", "light.kitchen_lights")
        _ha_call(ha, "input_boolean.turn_on", "input_boolean.homeiq_test")
        assert not await _wait_state(ha, "light.kitchen_lights", "on", timeout=1.0)
        assert (await client.post(f"/api/v1/automations/{sid}/enable")).json()["status"] == "deployed"

        # Edit -> version 2 of the same HA automation.
        edited = AUTOMATION_YAML.replace("light.kitchen_lights", "light.bed_light")
        assert (await client.patch(f"/api/v1/suggestions/{sid}", json={"yaml": edited})).status_code == 200
        second = (await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid})).json()
        assert second["version"] == 2 and second["ha_automation_id"] == ha_id
        stored = httpx.get(f"{ha.url}/api/config/automation/config/{ha_id}", headers=ha.headers(), timeout=10).json()
        assert stored["action"][0]["target"]["entity_id"] == "light.bed_light"

        # Roll back to 1 -> version 3 with version 1's config.
        rolled = await client.post(f"/api/v1/automations/{sid}/rollback", json={"version": 1})
        assert rolled.status_code == 200 and rolled.json()["version"] == 3, rolled.text
        stored = httpx.get(f"{ha.url}/api/config/automation/config/{ha_id}", headers=ha.headers(), timeout=10).json()
        assert stored["action"][0]["target"]["entity_id"] == "light.kitchen_lights"
        detail = (await client.get(f"/api/v1/automations/{sid}")).json()
        assert [v["version"] for v in detail["versions"]] == [1, 2, 3]
        assert "light.bed_light" in detail["versions"][1]["diff"] and detail["versions"][0]["diff"] == ""
        assert detail["versions"][2]["note"] == "rollback to version 1"
        assert_error(
            await client.post(f"/api/v1/automations/{sid}/rollback", json={"version": 9}), 404, "automation_not_found"
        )

        # Delete: gone from HA.
        assert (await client.delete(f"/api/v1/automations/{sid}")).status_code == 204
        gone = httpx.get(f"{ha.url}/api/config/automation/config/{ha_id}", headers=ha.headers(), timeout=10)
        assert gone.status_code == 404
        assert_error(await client.get(f"/api/v1/automations/{sid}"), 404, "automation_not_found")


async def test_invalid_automations_never_reach_home_assistant(
    home_assistant: HomeAssistantInstance, app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """An entity HA does not have (which HA itself would save) is invalid here and cannot be deployed."""
    ha = home_assistant
    settings = make_settings(HA_URL=ha.url, HA_TOKEN=ha.token)
    bad = AUTOMATION_YAML.replace("light.kitchen_lights", "light.does_not_exist").replace("follows", "bad")
    async with app_client("all", settings) as client:
        report = (await client.post("/api/v1/automations/validate", json={"yaml": bad})).json()
        assert report["results"][0]["valid"] is False
        assert any("light.does_not_exist" in e["message"] for e in report["results"][0]["errors"])
        sid = (await client.post("/api/v1/suggestions/", json={"yaml": bad})).json()["id"]
        await client.post(f"/api/v1/suggestions/{sid}/approve")
        body = assert_error(
            await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid}), 409, "invalid_suggestion_state"
        )
        assert "light.does_not_exist" in body["message"]
        states = httpx.get(f"{ha.url}/api/states", headers=ha.headers(), timeout=10).json()
        assert not any(s["entity_id"] == "automation.homeiq_test_kitchen_bad_switch" for s in states)
        audit = await client.get("/api/v1/automations/audit")
        assert audit.status_code == 200 and "results" in audit.json()


async def test_home_assistant_down_is_a_clear_503_and_changes_nothing(
    home_assistant: HomeAssistantInstance, app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """With HA unreachable a deploy answers 503 naming Home Assistant within seconds; state and versions stay."""
    ha = home_assistant
    good = make_settings(HA_URL=ha.url, HA_TOKEN=ha.token)
    down = make_settings(
        HA_URL=f"http://127.0.0.1:{free_port()}", HA_TOKEN=ha.token, SERVICE_RETRIES="2", SERVICE_TIMEOUT="1"
    )
    async with app_client("all", good) as client:
        sid = (
            await client.post("/api/v1/suggestions/", json={"yaml": AUTOMATION_YAML.replace("follows", "down")})
        ).json()["id"]
        await client.post(f"/api/v1/suggestions/{sid}/approve")
    async with app_client("all", down) as client:
        started = time.monotonic()
        response = await client.post("/api/v1/deployment/deploy", json={"suggestion_id": sid})
        assert response.status_code in (502, 503), response.text
        assert "Home Assistant" in response.json()["message"]
        assert time.monotonic() - started < 10
        assert (await client.get(f"/api/v1/suggestions/{sid}")).json()["status"] == "approved"
        assert (await client.get("/api/v1/deployment/deployments")).json()["total"] == 0
