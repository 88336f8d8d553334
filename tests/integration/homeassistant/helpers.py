"""Helpers for the Home Assistant integration tests: forced state changes and waiting for the recorder."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from homeiq_ai.kernel.homeassistant import HomeAssistantClient


def unique_entity(prefix: str = "sensor.homeiq") -> str:
    """An entity id no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def force_states(
    client: HomeAssistantClient, entity_id: str, states: list[str], gap: float = 0.1
) -> list[datetime]:
    """Set an entity to each state in turn (POST /api/states) and return HA's last_changed of each."""
    times = []
    for state in states:
        answer = await client.set_state(entity_id, state, {"friendly_name": f"HomeIQ {entity_id}"})
        times.append(datetime.fromisoformat(answer["last_changed"]).astimezone(UTC))
        await asyncio.sleep(gap)
    return times


async def wait_recorded(
    client: HomeAssistantClient, entity_id: str, since: datetime, count: int, timeout: float = 15.0
) -> None:
    """Wait until the recorder has committed `count` states of the entity after `since`."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        history = await client.history(since, datetime.now(UTC) + timedelta(seconds=1), [entity_id])
        seen = sum(len(states) for states in history)
        if seen >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the recorder committed {seen} of {count} states of {entity_id} in {timeout}s")
