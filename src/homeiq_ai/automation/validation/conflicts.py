"""Layer 4: conflicts across the whole set: opposite states on overlapping triggers, duplicates, loops."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import networkx as nx

from homeiq_ai.automation.validation.result import AutomationRef, Conflict
from homeiq_ai.kernel.haconfig import (
    Automation,
    NumericStateTrigger,
    SceneAction,
    StateTrigger,
    SunTrigger,
    TimeCondition,
    TimeTrigger,
)

__all__ = [
    "EFFECT_STATES",
    "OVERLAP_MINUTES",
    "ExistingSet",
    "Summary",
    "find_conflicts",
    "prepare_existing",
    "summarise",
]

# What state a service drives an entity to; opposite states are the pairs of OPPOSITE.
EFFECT_STATES = {
    "turn_on": "on",
    "turn_off": "off",
    "open_cover": "open",
    "close_cover": "closed",
    "lock": "locked",
    "unlock": "unlocked",
    "open_valve": "open",
    "close_valve": "closed",
    "alarm_disarm": "disarmed",
    "alarm_arm_home": "armed",
    "alarm_arm_away": "armed",
    "alarm_arm_night": "armed",
    "alarm_arm_vacation": "armed",
    "start": "on",
    "return_to_base": "off",
}
OPPOSITE = {
    "on": "off",
    "off": "on",
    "open": "closed",
    "closed": "open",
    "locked": "unlocked",
    "unlocked": "locked",
    "armed": "disarmed",
    "disarmed": "armed",
}
OVERLAP_MINUTES = 15
MAX_LOOP_LENGTH = 4
MAX_LOOPS = 20


def _minutes(clock: str) -> int | None:
    parts = clock.split(":")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]) * 60 + int(parts[1])


@dataclass(slots=True)
class Summary:
    """What conflict checks need of one automation, computed once."""

    ref: AutomationRef
    state_keys: set[tuple[str, str]] = field(default_factory=set)  # (entity, to or "*")
    numeric: set[str] = field(default_factory=set)
    times: list[int] = field(default_factory=list)  # local minutes of time triggers
    suns: list[tuple[str, int]] = field(default_factory=list)  # (event, offset s)
    weekdays: frozenset[str] = frozenset()
    effects: dict[str, set[str]] = field(default_factory=dict)
    triggers: set[str] = field(default_factory=set)
    signature: str = ""


def summarise(automation: Automation, ref: AutomationRef) -> Summary:
    """The conflict-relevant facts of one automation."""
    s = Summary(ref)
    for trigger in automation.triggers:
        if not trigger.enabled:
            continue
        if isinstance(trigger, StateTrigger):
            tos = trigger.to if isinstance(trigger.to, list) else [trigger.to or "*"]
            for entity_id in trigger.entity_id:
                s.triggers.add(entity_id)
                s.state_keys.update((entity_id, str(t)) for t in tos)
        elif isinstance(trigger, NumericStateTrigger):
            s.numeric.update(trigger.entity_id)
            s.triggers.update(trigger.entity_id)
        elif isinstance(trigger, TimeTrigger):
            s.times.extend(m for m in (_minutes(a) for a in trigger.at) if m is not None)
        elif isinstance(trigger, SunTrigger):
            s.suns.append((trigger.event, trigger.offset))
        else:
            s.triggers.update(getattr(trigger, "entity_id", None) or [])
    for condition in automation.conditions:
        if isinstance(condition, TimeCondition) and condition.weekday:
            s.weekdays = frozenset(condition.weekday)
    for _path, action in automation.all_actions():
        if isinstance(action, SceneAction):
            s.effects.setdefault(action.scene, set()).add("on")
    for _path, call in automation.service_calls():
        state = EFFECT_STATES.get(call.name)
        if call.name == "toggle":
            state = "toggle"
        for entity_id in call.target.entity_id:
            s.effects.setdefault(entity_id, set()).add(state or call.name)
    trig = [t.to_config() for t in automation.triggers]
    for t in trig:
        t.pop("id", None)
    s.signature = json.dumps(
        [
            sorted(json.dumps(t, sort_keys=True) for t in trig),
            [c.to_config() for c in automation.conditions],
            [a.to_config() for a in automation.actions],
        ],
        sort_keys=True,
        default=str,
    )
    return s


def _overlap(a: Summary, b: Summary) -> str | None:
    """A short description of how the triggers of a and b overlap, or None."""
    if a.weekdays and b.weekdays and not (a.weekdays & b.weekdays):
        return None
    for entity_id, to in a.state_keys:
        for other_entity, other_to in b.state_keys:
            if entity_id == other_entity and (to == other_to or "*" in (to, other_to)):
                return f"both start when {entity_id} changes" + (f" to {to}" if to != "*" else "")
    shared = a.numeric & b.numeric
    if shared:
        return f"both start on {sorted(shared)[0]} crossing a threshold"
    for m in a.times:
        for n in b.times:
            if abs(m - n) <= OVERLAP_MINUTES or abs(m - n) >= 1440 - OVERLAP_MINUTES:
                return f"both start at {m // 60:02d}:{m % 60:02d} / {n // 60:02d}:{n % 60:02d}"
    for event, offset in a.suns:
        for other_event, other_offset in b.suns:
            if event == other_event and abs(offset - other_offset) <= OVERLAP_MINUTES * 60:
                return f"both start around {event}"
    return None


@dataclass(slots=True)
class ExistingSet:
    """Home Assistant's automations, summarised and indexed once (reuse it across validations)."""

    summaries: list[Summary]
    by_effect: dict[str, list[int]]
    by_trigger: dict[str, list[int]]
    by_signature: dict[str, list[int]]


