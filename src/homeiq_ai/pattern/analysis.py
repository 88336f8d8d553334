"""One analysis of the home's history: load the window, filter noise, run the detectors, store findings."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeiq_ai.kernel.cache import CorrelationCache
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.model import Entity, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataSource
from homeiq_ai.kernel.homedata.store import HomeStore, LocalHomeSource
from homeiq_ai.pattern.detectors.base import DetectorConfig, EntityInfo, EventFrame, PatternCandidate
from homeiq_ai.pattern.detectors.frame import frame_from_events, frame_from_lists
from homeiq_ai.pattern.detectors.noise import EntityTriage, classify_entities, filter_noise, merge_reports
from homeiq_ai.pattern.matching import (
    identity_key,
    kind_factors,
    match_time_of_day,
    pattern_quality,
    should_resurface,
    stable_id,
)
from homeiq_ai.pattern.models import PatternRecord, SynergyRecord
from homeiq_ai.pattern.repository import PatternRepository
from homeiq_ai.pattern.synergies.detect import candidate_pairs

__all__ = ["AnalysisOutcome", "AnalysisPipeline", "DetectorFn", "SynergyFn"]

log = logging.getLogger(__name__)

DetectorFn = Callable[[EventFrame, DetectorConfig], Sequence[PatternCandidate]]
SynergyFn = Callable[..., Sequence[Any]]
HISTORY_LENGTH = 30
# Pair statistics of earlier runs stay in the correlation cache this long.
PAIR_CACHE_TTL_SECONDS = 8 * 86400


@dataclass(slots=True)
class AnalysisOutcome:
    """What one analysis found and stored, with its timings, errors and report."""

    patterns: int = 0
    synergies: int = 0
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def _entity_info(entity: Entity) -> EntityInfo:
    return EntityInfo(
        entity_id=entity.entity_id,
        domain=entity.domain,
        area_id=entity.area_id,
        device_class=entity.device_class,
        entity_category=entity.entity_category,
        friendly_name=entity.friendly_name,
        unit_of_measurement=entity.unit_of_measurement,
    )


class AnalysisPipeline:
    """Runs the detectors over a window and keeps each finding's identity across runs."""

    def __init__(
        self,
        db: Database,
        source: Callable[[], AbstractAsyncContextManager[HomeDataSource]],
        detectors: Callable[[], Sequence[tuple[str, DetectorFn]]],
        synergies: SynergyFn | None,
        *,
        cache: CorrelationCache | None = None,
        covered_pairs: Callable[[], Awaitable[set[tuple[str, str]]]] | None = None,
        pair_scores: Callable[[Sequence[tuple[str, str]]], Awaitable[tuple[dict[tuple[str, str], float], str | None]]]
        | None = None,
        config: DetectorConfig | None = None,
        repository: type[PatternRepository] = PatternRepository,
    ) -> None:
        self._db = db
        self._source = source
        self._detectors = detectors
        self._synergies = synergies
        self._cache = cache
        self._covered_pairs = covered_pairs
        self._pair_scores = pair_scores
        self._config = config or DetectorConfig()
        self._repository = repository

    async def load(self, start: datetime, end: datetime) -> tuple[EventFrame, HomeInfo, dict[str, EntityInfo]]:
        """The window's events as a frame in the home's local time, with the entities' registry data."""
        frame, info, entities, _ = await self._load_with_triage(start, end)
        return frame, info, entities

    async def _load_with_triage(
        self, start: datetime, end: datetime
    ) -> tuple[EventFrame, HomeInfo, dict[str, EntityInfo], EntityTriage | None]:
        async with self._source() as source:
            return await self._load_from(source, start, end)

    async def _load_from(
        self, source: HomeDataSource, start: datetime, end: datetime
    ) -> tuple[EventFrame, HomeInfo, dict[str, EntityInfo], EntityTriage | None]:
        info = await source.home_info()
        entities = {e.entity_id: _entity_info(e) for e in await source.entities()}
        store: HomeStore | None = source.store if isinstance(source, LocalHomeSource) else None
        triage: EntityTriage | None = None
        if store is not None:
            # Read only what is mined: the database counts each entity's changes (and, for the entities
            # that are not dropped whole by domain, category or chattiness, their new states); only the
            # kept entities' events are then read, as columns.
            days = (end - start).total_seconds() / 86400.0
            counts = await store.entity_event_counts(start, end)
            first = classify_entities(counts, None, entities, self._config, days)
            states = await store.entity_state_counts(start, end, first.kept)
            triage = classify_entities(counts, states, entities, self._config, days)
            columns = await store.event_columns(start, end, triage.kept)
            frame = await asyncio.to_thread(
                frame_from_lists,
                *columns,
                time_zone=info.time_zone,
                start=start,
                end=end,
                latitude=info.latitude,
                longitude=info.longitude,
                entities=entities,
            )
        else:
            events = [e for batch in [b async for b in source.events(start, end)] for e in batch]
            frame = await asyncio.to_thread(
                frame_from_events,
                events,
                time_zone=info.time_zone,
                start=start,
                end=end,
                latitude=info.latitude,
                longitude=info.longitude,
                entities=entities,
            )
        return frame, info, entities, triage

    async def run(self, run_id: str, start: datetime, end: datetime, now: datetime) -> AnalysisOutcome:
        """Analyse [start, end) and store what was found; a failing detector is reported, the rest still store."""
        outcome = AnalysisOutcome()
        began = time.perf_counter()
        frame, info, entities, triage = await self._load_with_triage(start, end)
        outcome.timings["load"] = round(time.perf_counter() - began, 4)
        step = time.perf_counter()
        noise = await asyncio.to_thread(filter_noise, frame, self._config)
        mined = frame.select(noise.mask)
        outcome.timings["noise"] = round(time.perf_counter() - step, 4)
        outcome.report.update(
            {
                "time_zone": info.time_zone,
                "home_source": info.source,
                "events_loaded": triage.total_events if triage is not None else len(frame),
                "events_read": len(frame),
                "events_mined": len(mined),
                "entities": len(frame.entity_ids)
                + (sum(len(v) for v in triage.dropped_entities.values()) if triage is not None else 0),
                "noise": merge_reports(triage, noise) if triage is not None else noise.summary(),
            }
        )

        candidates: list[PatternCandidate] = []
        per_detector: dict[str, int] = {}
        for name, detector in self._detectors():
            step = time.perf_counter()
            try:
                found = await asyncio.to_thread(detector, mined, self._config)
            except Exception as exc:  # one failing detector is reported; the others still store
                log.exception("detector %s failed in run %s", name, run_id)
                outcome.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                found = []
            per_detector[name] = len(found)
            candidates.extend(found)
            outcome.timings[name] = round(time.perf_counter() - step, 4)
        outcome.report["found_by_detector"] = per_detector

        step = time.perf_counter()
        outcome.report["cache"] = await self._pair_history(candidates, run_id)
        synergy_candidates = await self._find_synergies(entities, candidates, outcome)
        outcome.timings["synergies"] = round(time.perf_counter() - step, 4)

        step = time.perf_counter()
        async with self._db.session() as session:
            repo = self._repository(session)
            outcome.patterns = await self._store_patterns(repo, candidates, run_id, now)
            outcome.synergies = await self._store_synergies(repo, synergy_candidates, run_id, now)
        outcome.timings["store"] = round(time.perf_counter() - step, 4)
        outcome.timings["total"] = round(time.perf_counter() - began, 4)
        return outcome

    async def _pair_history(self, candidates: Sequence[PatternCandidate], run_id: str) -> dict[str, Any]:
        """Compare each pair's statistics with the last run's (from the correlation cache), then remember them."""
        if self._cache is None:
            return {"enabled": False}
        before = self._cache.stats()
        for c in candidates:
            if c.pattern_type != "co_occurrence" or len(c.entity_ids) != 2:
                continue
            a, b = c.entity_ids
            previous = await self._cache.get(a, b)
            if previous is not None and previous.get("trigger") == a:
                c.details["previous_confidence"] = previous.get("confidence")
                c.details["previous_support"] = previous.get("support")
            await self._cache.set(
                a,
                b,
                {
                    "trigger": a,
                    "confidence": c.confidence,
                    "support": c.details.get("support", c.occurrences),
                    "lift": c.details.get("lift"),
                    "run_id": run_id,
                },
                ttl_seconds=PAIR_CACHE_TTL_SECONDS,
            )
        after = self._cache.stats()
        hits, misses = after.hits - before.hits, after.misses - before.misses
        return {
            "enabled": True,
            "hits": hits,
            "misses": misses,
            "hit_rate": round(hits / (hits + misses), 4) if hits + misses else 0.0,
        }

    async def _find_synergies(
        self, entities: Mapping[str, EntityInfo], candidates: Sequence[PatternCandidate], outcome: AnalysisOutcome
    ) -> Sequence[Any]:
        if self._synergies is None:
            return []
        covered: set[tuple[str, str]] = set()
        if self._covered_pairs is not None:
            try:
                covered = await self._covered_pairs()
                outcome.report["automation_pairs_covered"] = len(covered)
            except Exception as exc:  # Home Assistant away: synergies are still found, just not marked
                outcome.errors.append(f"existing automations: {type(exc).__name__}: {exc}")
        pair_scores: dict[tuple[str, str], float] | None = None
        model_name: str | None = None
        if self._pair_scores is not None:
            pairs = candidate_pairs(entities, candidates)
            try:
                scores, model_name = await self._pair_scores(pairs)
                pair_scores = scores or None
            except Exception as exc:  # the model is optional: rule and evidence scores still apply
                outcome.errors.append(f"gnn synergy scores: {type(exc).__name__}: {exc}")
        outcome.report["synergy_model"] = model_name or "none: rule and evidence scores"
        try:
            return await asyncio.to_thread(
                self._synergies,
                entities,
                candidates,
                covered=covered,
                pair_scores=pair_scores,
                model_name=model_name,
            )
        except Exception as exc:
            log.exception("synergy detection failed")
            outcome.errors.append(f"synergies: {type(exc).__name__}: {exc}")
            return []

    async def _store_patterns(
        self, repo: PatternRepository, candidates: Sequence[PatternCandidate], run_id: str, now: datetime
    ) -> int:
        factors = kind_factors(await repo.feedback_by_type("pattern"))
        existing = await repo.all_patterns()
        by_key: dict[str, list[PatternRecord]] = defaultdict(list)
        by_id = {r.id: r for r in existing}
        for record in existing:
            by_key[record.identity_key].append(record)
        seen: set[str] = set()
        for c in candidates:
            key = identity_key(c.identity)
            minute = c.details.get("minute_of_day") if c.pattern_type == "time_of_day" else None
            minute = int(minute) if isinstance(minute, int | float) else None
            free = [r for r in by_key[key] if r.id not in seen]
            record: PatternRecord | None
            if minute is not None:
                match = match_time_of_day(((r.id, r.minute_of_day) for r in free), minute)
                record = by_id.get(match) if match else None
            else:
                record = free[0] if free else None
            if record is None:
                new_id = stable_id("pat", key, minute)
                if new_id in by_id or new_id in seen:
                    continue  # the same finding twice in one run: keep the first
                record = PatternRecord(
                    id=new_id,
                    identity_key=key,
                    pattern_type=c.pattern_type,
                    first_seen=c.first_seen,
                    status="active",
                    history=[],
                )
                await repo.add_pattern(record, c.entity_ids)
                by_id[new_id] = record
            self._update_pattern(record, c, minute, run_id, now, factors.get(c.pattern_type, 1.0))
            seen.add(record.id)
        for record in existing:
            if record.id not in seen and record.status == "active":
                record.status = "inactive"
        return len(seen)

    @staticmethod
    def _update_pattern(
        record: PatternRecord, c: PatternCandidate, minute: int | None, run_id: str, now: datetime, factor: float
    ) -> None:
        record.description = c.description
        record.confidence = round(float(c.confidence), 4)
        record.occurrences = int(c.occurrences)
        record.area_id = c.area_id
        record.details = c.details
        record.minute_of_day = minute
        if c.first_seen and (record.first_seen is None or c.first_seen < record.first_seen):
            record.first_seen = c.first_seen
        if c.last_seen and (record.last_seen is None or c.last_seen > record.last_seen):
            record.last_seen = c.last_seen
        record.last_run_id = run_id
        entry = {
            "run_id": run_id,
            "at": now.isoformat(),
            "confidence": record.confidence,
            "occurrences": record.occurrences,
        }
        record.history = [*(record.history or []), entry][-HISTORY_LENGTH:]
        if record.status == "rejected":
            if should_resurface(record.rejected_occurrences, record.rejected_confidence, c.occurrences, c.confidence):
                record.status = "active"
                record.feedback = None
                record.details = {**record.details, "resurfaced": "the evidence grew clearly after it was rejected"}
        else:
            record.status = "active"
        record.quality = pattern_quality(
            record.confidence, record.occurrences, feedback=record.feedback, rating=record.rating, kind_factor=factor
        )

    async def _store_synergies(
        self, repo: PatternRepository, candidates: Sequence[Any], run_id: str, now: datetime
    ) -> int:
        existing = {r.id: r for r in await repo.all_synergies()}
        seen: set[str] = set()
        for c in candidates:
            key = identity_key(c.identity)
            synergy_id = stable_id("syn", key)
            if synergy_id in seen:
                continue
            record = existing.get(synergy_id)
            if record is None:
                record = SynergyRecord(
                    id=synergy_id,
                    identity_key=key,
                    synergy_type=c.synergy_type,
                    depth=c.depth,
                    first_seen=now,
                    status="active",
                )
                await repo.add_synergy(record, list(c.entity_ids))
                existing[synergy_id] = record
            score = round(float(c.score), 4)
            if record.status == "rejected":
                if record.rejected_score is not None and score >= record.rejected_score + 0.15:
                    record.status, record.feedback = "active", None
            else:
                record.status = "active"
            if record.feedback == "accepted":
                score = min(1.0, score * 1.15)
            if record.rating is not None:
                score = max(0.0, min(1.0, score * (1.0 + 0.075 * (record.rating - 3.0))))
            record.score = round(score, 4)
            record.area_id = c.area_id
            record.explanation = c.explanation
            record.covered_by_automation = bool(c.covered_by_automation)
            record.details = dict(c.details)
            record.last_seen = now
            record.last_run_id = run_id
            seen.add(synergy_id)
        for record in existing.values():
            if record.id not in seen and record.status == "active":
                record.status = "inactive"
        return len(seen)
