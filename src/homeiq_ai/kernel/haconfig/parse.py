"""Parse the automations a person pastes (YAML or JSON, one or a list, 2024.3 or 2024.10+ syntax).

The 2024.10+ plural syntax (`triggers:`, `- trigger: state`, `actions:`, `- action: light.turn_on`)
and the 2024.3 one (`trigger:`, `- platform: state`, `action:`, `- service: light.turn_on`) both
become the same model. An error names the path (`action[0].target.entity_id`) and, for YAML text,
the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from homeiq_ai.kernel.haconfig.model import (
    CONDITION_TYPES,
    OPAQUE_CONDITION_KINDS,
    OPAQUE_TRIGGER_PLATFORMS,
    WEEKDAYS,
    Action,
    AndCondition,
    Automation,
    ChooseAction,
    ChooseOption,
    Condition,
    ConditionAction,
    DelayAction,
    EventAction,
    EventTrigger,
    IfAction,
    NotCondition,
    NumericStateCondition,
    NumericStateTrigger,
    OpaqueAction,
    OpaqueCondition,
    OpaqueTrigger,
    OrCondition,
    RepeatAction,
    SceneAction,
    ServiceAction,
    StateCondition,
    StateTrigger,
    StopAction,
    SunCondition,
    SunTrigger,
    Target,
    TemplateCondition,
    TemplateTrigger,
    TimeCondition,
    TimePatternTrigger,
    TimeTrigger,
    Trigger,
    TriggerCondition,
    VariablesAction,
    WaitForTriggerAction,
    WaitTemplateAction,
    ZoneCondition,
    ZoneTrigger,
)

__all__ = ["MAX_NESTING", "HaConfigError", "parse_automation", "parse_automations", "parse_text"]

MAX_NESTING = 20
_ENTITY_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_SERVICE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_MODES = ("single", "restart", "queued", "parallel")


class HaConfigError(ValueError):
    """An automation that is not well formed; `path` says where and `line` (YAML text) on which line."""

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        where = path or "automation"
        if line is not None:
            where = f"line {line}: {where}"
        super().__init__(f"{where}: {message}")


# --- YAML with line numbers -----------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no python tags) that records the line of every mapping key and sequence item."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise HaConfigError("a key must be plain text", line=key_node.start_mark.line + 1)
        if key in out:
            raise HaConfigError(f"key {key!r} appears twice", line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    return _Lined(out, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    items = [loader.construct_object(child, deep=True) for child in node.value]
    return _LinedList(items, [child.start_mark.line + 1 for child in node.value], node.start_mark.line + 1)


class _Lined(dict):
    """A dict that remembers the line of each key."""

    def __init__(self, data: dict[Any, Any], lines: dict[Any, int], line: int) -> None:
        super().__init__(data)
        self.lines = lines
        self.line = line


class _LinedList(list):
    """A list that remembers the line of each item."""

    def __init__(self, data: list[Any], lines: list[int], line: int) -> None:
        super().__init__(data)
        self.lines = lines
        self.line = line


def _unknown_tag(loader: _LineLoader, suffix: str, node: yaml.Node) -> Any:
    raise HaConfigError(
        f"the YAML tag {node.tag!r} is not accepted here (paste the automation without !include, !secret or !input)",
        line=node.start_mark.line + 1,
    )


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_multi_constructor("!", _unknown_tag)
_LineLoader.add_multi_constructor("tag:yaml.org,2002:python/", _unknown_tag)


def _load_text(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        raise HaConfigError("the text is empty: paste one automation or a list of them")
    if stripped[0] in "{[":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            pass  # YAML flow style is a superset: let the YAML parser say what is wrong
    try:
        return yaml.load(stripped, Loader=_LineLoader)
    except HaConfigError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise HaConfigError(f"not valid YAML: {exc.problem or exc.context}", line=line) from None
    except yaml.YAMLError as exc:
        raise HaConfigError(f"not valid YAML: {exc}") from None


# --- helpers --------------------------------------------------------------------------------------


class _Ctx:
    """The current path and the nearest known line while walking a config."""

    __slots__ = ("depth", "line", "path")

    def __init__(self, path: str, line: int | None, depth: int = 0) -> None:
        self.path = path
        self.line = line
        self.depth = depth

    def key(self, mapping: Any, key: str) -> _Ctx:
        line = mapping.lines.get(key, self.line) if isinstance(mapping, _Lined) else self.line
        return _Ctx(f"{self.path}.{key}" if self.path else key, line, self.depth)

    def item(self, seq: Any, index: int) -> _Ctx:
        line = seq.lines[index] if isinstance(seq, _LinedList) and index < len(seq.lines) else self.line
        if self.depth + 1 > MAX_NESTING:
            raise HaConfigError(f"nested more than {MAX_NESTING} levels deep", self.path, self.line)
        return _Ctx(f"{self.path}[{index}]", line, self.depth + 1)

    def error(self, message: str) -> HaConfigError:
        return HaConfigError(message, self.path, self.line)


def _mapping(value: Any, ctx: _Ctx, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ctx.error(f"{what} must be a mapping of keys to values, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _check_keys(mapping: Mapping[str, Any], allowed: set[str], ctx: _Ctx, what: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise ctx.key(mapping, str(key)).error(
                f"unknown key {key!r} in {what} (known: {', '.join(sorted(allowed))})"
            )


def _text(mapping: Mapping[str, Any], key: str, ctx: _Ctx, *, required: bool = False) -> str | None:
    if key not in mapping or mapping[key] is None:
        if required:
            raise ctx.key(mapping, key).error(f"required key {key!r} is missing")
        return None
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ctx.key(mapping, key).error(f"must be text, not {_kind(value)}")
    return str(value)


def _entity_list(mapping: Mapping[str, Any], key: str, ctx: _Ctx, *, required: bool = True) -> list[str]:
    here = ctx.key(mapping, key)
    raw = mapping.get(key)
    if raw is None:
        if required:
            raise here.error(f"required key {key!r} is missing")
        return []
    if isinstance(raw, str):
        items: list[Any] = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise here.error(f"must be an entity id or a list of them, not {_kind(raw)}")
    out: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise here.item(items, index).error(f"must be an entity id, not {_kind(item)}")
        entity_id = item.strip().lower() if "{" not in item else item
        if "{" not in entity_id and not _ENTITY_ID.match(entity_id):
            raise here.item(items, index).error(f"{item!r} is not an entity id (domain.object_id)")
        out.append(entity_id)
    if required and not out:
        raise here.error("names no entity")
    return out


def _id_list(mapping: Mapping[str, Any], key: str, ctx: _Ctx) -> list[str]:
    raw = mapping.get(key)
    items = _as_list(raw)
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise ctx.key(mapping, key).item(items, index).error(f"must be an id, not {_kind(item)}")
        out.append(str(item))
    return out


def _states(value: Any, ctx: _Ctx) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [_state_text(v, ctx.item(value, i)) for i, v in enumerate(value)]
    return _state_text(value, ctx)


def _state_text(value: Any, ctx: _Ctx) -> str:
    # YAML 1.1 reads bare on/off/yes/no as booleans; Home Assistant's own loader does the same and then
    # compares with the state text, where `on` means "on". Map them back to the words a person wrote.
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str | int | float):
        return str(value)
    raise ctx.error(f"must be a state (text), not {_kind(value)}")


def _duration(value: Any, ctx: _Ctx) -> int | str:
    """Whole seconds from HH:MM[:SS], a number of seconds, or {hours, minutes, seconds, ...}; a template stays."""
    if isinstance(value, bool):
        raise ctx.error("must be a duration, not true/false")
    if isinstance(value, int | float):
        if value < 0:
            raise ctx.error("a duration cannot be negative")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if "{" in text:
            return text
        match = re.fullmatch(r"(\d+):([0-5]?\d)(?::([0-5]?\d)(?:\.\d+)?)?", text)
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return int(float(text))
        raise ctx.error(f"{value!r} is not a duration (HH:MM:SS, seconds, or hours/minutes/seconds)")
    if isinstance(value, Mapping):
        units = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "milliseconds": 0.001}
        total = 0.0
        for key, amount in value.items():
            if key not in units:
                raise ctx.key(value, str(key)).error(f"unknown duration unit {key!r} (known: {', '.join(units)})")
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                raise ctx.key(value, str(key)).error(f"must be a number, not {_kind(amount)}")
            total += amount * units[key]
        if total < 0:
            raise ctx.error("a duration cannot be negative")
        return int(total)
    raise ctx.error(f"must be a duration, not {_kind(value)}")


def _offset(value: Any, ctx: _Ctx) -> int:
    """Signed seconds from "-01:00:00" / "+00:30" / a number / {minutes: -30}."""
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        sign = -1 if text.startswith("-") else 1
        seconds = _duration(text.lstrip("+-"), ctx)
        if isinstance(seconds, str):
            raise ctx.error("a sun offset cannot be a template")
        return sign * seconds
    if isinstance(value, Mapping):
        negative = any(isinstance(v, int | float) and v < 0 for v in value.values())
        magnitude = _duration({k: abs(v) if isinstance(v, int | float) else v for k, v in value.items()}, ctx)
        return -int(magnitude) if negative else int(magnitude)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    raise ctx.error(f"must be an offset such as '-00:30:00', not {_kind(value)}")


def _number(mapping: Mapping[str, Any], key: str, ctx: _Ctx) -> float | int | str | None:
    if key not in mapping or mapping[key] is None:
        return None
    value = mapping[key]
    if isinstance(value, bool):
        raise ctx.key(mapping, key).error("must be a number or an entity id, not true/false")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            if _ENTITY_ID.match(text):
                return text
            raise ctx.key(mapping, key).error(f"{value!r} is neither a number nor an entity id") from None
        return int(number) if number.is_integer() and "." not in text else number
    raise ctx.key(mapping, key).error(f"must be a number or an entity id, not {_kind(value)}")


def _clock(value: Any, ctx: _Ctx) -> str:
    """HH:MM[:SS] normalised to HH:MM:SS; an entity id (input_datetime, timestamp sensor) stays."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads 07:30 (no quotes, no seconds) as the sexagesimal number 450.
        hours, minutes = divmod(value, 60)
        if 0 <= hours < 24:
            return f"{hours:02d}:{minutes:02d}:00"
    if not isinstance(value, str):
        raise ctx.error(f"must be a time such as '07:30:00', not {_kind(value)}")
    text = value.strip()
    match = _CLOCK.match(text)
    if match:
        hours, minutes, seconds = match.groups()
        return f"{int(hours):02d}:{minutes}:{seconds or '00'}"
    if _ENTITY_ID.match(text.lower()):
        return text.lower()
    raise ctx.error(f"{value!r} is not a time (HH:MM or HH:MM:SS) or an entity id")


