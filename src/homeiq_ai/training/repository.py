"""Queries on the training module's tables; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from homeiq_ai.training.api import TrainingRunQuery
from homeiq_ai.training.models import TrainingModelRecord, TrainingRunRecord


async def _page(session: AsyncSession, stmt: Select, limit: int, offset: int) -> tuple[list, int]:
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = (await session.execute(count)).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total)


class TrainingRepository:
    """Training runs and trained models."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_run(self, run: TrainingRunRecord) -> None:
        """Stage a new run and flush it, so that a second active run of its type fails here."""
        self.session.add(run)
        await self.session.flush()

    async def get_run(self, run_id: str) -> TrainingRunRecord | None:
        """One training run by id."""
        return await self.session.get(TrainingRunRecord, run_id)

    async def active_run(self, training_type: str) -> TrainingRunRecord | None:
        """The queued or running run of a type, if any."""
        stmt = select(TrainingRunRecord).where(TrainingRunRecord.active_type == training_type)
        return (await self.session.execute(stmt)).scalars().first()

    async def list_runs(self, query: TrainingRunQuery) -> tuple[list[TrainingRunRecord], int]:
        """Runs matching the filters, newest first, and the total count."""
        stmt = select(TrainingRunRecord)
        if query.training_type:
            stmt = stmt.where(TrainingRunRecord.training_type == query.training_type)
        if query.status:
            stmt = stmt.where(TrainingRunRecord.status == query.status)
        stmt = stmt.order_by(TrainingRunRecord.requested_at.desc(), TrainingRunRecord.id)
        return await _page(self.session, stmt, query.limit, query.offset)

    async def oldest_queued_id(self) -> str | None:
        """Id of the run that has waited longest in the queue."""
        stmt = (
            select(TrainingRunRecord.id)
            .where(TrainingRunRecord.status == "queued")
            .order_by(TrainingRunRecord.requested_at, TrainingRunRecord.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def claim_run(self, run_id: str, now: datetime) -> bool:
        """Move a queued run to running; False when another worker claimed it first."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(TrainingRunRecord.id == run_id, TrainingRunRecord.status == "queued")
            .values(status="running", started_at=now)
        )
        return bool(result.rowcount)

    async def finish_run(
        self, run_id: str, *, status: str, now: datetime, error: str | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        """Record the outcome of a run and free its type for the next one."""
        values: dict[str, Any] = {"status": status, "finished_at": now, "error": error, "active_type": None}
        if metrics is not None:
            values["metrics"] = metrics
        await self.session.execute(
            update(TrainingRunRecord).where(TrainingRunRecord.id == run_id).values(**values)
        )

    async def fail_running_runs(self, reason: str, now: datetime) -> int:
        """Mark runs left running by a stopped process as failed; returns how many."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(TrainingRunRecord.status == "running")
            .values(status="failed", finished_at=now, error=reason, active_type=None)
        )
        return int(result.rowcount or 0)

    async def active_model(self, model_type: str) -> TrainingModelRecord | None:
        """The newest active model of a type."""
        stmt = (
            select(TrainingModelRecord)
            .where(TrainingModelRecord.model_type == model_type, TrainingModelRecord.active.is_(True))
            .order_by(TrainingModelRecord.created_at.desc(), TrainingModelRecord.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalars().first()
