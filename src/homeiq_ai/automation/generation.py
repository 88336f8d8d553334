"""Pattern and synergy -> the automation a person would write (haconfig models, HA 2024.3+ syntax).

Each builder takes the pattern's self-describing `details` and returns an `Automation`, or None when
the pattern says too little to act on (no time, no target state a service can reach). The reason a
person reads names the home's entities by their friendly names and follows their device class ("when
Front Door opens, turns on Hall Light"), through a `Wording` of the home.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeiq_ai.kernel.haconfig import (
    AndCondition,
    Automation,
    Condition,
    OrCondition,
    ServiceAction,
    StateCondition,
    StateTrigger,
    SunTrigger,
    Target,
    TemplateCondition,
    TimeCondition,
    TimeTrigger,
    TriggerCondition,
    inert_text,
)
from homeiq_ai.kernel.haconfig.model import WEEKDAYS, DelayAction
from homeiq_ai.kernel.phrases import action_phrase, display_name, state_phrase

__all__ = ["Draft", "Wording", "action_for_state", "build_from_pattern", "build_from_synergy"]

# Domains whose on/off state a turn_on / turn_off service sets.
_ON_OFF = frozenset({"light", "switch", "fan", "input_boolean", "media_player", "climate", "humidifier", "siren"})
_STATE_SERVICES: dict[str, dict[str, str]] = {
    "cover": {"open": "open_cover", "closed": "close_cover"},
    "lock": {"locked": "lock"},  # unlocking is never suggested: it opens the home
    "media_player": {"playing": "media_play", "paused": "media_pause", "off": "turn_off", "on": "turn_on"},
    "vacuum": {"cleaning": "start", "docked": "return_to_base"},
}


@dataclass(frozen=True, slots=True)
class Wording:
    """The home's friendly names and device classes, for the reasons people read (both may be empty)."""

    names: Mapping[str, str] = field(default_factory=dict)
    device_classes: Mapping[str, str] = field(default_factory=dict)

    def name(self, entity_id: str) -> str:
        """ "Hall Light", or "hall light" from the entity id when the home has no friendly name."""
        return display_name(entity_id, self.names.get(entity_id))

    def when(self, entity_id: str, state: str | None) -> str:
        """ "Front Door opens", "Hall Motion detects motion", "Hall Light turns on"."""
        return f"{self.name(entity_id)} {state_phrase(entity_id, state, self.device_classes.get(entity_id))}"

    def does(self, entity_id: str, state: str) -> str:
        """ "turns on Hall Light", "locks Front Door", "opens Garage Cover"."""
        return action_phrase(entity_id, state, self.name(entity_id))


PLAIN = Wording()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(slots=True)
class Draft:
    """A built automation and the plain words that describe it."""

    automation: Automation
    description: str


def action_for_state(entity_id: str, state: str) -> ServiceAction | None:
    """The service call that brings `entity_id` to `state`, or None when no safe one does."""
    domain = entity_id.split(".", 1)[0]
    service = _STATE_SERVICES.get(domain, {}).get(state)
    if service is None and domain in _ON_OFF and state in ("on", "off"):
        service = f"turn_{state}"
    if service is None:
        return None
    return ServiceAction(service=f"{domain}.{service}", target=Target(entity_id=[entity_id]))


def _clock(hhmm: str) -> str:
    parts = hhmm.split(":")
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}:00"


def _weekday_names(days: Sequence[int]) -> list[str]:
    return [WEEKDAYS[d] for d in sorted({int(d) for d in days}) if 0 <= int(d) < 7]


