"""HttpAutomationApi: the automation api over HTTP, for callers in another process."""

from __future__ import annotations

from homeiq_ai.automation.api import (
    ERRORS_BY_CODE,
    DeployRequest,
    DeployResult,
    GenerateRequest,
    GenerateResult,
    ManualSuggestionRequest,
    ReasonRequest,
    Suggestion,
    SuggestionPage,
)
from homeiq_ai.kernel.service_client import ServiceClient


class HttpAutomationApi:
    """Implements AutomationApi against the automation service's routes."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def list_suggestions(
        self, status: str | None = None, source: str | None = None, limit: int = 50, offset: int = 0
    ) -> SuggestionPage:
        """See AutomationApi.list_suggestions."""
        params = {"status": status, "source": source, "limit": limit, "offset": offset}
        return await self._client.call(
            "GET", "/api/v1/suggestions/", SuggestionPage, params=params, errors=ERRORS_BY_CODE
        )

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """See AutomationApi.get_suggestion."""
        return await self._client.call("GET", f"/api/v1/suggestions/{suggestion_id}", Suggestion, errors=ERRORS_BY_CODE)

    async def generate_suggestions(self, request: GenerateRequest) -> GenerateResult:
        """See AutomationApi.generate_suggestions (safe to retry: it never duplicates)."""
        return await self._client.call(
            "POST",
            "/api/v1/suggestions/generate",
            GenerateResult,
            json=request,
            errors=ERRORS_BY_CODE,
            idempotent=True,
        )

    async def approve_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """See AutomationApi.approve_suggestion (idempotent)."""
        return await self._client.call(
            "POST",
            f"/api/v1/suggestions/{suggestion_id}/approve",
            Suggestion,
            json=ReasonRequest(reason=reason),
            errors=ERRORS_BY_CODE,
            idempotent=True,
        )

    async def reject_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """See AutomationApi.reject_suggestion (idempotent)."""
        return await self._client.call(
            "POST",
            f"/api/v1/suggestions/{suggestion_id}/reject",
            Suggestion,
            json=ReasonRequest(reason=reason),
            errors=ERRORS_BY_CODE,
            idempotent=True,
        )

    async def create_suggestion(self, request: ManualSuggestionRequest) -> Suggestion:
        """See AutomationApi.create_suggestion (not retried: it would store a second copy)."""
        return await self._client.call(
            "POST", "/api/v1/suggestions/", Suggestion, json=request, errors=ERRORS_BY_CODE, idempotent=False
        )

    async def deploy(self, request: DeployRequest) -> DeployResult:
        """See AutomationApi.deploy (not retried; the DB guard makes a repeat a 409, never a double)."""
        return await self._client.call(
            "POST", "/api/v1/deployment/deploy", DeployResult, json=request, errors=ERRORS_BY_CODE, idempotent=False
        )


def http_api(client: ServiceClient) -> HttpAutomationApi:
    """Build the HTTP implementation for the composition root."""
    return HttpAutomationApi(client)
