"""LocalAutomationApi: the automation api in-process."""

from __future__ import annotations

from homeiq_ai.automation.api import (
    DeployRequest,
    DeployResult,
    GenerateRequest,
    GenerateResult,
    ManualSuggestionRequest,
    Suggestion,
    SuggestionPage,
)
from homeiq_ai.automation.service import AutomationService


class LocalAutomationApi:
    """Implements AutomationApi by calling the service; each call has its own session."""

    def __init__(self, service: AutomationService) -> None:
        self._service = service

    async def list_suggestions(
        self, status: str | None = None, source: str | None = None, limit: int = 50, offset: int = 0
    ) -> SuggestionPage:
        """See AutomationApi.list_suggestions."""
        return await self._service.list_suggestions(status, source, limit, offset)

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
