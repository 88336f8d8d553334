"""ModuleSpec of the training module: router, in-process api, the run worker and start-up recovery."""

from __future__ import annotations

from homeiq_ai.kernel.modules import ModuleContext, ModuleSpec
from homeiq_ai.training.facade import LocalTrainingApi
from homeiq_ai.training.jobs import run_worker_job
from homeiq_ai.training.routes import build_router
from homeiq_ai.training.service import SyntheticHomeService, TrainingService


def _service(ctx: ModuleContext) -> TrainingService:
    """The one service of this process, shared by the router, the api facade and the worker."""
    return ctx.singleton("training.service", lambda: TrainingService(ctx.db))


async def _startup(ctx: ModuleContext) -> None:
    await _service(ctx).recover_stale_runs()


spec = ModuleSpec(
    name="training",
    requires=(),
    build_router=lambda ctx: build_router(_service(ctx), SyntheticHomeService(ctx.db, ctx.settings.data_dir)),
    build_local_api=lambda ctx: LocalTrainingApi(_service(ctx)),
    build_jobs=lambda ctx: [run_worker_job(_service(ctx))],
    on_startup=_startup,
)