def _enabled(mapping: Mapping[str, Any], ctx: _Ctx) -> bool:
    value = mapping.get("enabled", True)
    if not isinstance(value, bool):
        raise ctx.key(mapping, "enabled").error("must be true or false")
    return value


def _plain_dict(value: Any, ctx: _Ctx, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    return _plain(_mapping(value, ctx, what))


def _plain(value: Any) -> Any:
    """Drop the line bookkeeping: plain dicts and lists all the way down."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- triggers -------------------------------------------------------------------------------------

_TRIGGER_COMMON = {"platform", "trigger", "id", "enabled", "variables", "alias"}


def _trigger(raw: Any, ctx: _Ctx) -> Trigger:
    item = _mapping(raw, ctx, "a trigger")
    if "platform" in item and "trigger" in item:
        raise ctx.error("a trigger has 'platform' (2024.3 syntax) and 'trigger' (2024.10 syntax): keep one")
    key = "platform" if "platform" in item else "trigger"
    platform = _text(item, key, ctx)
    if platform is None:
        raise ctx.error("required key 'platform' is missing (the kind of trigger: time, sun, state, ...)")
    trigger_id = _text(item, "id", ctx)
    enabled = _enabled(item, ctx)
    common = {"id": trigger_id, "enabled": enabled}

    def allow(*keys: str) -> None:
        _check_keys(item, _TRIGGER_COMMON | set(keys), ctx, f"a {platform} trigger")

    if platform == "time":
        allow("at")
        if "at" not in item:
            raise ctx.key(item, "at").error("required key 'at' is missing")
        ats = _as_list(item["at"])
        if not ats:
            raise ctx.key(item, "at").error("names no time")
        here = ctx.key(item, "at")
        return TimeTrigger(
            at=[_clock(v, here.item(ats, i) if len(ats) > 1 else here) for i, v in enumerate(ats)], **common
        )
    if platform == "sun":
        allow("event", "offset")
        event = _text(item, "event", ctx, required=True)
        if event not in ("sunrise", "sunset"):
            raise ctx.key(item, "event").error(f"{event!r} is not a sun event (sunrise or sunset)")
        return SunTrigger(event=event, offset=_offset(item.get("offset"), ctx.key(item, "offset")), **common)  # type: ignore[arg-type]
    if platform == "state":
        allow("entity_id", "to", "from", "not_to", "not_from", "for", "attribute")
        for_ = _duration(item["for"], ctx.key(item, "for")) if item.get("for") is not None else None
        not_to = _states(item.get("not_to"), ctx.key(item, "not_to"))
        not_from = _states(item.get("not_from"), ctx.key(item, "not_from"))
        return StateTrigger(
            entity_id=_entity_list(item, "entity_id", ctx),
            to=_states(item.get("to"), ctx.key(item, "to")),
            from_=_states(item.get("from"), ctx.key(item, "from")),
            not_to=_as_list(not_to) or None,
            not_from=_as_list(not_from) or None,
            attribute=_text(item, "attribute", ctx),
            for_=for_,
            **common,
        )
    if platform == "numeric_state":
        allow("entity_id", "above", "below", "attribute", "value_template", "for")
        above, below = _number(item, "above", ctx), _number(item, "below", ctx)
        if above is None and below is None:
            raise ctx.error("a numeric_state trigger needs 'above' or 'below'")
        for_ = _duration(item["for"], ctx.key(item, "for")) if item.get("for") is not None else None
        return NumericStateTrigger(
            entity_id=_entity_list(item, "entity_id", ctx),
            above=above,
            below=below,
            attribute=_text(item, "attribute", ctx),
            value_template=_text(item, "value_template", ctx),
            for_=for_,
            **common,
        )
    if platform == "zone":
        allow("entity_id", "zone", "event")
        event = _text(item, "event", ctx) or "enter"
        if event not in ("enter", "leave"):
            raise ctx.key(item, "event").error(f"{event!r} is not a zone event (enter or leave)")
        zone = _text(item, "zone", ctx, required=True) or ""
        if not _ENTITY_ID.match(zone) or not zone.startswith("zone."):
            raise ctx.key(item, "zone").error(f"{zone!r} is not a zone entity (zone.home, ...)")
        return ZoneTrigger(entity_id=_entity_list(item, "entity_id", ctx), zone=zone, event=event, **common)  # type: ignore[arg-type]
    if platform == "time_pattern":
        allow("hours", "minutes", "seconds")
        values = {k: _text(item, k, ctx) for k in ("hours", "minutes", "seconds")}
        if all(v is None for v in values.values()):
            raise ctx.error("a time_pattern trigger needs hours, minutes or seconds")
        for key, value in values.items():
            if value is not None and not re.fullmatch(r"\*|/?\d+", value.strip()):
                raise ctx.key(item, key).error(f"{value!r} is not a time pattern (a number, '/N' or '*')")
        return TimePatternTrigger(**values, **common)
    if platform == "event":
        allow("event_type", "event_data", "context")
        types = item.get("event_type")
        if types is None:
            raise ctx.key(item, "event_type").error("required key 'event_type' is missing")
        event_type: str | list[str] = [str(t) for t in types] if isinstance(types, list) else str(types)
        return EventTrigger(
            event_type=event_type,
            event_data=_plain_dict(item.get("event_data"), ctx.key(item, "event_data"), "event_data"),
            **common,
        )
    if platform == "template":
        allow("value_template", "for")
        for_ = _duration(item["for"], ctx.key(item, "for")) if item.get("for") is not None else None
        return TemplateTrigger(
            value_template=_text(item, "value_template", ctx, required=True) or "", for_=for_, **common
        )
    if platform in OPAQUE_TRIGGER_PLATFORMS:
        options = {k: _plain(v) for k, v in item.items() if k not in ("platform", "trigger", "id", "enabled")}
        return OpaqueTrigger(kind=platform, options=options, **common)
    raise ctx.key(item, key).error(f"invalid platform {platform!r} (known: {', '.join(_known_platforms())})")


def _known_platforms() -> list[str]:
    return sorted(
        {"time", "sun", "state", "numeric_state", "zone", "time_pattern", "event", "template"}
        | OPAQUE_TRIGGER_PLATFORMS
    )


def _triggers(raw: Any, ctx: _Ctx) -> list[Trigger]:
    items = _as_list(raw)
    return [_trigger(t, ctx.item(items, i)) for i, t in enumerate(items)]


# --- conditions -----------------------------------------------------------------------------------

_CONDITION_COMMON = {"condition", "alias", "enabled"}


def _condition(raw: Any, ctx: _Ctx) -> Condition:
    if isinstance(raw, str):
        if "{{" in raw or "{%" in raw:
            return TemplateCondition(value_template=raw)
        raise ctx.error(f"{raw!r} is not a condition (a mapping with 'condition:', or a template)")
    item = _mapping(raw, ctx, "a condition")
    # 2024.x shorthands: {and: [...]}, {or: [...]}, {not: [...]}
    for short in ("and", "or", "not"):
        if short in item and "condition" not in item:
            _check_keys(item, {short, "alias", "enabled"}, ctx, f"an {short} condition")
            inner = _conditions(item[short], ctx.key(item, short))
            cls = {"and": AndCondition, "or": OrCondition, "not": NotCondition}[short]
            return cls(conditions=inner, alias=_text(item, "alias", ctx), enabled=_enabled(item, ctx))
    kind = _text(item, "condition", ctx)
    if kind is None:
        raise ctx.error("required key 'condition' is missing (the kind of condition: state, time, sun, ...)")
    alias = _text(item, "alias", ctx)
    common = {"alias": alias, "enabled": _enabled(item, ctx)}

    def allow(*keys: str) -> None:
        _check_keys(item, _CONDITION_COMMON | set(keys), ctx, f"a {kind} condition")

    if kind == "state":
        allow("entity_id", "state", "attribute", "for", "match")
        if "state" not in item:
            raise ctx.key(item, "state").error("required key 'state' is missing")
        for_ = _duration(item["for"], ctx.key(item, "for")) if item.get("for") is not None else None
        match = _text(item, "match", ctx)
        if match not in (None, "all", "any"):
            raise ctx.key(item, "match").error("must be 'all' or 'any'")
        state = _states(item["state"], ctx.key(item, "state"))
        return StateCondition(
            entity_id=_entity_list(item, "entity_id", ctx),
            state=state if state is not None else "",
            attribute=_text(item, "attribute", ctx),
            for_=for_,
            match=match,  # type: ignore[arg-type]
            **common,
        )
    if kind == "numeric_state":
        allow("entity_id", "above", "below", "attribute", "value_template")
        above, below = _number(item, "above", ctx), _number(item, "below", ctx)
        if above is None and below is None:
            raise ctx.error("a numeric_state condition needs 'above' or 'below'")
        return NumericStateCondition(
            entity_id=_entity_list(item, "entity_id", ctx),
            above=above,
            below=below,
            attribute=_text(item, "attribute", ctx),
            value_template=_text(item, "value_template", ctx),
            **common,
        )
    if kind == "time":
        allow("after", "before", "weekday")
        after = _clock(item["after"], ctx.key(item, "after")) if item.get("after") is not None else None
        before = _clock(item["before"], ctx.key(item, "before")) if item.get("before") is not None else None
        days_raw = _as_list(item.get("weekday"))
        days = []
        for index, day in enumerate(days_raw):
            text = str(day).strip().lower()[:3]
            if text not in WEEKDAYS:
                raise ctx.key(item, "weekday").item(days_raw, index).error(f"{day!r} is not a weekday (mon..sun)")
            days.append(text)
        if after is None and before is None and not days:
            raise ctx.error("a time condition needs 'after', 'before' or 'weekday'")
        return TimeCondition(after=after, before=before, weekday=days, **common)
    if kind == "sun":
        allow("after", "before", "after_offset", "before_offset")
        after, before = _text(item, "after", ctx), _text(item, "before", ctx)
        for key, value in (("after", after), ("before", before)):
            if value is not None and value not in ("sunrise", "sunset"):
                raise ctx.key(item, key).error(f"{value!r} is not a sun event (sunrise or sunset)")
        if after is None and before is None:
            raise ctx.error("a sun condition needs 'after' or 'before'")
        return SunCondition(
            after=after,  # type: ignore[arg-type]
            before=before,  # type: ignore[arg-type]
            after_offset=_offset(item.get("after_offset"), ctx.key(item, "after_offset")),
            before_offset=_offset(item.get("before_offset"), ctx.key(item, "before_offset")),
            **common,
        )
    if kind == "zone":
        allow("entity_id", "zone")
        zone = _text(item, "zone", ctx, required=True) or ""
        if not zone.startswith("zone.") or not _ENTITY_ID.match(zone):
            raise ctx.key(item, "zone").error(f"{zone!r} is not a zone entity (zone.home, ...)")
        return ZoneCondition(entity_id=_entity_list(item, "entity_id", ctx), zone=zone, **common)
    if kind == "template":
        allow("value_template")
        return TemplateCondition(value_template=_text(item, "value_template", ctx, required=True) or "", **common)
    if kind == "trigger":
        allow("id")
        ids = _id_list(item, "id", ctx)
        if not ids:
            raise ctx.key(item, "id").error("required key 'id' is missing")
        return TriggerCondition(id=ids, **common)
    if kind in ("and", "or", "not"):
        allow("conditions")
        if "conditions" not in item:
            raise ctx.key(item, "conditions").error("required key 'conditions' is missing")
        inner = _conditions(item["conditions"], ctx.key(item, "conditions"))
        cls = {"and": AndCondition, "or": OrCondition, "not": NotCondition}[kind]
        return cls(conditions=inner, **common)
    if kind in OPAQUE_CONDITION_KINDS:
        options = {k: _plain(v) for k, v in item.items() if k not in ("condition", "alias", "enabled")}
        return OpaqueCondition(kind=kind, options=options, **common)
    raise ctx.key(item, "condition").error(
        f"unknown condition {kind!r} (known: {', '.join(sorted(set(CONDITION_TYPES) | OPAQUE_CONDITION_KINDS))})"
    )


def _conditions(raw: Any, ctx: _Ctx) -> list[Condition]:
    items = _as_list(raw)
    return [_condition(c, ctx.item(items, i)) for i, c in enumerate(items)]


# --- actions --------------------------------------------------------------------------------------

_ACTION_COMMON = {"alias", "enabled", "continue_on_error"}


def _target(raw: Any, ctx: _Ctx) -> Target:
    if raw is None:
        return Target()
    item = _mapping(raw, ctx, "target")
    _check_keys(item, {"entity_id", "area_id", "device_id", "floor_id", "label_id"}, ctx, "target")
    for newer in ("floor_id", "label_id"):
        if newer in item:
            raise ctx.key(item, newer).error(
                f"{newer!r} needs Home Assistant 2024.4 or later; name the areas or entities instead"
            )
    entity_ids = _entity_list(item, "entity_id", ctx, required=False) if item.get("entity_id") != "all" else ["all"]
    return Target(
        entity_id=entity_ids, area_id=_id_list(item, "area_id", ctx), device_id=_id_list(item, "device_id", ctx)
    )


def _action(raw: Any, ctx: _Ctx) -> Action:
    item = _mapping(raw, ctx, "an action")
    alias = _text(item, "alias", ctx)
    common = {"alias": alias, "enabled": _enabled(item, ctx), "continue_on_error": bool(item.get("continue_on_error"))}

    def allow(*keys: str) -> None:
        _check_keys(item, _ACTION_COMMON | set(keys), ctx, "this action")

    if "service" in item or "action" in item:
        if "service" in item and "action" in item:
            raise ctx.error("an action has 'service' (2024.3 syntax) and 'action' (2024.8 syntax): keep one")
        key = "service" if "service" in item else "action"
        allow(key, "target", "data", "data_template", "entity_id", "response_variable", "metadata")
        service = _text(item, key, ctx, required=True) or ""
        if "{" not in service and not _SERVICE.match(service.strip().lower()):
            raise ctx.key(item, key).error(f"{service!r} is not a service (domain.name, e.g. light.turn_on)")
        service = service.strip().lower() if "{" not in service else service
        target = _target(item.get("target"), ctx.key(item, "target"))
        data = _plain_dict(item.get("data"), ctx.key(item, "data"), "data")
        data.update(_plain_dict(item.get("data_template"), ctx.key(item, "data_template"), "data_template"))
        if "entity_id" in item:
            # The old `entity_id:` beside `service:` means the same as a target.
            target.entity_id = target.entity_id + _entity_list(item, "entity_id", ctx)
        if "entity_id" in data and isinstance(data["entity_id"], str | list) and not target.entity_id:
            ids = _entity_list(data, "entity_id", ctx.key(item, "data"), required=False)
            if all("{" not in e for e in ids):
                target.entity_id = ids
                del data["entity_id"]
        return ServiceAction(
            service=service,
            target=target,
            data=data,
            response_variable=_text(item, "response_variable", ctx),
            **common,
        )
    if "scene" in item:
        allow("scene")
        scene = _text(item, "scene", ctx, required=True) or ""
        if not scene.startswith("scene.") or not _ENTITY_ID.match(scene):
            raise ctx.key(item, "scene").error(f"{scene!r} is not a scene entity (scene.name)")
        return SceneAction(scene=scene, **common)
    if "delay" in item:
        allow("delay")
        return DelayAction(delay=_duration(item["delay"], ctx.key(item, "delay")), **common)
    if "wait_template" in item:
        allow("wait_template", "timeout", "continue_on_timeout")
        timeout = _duration(item["timeout"], ctx.key(item, "timeout")) if item.get("timeout") is not None else None
        return WaitTemplateAction(
            wait_template=_text(item, "wait_template", ctx, required=True) or "",
            timeout=timeout,
            continue_on_timeout=item.get("continue_on_timeout"),
            **common,
        )
    if "wait_for_trigger" in item:
        allow("wait_for_trigger", "timeout", "continue_on_timeout")
        timeout = _duration(item["timeout"], ctx.key(item, "timeout")) if item.get("timeout") is not None else None
        return WaitForTriggerAction(
            wait_for_trigger=_triggers(item["wait_for_trigger"], ctx.key(item, "wait_for_trigger")),
            timeout=timeout,
            continue_on_timeout=item.get("continue_on_timeout"),
            **common,
        )
    if "choose" in item:
        allow("choose", "default")
        here = ctx.key(item, "choose")
        options_raw = _as_list(item["choose"])
        options = []
        for index, option_raw in enumerate(options_raw):
            option_ctx = here.item(options_raw, index)
            option = _mapping(option_raw, option_ctx, "a choose option")
            _check_keys(option, {"conditions", "sequence", "alias"}, option_ctx, "a choose option")
            if "sequence" not in option:
                raise option_ctx.key(option, "sequence").error("required key 'sequence' is missing")
            options.append(
                ChooseOption(
                    conditions=_conditions(option.get("conditions"), option_ctx.key(option, "conditions")),
                    sequence=_actions(option["sequence"], option_ctx.key(option, "sequence")),
                    alias=_text(option, "alias", option_ctx),
                )
            )
        if not options:
            raise here.error("a choose needs at least one option")
        return ChooseAction(options=options, default=_actions(item.get("default"), ctx.key(item, "default")), **common)
    if "if" in item:
        allow("if", "then", "else")
        if "then" not in item:
            raise ctx.key(item, "then").error("required key 'then' is missing")
        return IfAction(
            if_=_conditions(item["if"], ctx.key(item, "if")),
            then=_actions(item["then"], ctx.key(item, "then")),
            else_=_actions(item.get("else"), ctx.key(item, "else")),
            **common,
        )
    if "repeat" in item:
        allow("repeat")
        here = ctx.key(item, "repeat")
        repeat = _mapping(item["repeat"], here, "repeat")
        _check_keys(repeat, {"count", "while", "until", "for_each", "sequence"}, here, "repeat")
        kinds = [k for k in ("count", "while", "until", "for_each") if k in repeat]
        if len(kinds) != 1:
            raise here.error("a repeat needs exactly one of count, while, until or for_each")
        if "sequence" not in repeat:
            raise here.key(repeat, "sequence").error("required key 'sequence' is missing")
        count = repeat.get("count")
        if count is not None and not (
            isinstance(count, str) or (isinstance(count, int) and not isinstance(count, bool))
        ):
            raise here.key(repeat, "count").error(f"must be a whole number, not {_kind(count)}")
        return RepeatAction(
            sequence=_actions(repeat["sequence"], here.key(repeat, "sequence")),
            count=count,
            while_=_conditions(repeat["while"], here.key(repeat, "while")) if "while" in repeat else None,
            until=_conditions(repeat["until"], here.key(repeat, "until")) if "until" in repeat else None,
            for_each=_plain(repeat.get("for_each")),
            **common,
        )
    if "condition" in item or any(k in item for k in ("and", "or", "not")):
        return ConditionAction(condition=_condition(item, ctx), alias=None, enabled=common["enabled"])
    if "event" in item:
        allow("event", "event_data", "event_data_template")
        data = _plain_dict(item.get("event_data"), ctx.key(item, "event_data"), "event_data")
        return EventAction(event=_text(item, "event", ctx, required=True) or "", event_data=data, **common)
    if "variables" in item:
        allow("variables")
        return VariablesAction(
            variables=_plain_dict(item["variables"], ctx.key(item, "variables"), "variables"), **common
        )
    if "stop" in item:
        allow("stop", "error", "response_variable")
        return StopAction(stop=_text(item, "stop", ctx) or "", error=bool(item.get("error")), **common)
    if "device_id" in item and "domain" in item:
        options = {k: _plain(v) for k, v in item.items() if k not in _ACTION_COMMON}
        return OpaqueAction(kind="device", options=options, **common)
    if "parallel" in item or "sequence" in item:
        key = "parallel" if "parallel" in item else "sequence"
        options = {k: _plain(v) for k, v in item.items() if k not in _ACTION_COMMON}
        return OpaqueAction(kind=key, options=options, **common)
    raise ctx.error(
        "not an action Home Assistant knows (one of service, scene, delay, wait_template, wait_for_trigger, "
        f"choose, if, repeat, condition, event, variables, stop); keys: {', '.join(map(str, item))}"
    )


def _actions(raw: Any, ctx: _Ctx) -> list[Action]:
    items = _as_list(raw)
    return [_action(a, ctx.item(items, i)) for i, a in enumerate(items)]


# --- automations ----------------------------------------------------------------------------------

_AUTOMATION_KEYS = {
    "id",
    "alias",
    "description",
    "mode",
    "max",
    "max_exceeded",
    "trigger",
    "triggers",
    "condition",
    "conditions",
    "action",
    "actions",
    "variables",
    "trace",
    "initial_state",
    "trigger_variables",
}


def _plural(item: Mapping[str, Any], singular: str, ctx: _Ctx) -> tuple[Any, _Ctx]:
    plural = singular + "s"
    if singular in item and plural in item:
        raise ctx.key(item, plural).error(
            f"both {singular!r} (2024.3 syntax) and {plural!r} (2024.10 syntax) are given: keep one"
        )
    key = plural if plural in item else singular
    return item.get(key), ctx.key(item, key)


def parse_automation(raw: Any, path: str = "", line: int | None = None) -> Automation:
    """One automation from its config (a dict in either syntax).

    Raises:
        HaConfigError: the config is not well formed; the error names the path (and the line).
    """
    ctx = _Ctx(path, getattr(raw, "line", line))
    item = _mapping(raw, ctx, "an automation")
    _check_keys(item, _AUTOMATION_KEYS, ctx, "an automation")
    alias = _text(item, "alias", ctx)
    if alias is None or not alias.strip():
        raise ctx.key(item, "alias").error("required key 'alias' is missing (the automation's name)")
    if len(alias) > 255:
        raise ctx.key(item, "alias").error("is longer than 255 characters")
    description = _text(item, "description", ctx) or ""
    mode = _text(item, "mode", ctx) or "single"
    if mode not in _MODES:
        raise ctx.key(item, "mode").error(f"{mode!r} is not a mode (one of {', '.join(_MODES)})")
    max_runs = item.get("max")
    if max_runs is not None and (isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1):
        raise ctx.key(item, "max").error("must be a whole number of at least 1")
    raw_triggers, t_ctx = _plural(item, "trigger", ctx)
    if raw_triggers is None:
        raise t_ctx.error("required key 'trigger' is missing: an automation needs at least one trigger")
    triggers = _triggers(raw_triggers, t_ctx)
    if not triggers:
        raise t_ctx.error("an automation needs at least one trigger")
    raw_conditions, c_ctx = _plural(item, "condition", ctx)
    raw_actions, a_ctx = _plural(item, "action", ctx)
    if raw_actions is None:
        raise a_ctx.error("required key 'action' is missing: an automation needs at least one action")
    actions = _actions(raw_actions, a_ctx)
    if not actions:
        raise a_ctx.error("an automation needs at least one action")
    automation_id = _text(item, "id", ctx)
    return Automation(
        id=automation_id,
        alias=alias.strip(),
        description=description,
        mode=mode,  # type: ignore[arg-type]
        max=max_runs,
        triggers=triggers,
        conditions=_conditions(raw_conditions, c_ctx),
        actions=actions,
        variables=_plain_dict(item.get("variables"), ctx.key(item, "variables"), "variables"),
    )


def parse_automations(data: Any) -> list[Automation]:
    """Automations from loaded data: one config, a list of them, or `{automation: [...]}`."""
    if isinstance(data, Mapping) and set(data) == {"automation"}:
        data = data["automation"]
    if isinstance(data, list):
        if not data:
            raise HaConfigError("the list holds no automation")
        return [parse_automation(item, f"[{i}]", _line_of(data, i)) for i, item in enumerate(data)]
    if isinstance(data, Mapping):
        return [parse_automation(data)]
    raise HaConfigError(f"expected an automation (a mapping) or a list of them, not {_kind(data)}")


def _line_of(seq: Any, index: int) -> int | None:
    return seq.lines[index] if isinstance(seq, _LinedList) else None


def parse_text(text: str) -> list[Automation]:
    """Automations from YAML or JSON text a person pasted (one, or a list).

    Raises:
        HaConfigError: not YAML/JSON, or not well formed; names the line and key.
    """
    return parse_automations(_load_text(text))
