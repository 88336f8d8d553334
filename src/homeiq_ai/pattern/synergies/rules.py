"""Capability rules as data: which kind of entity can sensibly drive which other, and why.

A rule says "a trigger of this domain/device class can drive a response of that domain" with a base
weight (the prior that such a link is worth an automation) and a human reason. Rules never look at
history; the evidence from co-occurrence and sequence patterns is weighed in `detect.py`.

Rule pairs are generated per area: a trigger and a response in the same area. Triggers that belong
to the whole home (a person, the sun: no area) pair with responses anywhere, but only for the few
rules marked `home_wide`. Cross-area pairs are never generated here: they need evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from homeiq_ai.pattern.detectors.base import EntityInfo

__all__ = [
    "ACTIONABLE_DOMAINS",
    "CAPABILITY_RULES",
    "CapabilityRule",
    "EntityMatcher",
    "best_rule",
    "is_actionable",
    "is_trigger_candidate",
    "rule_pairs",
]

ACTIONABLE_DOMAINS = frozenset(
    {
        "alarm_control_panel",
        "climate",
        "cover",
        "fan",
        "humidifier",
        "input_boolean",
        "lawn_mower",
        "light",
        "lock",
        "media_player",
        "notify",
        "scene",
        "script",
        "siren",
        "switch",
        "vacuum",
        "valve",
        "water_heater",
    }
)
"""Domains an automation can act on: only these can be the response of a synergy."""

NOT_TRIGGERS = frozenset({"automation", "update", "weather", "zone", "button", "scene", "script", "notify"})
"""Domains whose state changes say nothing about the home's life (or that are actions themselves)."""

SKIPPED_CATEGORIES = frozenset({"diagnostic", "config"})


@dataclass(frozen=True, slots=True)
class EntityMatcher:
    """Matches entities by domain and, optionally, device class (None: any device class)."""

    domains: frozenset[str]
    device_classes: frozenset[str] | None = None

    def matches(self, info: EntityInfo) -> bool:
        """Whether the entity is of one of the domains (and device classes, when given)."""
        if info.domain not in self.domains:
            return False
        return self.device_classes is None or info.device_class in self.device_classes


def _m(*domains: str, classes: tuple[str, ...] | None = None) -> EntityMatcher:
    return EntityMatcher(frozenset(domains), None if classes is None else frozenset(classes))


@dataclass(frozen=True, slots=True)
class CapabilityRule:
    """One capability rule: a trigger kind, a response kind, the action idea, a base weight and a reason.

    `trigger_states` are the trigger states the rule is about (informative: evidence in other states,
    e.g. motion "off" -> light "off", still counts). `home_wide` lets an area-less trigger (a person,
    the sun) pair with responses in every area.
    """

    rule_id: str
    trigger: EntityMatcher
    response: EntityMatcher
    action: str
    weight: float
    reason: str
    trigger_states: tuple[str, ...] = ()
    home_wide: bool = False


MOTION = ("motion", "occupancy", "presence", "moving")
OPENING = ("door", "garage_door", "opening")
HAZARD = ("smoke", "gas", "carbon_monoxide", "moisture", "safety", "problem")
ALL_ACTUATORS = ("light", "switch", "fan", "cover", "media_player", "climate", "humidifier", "vacuum", "valve")

