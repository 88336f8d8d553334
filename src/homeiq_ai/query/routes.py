"""HTTP routes of the query module: parse, call the service, return DTOs."""

from __future__ import annotations

from litestar import Controller, Router, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from homeiq_ai.query.api import Query, QueryRequest, QuerySuggestionPage, RefineRequest
from homeiq_ai.query.service import QueryService


class QueryController(Controller):
    """Queries in the home owner's words: store one, refine it, read its suggestions."""

    path = "/query"
    tags = ["query"]

    @post("/", status_code=HTTP_201_CREATED, summary="Submit a query")
    async def create_query(self, service: QueryService, data: QueryRequest) -> Query:
        """Plan a request (1..1000 characters) offline; 201 with plans, or with questions to answer."""
        return await service.create_query(data)

    @get("/{query_id:str}", summary="One query")
    async def get_query(self, service: QueryService, query_id: str) -> Query:
        """A stored query with its refinements, clarifications and plan."""
        return await service.get_query(query_id)

    @post("/{query_id:str}/refine", status_code=HTTP_200_OK, summary="Refine a query")
    async def refine_query(self, service: QueryService, query_id: str, data: RefineRequest) -> Query:
        """Answer questions (`answers`: question id -> option id or text) and/or add words; plan again."""
        return await service.refine_query(query_id, data)

    @get("/{query_id:str}/suggestions", summary="Suggestions of a query")
    async def list_suggestions(self, service: QueryService, query_id: str) -> QuerySuggestionPage:
        """The automations proposed for a query, most confident first."""
        return await service.list_suggestions(query_id)


def build_router(service: QueryService) -> Router:
    """The module's router with its service bound for injection."""
    return Router(
        path="/api/v1",
        route_handlers=[QueryController],
        dependencies={"service": Provide(lambda: service, sync_to_thread=False)},
    )
