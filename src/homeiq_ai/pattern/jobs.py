"""Scheduled jobs of the pattern module: the nightly analysis."""

from __future__ import annotations

import logging

from homeiq_ai.kernel.modules import JobSpec
from homeiq_ai.pattern.api import AnalysisRequest
from homeiq_ai.pattern.service import PatternService

log = logging.getLogger(__name__)

NIGHTLY_CRON = "0 3 * * *"


def nightly_analysis_job(service: PatternService, cron: str = NIGHTLY_CRON) -> JobSpec:
    """The nightly analysis over the default window, in the home's time zone."""

    async def run() -> None:
        run = await service.start_analysis(AnalysisRequest(), trigger="schedule")
        log.info("nightly analysis %s queued", run.id)

    return JobSpec(id="pattern.nightly_analysis", func=run, trigger="cron", cron=cron)
