"""APScheduler 3.x running in the app's event loop, holding only the jobs of loaded modules."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from homeiq_ai.kernel.modules import JobSpec

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    """Starts with the app's lifespan; cron lines are read in the home's time zone."""

    def __init__(self, time_zone: str, *, enabled: bool = True) -> None:
        self.time_zone = time_zone
        self.enabled = enabled
        self._scheduler = AsyncIOScheduler(
            timezone=time_zone,
            # A job missed while the process was down runs once, not once per missed slot.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self._specs: dict[str, JobSpec] = {}

    def add_jobs(self, jobs: Iterable[JobSpec]) -> None:
        """Register jobs; a cron line that does not parse raises ValueError naming the job."""
        for job in jobs:
            if job.id in self._specs:
                raise ValueError(f"job {job.id!r} is registered twice")
            if job.trigger == "cron":
                if not job.cron:
                    raise ValueError(f"job {job.id!r}: a cron trigger needs a crontab line")
                try:
                    trigger = CronTrigger.from_crontab(job.cron, timezone=self.time_zone)
                except ValueError as exc:
                    raise ValueError(f"job {job.id!r}: bad crontab line {job.cron!r}: {exc}") from None
            else:
                if not job.seconds or job.seconds <= 0:
                    raise ValueError(f"job {job.id!r}: an interval trigger needs seconds > 0")
                trigger = IntervalTrigger(seconds=job.seconds, timezone=self.time_zone)
            extra: dict[str, Any] = {}
            if job.run_at_start:
                extra["next_run_time"] = datetime.now(ZoneInfo(self.time_zone))
            self._scheduler.add_job(job.func, trigger=trigger, id=job.id, name=job.id, replace_existing=True, **extra)
            self._specs[job.id] = job

    @property
    def job_ids(self) -> list[str]:
        """Ids of the registered jobs."""
        return sorted(self._specs)

    def next_run_times(self) -> dict[str, str | None]:
        """Next run of each job as ISO-8601 in the home's time zone (None while stopped)."""
        out: dict[str, str | None] = {}
        for job in self._scheduler.get_jobs():
            nxt = getattr(job, "next_run_time", None)
            out[job.id] = nxt.isoformat() if nxt else None
        return out

    def start(self) -> None:
        """Start running jobs (inside a running event loop); no-op when disabled."""
        if not self.enabled:
            log.info("scheduler disabled (SCHEDULER_ENABLED=false); jobs registered: %s", self.job_ids)
            return
        self._scheduler.start()
        log.info("scheduler started in %s with jobs: %s", self.time_zone, self.job_ids)

    @property
    def running(self) -> bool:
        """Whether jobs are being run."""
        return bool(self._scheduler.running)

    def shutdown(self) -> None:
        """Stop without waiting for running jobs to finish their current step."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
