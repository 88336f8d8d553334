"""Public contract of the pattern module: the PatternApi Protocol, its DTOs and its errors.

Other modules import this file only. It depends on the standard library and msgspec alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol

import msgspec

__all__ = [
    "ERRORS_BY_CODE",
    "PATTERN_TYPES",
    "SYNERGY_TYPES",
    "AnalysisRequest",
    "AnalysisRun",
    "AnalysisRunNotFoundError",
    "AnalysisRunPage",
    "FeedbackRequest",
    "InvalidAnalysisWindowError",
    "InvalidFeedbackError",
    "InvalidFilterError",
    "Pattern",
    "PatternApi",
    "PatternError",
    "PatternNotFoundError",
    "PatternPage",
    "PatternQuery",
    "Synergy",
    "SynergyNotFoundError",
    "SynergyPage",
    "SynergyQuery",
]

PATTERN_TYPES = ("time_of_day", "co_occurrence", "sequence", "day_type", "duration", "anomaly", "first_last_of_day")
SYNERGY_TYPES = ("device_pair", "chain")
RunStatus = Literal["queued", "running", "completed", "failed"]


class Pattern(msgspec.Struct, kw_only=True):
    """A routine found in the home's history."""

    id: str
    pattern_type: str
    entity_ids: list[str]
    area_id: str | None = None
    description: str
    confidence: float
    quality: float
    occurrences: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    status: str = "active"
    feedback: str | None = None
    rating: float | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class PatternPage(msgspec.Struct, kw_only=True):
    """One page of patterns."""

    items: list[Pattern]
    total: int
    limit: int
    offset: int


class PatternQuery(msgspec.Struct, kw_only=True):
    """Filters for listing patterns."""

    pattern_type: str | None = None
    entity_id: str | None = None
    area_id: str | None = None
    min_confidence: float | None = None
    status: str | None = "active"
    limit: int = 50
    offset: int = 0


class Synergy(msgspec.Struct, kw_only=True):
    """Entities that could be linked by an automation (a pair, or a 3-/4-step chain)."""

    id: str
    synergy_type: str
    entity_ids: list[str]
    depth: int
    area_id: str | None = None
    score: float
    explanation: str
    covered_by_automation: bool = False
    status: str = "active"
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    feedback: str | None = None
    rating: float | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class SynergyPage(msgspec.Struct, kw_only=True):
    """One page of synergies."""

    items: list[Synergy]
    total: int
    limit: int
    offset: int


class SynergyQuery(msgspec.Struct, kw_only=True):
    """Filters for listing synergies."""

    synergy_type: str | None = None
    entity_id: str | None = None
    area_id: str | None = None
    min_score: float | None = None
    depth: int | None = None
    status: str | None = "active"
    include_covered: bool = False
    limit: int = 50
    offset: int = 0


class FeedbackRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person's word on a pattern or synergy: accept it, reject it, or rate it 1-5."""

    action: Literal["accept", "reject", "rate"]
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class AnalysisRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to analyse: `start`/`end`, or the last `days`; neither means the default window."""

    start: datetime | None = None
    end: datetime | None = None
    # 1..3650, declared in the schema; the service answers 400 invalid_analysis_window outside it
    days: Annotated[int, msgspec.Meta(extra_json_schema={"extra": {"minimum": 1, "maximum": 3650}})] | None = None


class AnalysisRun(msgspec.Struct, kw_only=True):
    """One analysis of the event history."""

    id: str
    status: RunStatus
    trigger: str
    requested_at: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    patterns_detected: int = 0
    synergies_detected: int = 0
    errors: list[str] = msgspec.field(default_factory=list)
    timings: dict[str, float] = msgspec.field(default_factory=dict)
    report: dict[str, Any] = msgspec.field(default_factory=dict)


class AnalysisRunPage(msgspec.Struct, kw_only=True):
    """One page of analysis runs, newest first."""

    items: list[AnalysisRun]
    total: int
    limit: int
    offset: int


class PatternError(Exception):
    """Base of the pattern module's declared errors; `code` and `http_status` travel over HTTP."""

    code: ClassVar[str] = "pattern_error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PatternNotFoundError(PatternError):
    """No pattern has that id."""

    code = "pattern_not_found"
    http_status = 404


class AnalysisRunNotFoundError(PatternError):
    """No analysis run has that id."""

    code = "analysis_run_not_found"
    http_status = 404


class InvalidAnalysisWindowError(PatternError):
    """The requested analysis window is not usable."""

    code = "invalid_analysis_window"
    http_status = 400


class SynergyNotFoundError(PatternError):
    """No synergy has that id."""

    code = "synergy_not_found"
    http_status = 404


class InvalidFeedbackError(PatternError):
    """The feedback does not make sense (a rating without a value, ...)."""

    code = "invalid_feedback"
    http_status = 400


class InvalidFilterError(PatternError):
    """A list filter has a value that cannot match anything."""

    code = "invalid_filter"
    http_status = 400


ERRORS_BY_CODE: dict[str, type[PatternError]] = {
    cls.code: cls
    for cls in (
        PatternNotFoundError,
        AnalysisRunNotFoundError,
        InvalidAnalysisWindowError,
        InvalidFilterError,
    )
}


class PatternApi(Protocol):
    """What other modules may ask of the pattern module, in-process or over HTTP alike."""

    async def list_patterns(self, query: PatternQuery) -> PatternPage:
        """List stored patterns matching the filters."""
        ...

    async def get_pattern(self, pattern_id: str) -> Pattern:
        """Return one pattern; raises PatternNotFoundError."""
        ...

    async def list_synergies(self, query: SynergyQuery) -> SynergyPage:
        """List stored synergies matching the filters."""
        ...

    async def get_synergy(self, synergy_id: str) -> Synergy:
        """Return one synergy; raises SynergyNotFoundError."""
        ...

    async def start_analysis(self, request: AnalysisRequest) -> AnalysisRun:
        """Queue an analysis run and return it; raises InvalidAnalysisWindowError."""
        ...

    async def get_analysis_run(self, run_id: str) -> AnalysisRun:
        """Return one analysis run; raises AnalysisRunNotFoundError."""
        ...
