"""LocalQueryApi: the query api in-process, for modules loaded beside this one."""

from __future__ import annotations

from homeiq_ai.query.api import Query, QueryRequest, QuerySuggestionPage, RefineRequest
from homeiq_ai.query.service import QueryService


class LocalQueryApi:
    """Implements QueryApi by calling the service; each call has its own session."""

    def __init__(self, service: QueryService) -> None:
        self._service = service

    async def create_query(self, request: QueryRequest) -> Query:
        """See QueryApi.create_query."""
        return await self._service.create_query(request)

    async def get_query(self, query_id: str) -> Query:
        """See QueryApi.get_query."""
        return await self._service.get_query(query_id)

    async def refine_query(self, query_id: str, request: RefineRequest) -> Query:
        """See QueryApi.refine_query."""
        return await self._service.refine_query(query_id, request)

    async def list_suggestions(self, query_id: str) -> QuerySuggestionPage:
        """See QueryApi.list_suggestions."""
        return await self._service.list_suggestions(query_id)
