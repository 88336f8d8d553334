"""Use cases of the pattern module: reading patterns and synergies, and running analyses."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from homeiq_ai.kernel.db import Database, check_time_range, connection_lost, utcnow
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.pattern.analysis import AnalysisPipeline
from homeiq_ai.pattern.api import (
    PATTERN_TYPES,
    SYNERGY_TYPES,
    AnalysisRequest,
    AnalysisRun,
    AnalysisRunNotFoundError,
    AnalysisRunPage,
    FeedbackRequest,
    InvalidAnalysisWindowError,
    InvalidFeedbackError,
    InvalidFilterError,
    Pattern,
    PatternNotFoundError,
    PatternPage,
    PatternQuery,
    Synergy,
    SynergyNotFoundError,
    SynergyPage,
    SynergyQuery,
)
from homeiq_ai.pattern.matching import kind_factors, pattern_quality
from homeiq_ai.pattern.models import AnalysisRunRecord, FeedbackRecord, PatternRecord, SynergyRecord
from homeiq_ai.pattern.repository import PatternRepository

log = logging.getLogger(__name__)

DEFAULT_ANALYSIS_DAYS = 30
MAX_ANALYSIS_DAYS = 3650
LEASE_NAME = "analysis"
LEASE_TTL_SECONDS = 60.0
LEASE_POLL_SECONDS = 1.0
LEASE_WAIT_SECONDS = 1800.0
# How long shutdown waits for a running analysis before cancelling it.
CLOSE_GRACE_SECONDS = 5.0
STOPPED_RUN_REASON = "the process running this analysis stopped before it finished"
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
        feedback=record.feedback,
        rating=record.rating,
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
        first_seen=record.first_seen,
        last_seen=record.last_seen,
        feedback=record.feedback,
        rating=record.rating,
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
        report=dict(record.report or {}),
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
            raise InvalidAnalysisWindowError(f"{name} needs a time zone offset, e.g. 2026-01-01T00:00:00+01:00")
    if request.days is not None and not 1 <= request.days <= MAX_ANALYSIS_DAYS:
        raise InvalidAnalysisWindowError(f"days must be between 1 and {MAX_ANALYSIS_DAYS}, got {request.days}")
    if request.start is not None and request.end is not None and request.days is not None:
        raise InvalidAnalysisWindowError("give start and end, or days, not all three")
    days = timedelta(days=request.days or default_days)
    try:
        for name, value in (("start", request.start), ("end", request.end)):
            if value is not None:
                check_time_range(value, name)
        end = request.end or (request.start + days if request.start else (newest_event or now))
        start = request.start or end - days
        check_time_range(start, "start")
        check_time_range(end, "end")
    except (ValueError, OverflowError) as exc:
        raise InvalidAnalysisWindowError(str(exc)) from None
    if start >= end:
        raise InvalidAnalysisWindowError(f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
    if end - start > timedelta(days=MAX_ANALYSIS_DAYS):
        raise InvalidAnalysisWindowError(f"the window may span at most {MAX_ANALYSIS_DAYS} days")
    return start, end


def _check_feedback(request: FeedbackRequest) -> None:
    if request.action == "rate" and request.rating is None:
        raise InvalidFeedbackError("a 'rate' feedback needs a rating from 1 to 5")
    if request.action != "rate" and request.rating is not None:
        raise InvalidFeedbackError(f"'{request.action}' takes no rating; send action 'rate' for a rating")


def _feedback_record(kind: str, target_id: str, target_type: str, request: FeedbackRequest) -> FeedbackRecord:
    return FeedbackRecord(
        id=uuid.uuid4().hex,
        target_kind=kind,
        target_id=target_id,
        target_type=target_type,
        action=request.action,
        rating=request.rating,
        comment=request.comment,
        created_at=utcnow(),
    )


def _mean_rating(current: float | None, new: int | None) -> float | None:
    # A running mean that weighs the newest rating as much as everything before it.
    if new is None:
        return current
    return float(new) if current is None else round((current + new) / 2.0, 3)


def _failure_reason(exc: BaseException) -> str:
    """The reason a failed run shows: a lost database connection says so, without the SQL it was running."""
    if connection_lost(exc):
        first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"the database connection was lost during the analysis ({first}); run it again"
    return f"{type(exc).__name__}: {exc}"


class PatternService:
    """Reads what the analyses stored and runs analyses one at a time."""

    def __init__(
        self,
        db: Database,
        *,
        pipeline: AnalysisPipeline | None = None,
        store: HomeStore | None = None,
        notify: Notifier | None = None,
        default_days: int = DEFAULT_ANALYSIS_DAYS,
        lease_wait_seconds: float = LEASE_WAIT_SECONDS,
        repository: type[PatternRepository] = PatternRepository,
    ) -> None:
        self._db = db
        self._pipeline = pipeline
        self._store = store
        self._notify = notify
        self._default_days = default_days
        self._lease_wait_seconds = lease_wait_seconds
        self._repository = repository
        self._holder = f"{socket.gethostname()}:{os.getpid()}"
        self._run_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

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

    async def get_synergy(self, synergy_id: str) -> Synergy:
        """One stored synergy."""
        async with self._db.session() as session:
            record = await self._repository(session).get_synergy(synergy_id)
            if record is None:
                raise SynergyNotFoundError(f"no synergy has id {synergy_id!r}")
            return synergy_dto(record)

    async def pattern_feedback(self, pattern_id: str, request: FeedbackRequest) -> Pattern:
        """Record a person's word on a pattern and apply it at once (status, rating, quality)."""
        _check_feedback(request)
        async with self._db.session() as session:
            repo = self._repository(session)
            record = await repo.get_pattern(pattern_id)
            if record is None:
                raise PatternNotFoundError(f"no pattern has id {pattern_id!r}")
            repo.add_feedback(_feedback_record("pattern", record.id, record.pattern_type, request))
            if request.action == "accept":
                record.feedback, record.status = "accepted", "active"
            elif request.action == "reject":
                record.feedback, record.status = "rejected", "rejected"
                record.rejected_occurrences, record.rejected_confidence = record.occurrences, record.confidence
            else:
                record.rating = _mean_rating(record.rating, request.rating)
            await session.flush()
            factors = kind_factors(await repo.feedback_by_type("pattern"))
            record.quality = pattern_quality(
                record.confidence,
                record.occurrences,
                feedback=record.feedback,
                rating=record.rating,
                kind_factor=factors.get(record.pattern_type, 1.0),
            )
            return pattern_dto(record)

    async def synergy_feedback(self, synergy_id: str, request: FeedbackRequest) -> Synergy:
        """Record a person's word on a synergy; a rejected one is not suggested again unless it gets much stronger."""
        _check_feedback(request)
        async with self._db.session() as session:
            repo = self._repository(session)
            record = await repo.get_synergy(synergy_id)
            if record is None:
                raise SynergyNotFoundError(f"no synergy has id {synergy_id!r}")
            repo.add_feedback(_feedback_record("synergy", record.id, record.synergy_type, request))
            if request.action == "accept":
                record.feedback, record.status = "accepted", "active"
            elif request.action == "reject":
                record.feedback, record.status, record.rejected_score = "rejected", "rejected", record.score
            else:
                record.rating = _mean_rating(record.rating, request.rating)
            return synergy_dto(record)

    async def start_analysis(self, request: AnalysisRequest, *, trigger: str = "manual") -> AnalysisRun:
        """Store a queued run and start it in the background; runs execute one at a time."""
        newest = await self._store.newest_event_time() if self._store is not None else None
        start, end = resolve_window(request, newest_event=newest, now=utcnow(), default_days=self._default_days)
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
            report={},
        )
        async with self._db.session() as session:
            await self._repository(session).add_run(record)
        run = run_dto(record)
        self._spawn(run.id)
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
        """Run one queued analysis: wait for the lease, claim the run, analyse, record, notify.

        Only one analysis runs at a time across every process sharing the database (a lease row that
        the holder renews while it works); a run another process claimed first is left to it.
        """
        async with self._run_lock:
            holder = f"{self._holder}:{run_id}"
            if not await self._wait_for_lease(holder, run_id):
                return await self.get_analysis_run(run_id)
            renewal = asyncio.create_task(self._renew_lease(holder), name=f"lease-{run_id}")
            try:

                async def claim(session: Any) -> tuple[bool, AnalysisRunRecord | None]:
                    repo = self._repository(session)
                    # Only the lease holder analyses: a run still `running` now was left by a process
                    # that died holding the lease (kill -9, power loss) and whose lease ran out.
                    orphans = await repo.fail_running_runs(STOPPED_RUN_REASON, utcnow())
                    if orphans:
                        log.warning("marked %d analysis run(s) of a stopped process as failed", orphans)
                    return await repo.claim_run(run_id, utcnow()), await repo.get_run(run_id)

                # Claiming twice is harmless (only a queued run is claimed), so a lost connection is retried.
                claimed, record = await self._db.retrying(claim, what=f"claiming analysis {run_id}")
                if record is None:
                    raise AnalysisRunNotFoundError(f"no analysis run has id {run_id!r}")
                if not claimed:
                    return run_dto(record)
                run = await self._analyse(record)
            finally:
                renewal.cancel()
                with suppress(asyncio.CancelledError):
                    await renewal
                await self._release_lease(holder)
        if self._notify is not None:
            try:
                await self._notify(run)
            except Exception:  # a notice that cannot go out never fails the run
                log.exception("could not send the completion notice of run %s", run_id)
        return run

    async def _analyse(self, record: AnalysisRunRecord) -> AnalysisRun:
        began = time.perf_counter()
        status, errors, timings, report = "completed", [], {}, {}
        patterns = synergies = 0
        if self._pipeline is None:
            errors.append("no analysis pipeline is configured in this process")
            status = "failed"
        else:
            try:
                assert record.window_start is not None and record.window_end is not None
                outcome = await self._pipeline.run(record.id, record.window_start, record.window_end, utcnow())
                patterns, synergies = outcome.patterns, outcome.synergies
                errors, timings, report = outcome.errors, outcome.timings, outcome.report
            except Exception as exc:  # the run fails with its reason; the process goes on
                log.exception("analysis %s failed", record.id)
                status = "failed"
                errors = [_failure_reason(exc)]
                timings = {"total": round(time.perf_counter() - began, 4)}

        async def record_outcome(session: Any) -> AnalysisRun:
            stored = await self._repository(session).get_run(record.id)
            assert stored is not None
            stored.status = status
            stored.finished_at = utcnow()
            stored.patterns_detected = patterns
            stored.synergies_detected = synergies
            stored.errors = errors
            stored.timings = timings
            stored.report = report
            return run_dto(stored)

        # The outcome is written again on a fresh connection when the first one died: never left `running`.
        return await self._db.retrying(record_outcome, what=f"recording analysis {record.id}")

    async def _wait_for_lease(self, holder: str, run_id: str) -> bool:
        deadline = time.monotonic() + self._lease_wait_seconds
        while True:
            if await self._try_lease(holder):
                return True
            if time.monotonic() >= deadline:
                async with self._db.session() as session:
                    repo = self._repository(session)
                    lease = await repo.lease_holder(LEASE_NAME)
                    record = await repo.get_run(run_id)
                    if record is not None and record.status == "queued":
                        record.status = "failed"
                        record.finished_at = utcnow()
                        who = lease.holder if lease else "another process"
                        record.errors = [
                            f"another analysis ({who}) held the lease for over {self._lease_wait_seconds:g} s"
                        ]
                return False
            await asyncio.sleep(LEASE_POLL_SECONDS)

    async def _try_lease(self, holder: str) -> bool:
        now = utcnow()
        try:
            async with self._db.session() as session:
                return await self._repository(session).acquire_lease(
                    LEASE_NAME, holder, now, now + timedelta(seconds=LEASE_TTL_SECONDS)
                )
        except IntegrityError:  # another process inserted the lease row at the same moment
            return False
        except Exception as exc:
            if not connection_lost(exc):
                raise
            # The next poll (LEASE_POLL_SECONDS later) takes a fresh connection; the run stays queued till then.
            log.warning(
                "the analysis lease could not be read: the database connection was lost (%s)", exc.__class__.__name__
            )
            return False

    async def _renew_lease(self, holder: str) -> None:
        while True:
            await asyncio.sleep(LEASE_TTL_SECONDS / 3)
            try:
                await self._try_lease(holder)
            except Exception:  # the next renewal tries again; the lease lasts LEASE_TTL_SECONDS
                log.warning("could not renew the analysis lease", exc_info=True)

    async def _release_lease(self, holder: str) -> None:
        async def release(session: Any) -> None:
            await self._repository(session).release_lease(LEASE_NAME, holder)

        try:
            # Releasing twice is harmless, so a lost connection is retried: a lease left behind would hold
            # every next run queued for up to LEASE_TTL_SECONDS.
            await self._db.retrying(release, what="releasing the analysis lease")
        except Exception:  # it expires on its own
            log.warning("could not release the analysis lease", exc_info=True)

    async def recover_unfinished_runs(self) -> int:
        """At start-up: fail runs a stopped process left running, and take up runs still queued.

        A run is left `running` by a process that stopped mid-way. Its runs are failed at once when no
        valid lease covers them, or when the lease's holder is a process of this host that no longer
        exists (a `kill -9` and a restart within the lease's TTL; in a container the restarted process
        often has the dead one's pid, and at start-up this process holds no lease). A lease of a live or
        unknown holder (another host) is left alone; a watcher fails its runs once it runs out. Queued runs
        lose nothing: this process runs them (a claim makes sure only one process does).
        """
        now = utcnow()
        watch = False
        async with self._db.session() as session:
            repo = self._repository(session)
            lease = await repo.lease_holder(LEASE_NAME)
            failed = 0
            dead_holder = lease is not None and lease.expires_at > now and self._holder_is_dead(lease.holder)
            if lease is None or lease.expires_at <= now or dead_holder:
                failed = await repo.fail_running_runs(STOPPED_RUN_REASON, now)
                if dead_holder and lease is not None:
                    await repo.release_lease(LEASE_NAME, lease.holder)
            else:
                watch = True
            queued = await repo.queued_run_ids()
        if failed:
            log.warning("marked %d unfinished analysis run(s) as failed", failed)
        if watch:
            self._spawn_task(self._watch_foreign_lease(), "analysis-lease-watch")
        for run_id in queued:
            self._spawn(run_id)
        return failed

    def _holder_is_dead(self, holder: str) -> bool:
        """Whether a lease holder ("host:pid:run") is a process of this host that is gone (or this one)."""
        host, _, rest = holder.partition(":")
        pid_text = rest.partition(":")[0]
        if host != socket.gethostname() or not pid_text.isdigit():
            return False
        pid = int(pid_text)
        if pid == os.getpid():
            return True  # called at start-up, before this process took any lease: a previous life's
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    async def _watch_foreign_lease(self) -> None:
        """Fail runs left `running` once the lease covering them runs out and nobody renewed it."""
        while True:
            now = utcnow()
            async with self._db.session() as session:
                repo = self._repository(session)
                lease = await repo.lease_holder(LEASE_NAME)
                if lease is None or lease.expires_at <= now:
                    failed = await repo.fail_running_runs(STOPPED_RUN_REASON, now)
                    if failed:
                        log.warning("marked %d analysis run(s) of a stopped process as failed", failed)
                    return
                if not await repo.running_run_ids():
                    return
                wait = (lease.expires_at - now).total_seconds() + LEASE_POLL_SECONDS
            await asyncio.sleep(max(LEASE_POLL_SECONDS, wait))

    def _spawn(self, run_id: str) -> None:
        self._spawn_task(self.execute_run(run_id), f"analysis-{run_id}")

    def _spawn_task(self, coro: Coroutine[Any, Any, object], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, grace_seconds: float = CLOSE_GRACE_SECONDS) -> None:
        """Let analyses finish for a moment, then cancel the rest; those are marked failed at the next start."""
        tasks = list(self._tasks)
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
