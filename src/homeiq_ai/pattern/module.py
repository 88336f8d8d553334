"""ModuleSpec of the pattern module: router, in-process api, nightly job, start-up and shutdown."""

from __future__ import annotations

from collections.abc import Sequence

from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.sources import open_source
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.kernel.modules import ModuleContext, ModuleSpec
from homeiq_ai.pattern.analysis import AnalysisPipeline
from homeiq_ai.pattern.api import AnalysisRun
from homeiq_ai.pattern.detectors.registry import default_detectors
from homeiq_ai.pattern.facade import LocalPatternApi
from homeiq_ai.pattern.jobs import nightly_analysis_job
from homeiq_ai.pattern.routes import build_router
from homeiq_ai.pattern.service import PatternService
from homeiq_ai.pattern.synergies.automations import covered_pairs, fetch_automation_configs
from homeiq_ai.pattern.synergies.detect import detect_synergies
from homeiq_ai.training.api import TrainingApi

GNN_MODEL_TYPE = "gnn_synergy"


def _service(ctx: ModuleContext) -> PatternService:
    """The one service of this process, shared by the router, the api facade and the jobs."""
    return ctx.singleton("pattern.service", lambda: _build_service(ctx))


def _build_service(ctx: ModuleContext) -> PatternService:
    settings = ctx.settings
    training: TrainingApi = ctx.api("training")

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
        await ctx.mqtt.publish(ctx.mqtt.topic("analysis", "pattern", "complete"), payload, qos=1)

    async def existing_automation_pairs() -> set[tuple[str, str]]:
        client = HomeAssistantClient.from_settings(settings)
        if client is None:
            return set()
        async with client:
            return covered_pairs(await fetch_automation_configs(client))

    async def gnn_pair_scores(pairs: Sequence[tuple[str, str]]) -> tuple[dict[tuple[str, str], float], str | None]:
        model = await training.get_active_model(GNN_MODEL_TYPE)
        if model is None:
            return {}, None
        scores = await training.score_pairs(GNN_MODEL_TYPE, list(pairs))
        return dict(zip(pairs, scores, strict=True)), f"{model.model_type} {model.version}"

    pipeline = AnalysisPipeline(
        ctx.db,
        lambda: open_source(settings, ctx.db),
        default_detectors,
        detect_synergies,
        cache=ctx.cache,
        covered_pairs=existing_automation_pairs if settings.ha_url and settings.ha_token else None,
        pair_scores=gnn_pair_scores,
    )
    store = HomeStore(ctx.db) if settings.data_source == "local" else None
    return PatternService(
        ctx.db, pipeline=pipeline, store=store, notify=notify, default_days=settings.analysis_days
    )


async def _startup(ctx: ModuleContext) -> None:
    await _service(ctx).recover_unfinished_runs()


async def _shutdown(ctx: ModuleContext) -> None:
    await _service(ctx).close()


spec = ModuleSpec(
    name="pattern",
    requires=("training",),
    build_router=lambda ctx: build_router(_service(ctx)),
    build_local_api=lambda ctx: LocalPatternApi(_service(ctx)),
    build_jobs=lambda ctx: [nightly_analysis_job(_service(ctx), ctx.settings.analysis_schedule)],
    on_startup=_startup,
    on_shutdown=_shutdown,
)
