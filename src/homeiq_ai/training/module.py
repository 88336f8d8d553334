"""ModuleSpec of the training module: router, in-process api, the run worker and start-up recovery."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from homeiq_ai.kernel.homedata.routes import HomeTypeGuess
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.kernel.modules import ModuleContext, ModuleSpec
from homeiq_ai.training.api import ActiveModelNotFoundError, ModelUnavailableError
from homeiq_ai.training.facade import LocalTrainingApi
from homeiq_ai.training.jobs import run_worker_job
from homeiq_ai.training.ml.registry import ModelFiles
from homeiq_ai.training.ml.runtime import MlRuntime
from homeiq_ai.training.routes import build_router
from homeiq_ai.training.service import SyntheticDatasetService, SyntheticHomeService, TrainingService

log = logging.getLogger(__name__)


def _service(ctx: ModuleContext) -> TrainingService:
    """The one service of this process, shared by the router, the api facade and the worker."""
    return ctx.singleton("training.service", lambda: _build_service(ctx))


def _build_service(ctx: ModuleContext) -> TrainingService:
    settings = ctx.settings
    models_dir = settings.training_models_dir or settings.data_dir / "models"
    runtime = MlRuntime(
        HomeStore(ctx.db),
        ModelFiles(models_dir),
        threads=settings.training_torch_threads,
        history_days=settings.analysis_days,
        base_model=settings.soft_prompt_base_model,
        prompt_dataset=settings.soft_prompt_dataset,
    )
    return TrainingService(
        ctx.db,
        trainers=runtime.trainers(),
        validators=runtime.validators(),
        scorers={"gnn_synergy": runtime.score_gnn},
        home_type_predictor=runtime.predict_home_type,
        models_dir=models_dir,
        lease_seconds=settings.training_lease_seconds,
    )


def _home_type(ctx: ModuleContext) -> Callable[[], Awaitable[HomeTypeGuess | None]]:
    """For GET /api/v1/home: the active classifier's answer, or None (no model, or it cannot tell)."""

    async def guess() -> HomeTypeGuess | None:
        try:
            prediction = await _service(ctx).predict_home_type()
        except (ActiveModelNotFoundError, ModelUnavailableError) as exc:
            log.debug("no home type shown: %s", exc)
            return None
        return HomeTypeGuess(
            home_type=prediction.home_type,
            confidence=prediction.confidence,
            model=f"home_type {prediction.version}",
        )

    return guess


async def _startup(ctx: ModuleContext) -> None:
    await _service(ctx).recover_stale_runs()


async def _shutdown(ctx: ModuleContext) -> None:
    await _service(ctx).close()


spec = ModuleSpec(
    name="training",
    requires=(),
    build_router=lambda ctx: build_router(
        _service(ctx),
        SyntheticHomeService(ctx.db, ctx.settings.data_dir),
        SyntheticDatasetService(ctx.settings.data_dir),
    ),
    build_local_api=lambda ctx: LocalTrainingApi(_service(ctx)),
    build_jobs=lambda ctx: [run_worker_job(_service(ctx))],
    on_startup=_startup,
    on_shutdown=_shutdown,
    build_home_type=_home_type,
)
