"""HTTP routes of the automation module: parse, call the service, return DTOs."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Router, delete, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from homeiq_ai.automation.api import (
    DeployedAutomation,
    DeployedAutomationPage,
    DeploymentPage,
    DeployRequest,
    DeployResult,
    EditSuggestionRequest,
    GenerateRequest,
    GenerateResult,
    ManualSuggestionRequest,
    ReasonRequest,
    RollbackRequest,
    Suggestion,
    SuggestionPage,
    ValidateRequest,
    ValidationAnswer,
)
from homeiq_ai.automation.service import AutomationService
from homeiq_ai.kernel.openapi import errors

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="items to skip")]


class SuggestionController(Controller):
    """Suggestions: generate, list, approve."""

    path = "/suggestions"
    tags = ["automation"]

    @post("/generate", status_code=HTTP_201_CREATED, summary="Generate suggestions", responses=errors(404))
    async def generate(self, service: AutomationService, data: GenerateRequest | None = None) -> GenerateResult:
        """Create suggestions from stored patterns (default) or from one query; never duplicates one."""
        return await service.generate_suggestions(data or GenerateRequest())

    @get("/", summary="List suggestions")
    async def list_suggestions(
        self,
        service: AutomationService,
        status: Literal["proposed", "approved", "rejected", "deployed", "disabled", "rolled_back", "deleted"]
        | None = None,
        source: Literal["pattern", "synergy", "query", "manual"] | None = None,
        entity: Annotated[str | None, Parameter(max_length=255, description="an entity id it involves")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SuggestionPage:
        """Suggestions, newest first."""
        return await service.list_suggestions(status, source, limit, offset, entity)

    @post("/", status_code=HTTP_201_CREATED, summary="Store a hand-written automation")
    async def create(self, service: AutomationService, data: ManualSuggestionRequest) -> Suggestion:
        """A hand-written automation (YAML or config) as a suggestion, source manual."""
        return await service.create_suggestion(data)

    @patch("/{suggestion_id:str}", summary="Edit a suggestion's YAML")
    async def edit(self, service: AutomationService, suggestion_id: str, data: EditSuggestionRequest) -> Suggestion:
        """Replace the automation with new YAML (validated again)."""
        return await service.edit_suggestion(suggestion_id, data)

    @post("/{suggestion_id:str}/reject", status_code=HTTP_200_OK, summary="Reject a suggestion")
    async def reject(
        self, service: AutomationService, suggestion_id: str, data: ReasonRequest | None = None
    ) -> Suggestion:
        """Reject a suggestion, with an optional reason."""
        return await service.reject_suggestion(suggestion_id, (data or ReasonRequest()).reason)

    @get("/{suggestion_id:str}", summary="One suggestion")
    async def get_suggestion(self, service: AutomationService, suggestion_id: str) -> Suggestion:
        """One suggestion."""
        return await service.get_suggestion(suggestion_id)

    @post("/{suggestion_id:str}/approve", status_code=HTTP_200_OK, summary="Approve a suggestion")
    async def approve(
        self, service: AutomationService, suggestion_id: str, data: ReasonRequest | None = None
    ) -> Suggestion:
        """Approve a proposed suggestion (idempotent), with an optional reason."""
        return await service.approve_suggestion(suggestion_id, (data or ReasonRequest()).reason)


class DeploymentController(Controller):
    """Deployments to Home Assistant."""

    path = "/deployment"
    tags = ["automation"]

    @post("/deploy", status_code=HTTP_201_CREATED, summary="Deploy an approved suggestion", responses=errors(404))
    async def deploy(self, service: AutomationService, data: DeployRequest) -> DeployResult:
        """Send an approved suggestion's automation to Home Assistant, verified by reading it back."""
        return await service.deploy(data)

    @get("/deployments", summary="List deployments")
    async def list_deployments(
        self, service: AutomationService, limit: Limit = 50, offset: Offset = 0
    ) -> DeploymentPage:
        """Deployments, newest first."""
        return await service.list_deployments(limit, offset)


class AutomationController(Controller):
    """Validation, audit and the automations deployed to Home Assistant."""

    path = "/automations"
    tags = ["automation"]

    @post("/validate", status_code=HTTP_200_OK, summary="Validate automations")
    async def validate(self, service: AutomationService, data: ValidateRequest) -> ValidationAnswer:
        """Structure, entities and services, safety and conflicts of one automation or a list."""
        return await service.validate_yaml(data.yaml)

    @get("/audit", summary="Audit every automation Home Assistant has")
    async def audit(self, service: AutomationService) -> ValidationAnswer:
        """The same checks over every automation Home Assistant has."""
        return await service.audit()

    @get("/", summary="Deployed automations")
    async def list_automations(self, service: AutomationService) -> DeployedAutomationPage:
        """Automations this project deployed."""
        return await service.list_automations()

    @get("/{automation_id:str}", summary="One deployed automation with its versions")
    async def get_automation(self, service: AutomationService, automation_id: str) -> DeployedAutomation:
        """One deployed automation, every version with its YAML and diff."""
        return await service.get_automation(automation_id)

    @post("/{automation_id:str}/enable", status_code=HTTP_200_OK, summary="Enable")
    async def enable(self, service: AutomationService, automation_id: str) -> DeployedAutomation:
        """Turn the automation on in Home Assistant."""
        return await service.enable(automation_id)

    @post("/{automation_id:str}/disable", status_code=HTTP_200_OK, summary="Disable")
    async def disable(self, service: AutomationService, automation_id: str) -> DeployedAutomation:
        """Turn the automation off in Home Assistant."""
        return await service.disable(automation_id)

    @post("/{automation_id:str}/trigger", status_code=HTTP_200_OK, summary="Trigger")
    async def trigger(self, service: AutomationService, automation_id: str) -> DeployedAutomation:
        """Run the automation's actions now."""
        return await service.trigger(automation_id)

    @post("/{automation_id:str}/rollback", status_code=HTTP_200_OK, summary="Roll back to a version")
    async def rollback(self, service: AutomationService, automation_id: str, data: RollbackRequest) -> DeployResult:
        """Deploy an earlier version again, recorded as a new version."""
        return await service.rollback(automation_id, data.version)

    @delete("/{automation_id:str}", status_code=HTTP_204_NO_CONTENT, summary="Delete from Home Assistant")
    async def delete_automation(self, service: AutomationService, automation_id: str) -> None:
        """Remove the automation from Home Assistant; its versions stay."""
        await service.delete_automation(automation_id)


def build_router(service: AutomationService) -> Router:
    """The module's router with its service bound for injection."""
    return Router(
        path="/api/v1",
        route_handlers=[SuggestionController, DeploymentController, AutomationController],
        dependencies={"service": Provide(lambda: service, sync_to_thread=False)},
    )
