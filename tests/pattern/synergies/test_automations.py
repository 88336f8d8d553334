"""Covered pairs read from Home Assistant automation configs (2024.3 and 2024.10 dialects) and fetched from HA."""

from __future__ import annotations

import logging
from typing import Any

from homeiq_ai.kernel.errors import UpstreamError
from homeiq_ai.pattern.synergies.automations import (
    action_targets,
    covered_pairs,
    fetch_automation_configs,
    trigger_entities,
)

# As GET /api/config/automation/config/<id> answers on Home Assistant 2024.3.
CONFIG_2024_3: dict[str, Any] = {
    "id": "1700000000001",
    "alias": "Hallway motion light",
    "description": "",
    "trigger": [
        {"platform": "state", "entity_id": ["binary_sensor.hallway_motion", "binary_sensor.stairs_motion"], "to": "on"},
        {"platform": "time", "at": "07:00:00"},
    ],
    "condition": [{"condition": "state", "entity_id": "sun.sun", "state": "below_horizon"}],
    "action": [
        {"service": "light.turn_on", "target": {"entity_id": "light.hallway"}, "data": {"brightness_pct": 80}},
        {"service": "switch.turn_on", "data": {"entity_id": "switch.hall_fan"}},
        {"service": "homeassistant.turn_on", "entity_id": "light.stairs, light.landing"},
        {"delay": {"seconds": 30}},
    ],
    "mode": "restart",
}

# The same kind of automation as 2024.10 stores it: plural keys, `trigger:` and `action:`.
CONFIG_2024_10: dict[str, Any] = {
    "id": "1730000000002",
    "alias": "Front door",
    "triggers": [
        {"trigger": "state", "entity_id": "binary_sensor.front_door", "to": "on"},
        {"trigger": "numeric_state", "entity_id": ["sensor.hallway_illuminance"], "below": 20},
        {"trigger": "state", "entity_id": "binary_sensor.disabled_one", "enabled": False},
        {"trigger": "event", "event_type": "custom"},
    ],
    "conditions": [{"condition": "state", "entity_id": "input_boolean.guest_mode", "state": "off"}],
    "actions": [
        {"action": "light.turn_on", "target": {"entity_id": ["light.entrance", "light.porch"]}},
        {
            "if": [{"condition": "state", "entity_id": "sun.sun", "state": "below_horizon"}],
            "then": [{"action": "lock.lock", "target": {"entity_id": "lock.front_door"}}],
            "else": [{"action": "notify.notify", "data": {"message": "door"}}],
        },
        {
            "choose": [
                {
                    "conditions": [],
                    "sequence": [{"action": "cover.close_cover", "target": {"entity_id": "cover.hall_blind"}}],
                }
            ],
            "default": [{"action": "scene.turn_on", "target": {"entity_id": "scene.evening"}}],
        },
        {"repeat": {"count": 2, "sequence": [{"action": "siren.turn_on", "target": {"entity_id": "siren.hall"}}]}},
        {"action": "light.turn_on", "target": {"entity_id": "{{ states('input_text.target') }}"}},
        {"action": "switch.turn_off", "target": {"entity_id": "switch.disabled_target"}, "enabled": False},
        {"action": "light.turn_off", "target": {"area_id": "garden"}},
    ],
    "mode": "single",
}


def test_2024_3_config_gives_trigger_target_pairs() -> None:
    """Old dialect: state triggers (list of ids) x service targets (target, data, top-level, comma list)."""
    assert trigger_entities(CONFIG_2024_3) == ["binary_sensor.hallway_motion", "binary_sensor.stairs_motion"]
    assert action_targets(CONFIG_2024_3) == ["light.hallway", "switch.hall_fan", "light.stairs", "light.landing"]
    pairs = covered_pairs([CONFIG_2024_3])
    assert ("binary_sensor.hallway_motion", "light.hallway") in pairs
    assert ("binary_sensor.stairs_motion", "light.landing") in pairs
    assert len(pairs) == 8
    assert not any(trigger == "sun.sun" for trigger, _ in pairs)  # conditions are ignored


