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


def _same_lease(run: TrainingRunRecord) -> Any:
    """The row still holds the lease it was read with (no other worker changed it meanwhile)."""
    column = TrainingRunRecord.lease_owner
    return column.is_(None) if run.lease_owner is None else column == run.lease_owner


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

    async def claim_run(self, run_id: str, now: datetime, owner: str, lease_until: datetime) -> bool:
        """Move a queued run to running under `owner`'s lease; False when another worker claimed it first."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(TrainingRunRecord.id == run_id, TrainingRunRecord.status == "queued")
            .values(
                status="running",
                started_at=now,
                finished_at=None,
                lease_owner=owner,
                lease_expires_at=lease_until,
                heartbeat_at=now,
                attempts=TrainingRunRecord.attempts + 1,
                progress={},
            )
        )
        return bool(result.rowcount)

    async def heartbeat(
        self, run_id: str, owner: str, now: datetime, lease_until: datetime, progress: dict[str, Any]
    ) -> tuple[bool, bool]:
        """Renew `owner`'s lease and store progress; returns (lease still held, cancel requested)."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(
                TrainingRunRecord.id == run_id,
                TrainingRunRecord.status == "running",
                TrainingRunRecord.lease_owner == owner,
            )
            .values(heartbeat_at=now, lease_expires_at=lease_until, progress=progress)
        )
        if not result.rowcount:
            return False, False
        stmt = select(TrainingRunRecord.cancel_requested).where(TrainingRunRecord.id == run_id)
        return True, bool((await self.session.execute(stmt)).scalar_one())

    async def finish_run(
        self, run_id: str, *, status: str, now: datetime, error: str | None = None,
        metrics: dict[str, Any] | None = None, owner: str | None = None, progress: dict[str, Any] | None = None,
        model_version: str | None = None,
    ) -> bool:
        """Record the outcome of a run and free its type; with `owner`, only while that worker holds it."""
        values: dict[str, Any] = {
            "status": status, "finished_at": now, "error": error, "active_type": None,
            "lease_owner": None, "lease_expires_at": None,
        }  # fmt: skip
        if metrics is not None:
            values["metrics"] = metrics
        if progress is not None:
            values["progress"] = progress
        if model_version is not None:
            values["model_version"] = model_version
        stmt = update(TrainingRunRecord).where(TrainingRunRecord.id == run_id)
        if owner is not None:
            stmt = stmt.where(TrainingRunRecord.lease_owner == owner, TrainingRunRecord.status == "running")
        result = await self.session.execute(stmt.values(**values))
        return bool(result.rowcount)

    async def expired_runs(self, now: datetime) -> list[TrainingRunRecord]:
        """Running runs whose lease ran out (or that never had one): their process stopped."""
        stmt = select(TrainingRunRecord).where(
            TrainingRunRecord.status == "running",
            (TrainingRunRecord.lease_expires_at.is_(None)) | (TrainingRunRecord.lease_expires_at < now),
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def requeue_run(self, run: TrainingRunRecord, reason: str) -> bool:
        """Put a run whose process died back in the queue (its type stays taken); False if it moved on."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(
                TrainingRunRecord.id == run.id,
                TrainingRunRecord.status == "running",
                _same_lease(run),
            )
            .values(status="queued", lease_owner=None, lease_expires_at=None, error=reason, started_at=None)
        )
        return bool(result.rowcount)

    async def fail_expired_run(self, run: TrainingRunRecord, reason: str, now: datetime) -> bool:
        """Mark a run whose process died as failed, unless another worker moved it on meanwhile."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(TrainingRunRecord.id == run.id, TrainingRunRecord.status == "running", _same_lease(run))
            .values(
                status="failed", finished_at=now, error=reason, active_type=None,
                lease_owner=None, lease_expires_at=None,
            )
        )
        return bool(result.rowcount)

    async def request_cancel(self, run_id: str) -> None:
        """Flag a running run to stop; its worker sees the flag at its next heartbeat."""
        await self.session.execute(
            update(TrainingRunRecord).where(TrainingRunRecord.id == run_id).values(cancel_requested=True)
        )

    async def cancel_queued(self, run_id: str, now: datetime) -> bool:
        """Cancel a run still in the queue; False when a worker claimed it first."""
        result = await self.session.execute(
            update(TrainingRunRecord)
            .where(TrainingRunRecord.id == run_id, TrainingRunRecord.status == "queued")
            .values(status="cancelled", finished_at=now, active_type=None, cancel_requested=True)
        )
        return bool(result.rowcount)

    async def models(self, model_type: str | None = None) -> list[TrainingModelRecord]:
        """Stored models (of a type), newest first."""
        stmt = select(TrainingModelRecord)
        if model_type is not None:
            stmt = stmt.where(TrainingModelRecord.model_type == model_type)
        stmt = stmt.order_by(TrainingModelRecord.created_at.desc(), TrainingModelRecord.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def model_version(self, model_type: str, version: str) -> TrainingModelRecord | None:
        """One stored model by type and version."""
        stmt = select(TrainingModelRecord).where(
            TrainingModelRecord.model_type == model_type, TrainingModelRecord.version == version
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def add_model(self, model: TrainingModelRecord) -> None:
        """Stage a new model and flush it."""
        self.session.add(model)
        await self.session.flush()

    async def activate(self, model_type: str, model_id: str) -> None:
        """Make one model the only active one of its type."""
        await self.session.execute(
            update(TrainingModelRecord)
            .where(TrainingModelRecord.model_type == model_type)
            .values(active=TrainingModelRecord.id == model_id)
        )

    async def active_model(self, model_type: str) -> TrainingModelRecord | None:
        """The newest active model of a type."""
        stmt = (
            select(TrainingModelRecord)
            .where(TrainingModelRecord.model_type == model_type, TrainingModelRecord.active.is_(True))
            .order_by(TrainingModelRecord.created_at.desc(), TrainingModelRecord.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalars().first()
