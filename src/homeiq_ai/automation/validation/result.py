"""Plain result records of validation: errors, safety findings, conflicts (the REST answer's shape)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["AutomationRef", "AutomationResult", "Conflict", "ErrorItem", "Finding", "SafetyReport", "ValidationReport"]

Severity = Literal["info", "warning", "critical"]


@dataclass(slots=True)
class ErrorItem:
    """Why an automation is not valid: where (`action[0].target.entity_id`) and what; `line` for YAML text."""

    path: str
    message: str
    line: int | None = None


@dataclass(slots=True)
class Finding:
    """One safety rule that matched."""

    rule: str
    severity: Severity
    message: str
    path: str = ""


@dataclass(slots=True)
class SafetyReport:
    """A score 0..100 (100: nothing found) and the findings."""

    score: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def critical(self) -> bool:
        """Any critical finding (such an automation cannot be deployed without an explicit override)."""
        return any(f.severity == "critical" for f in self.findings)


@dataclass(slots=True)
class AutomationResult:
    """The verdict on one automation."""

    alias: str
    valid: bool
    errors: list[ErrorItem]
    safety: SafetyReport
    id: str | None = None


@dataclass(slots=True)
class AutomationRef:
    """Names an automation in a conflict: `source` "checked" (of the list) or "existing" (in Home Assistant)."""

    alias: str
    id: str | None
    source: Literal["checked", "existing"]
    index: int


@dataclass(slots=True)
class Conflict:
    """Two or more automations that fight: `kind` opposite_states | duplicate | loop."""

    kind: Literal["opposite_states", "duplicate", "loop"]
    message: str
    entity_ids: list[str]
    automations: list[AutomationRef]


@dataclass(slots=True)
class ValidationReport:
    """Results in the order of the input, and the conflicts across the whole set."""

    results: list[AutomationResult]
    conflicts: list[Conflict]

    @property
    def valid(self) -> bool:
        """Every automation is valid."""
        return all(r.valid for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of POST /api/v1/automations/validate."""
        return asdict(self)
