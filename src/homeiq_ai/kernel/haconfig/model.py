"""The typed Home Assistant automation: triggers, conditions, actions and the automation around them.

Every class knows how to write itself as Home Assistant's config (`to_config`), in the syntax that
Home Assistant 2024.3 and every later release accept: `trigger`/`condition`/`action` in the singular,
`platform:` in triggers and `service:` in actions. Keys come out in a fixed, readable order.

Durations are whole seconds (`int`); a `str` in their place is a template, kept opaque.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ACTION_TYPES",
    "CONDITION_TYPES",
    "OPAQUE_TRIGGER_PLATFORMS",
    "TRIGGER_TYPES",
    "Action",
    "AndCondition",
    "Automation",
    "ChooseAction",
    "ChooseOption",
    "Condition",
    "ConditionAction",
    "DelayAction",
    "Duration",
    "EventAction",
    "EventTrigger",
    "IfAction",
    "NotCondition",
    "NumericStateCondition",
    "NumericStateTrigger",
    "OpaqueAction",
    "OpaqueCondition",
    "OpaqueTrigger",
    "OrCondition",
    "RepeatAction",
    "SceneAction",
    "ServiceAction",
    "StateCondition",
    "StateTrigger",
    "StopAction",
    "SunCondition",
    "SunTrigger",
    "Target",
    "TemplateCondition",
    "TemplateTrigger",
    "TimeCondition",
    "TimePatternTrigger",
    "TimeTrigger",
    "Trigger",
    "TriggerCondition",
    "VariablesAction",
    "WaitForTriggerAction",
    "WaitTemplateAction",
    "ZoneCondition",
    "ZoneTrigger",
    "format_duration",
    "format_offset",
    "walk_actions",
    "walk_conditions",
]

Duration = int | str  # whole seconds, or a template string (opaque)
Number = float | int | str  # a number, or an entity id (input_number.x) HA reads the number from
Mode = Literal["single", "restart", "queued", "parallel"]

# Trigger platforms the model keeps as they are (their options are not modelled one by one).
OPAQUE_TRIGGER_PLATFORMS = frozenset(
    {
        "calendar",
        "conversation",
        "device",
        "geo_location",
        "homeassistant",
        "mqtt",
        "persistent_notification",
        "tag",
        "webhook",
    }
)


def format_duration(seconds: Duration) -> str:
    """Write whole seconds as HH:MM:SS (a template string is returned as it is)."""
    if isinstance(seconds, str):
        return seconds
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def format_offset(seconds: int) -> str:
    """Write a signed offset in seconds as +HH:MM:SS / -HH:MM:SS (Home Assistant's sun offset)."""
    sign = "-" if seconds < 0 else "+"
    return sign + format_duration(abs(seconds))


def _entities(ids: list[str]) -> str | list[str]:
    return ids[0] if len(ids) == 1 else list(ids)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != {}:
        out[key] = value


def _common_head(item: Any, out: dict[str, Any]) -> None:
    """id / alias first, where the item has them."""
    _put(out, "id", getattr(item, "id", None))
    _put(out, "alias", getattr(item, "alias", None))


def _common_tail(item: Any, out: dict[str, Any]) -> None:
    if getattr(item, "enabled", True) is False:
        out["enabled"] = False
    if getattr(item, "continue_on_error", False):
        out["continue_on_error"] = True


# --- triggers -------------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class _TriggerBase:
    id: str | None = None
    enabled: bool = True

    platform = ""

    def _head(self) -> dict[str, Any]:
        out: dict[str, Any] = {"platform": self.platform}
        _put(out, "id", self.id)
        return out


@dataclass(kw_only=True, slots=True)
class TimeTrigger(_TriggerBase):
    """At a clock time ("HH:MM:SS") or at the time an input_datetime / timestamp sensor holds."""

    at: list[str]
    platform = "time"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["at"] = _entities(self.at)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class SunTrigger(_TriggerBase):
    """At sunrise or sunset, shifted by `offset` seconds (negative: before)."""

    event: Literal["sunrise", "sunset"]
    offset: int = 0
    platform = "sun"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["event"] = self.event
        if self.offset:
            out["offset"] = format_offset(self.offset)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class StateTrigger(_TriggerBase):
    """When entities change state (optionally from/to given states, and held `for` a while)."""

    entity_id: list[str]
    to: str | list[str] | None = None
    from_: str | list[str] | None = None
    not_to: list[str] | None = None
    not_from: list[str] | None = None
    attribute: str | None = None
    for_: Duration | None = None
    platform = "state"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["entity_id"] = _entities(self.entity_id)
        _put(out, "attribute", self.attribute)
        _put(out, "from", self.from_)
        _put(out, "to", self.to)
        _put(out, "not_from", self.not_from)
        _put(out, "not_to", self.not_to)
        if self.for_ is not None:
            out["for"] = format_duration(self.for_)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class NumericStateTrigger(_TriggerBase):
    """When a number (state, attribute or template value) crosses above and/or below a threshold."""

    entity_id: list[str]
    above: Number | None = None
    below: Number | None = None
    attribute: str | None = None
    value_template: str | None = None
    for_: Duration | None = None
    platform = "numeric_state"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["entity_id"] = _entities(self.entity_id)
        _put(out, "attribute", self.attribute)
        _put(out, "value_template", self.value_template)
        _put(out, "above", self.above)
        _put(out, "below", self.below)
        if self.for_ is not None:
            out["for"] = format_duration(self.for_)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class ZoneTrigger(_TriggerBase):
    """When a person or device tracker enters or leaves a zone."""

    entity_id: list[str]
    zone: str
    event: Literal["enter", "leave"] = "enter"
    platform = "zone"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["entity_id"] = _entities(self.entity_id)
        out["zone"] = self.zone
        out["event"] = self.event
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class TimePatternTrigger(_TriggerBase):
    """Every matching hour/minute/second ("/5" means every fifth)."""

    hours: str | None = None
    minutes: str | None = None
    seconds: str | None = None
    platform = "time_pattern"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        _put(out, "hours", self.hours)
        _put(out, "minutes", self.minutes)
        _put(out, "seconds", self.seconds)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class EventTrigger(_TriggerBase):
    """When an event of a type (and matching data) fires on the bus."""

    event_type: str | list[str]
    event_data: dict[str, Any] = field(default_factory=dict)
    platform = "event"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["event_type"] = self.event_type
        _put(out, "event_data", dict(self.event_data))
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class TemplateTrigger(_TriggerBase):
    """When a template turns true; the template is kept as written."""

    value_template: str
    for_: Duration | None = None
    platform = "template"

    def to_config(self) -> dict[str, Any]:
        out = self._head()
        out["value_template"] = self.value_template
        if self.for_ is not None:
            out["for"] = format_duration(self.for_)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class OpaqueTrigger(_TriggerBase):
    """A trigger of a platform whose options are kept as written (device, mqtt, webhook, ...)."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"platform": self.kind}
        _put(out, "id", self.id)
        out.update(self.options)
        _common_tail(self, out)
        return out


Trigger = (
    TimeTrigger
    | SunTrigger
    | StateTrigger
    | NumericStateTrigger
    | ZoneTrigger
    | TimePatternTrigger
    | EventTrigger
    | TemplateTrigger
    | OpaqueTrigger
)
TRIGGER_TYPES: dict[str, type] = {
    "time": TimeTrigger,
    "sun": SunTrigger,
    "state": StateTrigger,
    "numeric_state": NumericStateTrigger,
    "zone": ZoneTrigger,
    "time_pattern": TimePatternTrigger,
    "event": EventTrigger,
    "template": TemplateTrigger,
}


# --- conditions -----------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class StateCondition:
    """The entities are in one of the states (optionally for a while)."""

    entity_id: list[str]
    state: str | list[str]
    attribute: str | None = None
    for_: Duration | None = None
    match: Literal["all", "any"] | None = None
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "state"}
        _common_head(self, out)
        out["entity_id"] = _entities(self.entity_id)
        _put(out, "attribute", self.attribute)
        out["state"] = self.state
        _put(out, "match", self.match)
        if self.for_ is not None:
            out["for"] = format_duration(self.for_)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class NumericStateCondition:
    """A number is above and/or below thresholds."""

    entity_id: list[str]
    above: Number | None = None
    below: Number | None = None
    attribute: str | None = None
    value_template: str | None = None
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "numeric_state"}
        _common_head(self, out)
        out["entity_id"] = _entities(self.entity_id)
        _put(out, "attribute", self.attribute)
        _put(out, "value_template", self.value_template)
        _put(out, "above", self.above)
        _put(out, "below", self.below)
        _common_tail(self, out)
        return out


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(kw_only=True, slots=True)
class TimeCondition:
    """The local time is after/before a clock time, on the given weekdays ("mon".."sun")."""

    after: str | None = None
    before: str | None = None
    weekday: list[str] = field(default_factory=list)
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "time"}
        _common_head(self, out)
        _put(out, "after", self.after)
        _put(out, "before", self.before)
        if self.weekday:
            out["weekday"] = [d for d in WEEKDAYS if d in self.weekday]
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class SunCondition:
    """After/before sunrise or sunset, with offsets in seconds ("after sunset" is "after dark")."""

    after: Literal["sunrise", "sunset"] | None = None
    before: Literal["sunrise", "sunset"] | None = None
    after_offset: int = 0
    before_offset: int = 0
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "sun"}
        _common_head(self, out)
        _put(out, "after", self.after)
        if self.after and self.after_offset:
            out["after_offset"] = format_offset(self.after_offset)
        _put(out, "before", self.before)
        if self.before and self.before_offset:
            out["before_offset"] = format_offset(self.before_offset)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class ZoneCondition:
    """A person or device tracker is in a zone."""

    entity_id: list[str]
    zone: str
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "zone"}
        _common_head(self, out)
        out["entity_id"] = _entities(self.entity_id)
        out["zone"] = self.zone
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class TemplateCondition:
    """A template evaluates true; kept as written."""

    value_template: str
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "template"}
        _common_head(self, out)
        out["value_template"] = self.value_template
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class TriggerCondition:
    """The automation was started by the trigger(s) with these ids."""

    id: list[str]
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": "trigger"}
        _put(out, "alias", self.alias)
        out["id"] = _entities(self.id)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class _Group:
    conditions: list[Condition]
    alias: str | None = None
    enabled: bool = True
    kind = ""

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": self.kind}
        _common_head(self, out)
        out["conditions"] = [c.to_config() for c in self.conditions]
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class AndCondition(_Group):
    """All of the conditions hold."""

    kind = "and"


@dataclass(kw_only=True, slots=True)
class OrCondition(_Group):
    """At least one of the conditions holds."""

    kind = "or"


@dataclass(kw_only=True, slots=True)
class NotCondition(_Group):
    """None of the conditions holds."""

    kind = "not"


@dataclass(kw_only=True, slots=True)
class OpaqueCondition:
    """A condition of a kind whose options are kept as written (device, ...)."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    alias: str | None = None
    enabled: bool = True

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": self.kind}
        _put(out, "alias", self.alias)
        out.update(self.options)
        _common_tail(self, out)
        return out


Condition = (
    StateCondition
    | NumericStateCondition
    | TimeCondition
    | SunCondition
    | ZoneCondition
    | TemplateCondition
    | TriggerCondition
    | AndCondition
    | OrCondition
    | NotCondition
    | OpaqueCondition
)
CONDITION_TYPES: dict[str, type] = {
    "state": StateCondition,
    "numeric_state": NumericStateCondition,
    "time": TimeCondition,
    "sun": SunCondition,
    "zone": ZoneCondition,
    "template": TemplateCondition,
    "trigger": TriggerCondition,
    "and": AndCondition,
    "or": OrCondition,
    "not": NotCondition,
}
OPAQUE_CONDITION_KINDS = frozenset({"device"})


# --- actions --------------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class Target:
    """What a service acts on: entities, areas and/or devices."""

    entity_id: list[str] = field(default_factory=list)
    area_id: list[str] = field(default_factory=list)
    device_id: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """No entity, area or device."""
        return not (self.entity_id or self.area_id or self.device_id)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.entity_id:
            out["entity_id"] = _entities(self.entity_id)
        if self.area_id:
            out["area_id"] = _entities(self.area_id)
        if self.device_id:
            out["device_id"] = _entities(self.device_id)
        return out


@dataclass(kw_only=True, slots=True)
class _ActionBase:
    alias: str | None = None
    enabled: bool = True
    continue_on_error: bool = False


@dataclass(kw_only=True, slots=True)
class ServiceAction(_ActionBase):
    """Call a service (`domain.name`) on a target with data; notifications and scripts are services too."""

    service: str
    target: Target = field(default_factory=Target)
    data: dict[str, Any] = field(default_factory=dict)
    response_variable: str | None = None

    @property
    def domain(self) -> str:
        """The service's domain (`light` of `light.turn_on`)."""
        return self.service.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The service's name (`turn_on` of `light.turn_on`)."""
        return self.service.split(".", 1)[1] if "." in self.service else ""

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["service"] = self.service
        if not self.target.is_empty():
            out["target"] = self.target.to_config()
        _put(out, "data", dict(self.data))
        _put(out, "response_variable", self.response_variable)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class SceneAction(_ActionBase):
    """Activate a scene (`scene: scene.movie_night`)."""

    scene: str

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["scene"] = self.scene
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class DelayAction(_ActionBase):
    """Wait a fixed time (seconds, or a template)."""

    delay: Duration

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["delay"] = format_duration(self.delay)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class WaitTemplateAction(_ActionBase):
    """Wait until a template is true (at most `timeout`)."""

    wait_template: str
    timeout: Duration | None = None
    continue_on_timeout: bool | None = None

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["wait_template"] = self.wait_template
        if self.timeout is not None:
            out["timeout"] = format_duration(self.timeout)
        _put(out, "continue_on_timeout", self.continue_on_timeout)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class WaitForTriggerAction(_ActionBase):
    """Wait until one of the triggers fires (at most `timeout`)."""

    wait_for_trigger: list[Trigger]
    timeout: Duration | None = None
    continue_on_timeout: bool | None = None

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["wait_for_trigger"] = [t.to_config() for t in self.wait_for_trigger]
        if self.timeout is not None:
            out["timeout"] = format_duration(self.timeout)
        _put(out, "continue_on_timeout", self.continue_on_timeout)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class ConditionAction(_ActionBase):
    """Stop the sequence here unless the condition holds."""

    condition: Condition

    def to_config(self) -> dict[str, Any]:
        out = self.condition.to_config()
        if self.alias and "alias" not in out:
            out = {"alias": self.alias, **out}
        return out


@dataclass(kw_only=True, slots=True)
class ChooseOption:
    """One branch of a choose: its conditions and what to do when they hold."""

    conditions: list[Condition]
    sequence: list[Action]
    alias: str | None = None

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["conditions"] = [c.to_config() for c in self.conditions]
        out["sequence"] = [a.to_config() for a in self.sequence]
        return out


@dataclass(kw_only=True, slots=True)
class ChooseAction(_ActionBase):
    """The first option whose conditions hold runs; else `default`."""

    options: list[ChooseOption]
    default: list[Action] = field(default_factory=list)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["choose"] = [o.to_config() for o in self.options]
        if self.default:
            out["default"] = [a.to_config() for a in self.default]
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class IfAction(_ActionBase):
    """if / then / else."""

    if_: list[Condition]
    then: list[Action]
    else_: list[Action] = field(default_factory=list)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["if"] = [c.to_config() for c in self.if_]
        out["then"] = [a.to_config() for a in self.then]
        if self.else_:
            out["else"] = [a.to_config() for a in self.else_]
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class RepeatAction(_ActionBase):
    """Repeat a sequence: `count` times, `while` / `until` conditions hold, or `for_each` item."""

    sequence: list[Action]
    count: int | str | None = None
    while_: list[Condition] | None = None
    until: list[Condition] | None = None
    for_each: list[Any] | str | None = None

    def to_config(self) -> dict[str, Any]:
        repeat: dict[str, Any] = {}
        if self.count is not None:
            repeat["count"] = self.count
        if self.while_ is not None:
            repeat["while"] = [c.to_config() for c in self.while_]
        if self.until is not None:
            repeat["until"] = [c.to_config() for c in self.until]
        if self.for_each is not None:
            repeat["for_each"] = self.for_each
        repeat["sequence"] = [a.to_config() for a in self.sequence]
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["repeat"] = repeat
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class EventAction(_ActionBase):
    """Fire an event on the bus."""

    event: str
    event_data: dict[str, Any] = field(default_factory=dict)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["event"] = self.event
        _put(out, "event_data", dict(self.event_data))
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class VariablesAction(_ActionBase):
    """Set variables for the rest of the sequence."""

    variables: dict[str, Any]

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["variables"] = dict(self.variables)
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class StopAction(_ActionBase):
    """Stop the run, optionally as an error."""

    stop: str
    error: bool = False

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out["stop"] = self.stop
        if self.error:
            out["error"] = True
        _common_tail(self, out)
        return out


@dataclass(kw_only=True, slots=True)
class OpaqueAction(_ActionBase):
    """An action kept as written (a device action, say)."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "alias", self.alias)
        out.update(self.options)
        _common_tail(self, out)
        return out


Action = (
    ServiceAction
    | SceneAction
    | DelayAction
    | WaitTemplateAction
    | WaitForTriggerAction
    | ConditionAction
    | ChooseAction
    | IfAction
    | RepeatAction
    | EventAction
    | VariablesAction
    | StopAction
    | OpaqueAction
)
ACTION_TYPES: tuple[type, ...] = (
    ServiceAction,
    SceneAction,
    DelayAction,
    WaitTemplateAction,
    WaitForTriggerAction,
    ConditionAction,
    ChooseAction,
    IfAction,
    RepeatAction,
    EventAction,
    VariablesAction,
    StopAction,
    OpaqueAction,
)


def walk_actions(actions: list[Action], path: str = "action") -> Iterator[tuple[str, Action]]:
    """Every action, nested ones included, with its path (`action[1].choose[0].sequence[0]`)."""
    for index, action in enumerate(actions):
        here = f"{path}[{index}]"
        yield here, action
        if isinstance(action, ChooseAction):
            for o_index, option in enumerate(action.options):
                yield from walk_actions(option.sequence, f"{here}.choose[{o_index}].sequence")
            yield from walk_actions(action.default, f"{here}.default")
        elif isinstance(action, IfAction):
            yield from walk_actions(action.then, f"{here}.then")
            yield from walk_actions(action.else_, f"{here}.else")
        elif isinstance(action, RepeatAction):
            yield from walk_actions(action.sequence, f"{here}.repeat.sequence")


def walk_conditions(conditions: list[Condition], path: str = "condition") -> Iterator[tuple[str, Condition]]:
    """Every condition, the members of and/or/not included, with its path."""
    for index, condition in enumerate(conditions):
        here = f"{path}[{index}]"
        yield here, condition
        if isinstance(condition, AndCondition | OrCondition | NotCondition):
            yield from walk_conditions(condition.conditions, f"{here}.conditions")


# --- the automation -------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class Automation:
    """One Home Assistant automation."""

    alias: str
    triggers: list[Trigger]
    actions: list[Action]
    conditions: list[Condition] = field(default_factory=list)
    description: str = ""
    mode: Mode = "single"
    max: int | None = None
    id: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def to_config(self, *, include_id: bool = True) -> dict[str, Any]:
        """The config as Home Assistant 2024.3+ reads it (a JSON-able dict, keys in a fixed order)."""
        out: dict[str, Any] = {}
        if include_id and self.id:
            out["id"] = self.id
        out["alias"] = self.alias
        out["description"] = self.description
        out["mode"] = self.mode
        if self.max is not None and self.mode in ("queued", "parallel"):
            out["max"] = self.max
        _put(out, "variables", dict(self.variables))
        out["trigger"] = [t.to_config() for t in self.triggers]
        out["condition"] = [c.to_config() for c in self.conditions]
        out["action"] = [a.to_config() for a in self.actions]
        return out

    def all_actions(self) -> Iterator[tuple[str, Action]]:
        """Every action with its path, nested ones included."""
        yield from walk_actions(self.actions)

    def all_conditions(self) -> Iterator[tuple[str, Condition]]:
        """Every condition with its path: top level, in actions (condition steps, choose, if, repeat)."""
        yield from walk_conditions(self.conditions)
        for path, action in self.all_actions():
            if isinstance(action, ConditionAction):
                yield from walk_conditions([action.condition], f"{path}#")
            elif isinstance(action, ChooseAction):
                for index, option in enumerate(action.options):
                    yield from walk_conditions(option.conditions, f"{path}.choose[{index}].conditions")
            elif isinstance(action, IfAction):
                yield from walk_conditions(action.if_, f"{path}.if")
            elif isinstance(action, RepeatAction):
                yield from walk_conditions(action.while_ or [], f"{path}.repeat.while")
                yield from walk_conditions(action.until or [], f"{path}.repeat.until")

    def all_triggers(self) -> Iterator[tuple[str, Trigger]]:
        """Every trigger with its path: the automation's own and those of wait_for_trigger steps."""
        for index, trigger in enumerate(self.triggers):
            yield f"trigger[{index}]", trigger
        for path, action in self.all_actions():
            if isinstance(action, WaitForTriggerAction):
                for index, trigger in enumerate(action.wait_for_trigger):
                    yield f"{path}.wait_for_trigger[{index}]", trigger

    def service_calls(self) -> Iterator[tuple[str, ServiceAction]]:
        """Every service call with its path."""
        for path, action in self.all_actions():
            if isinstance(action, ServiceAction):
                yield path, action

    def trigger_entities(self) -> list[str]:
        """Entities whose changes start this automation (its own triggers only), in order, once each."""
        seen: dict[str, None] = {}
        for trigger in self.triggers:
            for entity_id in getattr(trigger, "entity_id", None) or []:
                seen.setdefault(entity_id, None)
        return list(seen)

    def target_entities(self) -> list[str]:
        """Entities the service calls and scenes act on (explicit entity ids), in order, once each."""
        seen: dict[str, None] = {}
        for _path, action in self.all_actions():
            if isinstance(action, ServiceAction):
                for entity_id in action.target.entity_id:
                    seen.setdefault(entity_id, None)
                data_ids = action.data.get("entity_id")
                for entity_id in [data_ids] if isinstance(data_ids, str) else data_ids or []:
                    if isinstance(entity_id, str):
                        seen.setdefault(entity_id, None)
            elif isinstance(action, SceneAction):
                seen.setdefault(action.scene, None)
        return list(seen)

    def entity_references(self) -> list[tuple[str, str]]:
        """Every (path, entity_id) this automation names: triggers, conditions and actions."""
        refs: list[tuple[str, str]] = []
        for path, trigger in self.all_triggers():
            for entity_id in getattr(trigger, "entity_id", None) or []:
                refs.append((f"{path}.entity_id", entity_id))
            if isinstance(trigger, ZoneTrigger):
                refs.append((f"{path}.zone", trigger.zone))
        for path, condition in self.all_conditions():
            for entity_id in getattr(condition, "entity_id", None) or []:
                if isinstance(condition, TriggerCondition):
                    break
                refs.append((f"{path}.entity_id", entity_id))
            if isinstance(condition, ZoneCondition):
                refs.append((f"{path}.zone", condition.zone))
        for path, action in self.all_actions():
            if isinstance(action, ServiceAction):
                for entity_id in action.target.entity_id:
                    refs.append((f"{path}.target.entity_id", entity_id))
                data_ids = action.data.get("entity_id")
                for entity_id in [data_ids] if isinstance(data_ids, str) else data_ids or []:
                    if isinstance(entity_id, str):
                        refs.append((f"{path}.data.entity_id", entity_id))
            elif isinstance(action, SceneAction):
                refs.append((f"{path}.scene", action.scene))
        return [(p, e) for p, e in refs if "{" not in e and e != "all"]
