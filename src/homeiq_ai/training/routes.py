"""HTTP routes of the training module: parse, call the service, return DTOs."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from homeiq_ai.training.api import (
    ActiveModelNotFoundError,
    ModelInfo,
    PairScoreRequest,
    PairScores,
    SyntheticHome,
    SyntheticHomeRequest,
    TrainingRequest,
    TrainingRun,
    TrainingRunPage,
    TrainingRunQuery,
)
from homeiq_ai.training.service import SyntheticHomeService, TrainingService

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, Parameter(ge=0, description="items to skip")]


class TrainingController(Controller):
    """Training runs: start one, follow it; and the models in use."""

    path = "/training"
    tags = ["training"]

    @get("/runs", summary="List training runs")
    async def list_runs(
        self,
        service: TrainingService,
        training_type: str | None = None,
        status: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TrainingRunPage:
        """Training runs, newest first, filtered by type and status."""
        return await service.list_runs(
            TrainingRunQuery(training_type=training_type, status=status, limit=limit, offset=offset)
        )

    @get("/runs/{run_id:str}", summary="One training run")
    async def get_run(self, service: TrainingService, run_id: str) -> TrainingRun:
        """Status (queued, running, completed, failed, cancelled), params, metrics and error of one run."""
        return await service.get_run(run_id)

    @get("/models/{model_type:str}/active", summary="The model in use for a type")
    async def get_active_model(self, service: TrainingService, model_type: str) -> ModelInfo:
        """The newest active model of a type; 404 `active_model_not_found` while none has been trained."""
        model = await service.get_active_model(model_type)
        if model is None:
            raise ActiveModelNotFoundError(f"no {model_type!r} model has been trained yet")
        return model

    @post("/models/{model_type:str}/score", status_code=HTTP_200_OK, summary="Score pairs with the active model")
    async def score_pairs(self, service: TrainingService, model_type: str, data: PairScoreRequest) -> PairScores:
        """Scores of entity pairs by a type's active model; 404 without one, 503 when it cannot be loaded."""
        return await service.score_pairs(model_type, [tuple(p) for p in data.pairs])

    @post("/{training_type:str}", status_code=HTTP_202_ACCEPTED, summary="Start a training run")
    async def start_run(
        self, service: TrainingService, training_type: str, data: TrainingRequest | None = None
    ) -> TrainingRun:
        """Queue a `gnn_synergy`, `home_type` or `soft_prompt` run; 202 with it, 409 while one is active."""
        return await service.start_run(training_type, data or TrainingRequest())


class SyntheticHomeController(Controller):
    """Synthetic homes with known ground truth, for measuring detectors and for demos."""

    path = "/training/synthetic"
    tags = ["training"]

    @post("/homes", status_code=HTTP_201_CREATED, summary="Generate a synthetic home")
    async def create_home(self, homes: SyntheticHomeService, data: SyntheticHomeRequest | None = None) -> SyntheticHome:
        """Generate a home and N days of its events with their ground truth; `load` stores them locally."""
        return await homes.create(data or SyntheticHomeRequest())


def build_router(service: TrainingService, homes: SyntheticHomeService) -> Router:
    """The module's router with its services bound for injection."""
    return Router(
        path="/api/v1",
        route_handlers=[TrainingController, SyntheticHomeController],
        dependencies={
            "service": Provide(lambda: service, sync_to_thread=False),
            "homes": Provide(lambda: homes, sync_to_thread=False),
        },
    )
