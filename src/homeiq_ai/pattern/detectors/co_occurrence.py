"""Co-occurrence: A's change followed by B's change within a window; directional, with support, confidence and lift.

A pair is (trigger entity, trigger state) -> (response entity, response state). For every trigger event the
events of the next `co_occurrence_window_s` seconds are read with one binary search (a sorted-time sweep), so
the work is O(n * k) for k events per window, never all pairs of events. For each pair:

- support: trigger events followed by the response within the window;
- confidence: support / trigger events;
- lift: confidence / the chance of seeing the response within a window that does not follow the trigger.
  That chance is the larger of two baselines: the response's rate (the share of the time that lies within a
  window before one of its events) and the same test with the trigger's events moved by a day either way
  (local time), which catches two entities that merely keep the same clock (blinds that all close at sunset);
- the delay to the first response (median, 90th percentile).

Pairs with enough support, confidence and lift are then explained away where a third change explains them
better ("triangles"). When W -> X (even a weak one) precedes most occurrences of X -> Z, Z's timing is
compared with X's and with W's on the same occurrences (each W, its first X, the first Z after W): if Z's
delay after X does not depend on X's delay after W, X is Z's cause; if Z keeps its time after W, W is. If X
does not clearly time Z (or X follows W too tightly to tell), X -> Z is a sibling or a confound and is
dropped (a light that follows motion does not "cause" the motion sensor to clear; two lights that follow
one switch do not cause each other); if it does, W -> Z is the indirect link of a chain and is dropped
(lamp -> TV -> soundbar: the lamp does not switch the soundbar). Of a pair found in both directions only
the stronger is kept. A link dropped only because a near-simultaneous earlier
change times it as well stays available to sequences when it always comes after both (mine_pair_graph).
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from homeiq_ai.pattern.detectors.base import DetectorConfig, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.noise import select_events

__all__ = [
    "MIN_LIFT",
    "ItemEvents",
    "PairStats",
    "change_phrase",
    "detect_co_occurrences",
    "entity_name",
    "item_events",
    "local_iso",
    "mine_pair_graph",
    "mine_pairs",
    "recovered",
]

MIN_LIFT = 4.0
"""A pair must be at least this many times likelier than chance: busy entities follow anything now and then."""

SHIFT_DAYS = (-1, 1)
"""Day shifts of the time-of-day baseline: the same clock time on the neighbouring days."""

MAX_SLOPE_ERROR = 0.25
"""X is taken to time Z (rather than W) only when the slope that tells them apart is known to within this."""

MIN_EXPLAINED = 0.6
"""A third change explains a pair only when it precedes at least this share of the pair's occurrences."""

ORDERED_SHARE = 0.9
"""A tied pair is a chain edge only when its response comes after the trigger this often (siblings: ~half)."""

EXPLAINER_CONFIDENCE = 0.2
"""A weaker pair (down to this confidence) may still explain a strong one away as its W -> X."""

MAX_PAIRS_PER_CHUNK = 500_000
"""Candidate (trigger event, later event) pairs handled at once, to bound memory on bursty homes."""

DENSE_PAIR_TABLE = 4_000_000
"""Pairs are counted in a dense item x item table while it has at most this many cells (32 MB)."""

OCCURRENCE_SAMPLE = 20


@dataclass(slots=True)
class ItemEvents:
    """The events worth mining, each labelled with its item: one (entity, new state) combination.

    `t` is UTC epoch seconds and `local` the same instant in local seconds since 1970-01-01 (for clock-time
    shifts), both sorted; `item[i]` indexes `item_entity` / `item_state` (frame indexes). `by_item[k]` lists
    the positions of item k's events, in time order.
    """

    t: np.ndarray
    local: np.ndarray
    item: np.ndarray
    item_entity: np.ndarray
    item_state: np.ndarray
    counts: np.ndarray
    by_item: list[np.ndarray]

    @property
    def n_items(self) -> int:
        return int(self.item_entity.shape[0])


@dataclass(slots=True)
class PairStats:
    """One directional pair and its evidence: the supported trigger events, their first responses and delays.

    `trigger`/`response` are item codes; the event arrays are positions in the ItemEvents.
    """

    trigger: int
    response: int
    support: int
    trigger_count: int
    confidence: float
    lift: float
    baseline: float
    trigger_events: np.ndarray
    response_events: np.ndarray
    delays: np.ndarray


