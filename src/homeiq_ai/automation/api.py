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
    "AutomationNotFoundError",
    "AutomationVersion",
    "DeployInProgressError",
    "DeployRequest",
    "DeployResult",
    "DeployedAutomation",
    "DeployedAutomationPage",
    "Deployment",
    "DeploymentPage",
    "EditSuggestionRequest",
    "GenerateRequest",
    "GenerateResult",
    "HomeAssistantNotConfiguredError",
    "InvalidAutomationError",
    "InvalidSuggestionStateError",
    "ManualSuggestionRequest",
    "ReasonRequest",
    "RollbackRequest",
    "SourceNotReadyError",
    "Suggestion",
    "SuggestionNotFoundError",
    "SuggestionPage",
    "UnsafeAutomationError",
    "ValidateRequest",
    "ValidationAnswer",
    "ValidationConflict",
    "ValidationConflictRef",
    "ValidationErrorItem",
    "ValidationFinding",
    "ValidationResultItem",
    "ValidationSafety",
]

SuggestionSource = Literal["pattern", "synergy", "query", "manual"]
SuggestionStatus = Literal["proposed", "approved", "rejected", "deployed", "disabled", "rolled_back", "deleted"]


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
    automation: dict[str, Any] | None = None
    yaml: str | None = None
    evidence: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    safety: dict[str, Any] | None = None
    backtest: dict[str, Any] | None = None
    rank_score: float = 0.0
    """Confidence weighted by backtest agreement (confidence x (0.5 + 0.5 x agreement)): the inbox's order."""
    status_reason: str | None = None
    ha_automation_id: str | None = None
    entity_id: str | None = None
    automation_id: str | None = None
    """The deployed automation's id (for /api/v1/automations/{automation_id}) while it is in Home Assistant."""
    created_at: datetime
    updated_at: datetime


class ManualSuggestionRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A hand-written automation: YAML/JSON text, or the config as an object."""

    yaml: Annotated[str, msgspec.Meta(max_length=100_000)] | None = None
    automation: dict[str, Any] | None = None


class EditSuggestionRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """New YAML for a suggestion (validated again)."""

    yaml: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]


class ReasonRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An optional reason for an approval or a rejection."""

    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ValidateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One automation or a list, as YAML or JSON text."""

    yaml: Annotated[str, msgspec.Meta(min_length=1, max_length=200_000)]


class ValidationErrorItem(msgspec.Struct, kw_only=True):
    """Why an automation is not valid: where (`action[0].target.entity_id`) and what; `line` for YAML text."""

    path: str
    message: str
    line: int | None = None


class ValidationFinding(msgspec.Struct, kw_only=True):
    """One safety rule that matched."""

    rule: str
    severity: Literal["info", "warning", "critical"]
    message: str
    path: str = ""


class ValidationSafety(msgspec.Struct, kw_only=True):
    """A score 0..100 (100: nothing found) and the findings."""

    score: int
    findings: list[ValidationFinding] = msgspec.field(default_factory=list)


class ValidationResultItem(msgspec.Struct, kw_only=True):
    """The verdict on one automation of the list."""

    alias: str
    valid: bool
    errors: list[ValidationErrorItem]
    safety: ValidationSafety
    id: str | None = None


class ValidationConflictRef(msgspec.Struct, kw_only=True):
    """An automation in a conflict: `checked` (of the list, at `index`) or `existing` (in Home Assistant)."""

    alias: str
    id: str | None
    source: Literal["checked", "existing"]
    index: int


class ValidationConflict(msgspec.Struct, kw_only=True):
    """Automations that fight: the same entity driven both ways, near-duplicates, or a loop."""

    kind: Literal["opposite_states", "duplicate", "loop"]
    message: str
    entity_ids: list[str]
    automations: list[ValidationConflictRef]


class ValidationAnswer(msgspec.Struct, kw_only=True):
    """Results in the order of the input, and the conflicts across the whole set (Home Assistant's too)."""

    results: list[ValidationResultItem]
    conflicts: list[ValidationConflict]


class RollbackRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which earlier version to deploy again."""

    version: Annotated[int, msgspec.Meta(ge=1)]


class AutomationVersion(msgspec.Struct, kw_only=True):
    """One deployed version: its YAML, the diff from the previous one, who and when."""

    version: int
    yaml: str | None
    diff: str | None
    actor: str | None
    note: str | None
    deployed_at: datetime


class DeployedAutomation(msgspec.Struct, kw_only=True):
    """An automation this project deployed to Home Assistant."""

    automation_id: str
    ha_automation_id: str
    entity_id: str | None
    status: str
    alias: str
    version: int
    versions: list[AutomationVersion] = msgspec.field(default_factory=list)


class DeployedAutomationPage(msgspec.Struct, kw_only=True):
    """Deployed automations."""

    items: list[DeployedAutomation]
    total: int


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

    source: Literal["patterns", "synergies", "query"] = "patterns"
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
    override: bool = False
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class DeployResult(msgspec.Struct, kw_only=True):
    """What a deploy did in Home Assistant."""

    automation_id: str
    ha_automation_id: str
    entity_id: str | None
    version: int


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


class InvalidAutomationError(AutomationError):
    """The automation text or config is not a valid automation."""

    code = "invalid_automation"
    http_status = 400


class UnsafeAutomationError(AutomationError):
    """A critical safety finding: deploying needs an explicit override with a reason."""

    code = "unsafe_automation"
    http_status = 409


class AutomationNotFoundError(AutomationError):
    """No deployed automation has that id, or no version that number."""

    code = "automation_not_found"
    http_status = 404


class DeployInProgressError(AutomationError):
    """Another process is deploying this suggestion right now."""

    code = "deploy_in_progress"
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
        InvalidAutomationError,
        UnsafeAutomationError,
        AutomationNotFoundError,
        DeployInProgressError,
    )
}


class AutomationApi(Protocol):
    """What other processes may ask of the automation module."""

    async def list_suggestions(
        self,
        status: str | None = None,
        source: str | None = None,
        limit: int = 50,
        offset: int = 0,
        entity: str | None = None,
    ) -> SuggestionPage:
        """List suggestions, newest first; `entity` keeps those that involve that entity id."""
        ...

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """Return one suggestion; raises SuggestionNotFoundError."""
        ...

    async def generate_suggestions(self, request: GenerateRequest) -> GenerateResult:
        """Create suggestions from patterns or from a query."""
        ...

    async def approve_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """Approve a proposed suggestion."""
        ...

    async def reject_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """Reject a proposed suggestion; it stays rejected unless its evidence clearly grows."""
        ...

    async def create_suggestion(self, request: ManualSuggestionRequest) -> Suggestion:
        """Store a hand-written automation as a suggestion (source manual); raises InvalidAutomationError."""
        ...

    async def deploy(self, request: DeployRequest) -> DeployResult:
        """Deploy an approved suggestion to Home Assistant."""
        ...

    async def edit_suggestion(self, suggestion_id: str, request: EditSuggestionRequest) -> Suggestion:
        """Replace a suggestion's automation with new YAML (validated again); raises InvalidAutomationError."""
        ...

    async def validate(self, request: ValidateRequest) -> ValidationAnswer:
        """Structure, entities and services, safety and conflicts of one automation or a list; changes nothing."""
        ...

    async def audit(self) -> ValidationAnswer:
        """The same checks over every automation Home Assistant has."""
        ...

    async def list_automations(self) -> DeployedAutomationPage:
        """Automations this project deployed (deleted ones left out)."""
        ...

    async def get_automation(self, automation_id: str) -> DeployedAutomation:
        """One deployed automation with every version (YAML, diff, who, when); raises AutomationNotFoundError."""
        ...

    async def enable_automation(self, automation_id: str) -> DeployedAutomation:
        """Turn it on in Home Assistant (enabling an enabled one changes nothing)."""
        ...

    async def disable_automation(self, automation_id: str) -> DeployedAutomation:
        """Turn it off in Home Assistant (disabling a disabled one changes nothing)."""
        ...

    async def trigger_automation(self, automation_id: str) -> DeployedAutomation:
        """Run its actions now in Home Assistant."""
        ...

    async def rollback_automation(self, automation_id: str, version: int) -> DeployResult:
        """Deploy version `version` again, recorded as a new version; raises AutomationNotFoundError."""
        ...

    async def delete_automation(self, automation_id: str) -> None:
        """Remove it from Home Assistant; its versions stay."""
        ...

    async def list_deployments(self, limit: int = 50, offset: int = 0) -> DeploymentPage:
        """Deployments (versions sent to Home Assistant), newest first."""
        ...
