"""Deploying to Home Assistant: save with the URL's id, read back, find the automation.* entity."""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Mapping
from typing import Any

from homeiq_ai.kernel.errors import HomeIQError, ServiceUnavailableError, UpstreamError
from homeiq_ai.kernel.homeassistant import HomeAssistantClient

__all__ = ["ENTITY_WAIT_SECONDS", "find_entity", "save_and_verify", "stored_matches", "unified_diff"]

ENTITY_WAIT_SECONDS = 5.0
"""How long to poll for the automation.* entity after a save (HA makes it in ~0.1 s)."""


def unified_diff(old: str | None, new: str, old_label: str, new_label: str) -> str:
    """A unified diff of two YAML texts ("" when there is no previous one)."""
    if old is None:
        return ""
    return "".join(
        difflib.unified_diff(old.splitlines(True), new.splitlines(True), fromfile=old_label, tofile=new_label)
    )


def stored_matches(stored: Mapping[str, Any], ha_automation_id: str, config: Mapping[str, Any]) -> bool:
    """Whether HA's read-back of an automation is exactly `config` saved under `ha_automation_id`."""
    return dict(stored) == {**dict(config), "id": ha_automation_id}


async def find_entity(client: HomeAssistantClient, ha_automation_id: str) -> str | None:
    """The automation.* entity whose `id` attribute is `ha_automation_id`, or None."""
    for state in await client.states():
        entity_id = str(state.get("entity_id", ""))
        if entity_id.startswith("automation.") and str((state.get("attributes") or {}).get("id")) == ha_automation_id:
            return entity_id
    return None


async def save_and_verify(
    client: HomeAssistantClient, ha_automation_id: str, config: Mapping[str, Any], wait: float = ENTITY_WAIT_SECONDS
) -> str:
    """Save the config under its id, read it back, and return the automation entity HA made for it.

    Raises:
        BadRequestError: HA rejected the config (its own message).
        UpstreamError / ServiceUnavailableError: HA failed, refused the token, or is unreachable.
    """
    await client.save_automation_config(ha_automation_id, config)
    stored = await client.get_automation_config(ha_automation_id)
    if stored is None or stored.get("alias") != config.get("alias"):
        raise UpstreamError(f"Home Assistant did not store automation {ha_automation_id!r} (read back found none)")
    deadline = time.monotonic() + wait
    while True:
        entity_id = await find_entity(client, ha_automation_id)
        if entity_id is not None:
            return entity_id
        if time.monotonic() > deadline:
            raise UpstreamError(
                f"Home Assistant stored automation {ha_automation_id!r} but made no automation entity for it "
                f"within {wait:.0f}s"
            )
        await asyncio.sleep(0.1)


def is_home_assistant_failure(exc: Exception) -> bool:
    """Errors that come from Home Assistant being down, slow or refusing us."""
    return isinstance(exc, HomeIQError | ServiceUnavailableError)
