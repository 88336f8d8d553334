"""HomeAssistantClient against a real Home Assistant: REST, WebSocket, automation config API and errors."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from homeiq_ai.kernel.errors import BadRequestError, NotFoundError, ServiceUnavailableError, UpstreamError
from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.settings import Secret
from integration.procs import free_port

from .conftest import HomeAssistantInstance

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]


@pytest.fixture
async def client(home_assistant: HomeAssistantInstance) -> AsyncIterator[HomeAssistantClient]:
    """A client of the session's Home Assistant."""
    async with HomeAssistantClient(home_assistant.url, Secret(home_assistant.token), timeout=10) as ha:
        yield ha


async def test_config_states_and_registries(client: HomeAssistantClient) -> None:
    """The REST and WebSocket reads answer Home Assistant's own shapes."""
    config = await client.config()
    assert config["version"] == "2024.3.3"
    assert config["time_zone"] == "Europe/Berlin"
    states = await client.states()
    assert len(states) > 90
    assert {"entity_id", "state", "attributes", "last_changed"} <= set(states[0])
    areas, devices, entities = await client.registries()
    assert {"area_id", "name"} <= set(areas[0])
    assert any(d["name"] == "Kitchen Lights" and d["area_id"] == "kitchen" for d in devices)
    assert any(e["entity_id"] == "light.ceiling_lights" and e["area_id"] == "office" for e in entities)
    assert await client.area_registry() == areas
    assert len(await client.device_registry()) == len(devices)
    assert len(await client.entity_registry()) == len(entities)
    assert await client.state("light.does_not_exist") is None


async def test_call_service_changes_a_state(client: HomeAssistantClient) -> None:
    """call_service toggles the test input_boolean."""
    before = (await client.state("input_boolean.homeiq_test") or {})["state"]
    await client.call_service("input_boolean", "toggle", {"entity_id": "input_boolean.homeiq_test"})
    after = (await client.state("input_boolean.homeiq_test") or {})["state"]
    assert {before, after} == {"on", "off"}


async def test_automation_config_round_trip(client: HomeAssistantClient) -> None:
    """Save, read back, see the entity appear, delete; unknown ids read None and delete False."""
    automation_id = f"homeiq_{uuid.uuid4().hex[:8]}"
    config = {
        "alias": f"HomeIQ test {automation_id}",
        "description": "made by the integration tests",
        "trigger": [{"platform": "state", "entity_id": "input_boolean.homeiq_test", "to": "on"}],
        "condition": [],
        "action": [{"service": "light.turn_on", "target": {"entity_id": "light.kitchen_lights"}}],
        "mode": "single",
    }
    await client.save_automation_config(automation_id, config)
    stored = await client.get_automation_config(automation_id)
    assert stored is not None and stored["alias"] == config["alias"] and stored["id"] == automation_id
    for _ in range(50):
        states = await client.states()
        if any(s["attributes"].get("id") == automation_id for s in states if s["entity_id"].startswith("automation.")):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the automation entity never appeared")
    await client.save_automation_config(automation_id, {**config, "description": "changed"})
    assert (await client.get_automation_config(automation_id) or {})["description"] == "changed"
    assert await client.delete_automation_config(automation_id) is True
    assert await client.get_automation_config(automation_id) is None
    assert await client.delete_automation_config(automation_id) is False


async def test_invalid_automation_config_is_a_bad_request_with_has_message(client: HomeAssistantClient) -> None:
    """HA's 400 comes back as BadRequestError carrying its voluptuous message."""
    with pytest.raises(BadRequestError) as caught:
        await client.save_automation_config("homeiq_invalid", {"alias": "no trigger", "action": []})
    assert "required key not provided" in caught.value.message
    assert "trigger" in caught.value.message
    assert caught.value.code == "home_assistant_rejected"


async def test_websocket_error_results_are_mapped(client: HomeAssistantClient) -> None:
    """An error result of a WebSocket command raises the kernel's error, not retried."""
    with pytest.raises(NotFoundError, match="Entity not found"):
        await client.ws_command("config/entity_registry/get", entity_id="light.not_registered")
    with pytest.raises(BadRequestError, match="required key not provided"):
        await client.ws_command("config/area_registry/create", idempotent=False)
    with pytest.raises(UpstreamError, match="unknown_command"):
        await client.ws_command("homeiq/not_a_command")


async def test_a_wrong_token_is_named_and_never_shown(
    home_assistant: HomeAssistantInstance, caplog: pytest.LogCaptureFixture
) -> None:
    """REST 401 and WebSocket auth_invalid both say to check HA_TOKEN; the token is in no error or log."""
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-" + uuid.uuid4().hex
    async with HomeAssistantClient(home_assistant.url, Secret(wrong), timeout=5) as ha:
        with pytest.raises(UpstreamError) as rest:
            await ha.config()
        with pytest.raises(UpstreamError) as ws:
            await ha.area_registry()
    for error in (rest.value, ws.value):
        assert error.code == "home_assistant_unauthorized"
        assert "HA_TOKEN" in error.message
        assert wrong not in f"{error} {error.message} {error.details} {error!r}"
    assert wrong not in caplog.text


async def test_the_real_token_never_reaches_the_logs(
    home_assistant: HomeAssistantInstance, caplog: pytest.LogCaptureFixture
) -> None:
    """Even at DEBUG (httpx, httpcore, websockets frames), the token is not logged."""
    caplog.set_level(logging.DEBUG)
    async with HomeAssistantClient(home_assistant.url, Secret(home_assistant.token)) as ha:
        await ha.config()
        await ha.registries()
    assert caplog.records  # something was logged at DEBUG
    assert home_assistant.token not in caplog.text
    assert repr(ha) == f"HomeAssistantClient({home_assistant.url!r})"


async def test_unreachable_home_assistant_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listening: ServiceUnavailableError naming the URL, after the bounded retries."""
    caplog.set_level(logging.DEBUG)
    token = "unreachable-token-" + uuid.uuid4().hex
    url = f"http://127.0.0.1:{free_port()}"
    async with HomeAssistantClient(url, Secret(token), timeout=2, tries=2) as ha:
        with pytest.raises(ServiceUnavailableError) as rest:
            await ha.states()
        with pytest.raises(ServiceUnavailableError) as ws:
            await ha.registries()
    assert f"Home Assistant is unreachable at {url} after 2 tries" in rest.value.message
    assert f"Home Assistant is unreachable at {url} (WebSocket) after 2 tries" in ws.value.message
    assert token not in caplog.text + rest.value.message + ws.value.message
