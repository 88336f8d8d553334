"""Use cases of the query module: storing queries, refining them, listing their suggestions."""

from __future__ import annotations

import logging
import uuid

from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.query.api import (
    MAX_TEXT_CHARS,
    MAX_USER_ID_CHARS,
    Clarification,
    InvalidQueryError,
    Query,
    QueryNotFoundError,
    QueryRequest,
    QuerySuggestion,
    QuerySuggestionPage,
    RefineRequest,
)
from homeiq_ai.query.models import QueryRecord, QuerySuggestionRecord
from homeiq_ai.query.repository import QueryRepository

log = logging.getLogger(__name__)

# The natural-language parser comes in a later version; until then a query is stored as received.
RECEIVED = "received"


def query_dto(record: QueryRecord) -> Query:
    """Map a stored query to its DTO."""
    return Query(
        id=record.id,
        text=record.text,
        status=record.status,
        user_id=record.user_id,
        context=dict(record.context) if record.context is not None else None,
        refinements=list(record.refinements or []),
        clarifications=[Clarification(**c) for c in record.clarifications or []],
        plan=dict(record.plan) if record.plan is not None else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def suggestion_dto(record: QuerySuggestionRecord) -> QuerySuggestion:
    """Map a stored suggestion to its DTO."""
    return QuerySuggestion(
        id=record.id,
        query_id=record.query_id,
        title=record.title,
        description=record.description,
        plan=dict(record.plan or {}),
        confidence=record.confidence,
        created_at=record.created_at,
    )


def clean_text(value: str, field: str) -> str:
    """Strip surrounding blanks and check the length.

    Raises:
        InvalidQueryError: nothing is left, or more than MAX_TEXT_CHARS characters are.
    """
    text = value.strip()
    if not text:
        raise InvalidQueryError(f"{field} must not be empty or only blanks")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidQueryError(f"{field} may have at most {MAX_TEXT_CHARS} characters, got {len(text)}")
    return text


class QueryService:
    """Stores queries and their refinements; parsing and planning come in a later version."""

    def __init__(self, db: Database, *, repository: type[QueryRepository] = QueryRepository) -> None:
        self._db = db
        self._repository = repository

    async def create_query(self, request: QueryRequest) -> Query:
        """Store a query as received, with no plan.

        Raises:
            InvalidQueryError: empty or too long text, or a too long user id.
        """
        text = clean_text(request.query, "query")
        if request.user_id is not None and len(request.user_id) > MAX_USER_ID_CHARS:
            raise InvalidQueryError(f"user_id may have at most {MAX_USER_ID_CHARS} characters")
        now = utcnow()
        record = QueryRecord(
            id=uuid.uuid4().hex,
            text=text,
            status=RECEIVED,
            user_id=request.user_id,
            context=dict(request.context) if request.context is not None else None,
            refinements=[],
            clarifications=[],
            plan=None,
            created_at=now,
            updated_at=now,
        )
        async with self._db.session() as session:
            await self._repository(session).add_query(record)
        return query_dto(record)

    async def get_query(self, query_id: str) -> Query:
        """One stored query.

        Raises:
            QueryNotFoundError: no query has that id.
        """
        async with self._db.session() as session:
            record = await self._repository(session).get_query(query_id)
            if record is None:
                raise QueryNotFoundError(f"no query has id {query_id!r}")
            return query_dto(record)

    async def refine_query(self, query_id: str, request: RefineRequest) -> Query:
        """Append a refinement to a query.

        Raises:
            InvalidQueryError: empty or too long refinement.
            QueryNotFoundError: no query has that id.
        """
        text = clean_text(request.refinement, "refinement")
        async with self._db.session() as session:
            record = await self._repository(session).get_query(query_id, for_update=True)
            if record is None:
                raise QueryNotFoundError(f"no query has id {query_id!r}")
            # A new list, so that the JSON column is seen as changed.
            record.refinements = [*(record.refinements or []), text]
            record.updated_at = utcnow()
            await session.flush()
            return query_dto(record)

    async def list_suggestions(self, query_id: str) -> QuerySuggestionPage:
        """The suggestions of a query, most confident first; none are made in this version.

        Raises:
            QueryNotFoundError: no query has that id.
        """
        async with self._db.session() as session:
            repository = self._repository(session)
            if await repository.get_query(query_id) is None:
                raise QueryNotFoundError(f"no query has id {query_id!r}")
            items = [suggestion_dto(r) for r in await repository.list_suggestions(query_id)]
        return QuerySuggestionPage(items=items, total=len(items))