def _alias(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text[:120]


def _time_of_day(details: Mapping[str, Any], entity_ids: Sequence[str], wording: Wording) -> Draft | None:
    entity_id, state = entity_ids[0], str(details.get("state", ""))
    action = action_for_state(entity_id, state)
    if action is None:
        return None
    days = _weekday_names(details.get("weekdays") or range(7))
    conditions: list[Condition] = [TimeCondition(weekday=days)] if 0 < len(days) < 7 else []
    sun = details.get("sun")
    if isinstance(sun, Mapping) and sun.get("event") in ("sunrise", "sunset"):
        offset = round(float(sun.get("offset_minutes", 0)) * 60)
        trigger: Any = SunTrigger(event=sun["event"], offset=offset)
        when = (
            f"{abs(offset) // 60} min {'before' if offset < 0 else 'after'} {sun['event']}" if offset else sun["event"]
        )
    elif details.get("time"):
        trigger = TimeTrigger(at=[_clock(str(details["time"]))])
        when = f"at {details['time']}"
    else:
        return None
    on_days = "" if not conditions else f" on {', '.join(days)}"
    words = f"{wording.name(entity_id)} {state} {when}{on_days}"
    return Draft(
        Automation(
            alias=_alias(words),
            triggers=[trigger],
            conditions=conditions,
            actions=[action],
            description=inert_text(f"Sets {entity_id} to {state} {when}{on_days}."),
        ),
        _sentence(f"{wording.does(entity_id, state)} {when}{on_days}, as the home usually does."),
    )


def _day_type(details: Mapping[str, Any], entity_ids: Sequence[str], wording: Wording) -> Draft | None:
    entity_id, state = entity_ids[0], str(details.get("state", ""))
    action = action_for_state(entity_id, state)
    if action is None or details.get("kind") != "timing":
        return None
    triggers: list[Any] = []
    options: list[Condition] = []
    parts = []
    for side, days in (("weekday", ["mon", "tue", "wed", "thu", "fri"]), ("weekend", ["sat", "sun"])):
        info = details.get(side)
        if not isinstance(info, Mapping) or not info.get("time"):
            continue
        triggers.append(TimeTrigger(id=side, at=[_clock(str(info["time"]))]))
        options.append(AndCondition(conditions=[TriggerCondition(id=[side]), TimeCondition(weekday=days)]))
        parts.append(f"at {info['time']} on {side}s")
    if not triggers:
        return None
    conditions: list[Condition] = [options[0]] if len(options) == 1 else [OrCondition(conditions=options)]
    words = f"{wording.name(entity_id)} {state} " + " and ".join(parts)
    return Draft(
        Automation(
            alias=_alias(words),
            triggers=triggers,
            conditions=conditions,
            actions=[action],
            description=f"Sets {entity_id} to {state} " + " and ".join(parts) + ".",
        ),
        _sentence(
            f"{wording.does(entity_id, state)} " + " and ".join(parts) + ", the right time for each kind of day."
        ),
    )


def _pair(
    trigger_entity: str, trigger_state: str | None, target: str, target_state: str, wording: Wording
) -> Draft | None:
    action = action_for_state(target, target_state)
    if action is None or trigger_entity == target:
        return None
    when = wording.when(trigger_entity, trigger_state)
    words = f"{wording.name(target)} {target_state} when {when}"
    return Draft(
        Automation(
            alias=_alias(words),
            triggers=[StateTrigger(entity_id=[trigger_entity], to=trigger_state)],
            actions=[action],
            description=f"Sets {target} to {target_state} when {trigger_entity} changes to {trigger_state}.",
        ),
        f"When {when}, {wording.does(target, target_state)}, as you usually do by hand.",
    )


def _co_occurrence(details: Mapping[str, Any], entity_ids: Sequence[str], wording: Wording) -> Draft | None:
    if len(entity_ids) < 2:
        return None
    first = str(details.get("trigger_entity_id") or entity_ids[0])
    second = str(details.get("response_entity_id") or entity_ids[1])
    return _pair(
        first, details.get("trigger_state") or "on", second, str(details.get("response_state") or "on"), wording
    )


def _sequence(details: Mapping[str, Any], entity_ids: Sequence[str], wording: Wording) -> Draft | None:
    steps = details.get("steps") or [{"entity_id": e, "state": "on"} for e in entity_ids]
    if len(steps) < 2:
        return None
    head = steps[0]
    actions = [a for s in steps[1:] if (a := action_for_state(str(s["entity_id"]), str(s["state"]))) is not None]
    if not actions:
        return None
    names = ", ".join(wording.name(str(s["entity_id"])) for s in steps[1:])
    words = f"{wording.name(str(head['entity_id']))} {head['state']}: then {names}"
    return Draft(
        Automation(
            alias=_alias(words),
            triggers=[StateTrigger(entity_id=[str(head["entity_id"])], to=str(head["state"]))],
            actions=actions,
            description=f"When {head['entity_id']} turns {head['state']}, does the next steps of the routine.",
        ),
        f"When {wording.when(str(head['entity_id']), str(head['state']))}, does the rest of the routine: "
        + ", then ".join(wording.does(str(st["entity_id"]), str(st["state"])) for st in steps[1:])
        + ".",
    )


def _duration(details: Mapping[str, Any], entity_ids: Sequence[str], wording: Wording) -> Draft | None:
    entity_id, state = entity_ids[0], str(details.get("state", "on"))
    off = action_for_state(entity_id, "off")
    minutes = details.get("median_minutes")
    if off is None or state != "on" or not minutes:
        return None
    # A little longer than usual, so it only steps in when it was forgotten.
    hold = max(60, round(float(minutes) * 1.5 * 60 / 60) * 60)
    words = f"Turn off {wording.name(entity_id)} after {hold // 60} min on"
    return Draft(
        Automation(
            alias=_alias(words),
            triggers=[StateTrigger(entity_id=[entity_id], to="on", for_=hold)],
            actions=[off],
            description=f"Turns {entity_id} off once it has been on for {hold // 60} minutes.",
        ),
        f"Turns off {wording.name(entity_id)} after it has been on for {hold // 60} minutes "
        f"(it usually runs {float(minutes):.0f}).",
    )


def _anomaly(details: Mapping[str, Any], entity_ids: Sequence[str], description: str, wording: Wording) -> Draft | None:
    entity_id = str(details.get("entity_id") or entity_ids[0])
    kind = str(details.get("kind", "anomaly"))
    if kind == "missing_activity":
        return None
    trigger: Any
    if kind == "left_on_too_long" and details.get("expected"):
        trigger = StateTrigger(entity_id=[entity_id], to="on", for_=max(3600, int(float(details["expected"]) * 60)))
    else:
        trigger = StateTrigger(entity_id=[entity_id], to="on")
    conditions: list[Condition] = []
    if kind == "unusual_time":
        conditions = [TimeCondition(after="00:00:00", before="05:00:00")]
    message = inert_text(
        f"HomeIQ: {wording.name(entity_id)} is doing something unusual ({kind.replace('_', ' ')}). {description}"[:240]
    )
    action = ServiceAction(service="persistent_notification.create", data={"title": "HomeIQ", "message": message})
    return Draft(
        Automation(
            alias=_alias(f"Tell me when {wording.name(entity_id)} is unusual"),
            triggers=[trigger],
            conditions=conditions,
            actions=[action],
            description="Notifies when the unusual behaviour happens again.",
        ),
        f"Sends a notification when {wording.name(entity_id)} does this again: {description}",
    )


def _first_last(
    details: Mapping[str, Any],
    entity_ids: Sequence[str],
    followers: Mapping[str, list[tuple[str, str]]],
    wording: Wording,
) -> Draft | None:
    entity_id, state = str(details.get("entity_id") or entity_ids[0]), str(details.get("state", "on"))
    edge = str(details.get("edge", "first"))
    follows = [(t, s, a) for t, s in followers.get(entity_id, []) if (a := action_for_state(t, s))]
    actions = [a for _t, _s, a in follows]
    if not actions or not details.get("window_start") or not details.get("window_end"):
        return None
    days = _weekday_names(details.get("weekdays") or range(7))
    conditions: list[Condition] = [
        TimeCondition(
            after=_clock(str(details["window_start"])),
            before=_clock(str(details["window_end"])),
            weekday=days if len(days) < 7 else [],
        )
    ]
    if edge == "first":
        # Once a day: this automation has not run yet today. A constant template on its own
        # last_triggered (HA 2024.3 has `this`); no person's words are in it.
        conditions.append(
            TemplateCondition(
                value_template=(
                    "{{ this.attributes.last_triggered is none or "
                    "as_local(this.attributes.last_triggered).date() < now().date() }}"
                )
            )
        )
    words = f"{edge} {wording.name(entity_id)} {state} of the day"
    return Draft(
        Automation(
            alias=_alias(words),
            triggers=[StateTrigger(entity_id=[entity_id], to=state)],
            conditions=conditions,
            actions=actions,
            description=f"When {entity_id} is the {edge} change to {state} of the day.",
        ),
        f"When {wording.when(entity_id, state)} for the {edge} time of the day (between "
        f"{details['window_start']} and {details['window_end']}), "
        + ", then ".join(wording.does(t, s) for t, s, _a in follows)
        + ", as the home usually does next.",
    )


Builder = Callable[[Mapping[str, Any], Sequence[str], Wording], Draft | None]
_BUILDERS: dict[str, Builder] = {
    "time_of_day": _time_of_day,
    "day_type": _day_type,
    "co_occurrence": _co_occurrence,
    "sequence": _sequence,
    "duration": _duration,
}


def build_from_pattern(
    pattern_type: str,
    entity_ids: Sequence[str],
    details: Mapping[str, Any],
    description: str = "",
    followers: Mapping[str, list[tuple[str, str]]] | None = None,
    wording: Wording = PLAIN,
) -> Draft | None:
    """The automation for one pattern, or None when it cannot become one.

    Args:
        pattern_type: the pattern's kind (pattern api PATTERN_TYPES).
        entity_ids: its entities.
        details: its self-describing evidence.
        description: its plain-language description (used as data in notifications only).
        followers: trigger entity -> [(entity, state)] that usually follow (from co-occurrences);
            what a first/last-of-the-day automation does.
        wording: the home's names and device classes for the reason (entity ids in words without).
    """
    if not entity_ids:
        return None
    if pattern_type == "anomaly":
        return _anomaly(details, entity_ids, description, wording)
    if pattern_type == "first_last_of_day":
        return _first_last(details, entity_ids, followers or {}, wording)
    builder = _BUILDERS.get(pattern_type)
    return builder(details, entity_ids, wording) if builder else None


def build_from_synergy(entity_ids: Sequence[str], details: Mapping[str, Any], wording: Wording = PLAIN) -> Draft | None:
    """A pair: state trigger on the first entity, its state on the second; a chain: each in turn."""
    if len(entity_ids) < 2:
        return None
    if len(entity_ids) == 2:
        return _pair(entity_ids[0], "on", entity_ids[1], "on", wording)
    return _sequence({"steps": [{"entity_id": e, "state": "on"} for e in entity_ids]}, entity_ids, wording)


_ = StateCondition, DelayAction