def test_2024_10_config_follows_nested_actions_and_skips_disabled_and_templates() -> None:
    """New dialect: plural keys, if/then/else, choose, repeat; disabled parts and templates add nothing."""
    assert trigger_entities(CONFIG_2024_10) == ["binary_sensor.front_door", "sensor.hallway_illuminance"]
    targets = action_targets(CONFIG_2024_10)
    assert targets == [
        "light.entrance",
        "light.porch",
        "lock.front_door",
        "cover.hall_blind",
        "scene.evening",
        "siren.hall",
    ]
    pairs = covered_pairs([CONFIG_2024_10])
    assert ("binary_sensor.front_door", "lock.front_door") in pairs
    assert ("sensor.hallway_illuminance", "light.entrance") in pairs
    assert not any(t == "binary_sensor.disabled_one" or r == "switch.disabled_target" for t, r in pairs)
    assert not any(t == "input_boolean.guest_mode" for t, _ in pairs)


def test_area_targets_expand_when_the_areas_are_known() -> None:
    """An action aimed at an area covers that area's entities when the caller maps areas to entities."""
    pairs = covered_pairs([CONFIG_2024_10], area_entities={"garden": ["light.garden", "light.path"]})
    assert ("binary_sensor.front_door", "light.garden") in pairs
    assert ("binary_sensor.front_door", "light.garden") not in covered_pairs([CONFIG_2024_10])


def test_odd_configs_add_nothing() -> None:
    """Configs without triggers or actions, single dicts instead of lists, and junk are tolerated."""
    single = {
        "trigger": {"platform": "state", "entity_id": "binary_sensor.a"},
        "action": {"service": "light.toggle", "entity_id": "light.a"},
    }
    junk: list[Any] = [
        {},
        {"alias": "x"},
        "not a mapping",
        {"trigger": [None, 3], "action": [None]},
        {"entity_id": "automation.yaml_only"},
    ]
    assert covered_pairs([single, *junk]) == {("binary_sensor.a", "light.a")}
    self_loop = {
        "triggers": [{"trigger": "state", "entity_id": "light.a"}],
        "actions": [{"action": "light.turn_off", "target": {"entity_id": "light.a"}}],
    }
    assert covered_pairs([self_loop]) == set()


class FakeHomeAssistant:
    """Answers states() and get_automation_config() like HomeAssistantClient, with one broken automation."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def states(self) -> list[dict[str, Any]]:
        return [
            {"entity_id": "light.hallway", "state": "off", "attributes": {}},
            {
                "entity_id": "automation.hallway",
                "state": "on",
                "attributes": {"id": "1700000000001", "friendly_name": "Hallway"},
            },
            {"entity_id": "automation.front_door", "state": "on", "attributes": {"id": "1730000000002"}},
            {"entity_id": "automation.broken", "state": "on", "attributes": {"id": "broken"}},
            {"entity_id": "automation.gone", "state": "unavailable", "attributes": {"id": "gone"}},
            {"entity_id": "automation.yaml_only", "state": "on", "attributes": {"friendly_name": "From YAML"}},
        ]

    async def get_automation_config(self, automation_id: str) -> dict[str, Any] | None:
        self.asked.append(automation_id)
        if automation_id == "broken":
            raise UpstreamError("Home Assistant answered HTTP 500")
        return {"1700000000001": CONFIG_2024_3, "1730000000002": CONFIG_2024_10}.get(automation_id)


async def test_fetch_reads_every_automation_and_skips_the_broken_one(caplog) -> None:
    """Configs by id; no id or no stored config -> state attributes; a failing config is skipped with a warning."""
    client = FakeHomeAssistant()
    with caplog.at_level(logging.WARNING):
        configs = await fetch_automation_configs(client)  # type: ignore[arg-type]
    assert [c["entity_id"] for c in configs] == [
        "automation.front_door",
        "automation.gone",
        "automation.hallway",
        "automation.yaml_only",
    ]
    assert sorted(client.asked) == sorted(["1700000000001", "1730000000002", "broken", "gone"])
    assert configs[3]["friendly_name"] == "From YAML"
    assert "automation.broken" in caplog.text
    pairs = covered_pairs(configs)
    assert ("binary_sensor.hallway_motion", "light.hallway") in pairs
    assert ("binary_sensor.front_door", "light.porch") in pairs


async def test_fetch_is_bounded() -> None:
    """At most `limit` automations are read (in entity id order: the broken one and the front door)."""
    client = FakeHomeAssistant()
    configs = await fetch_automation_configs(client, limit=2)  # type: ignore[arg-type]
    assert [c["entity_id"] for c in configs] == ["automation.front_door"]
    assert sorted(client.asked) == ["1730000000002", "broken"]
