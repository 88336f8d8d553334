"""Public contract of the query module: the QueryApi Protocol, its DTOs and its errors.

Other modules import this file only. It depends on the standard library and msgspec alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Protocol

import msgspec

__all__ = [
    "ERRORS_BY_CODE",
    "MAX_TEXT_CHARS",
    "MAX_USER_ID_CHARS",
    "Clarification",
    "EntityMatch",
    "InvalidQueryError",
    "Query",
    "QueryApi",
    "QueryError",
    "QueryNotFoundError",
    "QueryOption",
    "QueryPlan",
    "QueryQuestion",
    "QueryRequest",
    "QuerySuggestion",
    "QuerySuggestionPage",
    "RefineRequest",
]

MAX_TEXT_CHARS = 1000
MAX_USER_ID_CHARS = 255


# 1..1000 characters once surrounding blanks are removed. Declared in the schema only: the service trims
# and answers 400 invalid_query itself, naming the field.
Words = Annotated[
    str,
    msgspec.Meta(extra_json_schema={"extra": {"min_length": 1, "max_length": MAX_TEXT_CHARS, "pattern": r"\S"}}),
]


class QueryRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A request in the home owner's words: 1..1000 characters once surrounding blanks are removed."""

    query: Words
    user_id: Annotated[str, msgspec.Meta(extra_json_schema={"extra": {"max_length": MAX_USER_ID_CHARS}})] | None = None
    context: dict[str, Any] | None = None


class RefineRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Answers to a query's questions and/or more words about it (at least one of the two).

    `answers` maps a question id to one of its option ids, or to free text (1..1000 characters);
    `refinement` is appended to the request and read again (1..1000 characters).
    """

    refinement: Words | None = None
    answers: dict[str, str] | None = None


class QueryOption(msgspec.Struct, kw_only=True):
    """One concrete answer to a question: its id (what to send back) and a label for people."""

    id: str
    label: str


class QueryQuestion(msgspec.Struct, kw_only=True):
    """An open question: answer it with POST /api/v1/query/{id}/refine {"answers": {id: option id}}."""

    id: str
    text: str
    options: list[QueryOption] = msgspec.field(default_factory=list)


class EntityMatch(msgspec.Struct, kw_only=True):
    """An entity the request named, with how sure the resolver is (0..1)."""

    entity_id: str
    name: str
    score: float


class QueryPlan(msgspec.Struct, kw_only=True):
    """One plan: a plain-words summary, a confidence and the HA automation config as a JSON object."""

    summary: str
    confidence: float
    automation: dict[str, Any]


class Clarification(msgspec.Struct, kw_only=True):
    """A question the service needs answered before it can plan, and the answer once given."""

    id: str
    question: str
    options: list[str] = msgspec.field(default_factory=list)
    answer: str | None = None


class Query(msgspec.Struct, kw_only=True):
    """A stored query session: `planned` (plans, no open question) or `needs_clarification`.

    `plan` is the first plan's automation (the HA config as a JSON object: alias, trigger, condition,
    action, mode), None while questions are open. `query_id` equals `id`. `engine` says who planned:
    `offline`, `llm`, or `offline_fallback` (the LLM failed; `notes` says why).
    """

    id: str
    query_id: str = ""
    text: str
    status: str
    user_id: Annotated[str, msgspec.Meta(extra_json_schema={"extra": {"max_length": MAX_USER_ID_CHARS}})] | None = None
    context: dict[str, Any] | None = None
    refinements: list[str] = msgspec.field(default_factory=list)
    clarifications: list[Clarification] = msgspec.field(default_factory=list)
    plan: dict[str, Any] | None = None
    entities: list[EntityMatch] = msgspec.field(default_factory=list)
    plans: list[QueryPlan] = msgspec.field(default_factory=list)
    questions: list[QueryQuestion] = msgspec.field(default_factory=list)
    answers: dict[str, str] = msgspec.field(default_factory=dict)
    confidence: float = 0.0
    engine: str = "offline"
    notes: list[str] = msgspec.field(default_factory=list)
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
    """The query or refinement text (or the user id, or an answer) is empty, too long or unknown."""

    code = "invalid_query"
    http_status = 400


class QueryNotFoundError(QueryError):
    """No query has that id."""

    code = "query_not_found"
    http_status = 404


ERRORS_BY_CODE: dict[str, type[QueryError]] = {cls.code: cls for cls in (InvalidQueryError, QueryNotFoundError)}


class QueryApi(Protocol):
    """What other modules may ask of the query module, in-process or over HTTP alike."""

    async def create_query(self, request: QueryRequest) -> Query:
        """Store a query and return it; raises InvalidQueryError."""
        ...

    async def get_query(self, query_id: str) -> Query:
        """Return one query; raises QueryNotFoundError."""
        ...

    async def refine_query(self, query_id: str, request: RefineRequest) -> Query:
        """Answer questions and/or add words, plan again; raises QueryNotFoundError, InvalidQueryError."""
        ...

    async def list_suggestions(self, query_id: str) -> QuerySuggestionPage:
        """The suggestions of a query; raises QueryNotFoundError."""
        ...