# fmt: off
CAPABILITY_RULES: tuple[CapabilityRule, ...] = (
    CapabilityRule(
        "motion_light", _m("binary_sensor", classes=MOTION), _m("light"), "light.turn_on", 0.9,
        "motion or presence can switch the light on (and off again when it stops)", ("on",),
    ),
    CapabilityRule(
        "motion_fan_switch", _m("binary_sensor", classes=MOTION), _m("fan", "switch"), "homeassistant.turn_on", 0.35,
        "presence can run a fan or a plug while someone is in the room", ("on",),
    ),
    CapabilityRule(
        "door_light", _m("binary_sensor", classes=OPENING), _m("light"), "light.turn_on", 0.75,
        "opening the door can switch the light on", ("on",),
    ),
    CapabilityRule(
        "door_lock", _m("binary_sensor", classes=OPENING), _m("lock"), "lock.lock", 0.65,
        "closing the door can lock it", ("off",),
    ),
    CapabilityRule(
        "door_notify", _m("binary_sensor", classes=OPENING), _m("notify", "siren"), "notify.send_message", 0.5,
        "an opened door can send a notification", ("on",),
    ),
    CapabilityRule(
        "garage_cover_light", _m("cover", classes=("garage", "gate", "door")), _m("light"), "light.turn_on", 0.65,
        "opening the garage door or gate can switch the light on", ("open", "opening"),
    ),
    CapabilityRule(
        "unlock_light", _m("lock"), _m("light"), "light.turn_on", 0.5,
        "unlocking the door can switch the entrance light on", ("unlocked",),
    ),
    CapabilityRule(
        "window_climate", _m("binary_sensor", classes=("window", "opening")), _m("climate"), "climate.turn_off", 0.75,
        "an open window can switch the heating off or set it lower", ("on",),
    ),
    CapabilityRule(
        "temperature_climate", _m("sensor", classes=("temperature",)), _m("climate", "fan"),
        "climate.set_temperature", 0.6, "the room temperature can drive heating, cooling or a fan",
    ),
    CapabilityRule(
        "humidity_fan", _m("sensor", classes=("humidity", "moisture")), _m("fan", "humidifier"), "fan.turn_on", 0.55,
        "high humidity can run the fan or the (de)humidifier",
    ),
    CapabilityRule(
        "illuminance_light", _m("sensor", classes=("illuminance",)), _m("light", "cover"), "light.turn_on", 0.45,
        "low light can switch the lights on or open the blinds",
    ),
    CapabilityRule(
        "media_light", _m("media_player"), _m("light"), "light.turn_on", 0.5,
        "playing media can dim the lights, and stopping it can bring them back", ("playing", "on", "off"),
    ),
    CapabilityRule(
        "media_cover", _m("media_player"), _m("cover"), "cover.close_cover", 0.4,
        "starting the TV can close the blinds", ("playing", "on"),
    ),
    CapabilityRule(
        "media_follow", _m("media_player"), _m("media_player", classes=("speaker", "receiver", "tv")),
        "media_player.turn_on", 0.55, "a soundbar, receiver or speaker can follow the TV", ("on", "off", "playing"),
    ),
    CapabilityRule(
        "light_fan", _m("light"), _m("fan"), "fan.turn_on", 0.5,
        "a fan (bathroom, cooker hood) can follow the light", ("on", "off"),
    ),
    CapabilityRule(
        "light_light", _m("light"), _m("light"), "light.turn_on", 0.3,
        "lights in the same room can be switched together", ("on", "off"),
    ),
    CapabilityRule(
        "light_media", _m("light"), _m("media_player"), "media_player.turn_on", 0.2,
        "switching the light on can start the music or the TV", ("on",),
    ),
    CapabilityRule(
        "hazard_alert", _m("binary_sensor", classes=HAZARD), _m("siren", "valve", "light", "notify", "switch"),
        "notify.send_message", 0.7, "smoke, gas or a leak can sound a siren, close a valve or send a warning", ("on",),
    ),
    CapabilityRule(
        "helper_drives", _m("input_boolean", "switch"), _m(*ALL_ACTUATORS), "homeassistant.turn_on", 0.25,
        "a switch or helper can drive the other devices in the room", ("on", "off"),
    ),
    CapabilityRule(
        "presence_home", _m("person", "device_tracker"), _m("lock", "climate", "alarm_control_panel"),
        "lock.lock", 0.55, "leaving can lock the door and lower the heating; arriving can undo it",
        ("home", "not_home"), home_wide=True,
    ),
    CapabilityRule(
        "presence_light", _m("person", "device_tracker"), _m("light", "media_player", "switch"),
        "light.turn_off", 0.4, "the last person leaving can switch the lights off", ("not_home", "home"),
    ),
    CapabilityRule(
        "sun_cover", _m("sun"), _m("cover"), "cover.close_cover", 0.5,
        "the blinds can follow sunrise and sunset", ("below_horizon", "above_horizon"), home_wide=True,
    ),
    CapabilityRule(
        "sun_light", _m("sun"), _m("light"), "light.turn_on", 0.45,
        "lights can come on at sunset", ("below_horizon",),
    ),
)
# fmt: on
"""The rules, most specific first; a pair takes the rule with the highest weight among those that match."""


def is_actionable(info: EntityInfo) -> bool:
    """Whether an automation can act on the entity (it can be a synergy's response)."""
    return info.domain in ACTIONABLE_DOMAINS and info.entity_category not in SKIPPED_CATEGORIES


def is_trigger_candidate(info: EntityInfo) -> bool:
    """Whether the entity's changes can start a synergy (no diagnostics, no actions-as-states)."""
    return info.domain not in NOT_TRIGGERS and info.entity_category not in SKIPPED_CATEGORIES


def best_rule(trigger: EntityInfo, response: EntityInfo) -> CapabilityRule | None:
    """The matching rule with the highest weight, or None when no rule links the two."""
    if trigger.entity_id == response.entity_id or not is_actionable(response) or not is_trigger_candidate(trigger):
        return None
    best: CapabilityRule | None = None
    for rule in CAPABILITY_RULES:
        matches = rule.trigger.matches(trigger) and rule.response.matches(response)
        if matches and (best is None or rule.weight > best.weight):
            best = rule
    return best


def rule_pairs(entities: Mapping[str, EntityInfo]) -> Iterator[tuple[str, str, CapabilityRule]]:
    """Every (trigger, response, rule) that a rule allows without evidence, in a stable order.

    Same-area pairs for every rule; an area-less trigger pairs with every area's responses only
    under a `home_wide` rule. Never a cross-area pair: those need evidence.
    """
    by_area: dict[str | None, list[EntityInfo]] = defaultdict(list)
    for entity_id in sorted(entities):
        by_area[entities[entity_id].area_id].append(entities[entity_id])
    responses_anywhere = [e for e in (entities[i] for i in sorted(entities)) if is_actionable(e)]
    for area_id in sorted(by_area, key=lambda a: (a is None, a or "")):
        members = by_area[area_id]
        for trigger in members:
            if not is_trigger_candidate(trigger):
                continue
            if area_id is not None:
                for response in members:
                    rule = best_rule(trigger, response)
                    if rule is not None:
                        yield trigger.entity_id, response.entity_id, rule
                continue
            for response in responses_anywhere:
                rule = best_rule(trigger, response)
                if rule is not None and rule.home_wide:
                    yield trigger.entity_id, response.entity_id, rule
