"""A home as numbers: entities, their activity, and pair evidence (co-occurrence lift, delay), numpy only.

The same `HomeSnapshot` is built from a synthetic home (for training) and from the local store (for
scoring the real home), so that a model sees the same features in both.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BEHAVIOUR_DOMAINS",
    "HomeGraph",
    "HomeSnapshot",
    "build_graph",
    "home_features",
    "snapshot_from_columns",
    "snapshot_from_generated",
]

BEHAVIOUR_DOMAINS = (
    "binary_sensor", "light", "switch", "media_player", "cover", "lock", "fan", "climate",
    "input_boolean", "person", "device_tracker", "vacuum", "scene", "alarm_control_panel",
)  # fmt: skip
DOMAINS = (*BEHAVIOUR_DOMAINS, "sensor", "sun", "weather")
DEVICE_CLASSES = (
    "motion", "occupancy", "presence", "door", "window", "garage", "opening", "moisture", "smoke",
    "tv", "speaker", "outlet", "blind", "shade", "curtain", "temperature", "humidity", "illuminance",
    "power", "energy", "battery", "connectivity",
)  # fmt: skip
AREA_KINDS = (
    "living_room", "kitchen", "bedroom", "bathroom", "toilet", "hallway", "landing", "stairs", "office",
    "dining_room", "laundry", "garage", "garden", "porch", "balcony", "attic", "basement",
)  # fmt: skip
OFF_STATES = frozenset({"off", "closed", "locked", "idle", "standby", "not_home", "away", "paused", "disarmed"})
IGNORED_STATES = frozenset({"unavailable", "unknown", "", "None"})
WINDOW_S = 300.0
MIN_CO_OCCURRENCES = 3
PAIR_FEATURES = 20
NODE_FEATURES = len(DOMAINS) + 1 + len(DEVICE_CLASSES) + 1 + len(AREA_KINDS) + 1 + 4


@dataclass(slots=True)
class HomeSnapshot:
    """What a model may know of one home: its registry and its state changes (UTC seconds, sorted)."""

    entity_ids: list[str]
    domains: list[str]
    device_classes: list[str | None]
    area_ids: list[str | None]
    device_ids: list[str | None]
    areas: list[str]
    times: np.ndarray  # float64 seconds
    entity: np.ndarray  # int index into entity_ids
    active: np.ndarray  # bool: the change went to an "on" state (else to an "off" state)
    days: float

    def digest(self) -> str:
        """A short hash of the registry and events, recorded with the models trained on it."""
        h = hashlib.sha256()
        h.update("\n".join(self.entity_ids).encode())
        h.update(self.times.tobytes())
        h.update(self.entity.astype(np.int32).tobytes())
        return h.hexdigest()[:16]


def _active_codes(states: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    usable = np.array([s not in IGNORED_STATES for s in states], dtype=bool)
    on = np.array([s not in OFF_STATES for s in states], dtype=bool)
    return usable, on


def snapshot_from_generated(home) -> HomeSnapshot:
    """The snapshot of a synthetic home (its registry and every event)."""
    spec, log = home.spec, home.events
    order = {e: i for i, e in enumerate(spec.entity_ids)}
    remap = np.array([order.get(e, -1) for e in log.entity_ids], dtype=np.int64)
    usable, on = _active_codes(log.states)
    keep = usable[log.new_state] & (remap[log.entity] >= 0)
    return HomeSnapshot(
        entity_ids=list(spec.entity_ids),
        domains=[e.domain for e in spec.entities],
        device_classes=[e.device_class for e in spec.entities],
        area_ids=[e.area_id for e in spec.entities],
        device_ids=[e.device_id for e in spec.entities],
        areas=[a.area_id for a in spec.areas],
        times=(log.time_us[keep] / 1e6).astype(np.float64),
        entity=remap[log.entity[keep]],
        active=on[log.new_state[keep]],
        days=float(spec.days),
    )


def snapshot_from_columns(
    entities: Iterable,
    areas: Iterable,
    event_entity_ids: Sequence[str],
    new_states: Sequence[str | None],
    times: np.ndarray,
) -> HomeSnapshot:
    """The snapshot of a stored home: kernel Entity/Area records and event columns (UTC seconds)."""
    entities = list(entities)
    entity_ids = [e.entity_id for e in entities]
    order = {e: i for i, e in enumerate(entity_ids)}
    idx = np.array([order.get(e, -1) for e in event_entity_ids], dtype=np.int64)
    states = ["" if s is None else str(s) for s in new_states]
    usable = np.array([s not in IGNORED_STATES for s in states], dtype=bool)
    on = np.array([s not in OFF_STATES for s in states], dtype=bool)
    keep = usable & (idx >= 0) if len(states) else np.zeros(0, dtype=bool)
    t = np.asarray(times, dtype=np.float64)
    days = float((t.max() - t.min()) / 86400.0) if len(t) else 0.0
    return HomeSnapshot(
        entity_ids=entity_ids,
        domains=[e.domain for e in entities],
        device_classes=[e.device_class for e in entities],
        area_ids=[e.area_id for e in entities],
        device_ids=[e.device_id for e in entities],
        areas=[a.area_id for a in areas],
        times=t[keep] if len(t) else t,
        entity=idx[keep] if len(t) else idx,
        active=on[keep] if len(t) else on,
        days=max(days, 1.0),
    )


def area_kind(area_id: str | None) -> str | None:
    """`bedroom_2` -> `bedroom`: what kind of room, the same across homes."""
    if area_id is None:
        return None
    return re.sub(r"_\d+$", "", area_id)


def _one_hot(value: str | None, vocab: Sequence[str]) -> list[float]:
    row = [0.0] * (len(vocab) + 1)
    if value is not None:
        row[vocab.index(value) if value in vocab else len(vocab)] = 1.0
    return row


@dataclass(slots=True)
class HomeGraph:
    """Nodes (behaviour entities) with features, adjacency of same area/device, and candidate pairs.

    `pairs` are (trigger, response) node indices: every ordered pair in one area, and every pair seen
    together at least MIN_CO_OCCURRENCES times; `pair_x` their evidence; `cooc` the co-occurrence edges.
    """

    entity_ids: list[str]
    node_x: np.ndarray  # (n, NODE_FEATURES)
    same_area: np.ndarray  # (n, n) 0/1
    same_device: np.ndarray  # (n, n) 0/1
    cooc: np.ndarray  # (n, n, 3): log lift, confidence, log delay (0 where no edge)
    pairs: np.ndarray  # (p, 2) int
    pair_x: np.ndarray  # (p, PAIR_FEATURES)

    def pair_index(self) -> dict[tuple[str, str], int]:
        """(trigger entity id, response entity id) -> row of `pairs`."""
        ids = self.entity_ids
        return {(ids[a], ids[b]): i for i, (a, b) in enumerate(self.pairs.tolist())}


def _follow(ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
    """Delay from each time in ta to the first time in tb after it (inf when none)."""
    if len(tb) == 0 or len(ta) == 0:
        return np.full(len(ta), np.inf)
    j = np.searchsorted(tb, ta, side="right")
    out = np.full(len(ta), np.inf)
    ok = j < len(tb)
    out[ok] = tb[j[ok]] - ta[ok]
    return out


def _evidence(ta: np.ndarray, tb: np.ndarray, span_s: float) -> tuple[list[float], int]:
    """Features of "b follows a": count, confidence, reverse confidence, lift, delays; and the count."""
    d = _follow(ta, tb)
    hit = d <= WINDOW_S
    count = int(hit.sum())
    back = _follow(tb, ta)
    rate_b = len(tb) / max(span_s, 1.0)
    expected = len(ta) * (1.0 - np.exp(-rate_b * WINDOW_S))
    lift = (count + 0.5) / (expected + 0.5)
    rev = float((_follow(-tb[::-1], -ta[::-1]) <= WINDOW_S).mean()) if len(tb) and len(ta) else 0.0
    delays = d[hit]
    median = float(np.median(delays)) if count else WINDOW_S
    spread = float(np.std(np.log1p(delays))) if count > 1 else 0.0
    feats = [
        np.log1p(count),
        count / max(len(ta), 1),
        rev,
        float(np.log(lift)),
        np.log1p(median) / np.log1p(WINDOW_S),
        spread,
        float((delays <= 10).sum()) / max(len(ta), 1),
        float((delays <= 60).sum()) / max(len(ta), 1),
        float((back <= WINDOW_S).sum()) / max(len(tb), 1),
    ]
    return feats, count


def build_graph(home: HomeSnapshot, include: Iterable[tuple[str, str]] = ()) -> HomeGraph:
    """Build the graph of one home: behaviour entities as nodes, evidence of every candidate pair.

    Args:
        home: the snapshot.
        include: (trigger, response) entity pairs to keep among the pairs even without evidence.
    """
    nodes = [i for i, d in enumerate(home.domains) if d in BEHAVIOUR_DOMAINS]
    local = {home.entity_ids[g]: k for k, g in enumerate(nodes)}
    forced = {(local[a], local[b]) for a, b in include if a in local and b in local and a != b}
    n = len(nodes)
    span = max(home.days * 86400.0, 1.0)
    on_times: list[np.ndarray] = []
    off_times: list[np.ndarray] = []
    node_x = np.zeros((n, NODE_FEATURES), dtype=np.float32)
    order = np.argsort(home.times, kind="stable")
    times, entity, active = home.times[order], home.entity[order], home.active[order]
    for k, g in enumerate(nodes):
        mine = entity == g
        t_on = times[mine & active]
        t_off = times[mine & ~active]
        on_times.append(t_on)
        off_times.append(t_off)
        dwell = _follow(t_on, t_off)
        dwell = dwell[np.isfinite(dwell)]
        stats = [
            np.log1p(len(t_on) / home.days),
            np.log1p((len(t_on) + len(t_off)) / home.days),
            np.log1p(float(np.median(dwell))) / 12.0 if len(dwell) else 0.0,
            1.0 if home.device_ids[g] is not None else 0.0,
        ]
        node_x[k] = (
            _one_hot(home.domains[g], DOMAINS)
            + _one_hot(home.device_classes[g], DEVICE_CLASSES)
            + _one_hot(area_kind(home.area_ids[g]), AREA_KINDS)
            + stats
        )
    area = np.array([home.area_ids[g] or f"\0{g}" for g in nodes], dtype=object)
    device = np.array([home.device_ids[g] or f"\0{g}" for g in nodes], dtype=object)
    same_area = (area[:, None] == area[None, :]).astype(np.float32) if n else np.zeros((0, 0), np.float32)
    same_device = (device[:, None] == device[None, :]).astype(np.float32) if n else np.zeros((0, 0), np.float32)
    if n:
        np.fill_diagonal(same_area, 0.0)
        np.fill_diagonal(same_device, 0.0)
    cooc = np.zeros((n, n, 3), dtype=np.float32)
    pairs: list[tuple[int, int]] = []
    rows: list[list[float]] = []
    for a in range(n):
        if len(on_times[a]) + len(off_times[a]) == 0 and not forced:
            continue
        for b in range(n):
            if a == b:
                continue
            wanted = (a, b) in forced
            if not wanted and len(on_times[b]) + len(off_times[b]) == 0:
                continue
            f_on, c_on = _evidence(on_times[a], on_times[b], span)
            if c_on < MIN_CO_OCCURRENCES and not same_area[a, b] and not wanted:
                # Cheap reject first: off->off alone rarely links entities that never switch on together.
                f_off, c_off = _evidence(off_times[a], off_times[b], span)
                if c_off < MIN_CO_OCCURRENCES:
                    continue
            else:
                f_off, c_off = _evidence(off_times[a], off_times[b], span)
            best = max(c_on, c_off)
            if best >= MIN_CO_OCCURRENCES:
                cooc[a, b] = (f_on[3] if c_on >= c_off else f_off[3], max(f_on[1], f_off[1]), f_on[4])
            pairs.append((a, b))
            rows.append(f_on + f_off + [float(same_area[a, b]), float(same_device[a, b])])
    return HomeGraph(
        entity_ids=[home.entity_ids[g] for g in nodes],
        node_x=node_x,
        same_area=same_area,
        same_device=same_device,
        cooc=cooc,
        pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        pair_x=np.array(rows, dtype=np.float32).reshape(-1, PAIR_FEATURES),
    )


HOME_FEATURE_NAMES = (
    *(f"domain:{d}" for d in DOMAINS),
    *(f"area:{a}" for a in AREA_KINDS),
    "areas", "entities", "devices", "bedrooms", "bathrooms", "persons", "activations_per_day",
    "active_entities_share",
)  # fmt: skip


def home_features(home: HomeSnapshot) -> np.ndarray:
    """One vector per home for the home-type classifier: inventory and activity, size-normalised parts."""
    n = max(len(home.entity_ids), 1)
    domain_counts = [sum(1 for d in home.domains if d == name) for name in DOMAINS]
    kinds = [area_kind(a) for a in home.areas]
    area_counts = [sum(1 for k in kinds if k == name) for name in AREA_KINDS]
    active_entities = len(set(home.entity[home.active].tolist())) if len(home.entity) else 0
    persons = sum(1 for d in home.domains if d == "person")
    vector = (
        [np.log1p(c) for c in domain_counts]
        + [float(c) for c in area_counts]
        + [
            np.log1p(len(home.areas)),
            np.log1p(n),
            np.log1p(len({d for d in home.device_ids if d})),
            float(sum(1 for k in kinds if k == "bedroom")),
            float(sum(1 for k in kinds if k in ("bathroom", "toilet"))),
            float(persons),
            np.log1p(int(home.active.sum()) / max(home.days, 1.0)),
            active_entities / n,
        ]
    )
    return np.array(vector, dtype=np.float32)
