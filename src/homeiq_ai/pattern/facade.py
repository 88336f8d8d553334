"""LocalPatternApi: the pattern api in-process, for modules loaded beside this one."""

from __future__ import annotations

from homeiq_ai.pattern.api import (
    AnalysisRequest,
    AnalysisRun,
    Pattern,
    PatternPage,
    PatternQuery,
    Synergy,
    SynergyPage,
    SynergyQuery,
)
from homeiq_ai.pattern.service import PatternService


class LocalPatternApi:
    """Implements PatternApi by calling the service; each call has its own session."""

    def __init__(self, service: PatternService) -> None:
        self._service = service

    async def list_patterns(self, query: PatternQuery) -> PatternPage:
        """See PatternApi.list_patterns."""
        return await self._service.list_patterns(query)

    async def get_pattern(self, pattern_id: str) -> Pattern:
        """See PatternApi.get_pattern."""
        return await self._service.get_pattern(pattern_id)

    async def list_synergies(self, query: SynergyQuery) -> SynergyPage:
        """See PatternApi.list_synergies."""
        return await self._service.list_synergies(query)

    async def get_synergy(self, synergy_id: str) -> Synergy:
        """See PatternApi.get_synergy."""
        return await self._service.get_synergy(synergy_id)

    async def start_analysis(self, request: AnalysisRequest) -> AnalysisRun:
        """See PatternApi.start_analysis."""
        return await self._service.start_analysis(request)

    async def get_analysis_run(self, run_id: str) -> AnalysisRun:
        """See PatternApi.get_analysis_run."""
        return await self._service.get_analysis_run(run_id)
