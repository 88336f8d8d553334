"""Queries on the pattern module's tables; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from homeiq_ai.pattern.api import PatternQuery, SynergyQuery
from homeiq_ai.pattern.models import (
    AnalysisRunRecord,
    PatternEntity,
    PatternRecord,
    SynergyEntity,
    SynergyRecord,
)


async def _page(session: AsyncSession, stmt: Select, limit: int, offset: int) -> tuple[list, int]:
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total)


class PatternRepository:
    """Patterns, synergies and analysis runs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_patterns(self, query: PatternQuery) -> tuple[list[PatternRecord], int]:
        """Patterns matching the filters, most confident first, and the total count."""
        stmt = select(PatternRecord).where(PatternRecord.status != "deleted")
        if query.pattern_type:
            stmt = stmt.where(PatternRecord.pattern_type == query.pattern_type)
        if query.area_id:
            stmt = stmt.where(PatternRecord.area_id == query.area_id)
        if query.min_confidence is not None:
            stmt = stmt.where(PatternRecord.confidence >= query.min_confidence)
        if query.entity_id:
            stmt = stmt.where(
                PatternRecord.id.in_(
                    select(PatternEntity.pattern_id).where(PatternEntity.entity_id == query.entity_id)
                )
            )
        stmt = stmt.order_by(PatternRecord.confidence.desc(), PatternRecord.id)
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
        stmt = select(SynergyRecord).where(SynergyRecord.status != "deleted")
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
                SynergyRecord.id.in_(
                    select(SynergyEntity.synergy_id).where(SynergyEntity.entity_id == query.entity_id)
                )
            )
        stmt = stmt.order_by(SynergyRecord.score.desc(), SynergyRecord.id)
        return await _page(self.session, stmt, query.limit, query.offset)

    async def add_synergy(self, record: SynergyRecord, entity_ids: Sequence[str]) -> None:
        """Stage a new synergy with its entities in causal order."""
        record.entities = [SynergyEntity(position=i, entity_id=e) for i, e in enumerate(entity_ids)]
        self.session.add(record)

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

    async def fail_unfinished_runs(self, reason: str, now: datetime) -> int:
        """Mark runs left queued or running by a stopped process as failed; returns how many."""
        result = await self.session.execute(
            update(AnalysisRunRecord)
            .where(AnalysisRunRecord.status.in_(("queued", "running")))
            .values(status="failed", finished_at=now, errors=[reason])
        )
        return int(result.rowcount or 0)
