"""LocalAutomationApi: the automation api in-process."""

from __future__ import annotations

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
    Suggestion,
    SuggestionPage,
    ValidateRequest,
    ValidationAnswer,
)
from homeiq_ai.automation.service import AutomationService


class LocalAutomationApi:
    """Implements AutomationApi by calling the service; each call has its own session."""

    def __init__(self, service: AutomationService) -> None:
        self._service = service

    async def list_suggestions(
        self,
        status: str | None = None,
        source: str | None = None,
        limit: int = 50,
        offset: int = 0,
        entity: str | None = None,
    ) -> SuggestionPage:
        """See AutomationApi.list_suggestions."""
        return await self._service.list_suggestions(status, source, limit, offset, entity)

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """See AutomationApi.get_suggestion."""
        return await self._service.get_suggestion(suggestion_id)

    async def generate_suggestions(self, request: GenerateRequest) -> GenerateResult:
        """See AutomationApi.generate_suggestions."""
        return await self._service.generate_suggestions(request)

    async def approve_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """See AutomationApi.approve_suggestion."""
        return await self._service.approve_suggestion(suggestion_id, reason)

    async def reject_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """See AutomationApi.reject_suggestion."""
        return await self._service.reject_suggestion(suggestion_id, reason)

    async def create_suggestion(self, request: ManualSuggestionRequest) -> Suggestion:
        """See AutomationApi.create_suggestion."""
        return await self._service.create_suggestion(request)

    async def deploy(self, request: DeployRequest) -> DeployResult:
        """See AutomationApi.deploy."""
        return await self._service.deploy(request)

    async def edit_suggestion(self, suggestion_id: str, request: EditSuggestionRequest) -> Suggestion:
        """See AutomationApi.edit_suggestion."""
        return await self._service.edit_suggestion(suggestion_id, request)

    async def validate(self, request: ValidateRequest) -> ValidationAnswer:
        """See AutomationApi.validate."""
        return await self._service.validate_yaml(request.yaml)

    async def audit(self) -> ValidationAnswer:
        """See AutomationApi.audit."""
        return await self._service.audit()

    async def list_automations(self) -> DeployedAutomationPage:
        """See AutomationApi.list_automations."""
        return await self._service.list_automations()

    async def get_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.get_automation."""
        return await self._service.get_automation(automation_id)

    async def enable_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.enable_automation."""
        return await self._service.enable(automation_id)

    async def disable_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.disable_automation."""
        return await self._service.disable(automation_id)

    async def trigger_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.trigger_automation."""
        return await self._service.trigger(automation_id)

    async def rollback_automation(self, automation_id: str, version: int) -> DeployResult:
        """See AutomationApi.rollback_automation."""
        return await self._service.rollback(automation_id, version)

    async def delete_automation(self, automation_id: str) -> None:
        """See AutomationApi.delete_automation."""
        await self._service.delete_automation(automation_id)

    async def list_deployments(self, limit: int = 50, offset: int = 0) -> DeploymentPage:
        """See AutomationApi.list_deployments."""
        return await self._service.list_deployments(limit, offset)
