"""Public contract of the automation module: the AutomationApi Protocol, its DTOs and its errors.

Other modules import this file only. It depends on the standard library and msgspec alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol

import msgspec

__all__ = [
    "ERRORS_BY_CODE",
    "AutomationApi",
    "AutomationError",
    "DeployRequest",
    "Deployment",
    "DeploymentPage",
    "GenerateRequest",
    "GenerateResult",
    "HomeAssistantNotConfiguredError",
    "InvalidSuggestionStateError",
    "SourceNotReadyError",
    "Suggestion",
    "SuggestionNotFoundError",
    "SuggestionPage",
]

SuggestionSource = Literal["pattern", "synergy", "query"]
SuggestionStatus = Literal["proposed", "approved", "rejected", "deployed"]


class Suggestion(msgspec.Struct, kw_only=True):
    """A proposed automation and where it came from."""

    id: str
    source: SuggestionSource
    source_id: str
    title: str
    description: str
    status: SuggestionStatus
    confidence: float
    entity_ids: list[str] = msgspec.field(default_factory=list)
    config: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class SuggestionPage(msgspec.Struct, kw_only=True):
    """One page of suggestions."""

    items: list[Suggestion]
    total: int
    limit: int
    offset: int


class GenerateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which source to turn into suggestions.

    `patterns` reads stored patterns from the pattern module; `query` reads one query (and its
    suggestions) from the query module and needs `query_id`.
    """

    source: Literal["patterns", "query"] = "patterns"
    query_id: str | None = None
    min_confidence: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20


class GenerateResult(msgspec.Struct, kw_only=True):
    """Suggestions created by one generate call, and how many sources already had one."""

    created: list[Suggestion]
    already_suggested: int


class DeployRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which approved suggestion to deploy to Home Assistant."""

    suggestion_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Deployment(msgspec.Struct, kw_only=True):
    """One version of an automation sent to Home Assistant."""

    id: str
    suggestion_id: str
    ha_automation_id: str
    version: int
    status: str
    deployed_at: datetime
    error: str | None = None


class DeploymentPage(msgspec.Struct, kw_only=True):
    """One page of deployments, newest first."""

    items: list[Deployment]
    total: int
    limit: int
    offset: int


class AutomationError(Exception):
    """Base of the automation module's declared errors; `code` and `http_status` travel over HTTP."""

    code: ClassVar[str] = "automation_error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SuggestionNotFoundError(AutomationError):
    """No suggestion has that id."""

    code = "suggestion_not_found"
    http_status = 404


class InvalidSuggestionStateError(AutomationError):
    """The suggestion's status does not allow the operation."""

    code = "invalid_suggestion_state"
    http_status = 409


class SourceNotReadyError(AutomationError):
    """The source (a query without a plan, say) cannot become a suggestion yet."""

    code = "source_not_ready"
    http_status = 409


class HomeAssistantNotConfiguredError(AutomationError):
    """Deployment needs HA_URL and HA_TOKEN."""

    code = "home_assistant_not_configured"
    http_status = 503


ERRORS_BY_CODE: dict[str, type[AutomationError]] = {
    cls.code: cls
    for cls in (
        SuggestionNotFoundError,
        InvalidSuggestionStateError,
        SourceNotReadyError,
        HomeAssistantNotConfiguredError,
    )
}


class AutomationApi(Protocol):
    """What other processes may ask of the automation module."""

    async def list_suggestions(
        self, status: str | None = None, source: str | None = None, limit: int = 50, offset: int = 0
    ) -> SuggestionPage:
        """List suggestions, newest first."""
        ...

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """Return one suggestion; raises SuggestionNotFoundError."""
        ...

    async def generate_suggestions(self, request: GenerateRequest) -> GenerateResult:
        """Create suggestions from patterns or from a query."""
        ...

    async def approve_suggestion(self, suggestion_id: str) -> Suggestion:
        """Approve a proposed suggestion."""
        ...
