"""Scheduled jobs of the training module: the run worker."""

from __future__ import annotations

import logging

from homeiq_ai.kernel.modules import JobSpec
from homeiq_ai.training.service import TrainingService

log = logging.getLogger(__name__)

WORKER_INTERVAL_SECONDS = 10.0


def run_worker_job(service: TrainingService, seconds: float = WORKER_INTERVAL_SECONDS) -> JobSpec:
    """Every `seconds`, take the oldest queued training run to its end."""

    async def run() -> None:
        run = await service.run_next()
        if run is not None:
            log.info("training run %s (%s) ended %s", run.id, run.training_type, run.status)

    return JobSpec(id="training.run_worker", func=run, trigger="interval", seconds=seconds)
