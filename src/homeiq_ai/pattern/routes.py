"""HTTP routes of the pattern module: parse, call the service, return DTOs."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from homeiq_ai.pattern.api import (
    PATTERN_TYPES,
    SYNERGY_TYPES,
    AnalysisRequest,
    AnalysisRun,
    AnalysisRunPage,
    FeedbackRequest,
    Pattern,
    PatternPage,
    PatternQuery,
    Synergy,
    SynergyPage,
    SynergyQuery,
)
from homeiq_ai.pattern.service import PatternService

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="items to skip")]
Status = Literal["active", "inactive", "rejected", "all"]
# Declared as enums in the schema; the service checks them and answers 400 invalid_filter naming the field.
PatternType = Annotated[
    str, Parameter(description="one of the pattern types", schema_extra={"enum": list(PATTERN_TYPES)})
]
SynergyType = Annotated[
    str, Parameter(description="one of the synergy types", schema_extra={"enum": list(SYNERGY_TYPES)})
]


class PatternController(Controller):
    """Patterns and synergies stored by the analyses."""

    tags = ["pattern"]

    @get("/patterns", summary="List detected patterns")
    async def list_patterns(
        self,
        service: PatternService,
        pattern_type: PatternType | None = None,
        entity_id: str | None = None,
        area_id: str | None = None,
        min_confidence: Annotated[float | None, Parameter(ge=0.0, le=1.0)] = None,
        status: Status = "active",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PatternPage:
        """Patterns, best quality first, by type, entity, area, confidence and status (rejected ones are hidden)."""
        return await service.list_patterns(
            PatternQuery(
                pattern_type=pattern_type,
                entity_id=entity_id,
                area_id=area_id,
                min_confidence=min_confidence,
                status=None if status == "all" else status,
                limit=limit,
                offset=offset,
            )
        )

    @get("/patterns/{pattern_id:str}", summary="One pattern")
    async def get_pattern(self, service: PatternService, pattern_id: str) -> Pattern:
        """One pattern with its evidence."""
        return await service.get_pattern(pattern_id)

    @get("/synergies", summary="List synergies")
    async def list_synergies(
        self,
        service: PatternService,
        synergy_type: SynergyType | None = None,
        entity_id: str | None = None,
        area_id: str | None = None,
        min_score: Annotated[float | None, Parameter(ge=0.0, le=1.0)] = None,
        depth: Annotated[int | None, Parameter(ge=2, le=4)] = None,
        status: Status = "active",
        include_covered: bool = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SynergyPage:
        """Synergies, best score first, filtered by type, entity, area, score and chain depth."""
        return await service.list_synergies(
            SynergyQuery(
                synergy_type=synergy_type,
                entity_id=entity_id,
                area_id=area_id,
                min_score=min_score,
                depth=depth,
                status=None if status == "all" else status,
                include_covered=include_covered,
                limit=limit,
                offset=offset,
            )
        )

    @get("/synergies/{synergy_id:str}", summary="One synergy")
    async def get_synergy(self, service: PatternService, synergy_id: str) -> Synergy:
        """One synergy with its explanation and evidence."""
        return await service.get_synergy(synergy_id)

    @post("/patterns/{pattern_id:str}/feedback", status_code=HTTP_200_OK, summary="Feedback on a pattern")
    async def pattern_feedback(self, service: PatternService, pattern_id: str, data: FeedbackRequest) -> Pattern:
        """Accept, reject or rate (1-5) a pattern; a rejected one stays hidden unless its evidence grows clearly."""
        return await service.pattern_feedback(pattern_id, data)

    @post("/synergies/{synergy_id:str}/feedback", status_code=HTTP_200_OK, summary="Feedback on a synergy")
    async def synergy_feedback(self, service: PatternService, synergy_id: str, data: FeedbackRequest) -> Synergy:
        """Accept, reject or rate (1-5) a synergy; a rejected one is not suggested again unless much stronger."""
        return await service.synergy_feedback(synergy_id, data)


class AnalysisController(Controller):
    """Analysis runs: start one, follow it."""

    path = "/analysis"
    tags = ["pattern"]

    @post("/run", status_code=HTTP_202_ACCEPTED, summary="Start an analysis")
    async def run_analysis(self, service: PatternService, data: AnalysisRequest | None = None) -> AnalysisRun:
        """Queue an analysis of `start`..`end`, the last `days`, or the default window; 202 with its run."""
        return await service.start_analysis(data or AnalysisRequest())

    @get("/runs", summary="List analysis runs")
    async def list_runs(self, service: PatternService, limit: Limit = 20, offset: Offset = 0) -> AnalysisRunPage:
        """Analysis runs, newest first."""
        return await service.list_analysis_runs(limit, offset)

    @get("/runs/{run_id:str}", summary="One analysis run")
    async def get_run(self, service: PatternService, run_id: str) -> AnalysisRun:
        """Status (queued, running, completed, failed), counts, timings and errors of one run."""
        return await service.get_analysis_run(run_id)


def build_router(service: PatternService) -> Router:
    """The module's router with its service bound for injection."""
    return Router(
        path="/api/v1",
        route_handlers=[PatternController, AnalysisController],
        dependencies={"service": Provide(lambda: service, sync_to_thread=False)},
    )
