"""Queries on the pattern module's tables; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from homeiq_ai.pattern.api import PatternQuery, SynergyQuery
from homeiq_ai.pattern.models import (
    AnalysisRunRecord,
    FeedbackRecord,
    LeaseRecord,
    PatternEntity,
    PatternRecord,
    SynergyEntity,
    SynergyRecord,
)


async def _page(session: AsyncSession, stmt: Select, limit: int, offset: int) -> tuple[list, int]:
    total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total)


class PatternRepository:
    """Patterns, synergies and analysis runs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_patterns(self, query: PatternQuery) -> tuple[list[PatternRecord], int]:
        """Patterns matching the filters, most confident first, and the total count."""
        stmt = select(PatternRecord)
        if query.status:
            stmt = stmt.where(PatternRecord.status == query.status)
        if query.pattern_type:
            stmt = stmt.where(PatternRecord.pattern_type == query.pattern_type)
        if query.area_id:
            stmt = stmt.where(PatternRecord.area_id == query.area_id)
        if query.min_confidence is not None:
            stmt = stmt.where(PatternRecord.confidence >= query.min_confidence)
        if query.entity_id:
            stmt = stmt.where(
                PatternRecord.id.in_(select(PatternEntity.pattern_id).where(PatternEntity.entity_id == query.entity_id))
            )
        stmt = stmt.order_by(PatternRecord.quality.desc(), PatternRecord.confidence.desc(), PatternRecord.id)
        return await _page(self.session, stmt, query.limit, query.offset)

    async def get_pattern(self, pattern_id: str) -> PatternRecord | None:
        """One pattern by id."""
        return await self.session.get(PatternRecord, pattern_id)

    async def add_pattern(self, record: PatternRecord, entity_ids: Sequence[str]) -> None:
        """Stage a new pattern with its entities in order."""
        record.entities = [PatternEntity(position=i, entity_id=e) for i, e in enumerate(entity_ids)]
        self.session.add(record)

    async def list_synergies(self, query: SynergyQuery) -> tuple[list[SynergyRecord], int]:
        """Synergies matching the filters, best score first, and the total count."""
        stmt = select(SynergyRecord)
        if query.status:
            stmt = stmt.where(SynergyRecord.status == query.status)
        if not query.include_covered:
            stmt = stmt.where(SynergyRecord.covered_by_automation.is_(False))
        if query.synergy_type:
            stmt = stmt.where(SynergyRecord.synergy_type == query.synergy_type)
        if query.area_id:
            stmt = stmt.where(SynergyRecord.area_id == query.area_id)
        if query.min_score is not None:
            stmt = stmt.where(SynergyRecord.score >= query.min_score)
        if query.depth is not None:
            stmt = stmt.where(SynergyRecord.depth == query.depth)
        if query.entity_id:
            stmt = stmt.where(
                SynergyRecord.id.in_(select(SynergyEntity.synergy_id).where(SynergyEntity.entity_id == query.entity_id))
            )
        stmt = stmt.order_by(SynergyRecord.score.desc(), SynergyRecord.id)
        return await _page(self.session, stmt, query.limit, query.offset)

    async def add_synergy(self, record: SynergyRecord, entity_ids: Sequence[str]) -> None:
        """Stage a new synergy with its entities in causal order."""
        record.entities = [SynergyEntity(position=i, entity_id=e) for i, e in enumerate(entity_ids)]
        self.session.add(record)

    async def all_patterns(self) -> list[PatternRecord]:
        """Every stored pattern (a home has hundreds, not millions)."""
        return list((await self.session.execute(select(PatternRecord))).scalars().all())

    async def all_synergies(self) -> list[SynergyRecord]:
        """Every stored synergy."""
        return list((await self.session.execute(select(SynergyRecord))).scalars().all())

    async def get_synergy(self, synergy_id: str) -> SynergyRecord | None:
        """One synergy by id."""
        return await self.session.get(SynergyRecord, synergy_id)

    def add_feedback(self, record: FeedbackRecord) -> None:
        """Stage one piece of feedback."""
        self.session.add(record)

    async def feedback_by_type(self, target_kind: str) -> dict[str, tuple[int, int]]:
        """(accepted, rejected) counts per pattern or synergy type."""
        stmt = (
            select(FeedbackRecord.target_type, FeedbackRecord.action, func.count())
            .where(FeedbackRecord.target_kind == target_kind, FeedbackRecord.action.in_(("accept", "reject")))
            .group_by(FeedbackRecord.target_type, FeedbackRecord.action)
        )
        out: dict[str, tuple[int, int]] = {}
        for kind, action, count in (await self.session.execute(stmt)).all():
            accepted, rejected = out.get(kind, (0, 0))
            out[kind] = (accepted + count, rejected) if action == "accept" else (accepted, rejected + count)
        return out

    async def acquire_lease(self, name: str, holder: str, now: datetime, expires_at: datetime) -> bool:
        """Take or renew the lease `name` unless another holder's lease is still valid."""
        lease = (
            await self.session.execute(select(LeaseRecord).where(LeaseRecord.name == name).with_for_update())
        ).scalar_one_or_none()
        if lease is None:
            self.session.add(LeaseRecord(name=name, holder=holder, acquired_at=now, expires_at=expires_at))
            return True
        if lease.holder != holder and lease.expires_at > now:
            return False
        if lease.holder != holder:
            lease.acquired_at = now
        lease.holder, lease.expires_at = holder, expires_at
        return True

    async def lease_holder(self, name: str) -> LeaseRecord | None:
        """The lease row, whoever holds it."""
        return await self.session.get(LeaseRecord, name)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease back if `holder` still holds it."""
        await self.session.execute(delete(LeaseRecord).where(LeaseRecord.name == name, LeaseRecord.holder == holder))

    async def add_run(self, run: AnalysisRunRecord) -> None:
        """Stage a new analysis run."""
        self.session.add(run)

    async def get_run(self, run_id: str) -> AnalysisRunRecord | None:
        """One analysis run by id."""
        return await self.session.get(AnalysisRunRecord, run_id)

    async def list_runs(self, limit: int, offset: int) -> tuple[list[AnalysisRunRecord], int]:
        """Analysis runs, newest first, and the total count."""
        stmt = select(AnalysisRunRecord).order_by(AnalysisRunRecord.requested_at.desc(), AnalysisRunRecord.id)
        return await _page(self.session, stmt, limit, offset)

    async def fail_running_runs(self, reason: str, now: datetime) -> int:
        """Mark runs left running by a stopped process as failed; returns how many."""
        result = await self.session.execute(
            update(AnalysisRunRecord)
            .where(AnalysisRunRecord.status == "running")
            .values(status="failed", finished_at=now, errors=[reason])
        )
        return int(result.rowcount or 0)

    async def running_run_ids(self) -> list[str]:
        """Runs marked running."""
        stmt = select(AnalysisRunRecord.id).where(AnalysisRunRecord.status == "running")
        return list((await self.session.execute(stmt)).scalars().all())

    async def queued_run_ids(self) -> list[str]:
        """Runs waiting to be executed, oldest first."""
        stmt = (
            select(AnalysisRunRecord.id)
            .where(AnalysisRunRecord.status == "queued")
            .order_by(AnalysisRunRecord.requested_at, AnalysisRunRecord.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def claim_run(self, run_id: str, now: datetime) -> bool:
        """Move a queued run to running; False when another process claimed it first."""
        result = await self.session.execute(
            update(AnalysisRunRecord)
            .where(AnalysisRunRecord.id == run_id, AnalysisRunRecord.status == "queued")
            .values(status="running", started_at=now)
        )
        return bool(result.rowcount)
