"""Public contract of the query module: the QueryApi Protocol, its DTOs and its errors.

Other modules import this file only. It depends on the standard library and msgspec alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Protocol

import msgspec

__all__ = [
    "ERRORS_BY_CODE",
    "MAX_TEXT_CHARS",
    "MAX_USER_ID_CHARS",
    "Clarification",
    "InvalidQueryError",
    "Query",
    "QueryApi",
    "QueryError",
    "QueryNotFoundError",
    "QueryRequest",
    "QuerySuggestion",
    "QuerySuggestionPage",
    "RefineRequest",
]

MAX_TEXT_CHARS = 1000
MAX_USER_ID_CHARS = 255


class QueryRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A request in the home owner's words: 1..1000 characters once surrounding blanks are removed."""

    query: str
    user_id: str | None = None
    context: dict[str, Any] | None = None


class RefineRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """More words about a stored query: 1..1000 characters once surrounding blanks are removed."""

    refinement: str


class Clarification(msgspec.Struct, kw_only=True):
    """A question the service needs answered before it can plan, and the answer once given."""

    id: str
    question: str
    options: list[str] = msgspec.field(default_factory=list)
    answer: str | None = None


class Query(msgspec.Struct, kw_only=True):
    """A stored query. In this version it stays `received` with no plan: the parser comes later."""

    id: str
    text: str
    status: str
    user_id: str | None = None
    context: dict[str, Any] | None = None
    refinements: list[str] = msgspec.field(default_factory=list)
    clarifications: list[Clarification] = msgspec.field(default_factory=list)
    plan: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class QuerySuggestion(msgspec.Struct, kw_only=True):
    """An automation proposed for a query, with the plan it would deploy."""

    id: str
    query_id: str
    title: str
    description: str
    plan: dict[str, Any] = msgspec.field(default_factory=dict)
    confidence: float
    created_at: datetime


class QuerySuggestionPage(msgspec.Struct, kw_only=True):
    """The suggestions of one query, most confident first."""

    items: list[QuerySuggestion]
    total: int


class QueryError(Exception):
    """Base of the query module's declared errors; `code` and `http_status` travel over HTTP."""

    code: ClassVar[str] = "query_error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidQueryError(QueryError):
    """The query or refinement text (or the user id) is empty or too long."""

    code = "invalid_query"
    http_status = 400


class QueryNotFoundError(QueryError):
    """No query has that id."""

    code = "query_not_found"
    http_status = 404


ERRORS_BY_CODE: dict[str, type[QueryError]] = {
    cls.code: cls for cls in (InvalidQueryError, QueryNotFoundError)
}


class QueryApi(Protocol):
    """What other modules may ask of the query module, in-process or over HTTP alike."""

    async def create_query(self, request: QueryRequest) -> Query:
        """Store a query and return it; raises InvalidQueryError."""
        ...

    async def get_query(self, query_id: str) -> Query:
        """Return one query; raises QueryNotFoundError."""
        ...

    async def refine_query(self, query_id: str, request: RefineRequest) -> Query:
        """Add a refinement to a query; raises QueryNotFoundError, InvalidQueryError."""
        ...

    async def list_suggestions(self, query_id: str) -> QuerySuggestionPage:
        """The suggestions of a query; raises QueryNotFoundError."""
        ...