def recovered(frame: EventFrame, config: DetectorConfig) -> np.ndarray:
    """Per event: whether it only ends a dropout (its old state is unavailable/unknown): a re-report, not a change."""
    ignored = np.append(
        np.fromiter((s in config.ignore_states for s in frame.states), dtype=bool, count=len(frame.states)), False
    )
    return ignored[frame.old_state]


def item_events(frame: EventFrame, config: DetectorConfig, min_count: int = 1) -> ItemEvents:
    """The frame's events worth mining (noise filter, no dropout recoveries) as items; rare items go.

    Args:
        frame: The analysis window.
        config: Thresholds and the noise filter's settings.
        min_count: Items with fewer events are left out.

    Returns:
        The ItemEvents (sorted by time, as the frame).
    """
    keep = select_events(frame, config) & ~recovered(frame, config)
    n_states = max(1, len(frame.states))
    key = frame.entity[keep].astype(np.int64) * n_states + frame.new_state[keep]
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    frequent = counts >= min_count
    sel = frequent[inverse]
    remap = np.cumsum(frequent) - 1
    idx = np.flatnonzero(keep)[sel]
    item = remap[inverse[sel]].astype(np.int32)
    uniq = uniq[frequent]
    t = frame.t[idx]
    local = frame.day[idx].astype(np.float64) * 86400.0 + frame.minute[idx] * 60.0 + np.mod(t, 60.0)
    order = np.argsort(item, kind="stable")
    bounds = np.searchsorted(item[order], np.arange(uniq.shape[0] + 1))
    by_item = [order[bounds[k] : bounds[k + 1]] for k in range(uniq.shape[0])]
    return ItemEvents(
        t=t,
        local=local,
        item=item,
        item_entity=(uniq // n_states).astype(np.int32),
        item_state=(uniq % n_states).astype(np.int32),
        counts=counts[frequent].astype(np.int64),
        by_item=by_item,
    )


def _follow_pairs(ev: ItemEvents, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """For every event and every other entity's item in the window after it: (event, first such later event).

    Bounded by the window: each event reads only the events of the next `window_s` seconds.
    """
    t = ev.t
    n = t.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo = np.searchsorted(t, t, side="left")
    hi = np.searchsorted(t, t + window_s, side="right")
    cnt = (hi - lo).astype(np.int64)
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    ent = ev.item_entity[ev.item]
    n_items = ev.n_items
    i0 = 0
    cum = np.cumsum(cnt)
    while i0 < n:
        base = cum[i0 - 1] if i0 else 0
        i1 = int(np.searchsorted(cum, base + MAX_PAIRS_PER_CHUNK, side="right"))
        i1 = max(i1, i0 + 1)
        c = cnt[i0:i1]
        total = int(c.sum())
        if total:
            rows = np.repeat(np.arange(i0, i1, dtype=np.int64), c)
            starts = np.repeat(lo[i0:i1] - (np.cumsum(c) - c), c)
            cols = np.arange(total, dtype=np.int64) + starts
            ok = (cols != rows) & (ent[cols] != ent[rows])
            rows, cols = rows[ok], cols[ok]
            # The first later event of each item per trigger event: unique keeps first positions, and
            # the columns of one row ascend in time.
            key = rows * n_items + ev.item[cols]
            _, first = np.unique(key, return_index=True)
            # Positions fit in 32 bits; halving the kept pairs' memory matters on bursty homes.
            out_i.append(rows[first].astype(np.int32))
            out_j.append(cols[first].astype(np.int32))
        i0 = i1
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_i), np.concatenate(out_j)


def _rate_baseline(times: np.ndarray, window_s: float, span_s: float) -> float:
    """Share of the window's time from which the item is seen within `window_s` seconds."""
    if times.shape[0] == 0 or span_s <= 0:
        return 0.0
    covered = float(np.minimum(np.diff(times), window_s).sum()) + window_s
    return min(1.0, covered / span_s)


def _shift_baseline(a_local: np.ndarray, b_local: np.ndarray, window_s: float, lo: float, hi: float) -> float:
    """Share of trigger events that, moved by a day either way, still find the response within the window."""
    hits = 0
    n = 0
    for days in SHIFT_DAYS:
        shifted = a_local + days * 86400.0
        shifted = shifted[(shifted >= lo) & (shifted + window_s <= hi)]
        if shifted.shape[0] == 0:
            continue
        first = np.searchsorted(b_local, shifted, side="left")
        last = np.searchsorted(b_local, shifted + window_s, side="right")
        hits += int(np.count_nonzero(last > first))
        n += int(shifted.shape[0])
    # One pseudo-hit: a pair seen on few days cannot claim a lift beyond its evidence.
    return (hits + 1.0) / (n + 1.0) if n else 0.0


def mine_pairs(frame: EventFrame, config: DetectorConfig, reduce: bool = True) -> tuple[ItemEvents, list[PairStats]]:
    """Directional pairs with enough support, confidence and lift, explained-away pairs removed.

    Args:
        frame: The analysis window.
        config: `co_occurrence_window_s`, `min_occurrences`, `min_confidence` and the noise filter.
        reduce: Remove pairs that a third change explains better (triangles) and the weaker direction.

    Returns:
        The items and the pairs, sorted by (trigger, response) item.
    """
    ev = item_events(frame, config, min_count=config.min_occurrences)
    strong, explainers = _strong_and_explainers(frame, config, ev)
    if reduce:
        strong = _one_direction(_explain_away(ev, strong, explainers, float(config.co_occurrence_window_s))[0])
    return ev, strong


def mine_pair_graph(frame: EventFrame, config: DetectorConfig) -> tuple[ItemEvents, list[PairStats], list[PairStats]]:
    """The pairs as mine_pairs reports them, and the edges a chain of changes may follow.

    The chain edges are the reported pairs plus the pairs dropped only because an earlier, near-simultaneous
    change W times the response as well (hall motion and hall light both precede the kitchen light) when the
    response always comes after both: W -> X -> Z is then a sequence even though X -> Z is not reported as a
    pair. Siblings (order at random) and indirect links of a chain are not chain edges.

    Args:
        frame: The analysis window.
        config: As for mine_pairs.

    Returns:
        (items, reported pairs, chain edges), each list sorted by (trigger, response) item.
    """
    ev = item_events(frame, config, min_count=config.min_occurrences)
    strong, explainers = _strong_and_explainers(frame, config, ev)
    kept, edges = _explain_away(ev, strong, explainers, float(config.co_occurrence_window_s))
    return ev, _one_direction(kept), _one_direction(edges)


def _strong_and_explainers(
    frame: EventFrame, config: DetectorConfig, ev: ItemEvents
) -> tuple[list[PairStats], list[PairStats]]:
    """The pairs strong enough to report, and every pair that may explain one away (weaker ones too).

    A weak W -> X (the kitchen light follows hall motion only now and then) still explains X -> Z away when
    W precedes nearly every X that Z follows.
    """
    explainers = _candidates(frame, config, ev, min(EXPLAINER_CONFIDENCE, config.min_confidence))
    return [p for p in explainers if p.confidence >= config.min_confidence], explainers


def _candidates(frame: EventFrame, config: DetectorConfig, ev: ItemEvents, min_confidence: float) -> list[PairStats]:
    """Every pair with enough support and lift and at least `min_confidence` (nothing explained away yet)."""
    window = float(config.co_occurrence_window_s)
    rows, cols = _follow_pairs(ev, window)
    if rows.shape[0] == 0:
        return []
    n_items = ev.n_items
    pair_key = ev.item[rows].astype(np.int64) * n_items + ev.item[cols]
    # Count every pair first and keep the occurrences of the promising ones only: on a bursty home most
    # (event, later event) pairs belong to pairs that never reach the support or confidence asked for.
    if n_items * n_items <= DENSE_PAIR_TABLE:
        all_support = np.bincount(pair_key, minlength=n_items * n_items)
        all_keys = np.flatnonzero(all_support)
        all_support = all_support[all_keys]
    else:
        all_keys, all_support = np.unique(pair_key, return_counts=True)
    promising = (all_support >= config.min_occurrences) & (
        all_support >= min_confidence * ev.counts[all_keys // n_items]
    )
    sel = np.isin(pair_key, all_keys[promising])
    pair_key, rows, cols = pair_key[sel], rows[sel], cols[sel]
    order = np.argsort(pair_key, kind="stable")
    pair_key, rows, cols = pair_key[order], rows[order], cols[order]
    keys, starts, support = np.unique(pair_key, return_index=True, return_counts=True)
    a_items = keys // n_items
    confidence = support / ev.counts[a_items]
    good = np.flatnonzero((support >= config.min_occurrences) & (confidence >= min_confidence))
    span = max((frame.end - frame.start).total_seconds(), float(ev.t[-1] - ev.t[0]) if ev.t.size else 0.0)
    local_lo = float(ev.local[0]) if ev.local.size else 0.0
    local_hi = float(ev.local[-1]) if ev.local.size else 0.0
    pairs: list[PairStats] = []
    for g in good.tolist():
        a, b = int(keys[g] // n_items), int(keys[g] % n_items)
        sl = slice(int(starts[g]), int(starts[g] + support[g]))
        b_times = ev.t[ev.by_item[b]]
        base = max(
            _rate_baseline(b_times, window, span),
            _shift_baseline(ev.local[ev.by_item[a]], ev.local[ev.by_item[b]], window, local_lo, local_hi),
        )
        conf = float(confidence[g])
        lift = conf / base if base > 0 else math.inf
        if lift < MIN_LIFT:
            continue
        stats = PairStats(
            trigger=a,
            response=b,
            support=int(support[g]),
            trigger_count=int(ev.counts[a]),
            confidence=conf,
            lift=lift,
            baseline=base,
            trigger_events=rows[sl],
            response_events=cols[sl],
            delays=ev.t[cols[sl]] - ev.t[rows[sl]],
        )
        pairs.append(stats)
    return pairs


def _x_times_z(tw: np.ndarray, tx: np.ndarray, tz: np.ndarray) -> bool:
    """Whether Z's timing follows X rather than W, on occurrences (w, x, z) with w before x.

    If X causes Z, Z's delay after X does not depend on how long X took after W (slope 0); if W causes both,
    Z keeps its time after W, so the later X came, the sooner Z follows it (slope -1). The slope of (z - x)
    on (x - w) decides, when it can be told at all: when X follows W at a nearly fixed delay the two are one
    event for Z's timing, and the earlier one, W, is taken as the cause.
    """
    d1 = tx - tw
    d2 = tz - tx
    sd1 = float(np.std(d1))
    # Half a second: timestamps are not finer than that, and automations may have no jitter at all.
    if sd1 < 0.5:
        return False
    c1, c2 = d1 - d1.mean(), d2 - d2.mean()
    slope = float(np.dot(c1, c2) / np.dot(c1, c1))
    residual = c2 - slope * c1
    standard_error = float(np.std(residual)) / (sd1 * math.sqrt(d1.shape[0]))
    return standard_error <= MAX_SLOPE_ERROR and slope > -0.5


def _explained_share(wx: PairStats, xz: PairStats) -> float:
    """Share of X -> Z occurrences whose X change is the first X after some W change."""
    return float(np.isin(xz.trigger_events, wx.response_events).mean()) if xz.support else 0.0


def _triples(ev: ItemEvents, wx: PairStats, z: int, horizon_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (w, x, z) for each W change: its first X, and the first Z after W within the horizon.

    Z is looked for after W, not after X, so that Z's delay after X is not cut at zero: a Z that X does not
    cause comes before X now and then, and its delay after X spreads the more for it.
    """
    tw = ev.t[wx.trigger_events]
    tx = ev.t[wx.response_events]
    tz = ev.t[ev.by_item[z]]
    pos = np.searchsorted(tz, tw, side="left")
    ok = pos < tz.shape[0]
    first_z = tz[np.minimum(pos, max(tz.shape[0] - 1, 0))]
    ok &= first_z - tw <= horizon_s
    return tw[ok], tx[ok], first_z[ok]


def _explain_away(
    ev: ItemEvents, pairs: list[PairStats], explainers: list[PairStats], window_s: float
) -> tuple[list[PairStats], list[PairStats]]:
    """Drop the sibling/confounded or the indirect edge of every triangle (decided on the original set).

    `pairs` are the strong pairs; `explainers` every pair (strong or weak) that may be the W -> X of a triangle.

    Returns:
        (the pairs kept, the chain edges: the pairs kept and those dropped as tied with an earlier cause whose
        response always comes after both).
    """
    strong = {(p.trigger, p.response) for p in pairs}
    by_key = {(p.trigger, p.response): p for p in explainers}
    into: dict[int, list[PairStats]] = {}
    for p in explainers:
        into.setdefault(p.response, []).append(p)
    tied: set[tuple[int, int]] = set()
    in_order: dict[tuple[int, int], set[int]] = {}
    indirect: set[tuple[int, int]] = set()
    for xz in pairs:
        x, z = xz.trigger, xz.response
        for wx in into.get(x, []):
            w = wx.trigger
            if w == z or ev.item_entity[w] == ev.item_entity[x]:
                continue
            if xz.support < 3 or _explained_share(wx, xz) < MIN_EXPLAINED:
                continue
            # Two steps of a chain may take up to a window each: look that far for Z after W.
            tw, tx, tz = _triples(ev, wx, z, 2 * window_s)
            if tw.shape[0] < 3:
                continue
            wz = by_key.get((w, z))
            if not _x_times_z(tw, tx, tz):
                tied.add((x, z))  # W times Z as well as X does: X is a sibling of Z, or W a confounder
                if wz is not None and _always_before(ev, wx, wz):
                    in_order.setdefault((x, z), set()).add(w)
            elif wz is not None and float(np.isin(wz.trigger_events, wx.trigger_events).mean()) >= MIN_EXPLAINED:
                indirect.add((w, z))  # the chain W -> X -> Z: W reaches Z only through X
    kept = [p for p in pairs if (p.trigger, p.response) not in tied | indirect]
    direct = strong - tied - indirect
    # A tied link joins a chain only behind a W that itself reaches Z directly (not behind another confound).
    behind_direct = {k for k, ws in in_order.items() if any((w, k[1]) in direct for w in ws)}
    chain = direct | (behind_direct - indirect)
    edges = [p for p in pairs if (p.trigger, p.response) in chain]
    return kept, edges


def _always_before(ev: ItemEvents, wx: PairStats, wz: PairStats) -> bool:
    """Whether, after the same W events, X's first change comes before Z's nearly every time."""
    _, i, j = np.intersect1d(wx.trigger_events, wz.trigger_events, assume_unique=True, return_indices=True)
    if i.shape[0] < 3:
        return False
    before = ev.t[wx.response_events[i]] <= ev.t[wz.response_events[j]]
    return float(before.mean()) >= ORDERED_SHARE


def _one_direction(pairs: list[PairStats]) -> list[PairStats]:
    """Of a pair found both ways keep the stronger direction (support x confidence, then the shorter delay)."""
    by_key = {(p.trigger, p.response): p for p in pairs}
    out = []
    for p in pairs:
        q = by_key.get((p.response, p.trigger))
        if q is not None:
            mine = (p.support * p.confidence, -float(np.median(p.delays)), -p.trigger)
            theirs = (q.support * q.confidence, -float(np.median(q.delays)), -q.trigger)
            if mine < theirs:
                continue
        out.append(p)
    return out


# ----------------------------------------------------------------------------------------------- wording

_CHANGE_WORDS = {
    ("light", "on"): "turns on",
    ("light", "off"): "turns off",
    ("cover", "open"): "opens",
    ("cover", "closed"): "closes",
    ("cover", "opening"): "starts opening",
    ("cover", "closing"): "starts closing",
    ("lock", "locked"): "locks",
    ("lock", "unlocked"): "unlocks",
    ("person", "home"): "comes home",
    ("person", "not_home"): "leaves home",
    ("device_tracker", "home"): "comes home",
    ("device_tracker", "not_home"): "leaves home",
    ("media_player", "playing"): "starts playing",
    ("media_player", "paused"): "pauses",
    ("media_player", "idle"): "goes idle",
}
_BINARY_WORDS = {
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


def entity_name(frame: EventFrame, entity_id: str) -> str:
    """A person's name for an entity: its friendly name, else its object id in words."""
    info = frame.entities.get(entity_id)
    if info is not None and info.friendly_name:
        return info.friendly_name
    return entity_id.split(".", 1)[-1].replace("_", " ")


def change_phrase(frame: EventFrame, entity_id: str, state: str) -> str:
    """How a person says that the entity changed to `state` ("turns on", "detects motion", "opens")."""
    info = frame.entities.get(entity_id)
    domain = info.domain if info is not None else entity_id.split(".", 1)[0]
    if domain == "binary_sensor" and info is not None and info.device_class in _BINARY_WORDS and state in ("on", "off"):
        on, off = _BINARY_WORDS[info.device_class]
        return on if state == "on" else off
    words = _CHANGE_WORDS.get((domain, state))
    if words is not None:
        return words
    if state in ("on", "off"):
        return f"turns {state}"
    return f"changes to {state}"


def local_iso(frame: EventFrame, t: float) -> str:
    """An epoch time as ISO-8601 in the home's time zone, to the second."""
    tz = zoneinfo.ZoneInfo(frame.time_zone)
    return datetime.fromtimestamp(float(t), tz=tz).isoformat(timespec="seconds")


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), tz=UTC)


def _about(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _area(frame: EventFrame, entity_ids: list[str]) -> str | None:
    areas = [frame.entities[e].area_id for e in entity_ids if e in frame.entities]
    return areas[-1] if areas and areas[-1] is not None and len(set(areas)) == 1 else (areas[0] if areas else None)


def _candidate(frame: EventFrame, ev: ItemEvents, p: PairStats) -> PatternCandidate:
    a_ent = frame.entity_ids[int(ev.item_entity[p.trigger])]
    a_state = frame.states[int(ev.item_state[p.trigger])]
    b_ent = frame.entity_ids[int(ev.item_entity[p.response])]
    b_state = frame.states[int(ev.item_state[p.response])]
    delays = p.delays
    median = float(np.median(delays))
    trig_t = ev.t[p.trigger_events]
    b_phrase = change_phrase(frame, b_ent, b_state)
    a_phrase = change_phrase(frame, a_ent, a_state)
    description = (
        f"{entity_name(frame, b_ent)} {b_phrase} about {_about(median)} after {entity_name(frame, a_ent)} {a_phrase}"
    )
    description = description[0].upper() + description[1:]
    return PatternCandidate(
        pattern_type="co_occurrence",
        entity_ids=[a_ent, b_ent],
        identity=("co_occurrence", a_ent, a_state, b_ent, b_state),
        description=description,
        confidence=round(p.confidence, 4),
        occurrences=p.support,
        first_seen=_utc(trig_t[0]),
        last_seen=_utc(trig_t[-1]),
        area_id=_area(frame, [a_ent, b_ent]),
        details={
            "trigger_entity_id": a_ent,
            "trigger_state": a_state,
            "response_entity_id": b_ent,
            "response_state": b_state,
            "support": p.support,
            "trigger_count": p.trigger_count,
            "confidence": round(p.confidence, 4),
            "lift": round(min(p.lift, 1e6), 2),
            "baseline": round(p.baseline, 6),
            "delay_median_s": round(median, 2),
            "delay_p90_s": round(float(np.quantile(delays, 0.9)), 2),
            "occurrence_times": [local_iso(frame, x) for x in trig_t[-OCCURRENCE_SAMPLE:]],
        },
    )


def detect_co_occurrences(frame: EventFrame, config: DetectorConfig) -> list[PatternCandidate]:
    """Directional co-occurrence pairs of the frame (a Detector).

    Args:
        frame: The analysis window.
        config: `co_occurrence_window_s`, `min_occurrences`, `min_confidence` and the noise filter.

    Returns:
        One candidate per pair, strongest first (support x confidence), ties by identity.
    """
    ev, pairs = mine_pairs(frame, config)
    out = [_candidate(frame, ev, p) for p in pairs]
    out.sort(key=lambda c: (-c.occurrences * c.confidence, c.identity))
    return out
