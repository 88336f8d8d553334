"""Home Assistant down, slow (10 s), answering 401 or 500: a clear error, bounded retries, nothing half-written,
and the next deploy works once Home Assistant is back, without a restart. Against a real Home Assistant 2024.3.3
behind a fault-injecting proxy (integration/reliability/faulty.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from helpers import assert_error
from integration.homeassistant.conftest import HomeAssistantInstance
from integration.procs import free_port
from integration.reliability.faulty import SAVE_PREFIX, FaultyHomeAssistant

TIMEOUT_S = 0.5
TRIES = 3


def automation_yaml(alias: str) -> str:
    """A small valid automation with this alias."""
    return f"""\
alias: {alias}
trigger:
  - platform: state
    entity_id: input_boolean.homeiq_test
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.kitchen_lights
"""


async def approved_suggestion(client: Any, alias: str) -> str:
    """Store and approve a hand-written automation; its suggestion id."""
    created = await client.post("/api/v1/suggestions/", json={"yaml": automation_yaml(alias)})
    assert created.status_code == 201, created.text
    sid = str(created.json()["id"])
    assert (await client.post(f"/api/v1/suggestions/{sid}/approve", json={"reason": "test"})).status_code == 200
    return sid


async def assert_nothing_written(client: Any, sid: str) -> None:
    """The suggestion is still approved and has no version (not even a pending claim)."""
    suggestion = (await client.get(f"/api/v1/suggestions/{sid}")).json()
    assert suggestion["status"] == "approved", suggestion
    deployments = (await client.get("/api/v1/deployment/deployments", params={"limit": 100})).json()
    assert [d for d in deployments["items"] if d["suggestion_id"] == sid] == [], deployments


def ha_config(ha: HomeAssistantInstance, ha_id: str) -> httpx.Response:
    return httpx.get(f"{ha.url}{SAVE_PREFIX}{ha_id}", headers=ha.headers(), timeout=10)


async def test_deploy_faults_are_clear_bounded_and_recover(
    home_assistant: HomeAssistantInstance, app_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    """Each fault answers its own status and code within a bounded time; the next deploy then succeeds."""
    ha = home_assistant
    alias = f"HomeIQ fault test {uuid.uuid4().hex[:8]}"
    env = {"HA_TOKEN": ha.token, "SERVICE_TIMEOUT": str(TIMEOUT_S), "SERVICE_RETRIES": str(TRIES)}
    with FaultyHomeAssistant(ha.url, slow_seconds=10.0) as proxy:
        settings = make_settings(HA_URL=proxy.url, **env)
        async with app_client("all", settings) as client:
            sid = await approved_suggestion(client, alias)
            ha_id = f"homeiq_{sid}"
            deploy = {"suggestion_id": sid}
            figures: dict[str, tuple[float, int]] = {}

            # Slow: every try times out after TIMEOUT_S; the save is idempotent (same id), so it is retried.
            proxy.mode = "slow"
            began = time.monotonic()
            body = assert_error(await client.post("/api/v1/deployment/deploy", json=deploy), 504, "peer_timeout")
            figures["slow"] = (time.monotonic() - began, proxy.count("POST", SAVE_PREFIX))
            assert "did not answer" in body["message"] and proxy.count("POST", SAVE_PREFIX) == TRIES
            await assert_nothing_written(client, sid)

            # 500: retried TRIES times, then 502 naming Home Assistant's status.
            proxy.mode, before = "500", proxy.count("POST", SAVE_PREFIX)
            began = time.monotonic()
            body = assert_error(await client.post("/api/v1/deployment/deploy", json=deploy), 502, "upstream_error")
            figures["500"] = (time.monotonic() - began, proxy.count("POST", SAVE_PREFIX) - before)
            assert "HTTP 500" in body["message"] and figures["500"][1] == TRIES
            await assert_nothing_written(client, sid)

            # 401: a refused token is never retried, and says what to check; the token is not in the answer.
            proxy.mode, before = "401", proxy.count("POST", SAVE_PREFIX)
            began = time.monotonic()
            body = assert_error(
                await client.post("/api/v1/deployment/deploy", json=deploy), 502, "home_assistant_unauthorized"
            )
            figures["401"] = (time.monotonic() - began, proxy.count("POST", SAVE_PREFIX) - before)
            assert "HA_TOKEN" in body["message"] and ha.token not in str(body) and figures["401"][1] == 1
            await assert_nothing_written(client, sid)
            assert ha_config(ha, ha_id).status_code == 404, "no fault may leave a config in Home Assistant"

            # Back: the same process deploys at once.
            proxy.mode = "pass"
            deployed = await client.post("/api/v1/deployment/deploy", json=deploy)
            assert deployed.status_code == 201, deployed.text
            assert deployed.json()["version"] == 1
            assert ha_config(ha, ha_id).json()["alias"] == alias

        # Down (nothing listens): 503 after TRIES connection attempts, suggestion and versions unchanged.
        down = make_settings(HA_URL=f"http://127.0.0.1:{free_port()}", **env)
        async with app_client("all", down) as client:
            assert_error(await client.post(f"/api/v1/automations/{sid}/disable"), 503, "peer_unavailable")
            assert (await client.get(f"/api/v1/suggestions/{sid}")).json()["status"] == "deployed"
            began = time.monotonic()
            body = assert_error(
                await client.post(f"/api/v1/automations/{sid}/rollback", json={"version": 1}), 503, "peer_unavailable"
            )
            figures["down"] = (time.monotonic() - began, TRIES)
            versions = (await client.get(f"/api/v1/automations/{sid}")).json()["versions"]
            assert [v["version"] for v in versions] == [1], versions
            assert "unreachable" in body["message"]
        # Back again, through the same settings: the rollback works without a restart of anything.
        async with app_client("all", settings) as client:
            rolled = await client.post(f"/api/v1/automations/{sid}/rollback", json={"version": 1})
            assert rolled.status_code == 200, rolled.text
            assert rolled.json()["version"] == 2
            assert (await client.delete(f"/api/v1/automations/{sid}")).status_code == 204
    for fault, (seconds, tries) in figures.items():
        print(f"home assistant {fault}: {seconds:.2f} s, {tries} tries")
    assert figures["slow"][0] < TRIES * TIMEOUT_S + 2.5, figures
    assert all(seconds < 5 for seconds, _ in figures.values()), figures
