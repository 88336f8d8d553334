"""Use cases of the pattern module: reading patterns and synergies, and running analyses."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.pattern.api import (
    PATTERN_TYPES,
    SYNERGY_TYPES,
    AnalysisRequest,
    AnalysisRun,
    AnalysisRunNotFoundError,
    AnalysisRunPage,
    InvalidAnalysisWindowError,
    InvalidFilterError,
    Pattern,
    PatternNotFoundError,
    PatternPage,
    PatternQuery,
    Synergy,
    SynergyPage,
    SynergyQuery,
)
from homeiq_ai.pattern.models import AnalysisRunRecord, PatternRecord, SynergyRecord
from homeiq_ai.pattern.repository import PatternRepository

log = logging.getLogger(__name__)

DEFAULT_ANALYSIS_DAYS = 30
MAX_ANALYSIS_DAYS = 3650
Notifier = Callable[[AnalysisRun], Awaitable[None]]


def pattern_dto(record: PatternRecord) -> Pattern:
    """Map a stored pattern to its DTO."""
    return Pattern(
        id=record.id,
        pattern_type=record.pattern_type,
        entity_ids=[e.entity_id for e in record.entities],
        area_id=record.area_id,
        description=record.description,
        confidence=record.confidence,
        quality=record.quality,
        occurrences=record.occurrences,
        first_seen=record.first_seen,
        last_seen=record.last_seen,
        status=record.status,
        details=dict(record.details or {}),
    )


def synergy_dto(record: SynergyRecord) -> Synergy:
    """Map a stored synergy to its DTO."""
    return Synergy(
        id=record.id,
        synergy_type=record.synergy_type,
        entity_ids=[e.entity_id for e in record.entities],
        depth=record.depth,
        area_id=record.area_id,
        score=record.score,
        explanation=record.explanation,
        covered_by_automation=record.covered_by_automation,
        status=record.status,
        details=dict(record.details or {}),
    )


def run_dto(record: AnalysisRunRecord) -> AnalysisRun:
    """Map a stored analysis run to its DTO."""
    return AnalysisRun(
        id=record.id,
        status=record.status,  # type: ignore[arg-type]
        trigger=record.trigger,
        requested_at=record.requested_at,
        window_start=record.window_start,
        window_end=record.window_end,
        started_at=record.started_at,
        finished_at=record.finished_at,
        patterns_detected=record.patterns_detected,
        synergies_detected=record.synergies_detected,
        errors=list(record.errors or []),
        timings=dict(record.timings or {}),
    )


def resolve_window(
    request: AnalysisRequest, *, newest_event: datetime | None, now: datetime, default_days: int
) -> tuple[datetime, datetime]:
    """The UTC window an analysis covers.

    Without `start`/`end`, the window ends at the newest stored event (so imported history is analysed
    as it is) or now, and spans `days` (default `default_days`).

    Raises:
        InvalidAnalysisWindowError: naive timestamps, start after end, or a window of bad length.
    """
    for name, value in (("start", request.start), ("end", request.end)):
        if value is not None and value.tzinfo is None:
            raise InvalidAnalysisWindowError(
                f"{name} needs a time zone offset, e.g. 2026-01-01T00:00:00+01:00"
            )
    if request.days is not None and not 1 <= request.days <= MAX_ANALYSIS_DAYS:
        raise InvalidAnalysisWindowError(
            f"days must be between 1 and {MAX_ANALYSIS_DAYS}, got {request.days}"
        )
    if request.start is not None and request.end is not None and request.days is not None:
        raise InvalidAnalysisWindowError("give start and end, or days, not all three")
    days = timedelta(days=request.days or default_days)
    end = request.end or (request.start + days if request.start else (newest_event or now))
    start = request.start or end - days
    if start >= end:
        raise InvalidAnalysisWindowError(
            f"start ({start.isoformat()}) must be before end ({end.isoformat()})"
        )
    if end - start > timedelta(days=MAX_ANALYSIS_DAYS):
        raise InvalidAnalysisWindowError(f"the window may span at most {MAX_ANALYSIS_DAYS} days")
    return start, end


class PatternService:
    """Reads what the analyses stored and runs analyses one at a time."""

    def __init__(
        self,
        db: Database,
        *,
        notify: Notifier | None = None,
        default_days: int = DEFAULT_ANALYSIS_DAYS,
        repository: type[PatternRepository] = PatternRepository,
    ) -> None:
        self._db = db
        self._notify = notify
        self._default_days = default_days
        self._repository = repository
        self._run_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def list_patterns(self, query: PatternQuery) -> PatternPage:
        """One page of stored patterns."""
        if query.pattern_type is not None and query.pattern_type not in PATTERN_TYPES:
            raise InvalidFilterError(f"pattern_type must be one of {', '.join(PATTERN_TYPES)}")
        async with self._db.session() as session:
            records, total = await self._repository(session).list_patterns(query)
            items = [pattern_dto(r) for r in records]
        return PatternPage(items=items, total=total, limit=query.limit, offset=query.offset)

    async def get_pattern(self, pattern_id: str) -> Pattern:
        """One stored pattern."""
        async with self._db.session() as session:
            record = await self._repository(session).get_pattern(pattern_id)
            if record is None:
                raise PatternNotFoundError(f"no pattern has id {pattern_id!r}")
            return pattern_dto(record)

    async def list_synergies(self, query: SynergyQuery) -> SynergyPage:
        """One page of stored synergies."""
        if query.synergy_type is not None and query.synergy_type not in SYNERGY_TYPES:
            raise InvalidFilterError(f"synergy_type must be one of {', '.join(SYNERGY_TYPES)}")
        async with self._db.session() as session:
            records, total = await self._repository(session).list_synergies(query)
            items = [synergy_dto(r) for r in records]
        return SynergyPage(items=items, total=total, limit=query.limit, offset=query.offset)

    async def start_analysis(self, request: AnalysisRequest, *, trigger: str = "manual") -> AnalysisRun:
        """Store a queued run and start it in the background; runs execute one at a time."""
        start, end = resolve_window(request, newest_event=None, now=utcnow(), default_days=self._default_days)
        record = AnalysisRunRecord(
            id=uuid.uuid4().hex,
            status="queued",
            trigger=trigger,
            window_start=start,
            window_end=end,
            requested_days=request.days,
            requested_at=utcnow(),
            errors=[],
            timings={},
        )
        async with self._db.session() as session:
            await self._repository(session).add_run(record)
        run = run_dto(record)
        task = asyncio.create_task(self.execute_run(run.id), name=f"analysis-{run.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    async def get_analysis_run(self, run_id: str) -> AnalysisRun:
        """One analysis run."""
        async with self._db.session() as session:
            record = await self._repository(session).get_run(run_id)
            if record is None:
                raise AnalysisRunNotFoundError(f"no analysis run has id {run_id!r}")
            return run_dto(record)

    async def list_analysis_runs(self, limit: int, offset: int) -> AnalysisRunPage:
        """Analysis runs, newest first."""
        async with self._db.session() as session:
            records, total = await self._repository(session).list_runs(limit, offset)
            items = [run_dto(r) for r in records]
        return AnalysisRunPage(items=items, total=total, limit=limit, offset=offset)

    async def execute_run(self, run_id: str) -> AnalysisRun:
        """Run one queued analysis to completion, recording timings and errors."""
        async with self._run_lock:
            began = time.perf_counter()
            async with self._db.session() as session:
                record = await self._repository(session).get_run(run_id)
                if record is None:
                    raise AnalysisRunNotFoundError(f"no analysis run has id {run_id!r}")
                record.status = "running"
                record.started_at = utcnow()
            errors: list[str] = []
            timings: dict[str, float] = {}
            patterns = synergies = 0
            for name, detector in self.detectors():
                step = time.perf_counter()
                try:
                    found = await detector()
                    patterns += found
                except Exception as exc:  # one failing detector is reported; the others still run
                    log.exception("detector %s failed in run %s", name, run_id)
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                timings[name] = round(time.perf_counter() - step, 4)
            timings["total"] = round(time.perf_counter() - began, 4)
            async with self._db.session() as session:
                record = await self._repository(session).get_run(run_id)
                assert record is not None
                record.status = "completed"
                record.finished_at = utcnow()
                record.patterns_detected = patterns
                record.synergies_detected = synergies
                record.errors = errors
                record.timings = timings
                run = run_dto(record)
        if self._notify is not None:
            try:
                await self._notify(run)
            except Exception:  # a notice that cannot go out never fails the run
                log.exception("could not send the completion notice of run %s", run_id)
        return run

    def detectors(self) -> Sequence[tuple[str, Callable[[], Awaitable[int]]]]:
        """The detectors an analysis runs, by name; none are installed in this version."""
        return ()

    async def recover_unfinished_runs(self) -> int:
        """Mark runs a stopped process left queued or running as failed (called at start-up)."""
        async with self._db.session() as session:
            count = await self._repository(session).fail_unfinished_runs(
                "the process running this analysis stopped before it finished", utcnow()
            )
        if count:
            log.warning("marked %d unfinished analysis run(s) as failed", count)
        return count

    async def close(self) -> None:
        """Cancel analyses still running; they are marked failed at the next start."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
