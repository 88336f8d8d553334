"""Noise filters: which events are worth mining, and what was dropped and why (for the run's report)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo, EventFrame

__all__ = [
    "DROP_REASONS",
    "EntityTriage",
    "NoiseReport",
    "classify_entities",
    "filter_noise",
    "merge_reports",
    "numeric_states",
    "select_events",
]

# Why an event is left out, in the order the reasons are tried (an event counts under the first).
DROP_REASONS = (
    "ignored_domain",
    "ignored_category",
    "chatty_entity",
    "numeric_entity",
    "ignored_state",
    "numeric_state",
)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

# An entity most of whose events carry numbers is a measurement (its odd "error" or "off" is noise too).
_NUMERIC_ENTITY_SHARE = 0.5


@dataclass(slots=True)
class NoiseReport:
    """The events kept for mining and, per reason, how many events and which entities were left out.

    `mask[i]` is True for event i of the frame when it is worth mining. `dropped_events[reason]`
    counts the events left out for that reason (each under the first reason of DROP_REASONS that
    applies); `dropped_entities[reason]` lists the entities left out whole (domain, category,
    numeric or chatty), sorted.
    """

    mask: np.ndarray
    kept_events: int
    dropped_events: dict[str, int] = field(default_factory=dict)
    dropped_entities: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """A JSON-ready summary for a run's report: counts per reason and the entities dropped whole."""
        return {
            "kept_events": self.kept_events,
            "dropped_events": dict(self.dropped_events),
            "dropped_entities": {k: list(v) for k, v in self.dropped_entities.items()},
        }


def numeric_states(states: list[str]) -> np.ndarray:
    """Whether each state string is a plain number ("21.5", "-3", "1e3"); once per distinct string."""
    return np.fromiter((_NUMBER.fullmatch(s.strip()) is not None for s in states), dtype=bool, count=len(states))


def filter_noise(frame: EventFrame, config: DetectorConfig) -> NoiseReport:
    """Decide which events of a frame are worth mining, and record what was dropped and why.

    Dropped: events of entities in ignored domains or entity categories (diagnostic, config); chatty
    entities (more than `config.chatty_events_per_day` events a day on average over the window);
    entities that are measurements (most of their states are numbers); and, of the rest, events whose
    new state is ignored (unavailable, unknown, empty) or a number.

    Args:
        frame: The events.
        config: Thresholds and the ignored states, domains and categories.

    Returns:
        The NoiseReport with the boolean mask over the frame's events.
    """
    n_entities = len(frame.entity_ids)
    # One slot past the end, so that NO_STATE (-1) reads as "ignored".
    ignored_state = np.append(
        np.fromiter((s in config.ignore_states for s in frame.states), dtype=bool, count=len(frame.states)), True
    )
    domain = np.zeros(n_entities, dtype=bool)
    category = np.zeros(n_entities, dtype=bool)
    measured = np.zeros(n_entities, dtype=bool)
    for i, entity_id in enumerate(frame.entity_ids):
        info = frame.entities.get(entity_id)
        dom = info.domain if info is not None else entity_id.split(".", 1)[0]
        domain[i] = dom in config.ignore_domains
        category[i] = info is not None and info.entity_category in config.ignore_entity_categories
        measured[i] = _measurement(info, dom)
    counts = np.bincount(frame.entity, minlength=n_entities)
    chatty = counts / max(_window_days(frame), 1e-9) > config.chatty_events_per_day
    ev_ignored = ignored_state[frame.new_state]

    # Numbers: parse only the states that the surviving entities use (chatty sensors have thousands).
    survivors = ~(domain | category | chatty)
    candidate = survivors[frame.entity] & ~ev_ignored
    numeric_state = np.zeros(len(frame.states) + 1, dtype=bool)
    used = np.unique(frame.new_state[candidate])
    numeric_state[used] = numeric_states([frame.states[i] for i in used.tolist()])
    ev_numeric = numeric_state[frame.new_state] & candidate
    numeric_counts = np.bincount(frame.entity, weights=ev_numeric, minlength=n_entities)
    real_counts = np.bincount(frame.entity, weights=candidate, minlength=n_entities)
    numeric_entity = ((numeric_counts > 0) & (numeric_counts > _NUMERIC_ENTITY_SHARE * real_counts)) | measured

    entity_reasons = (
        ("ignored_domain", domain),
        ("ignored_category", category),
        ("chatty_entity", chatty),
        ("numeric_entity", numeric_entity),
    )
    dropped_entity = np.zeros(n_entities, dtype=bool)
    dropped_events: dict[str, int] = {}
    dropped_entities: dict[str, list[str]] = {}
    for reason, flags in entity_reasons:
        new = flags & ~dropped_entity
        dropped_entity |= flags
        dropped_events[reason] = int(counts[new].sum())
        dropped_entities[reason] = sorted(frame.entity_ids[i] for i in np.flatnonzero(new))
    keep = ~dropped_entity[frame.entity]
    state_drop = keep & ev_ignored
    keep &= ~state_drop
    number_drop = keep & ev_numeric
    keep &= ~number_drop
    dropped_events["ignored_state"] = int(state_drop.sum())
    dropped_events["numeric_state"] = int(number_drop.sum())
    return NoiseReport(
        mask=keep,
        kept_events=int(keep.sum()),
        dropped_events=dropped_events,
        dropped_entities=dropped_entities,
    )


