"""HomeCatalog: the home's entities, areas, devices and services, indexed once for fast lookups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeiq_ai.kernel.homedata.model import Area, Device, Entity

__all__ = ["BUILTIN_SERVICES", "GENERIC_SERVICES", "HomeCatalog", "build_catalog", "catalog_from_store"]

_TOGGLE = ("turn_on", "turn_off", "toggle")
# The core domains' services as Home Assistant 2024.3 registers them (used when HA is not connected).
BUILTIN_SERVICES: dict[str, frozenset[str]] = {
    domain: frozenset(names)
    for domain, names in {
        "homeassistant": (
            "turn_on",
            "turn_off",
            "toggle",
            "update_entity",
            "reload_config_entry",
            "reload_core_config",
            "reload_all",
            "set_location",
            "save_persistent_states",
            "check_config",
            "restart",
            "stop",
            "reload_custom_templates",
        ),
        "light": _TOGGLE,
        "switch": _TOGGLE,
        "fan": (
            *_TOGGLE,
            "set_percentage",
            "increase_speed",
            "decrease_speed",
            "oscillate",
            "set_direction",
            "set_preset_mode",
        ),
        "cover": (
            "open_cover",
            "close_cover",
            "stop_cover",
            "toggle",
            "set_cover_position",
            "open_cover_tilt",
            "close_cover_tilt",
            "stop_cover_tilt",
            "set_cover_tilt_position",
            "toggle_cover_tilt",
        ),
        "lock": ("lock", "unlock", "open"),
        "climate": (
            "turn_on",
            "turn_off",
            "set_hvac_mode",
            "set_temperature",
            "set_preset_mode",
            "set_fan_mode",
            "set_humidity",
            "set_swing_mode",
            "set_aux_heat",
        ),
        "media_player": (
            *_TOGGLE,
            "volume_up",
            "volume_down",
            "volume_set",
            "volume_mute",
            "media_play_pause",
            "media_play",
            "media_pause",
            "media_stop",
            "media_next_track",
            "media_previous_track",
            "media_seek",
            "play_media",
            "select_source",
            "select_sound_mode",
            "clear_playlist",
            "shuffle_set",
            "repeat_set",
            "join",
            "unjoin",
        ),
        "scene": ("turn_on", "apply", "create", "reload"),
        "script": ("turn_on", "turn_off", "toggle", "reload"),
        "automation": ("turn_on", "turn_off", "toggle", "trigger", "reload"),
        "notify": ("notify", "persistent_notification"),
        "persistent_notification": ("create", "dismiss", "dismiss_all", "mark_read"),
        "input_boolean": (*_TOGGLE, "reload"),
        "input_number": ("set_value", "increment", "decrement", "reload"),
        "input_select": (
            "select_option",
            "select_next",
            "select_previous",
            "select_first",
            "select_last",
            "set_options",
            "reload",
        ),
        "input_datetime": ("set_datetime", "reload"),
        "input_text": ("set_value", "reload"),
        "input_button": ("press", "reload"),
        "button": ("press",),
        "vacuum": (
            "start",
            "pause",
            "stop",
            "return_to_base",
            "clean_spot",
            "locate",
            "set_fan_speed",
            "send_command",
            "turn_on",
            "turn_off",
            "toggle",
            "start_pause",
        ),
        "alarm_control_panel": (
            "alarm_disarm",
            "alarm_arm_home",
            "alarm_arm_away",
            "alarm_arm_night",
            "alarm_arm_vacation",
            "alarm_arm_custom_bypass",
            "alarm_trigger",
        ),
        "siren": _TOGGLE,
        "humidifier": (*_TOGGLE, "set_humidity", "set_mode"),
        "water_heater": ("turn_on", "turn_off", "set_temperature", "set_operation_mode", "set_away_mode"),
        "valve": ("open_valve", "close_valve", "set_valve_position", "stop_valve", "toggle"),
        "number": ("set_value",),
        "select": ("select_option", "select_next", "select_previous", "select_first", "select_last"),
        "counter": ("increment", "decrement", "reset", "set_value"),
        "timer": ("start", "pause", "cancel", "finish", "change", "reload"),
        "tts": ("speak", "clear_cache", "cloud_say", "google_translate_say"),
        "camera": (
            "turn_on",
            "turn_off",
            "enable_motion_detection",
            "disable_motion_detection",
            "snapshot",
            "play_stream",
            "record",
        ),
        "remote": (*_TOGGLE, "send_command", "learn_command", "delete_command"),
        "group": ("reload", "set", "remove"),
        "logbook": ("log",),
        "system_log": ("clear", "write"),
        "recorder": ("purge", "purge_entities", "disable", "enable"),
        "zone": ("reload",),
        "person": ("reload",),
        "update": ("install", "skip", "clear_skipped"),
        "text": ("set_value",),
        "date": ("set_value",),
        "time": ("set_value",),
        "datetime": ("set_value",),
        "image": ("snapshot",),
        "calendar": ("create_event",),
        "todo": ("add_item", "update_item", "remove_item", "remove_completed_items"),
        "lawn_mower": ("start_mowing", "pause", "dock"),
        "event": (),
        "weather": ("get_forecasts",),
        "conversation": ("process", "reload"),
        "shell_command": (),
        "python_script": (),
        "hassio": (),
    }.items()
}

# Services meant for entities of any domain (homeassistant.turn_on on a switch is fine).
GENERIC_SERVICES = frozenset(
    {
        "homeassistant.turn_on",
        "homeassistant.turn_off",
        "homeassistant.toggle",
        "homeassistant.update_entity",
        "homeassistant.reload_config_entry",
        "notify.notify",
        "tts.speak",
        "tts.cloud_say",
        "tts.google_translate_say",
        "media_player.play_media",
        "group.set",
        "recorder.purge_entities",
        "logbook.log",
        "scene.create",
    }
)


@dataclass(slots=True)
class HomeCatalog:
    """What a home has, indexed: entities by id, areas, devices, and the services of each domain.

    `services_source` is "home_assistant" (read from /api/services) or "builtin" (the core table).
    Build it once per home (build_catalog) and reuse it for every validation.
    """

    entities: dict[str, Entity]
    areas: dict[str, Area] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    services: dict[str, frozenset[str]] = field(default_factory=dict)
    services_source: str = "builtin"

    def has_entity(self, entity_id: str) -> bool:
        """The entity exists (zone.home always does)."""
        return entity_id in self.entities or entity_id == "zone.home"

    def has_service(self, service: str) -> bool:
        """`domain.name` is a service of this home; a script entity is its own service (script.x)."""
        domain, _, name = service.partition(".")
        if name in self.services.get(domain, ()):
            return True
        return domain == "script" and f"script.{name}" in self.entities

    def device_class(self, entity_id: str) -> str | None:
        """The entity's device class, if known."""
        entity = self.entities.get(entity_id)
        return entity.device_class if entity else None


