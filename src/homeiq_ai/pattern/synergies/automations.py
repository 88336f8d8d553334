"""Which entity pairs existing Home Assistant automations already link, read from their configs.

Both config dialects are read: the 2024.3 one (`trigger` / `action`, `platform: state`, `service:`)
and the 2024.10 one (`triggers` / `actions`, `trigger: state`, `action:`). A pair is (an entity a
state or numeric_state trigger watches, an entity an action targets), for every combination in one
automation; conditions are ignored. Nested actions (choose, if/then/else, repeat, parallel,
sequence) are followed, and disabled triggers or actions (`enabled: false`) are left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from homeiq_ai.kernel.homeassistant import HomeAssistantClient

__all__ = [
    "ENTITY_TRIGGER_PLATFORMS",
    "action_targets",
    "covered_pairs",
    "fetch_automation_configs",
    "trigger_entities",
]

log = logging.getLogger(__name__)

ENTITY_TRIGGER_PLATFORMS = frozenset({"state", "numeric_state", "zone"})
"""Trigger platforms whose `entity_id` is the entity whose change starts the automation."""

NESTED_ACTION_KEYS = ("sequence", "then", "else", "default", "parallel", "actions", "action")
MAX_AUTOMATIONS = 1000
FETCH_CONCURRENCY = 8


def _entity_ids(value: Any) -> list[str]:
    """Entity ids in a str ("a, b" too) or list value; templates and `all`/`none` are left out."""
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        return []
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        item = item.strip()
        if "." in item and "{" not in item and " " not in item:
            out.append(item)
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _enabled(item: Mapping[str, Any]) -> bool:
    return item.get("enabled", True) is not False


def trigger_entities(config: Mapping[str, Any]) -> list[str]:
    """The entities whose changes start the automation (state, numeric_state and zone triggers)."""
    out: list[str] = []
    for trigger in _as_list(config.get("triggers", config.get("trigger"))):
        if not isinstance(trigger, Mapping) or not _enabled(trigger):
            continue
        platform = trigger.get("trigger", trigger.get("platform"))
        if platform in ENTITY_TRIGGER_PLATFORMS:
            out.extend(e for e in _entity_ids(trigger.get("entity_id")) if e not in out)
    return out


def _action_targets(actions: Any, area_entities: Mapping[str, Iterable[str]] | None, depth: int = 0) -> Iterator[str]:
    if depth > 16:
        return
    for step in _as_list(actions):
        if not isinstance(step, Mapping) or not _enabled(step):
            continue
        service = step.get("action", step.get("service"))
        if isinstance(service, str):
            yield from _entity_ids(step.get("entity_id"))
            for block in ("target", "data", "data_template"):
                part = step.get(block)
                if isinstance(part, Mapping):
                    yield from _entity_ids(part.get("entity_id"))
                    if area_entities is not None:
                        for area_id in _as_list(part.get("area_id")):
                            if isinstance(area_id, str):
                                yield from area_entities.get(area_id, ())
        for option in _as_list(step.get("choose")):
            if isinstance(option, Mapping):
                yield from _action_targets(option.get("sequence"), area_entities, depth + 1)
        for key in NESTED_ACTION_KEYS:
            nested = step.get(key)
            if isinstance(nested, list | Mapping):
                yield from _action_targets(nested, area_entities, depth + 1)
        repeat = step.get("repeat")
        if isinstance(repeat, Mapping):
            yield from _action_targets(repeat.get("sequence"), area_entities, depth + 1)


def action_targets(config: Mapping[str, Any], area_entities: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """The entities the automation's actions act on, in order of first mention."""
    out: list[str] = []
    for entity_id in _action_targets(config.get("actions", config.get("action")), area_entities):
        if entity_id not in out:
            out.append(entity_id)
    return out


def covered_pairs(
    configs: Iterable[Mapping[str, Any]], *, area_entities: Mapping[str, Iterable[str]] | None = None
) -> set[tuple[str, str]]:
    """Every (trigger entity, action target entity) pair that one of the automations links.

    Args:
        configs: Automation configs as Home Assistant stores them (either dialect); anything that
            is not a mapping, or lacks triggers or actions, adds nothing.
        area_entities: Optional area id -> entity ids, to expand actions that target an area.

    Returns:
        The pairs; a trigger that is also its own target is left out.
    """
    pairs: set[tuple[str, str]] = set()
    for config in configs:
        if not isinstance(config, Mapping):
            continue
        targets = action_targets(config, area_entities)
        for trigger in trigger_entities(config):
            pairs.update((trigger, target) for target in targets if target != trigger)
    return pairs


async def fetch_automation_configs(
    client: HomeAssistantClient, *, limit: int = MAX_AUTOMATIONS, concurrency: int = FETCH_CONCURRENCY
) -> list[dict[str, Any]]:
    """The configs of the automations Home Assistant knows, in entity id order.

    Lists the `automation.*` states; for each with an `id` attribute reads its stored config
    (GET /api/config/automation/config/<id>). An automation without an id (YAML-only) or whose config
    is not stored gets its state attributes instead (which name no trigger, so it covers nothing).
    One config that fails to load is skipped with a warning; a failure to list the states is raised.

    Args:
        client: The Home Assistant client.
        limit: At most this many automations are read.
        concurrency: How many configs are fetched at once.
    """
    states = await client.states()
    automations = sorted(
        (s for s in states if isinstance(s, Mapping) and str(s.get("entity_id", "")).startswith("automation.")),
        key=lambda s: str(s["entity_id"]),
    )
    if len(automations) > limit:
        log.warning("reading %d of %d automations", limit, len(automations))
        automations = automations[:limit]
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(state: Mapping[str, Any]) -> dict[str, Any] | None:
        attributes = state.get("attributes") if isinstance(state.get("attributes"), Mapping) else {}
        fallback = {**attributes, "entity_id": state["entity_id"], "state": state.get("state")}
        automation_id = attributes.get("id")
        if automation_id is None or automation_id == "":
            return fallback
        try:
            async with gate:
                config = await client.get_automation_config(str(automation_id))
        except Exception as exc:  # one broken automation must not hide the others
            log.warning("skipping automation %s: its config could not be read: %s", state["entity_id"], exc)
            return None
        if not isinstance(config, Mapping):
            return fallback
        return {**config, "entity_id": state["entity_id"], "state": state.get("state")}

    loaded = await asyncio.gather(*(one(s) for s in automations))
    return [c for c in loaded if c is not None]
