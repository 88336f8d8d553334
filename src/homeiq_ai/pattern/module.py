"""ModuleSpec of the pattern module: router, in-process api, jobs, start-up and shutdown."""

from __future__ import annotations

from homeiq_ai.kernel.modules import ModuleContext, ModuleSpec
from homeiq_ai.pattern.api import AnalysisRun
from homeiq_ai.pattern.facade import LocalPatternApi
from homeiq_ai.pattern.jobs import nightly_analysis_job
from homeiq_ai.pattern.routes import build_router
from homeiq_ai.pattern.service import PatternService


def _service(ctx: ModuleContext) -> PatternService:
    """The one service of this process, shared by the router, the api facade and the jobs."""
    return ctx.singleton("pattern.service", lambda: _build_service(ctx))


def _build_service(ctx: ModuleContext) -> PatternService:
    async def notify(run: AnalysisRun) -> None:
        payload = {
            "service": "pattern",
            "timestamp": (run.finished_at or run.requested_at).isoformat(),
            "run_id": run.id,
            "status": run.status,
            "patterns_detected": run.patterns_detected,
            "synergies_detected": run.synergies_detected,
            "duration_seconds": run.timings.get("total", 0.0),
            "errors": run.errors,
        }
        await ctx.mqtt.publish(ctx.mqtt.topic("analysis", "pattern", "complete"), payload)

    return PatternService(ctx.db, notify=notify)


async def _startup(ctx: ModuleContext) -> None:
    await _service(ctx).recover_unfinished_runs()


async def _shutdown(ctx: ModuleContext) -> None:
    await _service(ctx).close()


spec = ModuleSpec(
    name="pattern",
    requires=(),
    build_router=lambda ctx: build_router(_service(ctx)),
    build_local_api=lambda ctx: LocalPatternApi(_service(ctx)),
    build_jobs=lambda ctx: [nightly_analysis_job(_service(ctx))],
    on_startup=_startup,
    on_shutdown=_shutdown,
)
