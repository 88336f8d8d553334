"""HTTP routes of the automation module: parse, call the service, return DTOs."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from homeiq_ai.automation.api import (
    Deployment,
    DeploymentPage,
    DeployRequest,
    GenerateRequest,
    GenerateResult,
    Suggestion,
    SuggestionPage,
)
from homeiq_ai.automation.service import AutomationService

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, Parameter(ge=0, description="items to skip")]


class SuggestionController(Controller):
    """Suggestions: generate, list, approve."""

    path = "/suggestions"
    tags = ["automation"]

    @post("/generate", status_code=HTTP_201_CREATED, summary="Generate suggestions")
    async def generate(
        self, service: AutomationService, data: GenerateRequest | None = None
    ) -> GenerateResult:
        """Create suggestions from stored patterns (default) or from one query; never duplicates one."""
        return await service.generate_suggestions(data or GenerateRequest())

    @get("/", summary="List suggestions")
    async def list_suggestions(
        self,
        service: AutomationService,
        status: Literal["proposed", "approved", "rejected", "deployed"] | None = None,
        source: Literal["pattern", "synergy", "query"] | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SuggestionPage:
        """Suggestions, newest first."""
        return await service.list_suggestions(status, source, limit, offset)

    @get("/{suggestion_id:str}", summary="One suggestion")
    async def get_suggestion(self, service: AutomationService, suggestion_id: str) -> Suggestion:
        """One suggestion."""
        return await service.get_suggestion(suggestion_id)

    @post("/{suggestion_id:str}/approve", status_code=HTTP_200_OK, summary="Approve a suggestion")
    async def approve(self, service: AutomationService, suggestion_id: str) -> Suggestion:
        """Approve a proposed suggestion (idempotent)."""
        return await service.approve_suggestion(suggestion_id)


class DeploymentController(Controller):
    """Deployments to Home Assistant."""

    path = "/deployment"
    tags = ["automation"]

    @post("/deploy", status_code=HTTP_201_CREATED, summary="Deploy an approved suggestion")
    async def deploy(self, service: AutomationService, data: DeployRequest) -> Deployment:
        """Send an approved suggestion's automation to Home Assistant."""
        return await service.deploy(data)

    @get("/deployments", summary="List deployments")
    async def list_deployments(
        self, service: AutomationService, limit: Limit = 50, offset: Offset = 0
    ) -> DeploymentPage:
        """Deployments, newest first."""
        return await service.list_deployments(limit, offset)


def build_router(service: AutomationService) -> Router:
    """The module's router with its service bound for injection."""
    return Router(
        path="/api/v1",
        route_handlers=[SuggestionController, DeploymentController],
        dependencies={"service": Provide(lambda: service, sync_to_thread=False)},
    )
