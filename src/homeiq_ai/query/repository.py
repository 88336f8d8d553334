"""Queries on the query module's tables; the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from homeiq_ai.query.models import QueryRecord, QuerySuggestionRecord


class QueryRepository:
    """Queries and their suggestions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_query(self, record: QueryRecord) -> None:
        """Stage a new query."""
        self.session.add(record)

    async def get_query(self, query_id: str, *, for_update: bool = False) -> QueryRecord | None:
        """One query by id; `for_update` locks its row (PostgreSQL) so that concurrent edits queue up."""
        if not for_update:
            return await self.session.get(QueryRecord, query_id)
        stmt = select(QueryRecord).where(QueryRecord.id == query_id).with_for_update()
        return (await self.session.execute(stmt)).scalars().first()

    async def list_suggestions(self, query_id: str) -> list[QuerySuggestionRecord]:
        """The suggestions of a query, most confident first."""
        stmt = (
            select(QuerySuggestionRecord)
            .where(QuerySuggestionRecord.query_id == query_id)
            .order_by(QuerySuggestionRecord.confidence.desc(), QuerySuggestionRecord.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def planned_queries(self) -> list[QueryRecord]:
        """Every query with a plan, oldest first."""
        stmt = (
            select(QueryRecord)
            .where(QueryRecord.status == "planned", QueryRecord.plan.is_not(None))
            .order_by(QueryRecord.created_at, QueryRecord.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def add_suggestion(self, record: QuerySuggestionRecord) -> None:
        """Stage a new suggestion."""
        self.session.add(record)

    async def delete_suggestions(self, query_id: str) -> None:
        """Remove the suggestions of a query (before it is planned again)."""
        await self.session.execute(delete(QuerySuggestionRecord).where(QuerySuggestionRecord.query_id == query_id))
