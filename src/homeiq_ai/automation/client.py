"""HttpAutomationApi: the automation api over HTTP, for callers in another process."""

from __future__ import annotations

from urllib.parse import quote

from homeiq_ai.automation.api import (
    ERRORS_BY_CODE,
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
from homeiq_ai.kernel.errors import BadRequestError, NotFoundError
from homeiq_ai.kernel.service_client import PeerError, ServiceClient


class HttpAutomationApi:
    """Implements AutomationApi against the automation service's routes."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def list_suggestions(
        self,
        status: str | None = None,
        source: str | None = None,
        limit: int = 50,
        offset: int = 0,
        entity: str | None = None,
    ) -> SuggestionPage:
        """See AutomationApi.list_suggestions."""
        params = {"status": status, "source": source, "entity": entity, "limit": limit, "offset": offset}
        return await self._client.call(
            "GET", "/api/v1/suggestions/", SuggestionPage, params=params, errors=ERRORS_BY_CODE
        )

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """See AutomationApi.get_suggestion."""
        return await self._client.call(
            "GET", f"/api/v1/suggestions/{_seg(suggestion_id)}", Suggestion, errors=ERRORS_BY_CODE
        )

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
            f"/api/v1/suggestions/{_seg(suggestion_id)}/approve",
            Suggestion,
            json=ReasonRequest(reason=reason),
            errors=ERRORS_BY_CODE,
            idempotent=True,
        )

    async def reject_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """See AutomationApi.reject_suggestion (idempotent)."""
        return await self._client.call(
            "POST",
            f"/api/v1/suggestions/{_seg(suggestion_id)}/reject",
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

    async def edit_suggestion(self, suggestion_id: str, request: EditSuggestionRequest) -> Suggestion:
        """See AutomationApi.edit_suggestion (retried: the same new YAML twice leaves the same suggestion)."""
        return await self._client.call(
            "PATCH",
            f"/api/v1/suggestions/{_seg(suggestion_id)}",
            Suggestion,
            json=request,
            errors=ERRORS_BY_CODE,
            idempotent=True,
        )

    async def validate(self, request: ValidateRequest) -> ValidationAnswer:
        """See AutomationApi.validate (retried: it changes nothing)."""
        return await self._client.call(
            "POST",
            "/api/v1/automations/validate",
            ValidationAnswer,
            json=request,
            errors=ERRORS_BY_CODE,
            idempotent=True,
        )

    async def audit(self) -> ValidationAnswer:
        """See AutomationApi.audit."""
        return await self._client.call("GET", "/api/v1/automations/audit", ValidationAnswer, errors=ERRORS_BY_CODE)

    async def list_automations(self) -> DeployedAutomationPage:
        """See AutomationApi.list_automations."""
        return await self._client.call("GET", "/api/v1/automations/", DeployedAutomationPage, errors=ERRORS_BY_CODE)

    async def get_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.get_automation."""
        return await self._client.call(
            "GET", f"/api/v1/automations/{_seg(automation_id)}", DeployedAutomation, errors=ERRORS_BY_CODE
        )

    async def _act(self, automation_id: str, action: str, *, idempotent: bool) -> DeployedAutomation:
        return await self._client.call(
            "POST",
            f"/api/v1/automations/{_seg(automation_id)}/{action}",
            DeployedAutomation,
            errors=ERRORS_BY_CODE,
            idempotent=idempotent,
        )

    async def enable_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.enable_automation (retried: turning on twice is turning on)."""
        return await self._act(automation_id, "enable", idempotent=True)

    async def disable_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.disable_automation (retried: turning off twice is turning off)."""
        return await self._act(automation_id, "disable", idempotent=True)

    async def trigger_automation(self, automation_id: str) -> DeployedAutomation:
        """See AutomationApi.trigger_automation (not retried: its actions would run twice)."""
        return await self._act(automation_id, "trigger", idempotent=False)

    async def rollback_automation(self, automation_id: str, version: int) -> DeployResult:
        """See AutomationApi.rollback_automation (not retried: a repeat would record another version)."""
        return await self._client.call(
            "POST",
            f"/api/v1/automations/{_seg(automation_id)}/rollback",
            DeployResult,
            json=RollbackRequest(version=version),
            errors=ERRORS_BY_CODE,
            idempotent=False,
        )

    async def delete_automation(self, automation_id: str) -> None:
        """See AutomationApi.delete_automation (retried: a repeat after a lost answer finds it gone, a 404)."""
        try:
            await self._client.request("DELETE", f"/api/v1/automations/{_seg(automation_id)}", idempotent=True)
        except PeerError as exc:
            declared = ERRORS_BY_CODE.get(exc.code)
            if declared is not None:
                raise declared(exc.message) from exc
            if exc.status_code == 404:
                raise NotFoundError(exc.message, code=exc.code) from exc
            raise BadRequestError(f"{exc.service}: {exc.message}", code=exc.code, details=exc.body) from exc

    async def list_deployments(self, limit: int = 50, offset: int = 0) -> DeploymentPage:
        """See AutomationApi.list_deployments."""
        return await self._client.call(
            "GET",
            "/api/v1/deployment/deployments",
            DeploymentPage,
            params={"limit": limit, "offset": offset},
            errors=ERRORS_BY_CODE,
        )


def _seg(value: str) -> str:
    """One path segment, quoted (an id with a slash stays one segment)."""
    return quote(value, safe="")


def http_api(client: ServiceClient) -> HttpAutomationApi:
    """Build the HTTP implementation for the composition root."""
    return HttpAutomationApi(client)
