"""HttpQueryApi: the query api over HTTP, for modules running in another process."""

from __future__ import annotations

from urllib.parse import quote

from homeiq_ai.kernel.service_client import ServiceClient
from homeiq_ai.query.api import ERRORS_BY_CODE, Query, QueryRequest, QuerySuggestionPage, RefineRequest


def _segment(value: str) -> str:
    # An id typed by a person must stay one path segment.
    return quote(value, safe="")


class HttpQueryApi:
    """Implements QueryApi against the query service's routes."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def create_query(self, request: QueryRequest) -> Query:
        """See QueryApi.create_query."""
        return await self._client.call("POST", "/api/v1/query/", Query, json=request, errors=ERRORS_BY_CODE)

    async def get_query(self, query_id: str) -> Query:
        """See QueryApi.get_query."""
        return await self._client.call("GET", f"/api/v1/query/{_segment(query_id)}", Query, errors=ERRORS_BY_CODE)

    async def refine_query(self, query_id: str, request: RefineRequest) -> Query:
        """See QueryApi.refine_query."""
        return await self._client.call(
            "POST", f"/api/v1/query/{_segment(query_id)}/refine", Query, json=request, errors=ERRORS_BY_CODE
        )

    async def list_suggestions(self, query_id: str) -> QuerySuggestionPage:
        """See QueryApi.list_suggestions."""
        return await self._client.call(
            "GET",
            f"/api/v1/query/{_segment(query_id)}/suggestions",
            QuerySuggestionPage,
            errors=ERRORS_BY_CODE,
        )


def http_api(client: ServiceClient) -> HttpQueryApi:
    """Build the HTTP implementation for the composition root."""
    return HttpQueryApi(client)
