"""HttpPatternApi: the pattern api over HTTP, for modules running in another process."""

from __future__ import annotations

import msgspec

from homeiq_ai.kernel.service_client import ServiceClient
from homeiq_ai.pattern.api import (
    ERRORS_BY_CODE,
    AnalysisRequest,
    AnalysisRun,
    Pattern,
    PatternPage,
    PatternQuery,
    Synergy,
    SynergyPage,
    SynergyQuery,
)


def _params(query: msgspec.Struct) -> dict[str, object]:
    params = msgspec.structs.asdict(query)
    if "status" in params and params["status"] is None:
        params["status"] = "all"  # None means every status in-process; the route spells it "all"
    return {k: v for k, v in params.items() if v is not None}


class HttpPatternApi:
    """Implements PatternApi against the pattern service's routes."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def list_patterns(self, query: PatternQuery) -> PatternPage:
        """See PatternApi.list_patterns."""
        return await self._client.call(
            "GET", "/api/v1/patterns", PatternPage, params=_params(query), errors=ERRORS_BY_CODE
        )

    async def get_pattern(self, pattern_id: str) -> Pattern:
        """See PatternApi.get_pattern."""
        return await self._client.call(
            "GET", f"/api/v1/patterns/{pattern_id}", Pattern, errors=ERRORS_BY_CODE
        )

    async def list_synergies(self, query: SynergyQuery) -> SynergyPage:
        """See PatternApi.list_synergies."""
        return await self._client.call(
            "GET", "/api/v1/synergies", SynergyPage, params=_params(query), errors=ERRORS_BY_CODE
        )

    async def get_synergy(self, synergy_id: str) -> Synergy:
        """See PatternApi.get_synergy."""
        return await self._client.call("GET", f"/api/v1/synergies/{synergy_id}", Synergy, errors=ERRORS_BY_CODE)

    async def start_analysis(self, request: AnalysisRequest) -> AnalysisRun:
        """See PatternApi.start_analysis."""
        return await self._client.call(
            "POST", "/api/v1/analysis/run", AnalysisRun, json=request, errors=ERRORS_BY_CODE
        )

    async def get_analysis_run(self, run_id: str) -> AnalysisRun:
        """See PatternApi.get_analysis_run."""
        return await self._client.call(
            "GET", f"/api/v1/analysis/runs/{run_id}", AnalysisRun, errors=ERRORS_BY_CODE
        )


def http_api(client: ServiceClient) -> HttpPatternApi:
    """Build the HTTP implementation for the composition root."""
    return HttpPatternApi(client)
