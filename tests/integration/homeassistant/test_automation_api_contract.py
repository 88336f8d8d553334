"""The AutomationApi contract against a real Home Assistant, Local and Http alike: deploy, read versions,
disable/enable/trigger, edit -> version 2, roll back -> version 3 with its diff, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from homeiq_ai.app import create_app
from homeiq_ai.automation.api import (
    AutomationApi,
    AutomationNotFoundError,
    DeployRequest,
    EditSuggestionRequest,
    ManualSuggestionRequest,
)
from homeiq_ai.automation.client import HttpAutomationApi
from homeiq_ai.kernel.service_client import ServiceClients
from integration.homeassistant.conftest import HomeAssistantInstance

YAML = """\
alias: HomeIQ contract {kind}
trigger:
  - platform: state
    entity_id: input_boolean.homeiq_test
    to: "on"
action:
  - service: light.turn_on
    target:
      entity_id: light.kitchen_lights
"""


@pytest.fixture(params=["local", "http"])
async def ha_automation_api(
    request: pytest.FixtureRequest, home_assistant: HomeAssistantInstance, make_settings: Callable[..., Any]
) -> AsyncIterator[tuple[AutomationApi, str]]:
    """The automation api in-process or over HTTP, deploying to the real Home Assistant."""
    settings = make_settings(HA_URL=home_assistant.url, HA_TOKEN=home_assistant.token)
    app = create_app(settings, ["pattern", "query", "automation"])
    async with AsyncTestClient(app=app):
        if request.param == "local":
            yield app.state.local_apis["automation"], request.param
            return
        services = ServiceClients({"automation": "http://automation.test"}, transport=httpx.ASGITransport(app=app))
        try:
            yield HttpAutomationApi(services.service("automation")), request.param
        finally:
            await services.aclose()


def _ha_config(ha: HomeAssistantInstance, ha_id: str) -> httpx.Response:
    return httpx.get(f"{ha.url}/api/config/automation/config/{ha_id}", headers=ha.headers(), timeout=10)


async def test_deploy_versions_actions_rollback_delete(
    ha_automation_api: tuple[AutomationApi, str], home_assistant: HomeAssistantInstance
) -> None:
    """The deployed half of the contract gives the same answers in-process and over HTTP."""
    api, kind = ha_automation_api
    ha = home_assistant
    created = await api.create_suggestion(ManualSuggestionRequest(yaml=YAML.format(kind=kind)))
    await api.approve_suggestion(created.id)
    first = await api.deploy(DeployRequest(suggestion_id=created.id))
    assert (first.automation_id, first.version) == (created.id, 1)
    assert (await api.get_suggestion(created.id)).automation_id == created.id
    assert _ha_config(ha, first.ha_automation_id).json()["alias"] == f"HomeIQ contract {kind}"

    listed = await api.list_automations()
    assert created.id in {a.automation_id for a in listed.items}
    disabled = await api.disable_automation(created.id)
    assert disabled.status == "disabled" and disabled.entity_id == first.entity_id
    assert (await api.disable_automation(created.id)).status == "disabled"  # twice is the same
    assert (await api.enable_automation(created.id)).status == "deployed"
    assert (await api.trigger_automation(created.id)).status == "deployed"

    await api.edit_suggestion(
        created.id, EditSuggestionRequest(yaml=YAML.format(kind=kind).replace("kitchen_lights", "bed_light"))
    )
    assert (await api.get_suggestion(created.id)).status == "approved"  # edited: deploy again for version 2
    second = await api.deploy(DeployRequest(suggestion_id=created.id))
    assert second.version == 2 and second.ha_automation_id == first.ha_automation_id
    rolled = await api.rollback_automation(created.id, 1)
    assert rolled.version == 3
    assert _ha_config(ha, first.ha_automation_id).json()["action"][0]["target"]["entity_id"] == "light.kitchen_lights"
    detail = await api.get_automation(created.id)
    assert [v.version for v in detail.versions] == [1, 2, 3] and detail.status == "rolled_back"
    assert detail.versions[0].diff == "" and "+      entity_id: light.bed_light" in (detail.versions[1].diff or "")
    assert "-      entity_id: light.bed_light" in (detail.versions[2].diff or "")
    assert detail.versions[2].note == "rollback to version 1"
    with pytest.raises(AutomationNotFoundError):
        await api.rollback_automation(created.id, 9)
    deployments = await api.list_deployments(limit=3)
    assert [d.version for d in deployments.items if d.suggestion_id == created.id] == [3, 2, 1]

    await api.delete_automation(created.id)
    assert _ha_config(ha, first.ha_automation_id).status_code == 404
    with pytest.raises(AutomationNotFoundError):
        await api.get_automation(created.id)
    with pytest.raises(AutomationNotFoundError):
        await api.delete_automation(created.id)
    assert (await api.get_suggestion(created.id)).status == "deleted"