def prepare_existing(existing: Sequence[Automation]) -> ExistingSet:
    """Summarise and index the automations Home Assistant already has."""
    summaries = [summarise(a, AutomationRef(a.alias, a.id, "existing", i)) for i, a in enumerate(existing)]
    return _index(summaries)


def _index(summaries: list[Summary]) -> ExistingSet:
    by_effect: dict[str, list[int]] = defaultdict(list)
    by_trigger: dict[str, list[int]] = defaultdict(list)
    by_signature: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(summaries):
        for e in s.effects:
            by_effect[e].append(i)
        for e in s.triggers:
            by_trigger[e].append(i)
        by_signature[s.signature].append(i)
    return ExistingSet(summaries, dict(by_effect), dict(by_trigger), dict(by_signature))


def _name(ref: AutomationRef) -> str:
    return (
        f"'{ref.alias}'"
        + (f" ({ref.id})" if ref.id else "")
        + (" in Home Assistant" if ref.source == "existing" else "")
    )


def find_conflicts(checked: Iterable[Summary], existing: ExistingSet | None = None) -> list[Conflict]:
    """Conflicts involving at least one checked automation, against the others and the existing ones.

    Args:
        checked: Summaries of the automations being validated (source "checked").
        existing: Home Assistant's automations (prepare_existing); None for none.

    Returns:
        Conflicts, each naming the automations (alias and id) and the entities.
    """
    new = list(checked)
    old = existing.summaries if existing else []
    pool = _index(old + new)
    first_new = len(old)
    conflicts: list[Conflict] = []
    seen: set[tuple[int, int]] = set()
    dup_seen: set[tuple[int, int]] = set()
    for i in range(first_new, len(pool.summaries)):
        a = pool.summaries[i]
        for entity_id, states in a.effects.items():
            for j in pool.by_effect.get(entity_id, ()):
                if j == i or (min(i, j), max(i, j)) in seen:
                    continue
                b = pool.summaries[j]
                opposite = [s for s in states if OPPOSITE.get(s) in b.effects[entity_id]]
                if not opposite:
                    continue
                how = _overlap(a, b)
                if how is None:
                    continue
                seen.add((min(i, j), max(i, j)))
                state = opposite[0]
                conflicts.append(
                    Conflict(
                        "opposite_states",
                        f"{_name(a.ref)} turns {entity_id} {state} and {_name(b.ref)} "
                        f"turns it {OPPOSITE[state]}; {how}",
                        [entity_id],
                        [a.ref, b.ref],
                    )
                )
        for j in pool.by_signature.get(a.signature, ()):
            if j != i and (min(i, j), max(i, j)) not in dup_seen:
                dup_seen.add((min(i, j), max(i, j)))
                b = pool.summaries[j]
                conflicts.append(
                    Conflict(
                        "duplicate",
                        f"{_name(a.ref)} does the same as {_name(b.ref)} on the same triggers",
                        sorted(a.effects),
                        [a.ref, b.ref],
                    )
                )
    conflicts.extend(_loops(pool, first_new))
    return conflicts


def _loops(pool: ExistingSet, first_new: int) -> list[Conflict]:
    graph = nx.DiGraph()
    for i, s in enumerate(pool.summaries):
        for entity_id in s.effects:
            for j in pool.by_trigger.get(entity_id, ()):
                if j != i:
                    graph.add_edge(i, j, entity_id=entity_id)
    if graph.number_of_edges() == 0:
        return []
    out: list[Conflict] = []
    seen: set[frozenset[int]] = set()
    for cycle in nx.simple_cycles(graph, length_bound=MAX_LOOP_LENGTH):
        if max(cycle) < first_new or frozenset(cycle) in seen:
            continue
        seen.add(frozenset(cycle))
        refs = [pool.summaries[n].ref for n in cycle]
        entities = [graph.edges[u, v]["entity_id"] for u, v in zip(cycle, cycle[1:] + cycle[:1], strict=True)]
        steps = " -> ".join(f"{_name(r)} changes {e}" for r, e in zip(refs, entities, strict=True))
        out.append(
            Conflict("loop", f"automations trigger each other in a loop: {steps} -> {_name(refs[0])}", entities, refs)
        )
        if len(out) >= MAX_LOOPS:
            break
    return out
