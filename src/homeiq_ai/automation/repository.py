"""Queries on the automation module's tables; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from homeiq_ai.automation.models import DeploymentRecord, SuggestionRecord


class AutomationRepository:
    """Suggestions and deployments."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_suggestions(
        self, status: str | None, source: str | None, limit: int, offset: int, entity: str | None = None
    ) -> tuple[list[SuggestionRecord], int]:
        """Suggestions matching the filters, newest first, and the total count."""
        stmt = select(SuggestionRecord)
        if entity:
            # JSON list of entity ids: a text match on the quoted id works on SQLite and PostgreSQL.
            stmt = stmt.where(cast(SuggestionRecord.entity_ids, String).contains(f'"{entity}"'))
        if status:
            stmt = stmt.where(SuggestionRecord.status == status)
        if source:
            stmt = stmt.where(SuggestionRecord.source == source)
        total = (await self.session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        stmt = stmt.order_by(SuggestionRecord.created_at.desc(), SuggestionRecord.id).limit(limit).offset(offset)
        return list((await self.session.execute(stmt)).scalars().all()), int(total)

    async def get_suggestion(self, suggestion_id: str, *, for_update: bool = False) -> SuggestionRecord | None:
        """One suggestion by id (row-locked where the database supports it)."""
        stmt = select(SuggestionRecord).where(SuggestionRecord.id == suggestion_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def existing_source_ids(self, source: str, source_ids: Iterable[str]) -> set[str]:
        """Which of these source items already have a suggestion."""
        ids = list(source_ids)
        if not ids:
            return set()
        stmt = select(SuggestionRecord.source_id).where(
            SuggestionRecord.source == source, SuggestionRecord.source_id.in_(ids)
        )
        return set((await self.session.execute(stmt)).scalars().all())

    def add_suggestion(self, record: SuggestionRecord) -> None:
        """Stage a new suggestion."""
        self.session.add(record)

    async def list_deployments(self, limit: int, offset: int) -> tuple[list[DeploymentRecord], int]:
        """Deployments, newest first, and the total count."""
        total = (await self.session.execute(select(func.count()).select_from(DeploymentRecord))).scalar_one()
        stmt = (
            select(DeploymentRecord)
            .order_by(DeploymentRecord.deployed_at.desc(), DeploymentRecord.id)
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars().all()), int(total)

    async def by_sources(self, keys: Iterable[tuple[str, str]]) -> list[SuggestionRecord]:
        """Suggestions of these (source, source_id) pairs."""
        keys = list(keys)
        if not keys:
            return []
        out: list[SuggestionRecord] = []
        for source in {k[0] for k in keys}:
            ids = [k[1] for k in keys if k[0] == source]
            stmt = select(SuggestionRecord).where(
                SuggestionRecord.source == source, SuggestionRecord.source_id.in_(ids)
            )
            out.extend((await self.session.execute(stmt)).scalars().all())
        return out

    def add_deployment(self, record: DeploymentRecord) -> None:
        """Stage a version."""
        self.session.add(record)

    async def versions(self, suggestion_id: str) -> list[DeploymentRecord]:
        """Every version of a suggestion's automation (pending claims included), oldest first."""
        stmt = (
            select(DeploymentRecord)
            .where(DeploymentRecord.suggestion_id == suggestion_id)
            .order_by(DeploymentRecord.version)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def pending_deployments(self, suggestion_id: str | None = None) -> list[DeploymentRecord]:
        """Claims not yet recorded as deployed (all suggestions, or one), oldest first."""
        stmt = select(DeploymentRecord).where(DeploymentRecord.status == "pending")
        if suggestion_id is not None:
            stmt = stmt.where(DeploymentRecord.suggestion_id == suggestion_id)
        return list((await self.session.execute(stmt.order_by(DeploymentRecord.deployed_at))).scalars().all())

    async def get_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        """One version row by id."""
        return await self.session.get(DeploymentRecord, deployment_id)

    async def delete_deployment(self, deployment_id: str) -> None:
        """Drop a claim whose deploy failed."""
        await self.session.execute(delete(DeploymentRecord).where(DeploymentRecord.id == deployment_id))

    async def deployed_suggestions(self) -> list[SuggestionRecord]:
        """Suggestions that have a Home Assistant automation and are not deleted."""
        stmt = (
            select(SuggestionRecord)
            .where(SuggestionRecord.ha_automation_id.is_not(None), SuggestionRecord.status != "deleted")
            .order_by(SuggestionRecord.updated_at.desc())
        )
        return list((await self.session.execute(stmt)).scalars().all())
