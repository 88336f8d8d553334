"""Plain words for what an entity does: "the front door opens", "turns on the hall light".

Shared by the pattern descriptions and the automation module's reasons, so that both follow the
device class and the state: a door "opens", a motion sensor "detects motion", a lock "locks"; a blank
state never appears in a sentence.
"""

from __future__ import annotations

__all__ = ["action_phrase", "display_name", "state_phrase"]

# binary_sensor device class -> (what going "on" is, what going "off" is)
_BINARY: dict[str, tuple[str, str]] = {
    "motion": ("detects motion", "clears"),
    "occupancy": ("detects presence", "clears"),
    "presence": ("detects presence", "clears"),
    "door": ("opens", "closes"),
    "window": ("opens", "closes"),
    "garage_door": ("opens", "closes"),
    "opening": ("opens", "closes"),
    "moisture": ("detects water", "dries"),
    "smoke": ("detects smoke", "clears"),
}

# (domain, state) -> what reaching that state is, for domains whose states are words of their own
_STATES: dict[tuple[str, str], str] = {
    ("person", "home"): "comes home",
    ("person", "not_home"): "leaves home",
    ("device_tracker", "home"): "comes home",
    ("device_tracker", "not_home"): "leaves home",
    ("lock", "locked"): "locks",
    ("lock", "unlocked"): "unlocks",
    ("cover", "open"): "opens",
    ("cover", "closed"): "closes",
    ("media_player", "playing"): "starts playing",
    ("media_player", "paused"): "pauses",
    ("climate", "heat"): "switches to heating",
    ("climate", "cool"): "switches to cooling",
    ("vacuum", "cleaning"): "starts cleaning",
    ("vacuum", "docked"): "docks",
}

# (domain, state) -> the verb of the action that brings an entity there ("{verb} {name}")
_ACTIONS: dict[tuple[str, str], str] = {
    ("cover", "open"): "opens",
    ("cover", "closed"): "closes",
    ("lock", "locked"): "locks",
    ("media_player", "playing"): "plays",
    ("media_player", "paused"): "pauses",
    ("vacuum", "cleaning"): "starts",
    ("vacuum", "docked"): "sends back to its dock",
}


def display_name(entity_id: str, friendly_name: str | None = None) -> str:
    """The entity's friendly name, else its object id in words ("light.hall_lamp" -> "hall lamp")."""
    if friendly_name and friendly_name.strip():
        return " ".join(friendly_name.split())
    return entity_id.split(".", 1)[-1].replace("_", " ")


def state_phrase(entity_id: str, state: str | None, device_class: str | None = None) -> str:
    """What the entity does on reaching `state`: "opens", "detects motion", "turns on", "leaves home"."""
    domain = entity_id.split(".", 1)[0]
    if not state:
        return "changes state"
    if domain == "binary_sensor" and device_class in _BINARY and state in ("on", "off"):
        return _BINARY[device_class][0 if state == "on" else 1]
    phrase = _STATES.get((domain, state))
    if phrase is not None:
        return phrase
    if state in ("on", "off"):
        return f"turns {state}"
    return f"changes to '{state}'"


def action_phrase(entity_id: str, state: str, name: str) -> str:
    """The action that brings the entity named `name` to `state`: "turns on hall lamp", "locks front door"."""
    domain = entity_id.split(".", 1)[0]
    verb = _ACTIONS.get((domain, state))
    if verb == "sends back to its dock":
        return f"sends {name} back to its dock"
    if verb is not None:
        return f"{verb} {name}"
    if state in ("on", "off"):
        return f"turns {state} {name}"
    return f"sets {name} to '{state}'" if state else f"changes {name}"