def _services_from_listing(listing: Iterable[Mapping[str, Any]]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for item in listing:
        domain = item.get("domain")
        names = item.get("services") or {}
        if isinstance(domain, str) and isinstance(names, Mapping):
            out.setdefault(domain, set()).update(str(n) for n in names)
    return {d: frozenset(n) for d, n in out.items()}


def build_catalog(
    entities: Iterable[Entity],
    areas: Iterable[Area] = (),
    devices: Iterable[Device] = (),
    services: Sequence[Mapping[str, Any]] | None = None,
) -> HomeCatalog:
    """Index a home once.

    Args:
        entities: The home's entities (HomeStore.entities()).
        areas: Its areas.
        devices: Its devices.
        services: Home Assistant's `GET /api/services` answer (list of {domain, services: {name: ...}});
            None uses BUILTIN_SERVICES.

    Returns:
        The HomeCatalog.
    """
    if services is None:
        table, source = dict(BUILTIN_SERVICES), "builtin"
    else:
        table, source = _services_from_listing(services), "home_assistant"
    return HomeCatalog(
        entities={e.entity_id: e for e in entities},
        areas={a.area_id: a for a in areas},
        devices={d.device_id: d for d in devices},
        services=table,
        services_source=source,
    )


async def catalog_from_store(store: Any, services: Sequence[Mapping[str, Any]] | None = None) -> HomeCatalog:
    """Build the catalog from a kernel HomeStore (entities, areas, devices) and optional HA services."""
    return build_catalog(await store.entities(), await store.areas(), await store.devices(), services)