@dataclass(slots=True)
class EntityTriage:
    """Which entities an analysis reads, decided from per-entity aggregates before any event is loaded.

    `kept` are the entities whose events are worth reading; `dropped_events` / `dropped_entities` say,
    per reason of DROP_REASONS, how many events and which entities were left unread.
    """

    kept: list[str]
    total_events: int
    dropped_events: dict[str, int] = field(default_factory=dict)
    dropped_entities: dict[str, list[str]] = field(default_factory=dict)


def classify_entities(
    counts: dict[str, int],
    state_counts: dict[str, dict[str | None, int]] | None,
    entities: dict[str, EntityInfo],
    config: DetectorConfig,
    window_days: float,
) -> EntityTriage:
    """Drop whole entities from the counts the database computed, with the same rules as `filter_noise`.

    Ignored domains and categories, chatty entities (more than `config.chatty_events_per_day` changes a
    day) and measurements (most of their non-ignored new states are numbers) are left out; only the
    others' events need to be read.

    Args:
        counts: Changes per entity in the window.
        state_counts: Per entity, changes per new state. None: only the domain, category and chatty
            rules apply, and `kept` lists the entities whose state counts the numeric rule needs (so a
            chatty sensor's thousands of states are never counted).
        entities: Registry data per entity (domain, category).
        config: Thresholds and ignored domains, categories and states.
        window_days: Length of the window in days.

    Returns:
        The EntityTriage.
    """
    reasons: dict[str, list[str]] = {r: [] for r in DROP_REASONS[:4]}
    survivors: list[str] = []
    for entity_id in sorted(counts):
        info = entities.get(entity_id)
        domain = info.domain if info is not None else entity_id.split(".", 1)[0]
        if domain in config.ignore_domains:
            reasons["ignored_domain"].append(entity_id)
        elif info is not None and info.entity_category in config.ignore_entity_categories:
            reasons["ignored_category"].append(entity_id)
        elif counts[entity_id] / max(window_days, 1e-9) > config.chatty_events_per_day:
            reasons["chatty_entity"].append(entity_id)
        elif _measurement(info, domain):
            # Known from the registry: its states need not be counted (the costliest read of a triage).
            reasons["numeric_entity"].append(entity_id)
        else:
            survivors.append(entity_id)
    kept: list[str] = []
    for entity_id in survivors:
        if state_counts is None:
            kept.append(entity_id)
            continue
        states = state_counts.get(entity_id, {})
        real = {s: n for s, n in states.items() if s is not None and s not in config.ignore_states}
        numeric = sum(n for s, n in real.items() if _NUMBER.fullmatch(s.strip()) is not None)
        if numeric > 0 and numeric > _NUMERIC_ENTITY_SHARE * sum(real.values()):
            reasons["numeric_entity"].append(entity_id)
        else:
            kept.append(entity_id)
    return EntityTriage(
        kept=kept,
        total_events=int(sum(counts.values())),
        dropped_events={r: int(sum(counts[e] for e in ids)) for r, ids in reasons.items()},
        dropped_entities=reasons,
    )


def _measurement(info: EntityInfo | None, domain: str) -> bool:
    """Whether the registry says the entity is a measurement: a sensor with a unit of measurement."""
    return info is not None and domain == "sensor" and bool(info.unit_of_measurement)


def merge_reports(triage: EntityTriage, report: NoiseReport) -> dict[str, object]:
    """One run-report summary of what the triage left unread and what the frame's filter dropped."""
    summary = report.summary()
    events = dict(summary["dropped_events"])  # type: ignore[arg-type]
    ents = dict(summary["dropped_entities"])  # type: ignore[arg-type]
    for reason, n in triage.dropped_events.items():
        events[reason] = events.get(reason, 0) + n
        ents[reason] = sorted([*ents.get(reason, []), *triage.dropped_entities.get(reason, [])])
    return {
        "kept_events": report.kept_events,
        "dropped_events": events,
        "dropped_entities": ents,
        "entities_read": len(triage.kept),
    }


def select_events(frame: EventFrame, config: DetectorConfig) -> np.ndarray:
    """Boolean mask over the frame's events that are worth mining (see `filter_noise` for the rules)."""
    return filter_noise(frame, config).mask


def _window_days(frame: EventFrame) -> float:
    """Length of the analysis window in days (at least the span of the events)."""
    span = (frame.end - frame.start).total_seconds()
    if len(frame):
        span = max(span, float(frame.t[-1] - frame.t[0]))
    return span / 86400.0
