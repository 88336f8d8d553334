"""HTTP routes of the training module: parse, call the service, return DTOs."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from homeiq_ai.kernel.errors import BadRequestError
from homeiq_ai.kernel.openapi import errors
from homeiq_ai.training.api import (
    RUN_STATUSES,
    TRAINING_TYPES,
    ActivateModelRequest,
    ActiveModelNotFoundError,
    HomeTypePrediction,
    ModelInfo,
    ModelList,
    PairScoreRequest,
    PairScores,
    SyntheticDataset,
    SyntheticDatasetList,
    SyntheticDatasetRequest,
    SyntheticHome,
    SyntheticHomeRequest,
    TrainingRequest,
    TrainingRun,
    TrainingRunPage,
    TrainingRunQuery,
)
from homeiq_ai.training.service import SyntheticDatasetService, SyntheticHomeService, TrainingService

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="items to skip")]
# Declared as enums in the schema; the service checks them and answers 400/404 with its own code.
TrainingType = Annotated[str, Parameter(description="a training type", schema_extra={"enum": list(TRAINING_TYPES)})]
RunStatus = Annotated[str, Parameter(description="a run status", schema_extra={"enum": list(RUN_STATUSES)})]


class TrainingController(Controller):
    """Training runs: start one, follow it; and the models in use."""

    path = "/training"
    tags = ["training"]

    @get("/runs", summary="List training runs")
    async def list_runs(
        self,
        service: TrainingService,
        training_type: TrainingType | None = None,
        status: RunStatus | None = None,
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

    @post("/runs/{run_id:str}/cancel", status_code=HTTP_200_OK, summary="Cancel a training run")
    async def cancel_run(self, service: TrainingService, run_id: str) -> TrainingRun:
        """A queued run ends `cancelled` at once; a running one stops at its next epoch (no model kept).

        409 `training_run_finished` when it has already ended.
        """
        return await service.cancel_run(run_id)

    @get("/models", summary="List trained models")
    async def list_models(self, service: TrainingService, model_type: TrainingType | None = None) -> ModelList:
        """Every stored model, newest first: held-out metrics, params, data seeds and hash, active, available."""
        if model_type is not None and model_type not in TRAINING_TYPES:
            # a filter, not an address: an unknown value is a bad request (400), not a missing resource
            raise BadRequestError(
                f"model_type must be one of {', '.join(TRAINING_TYPES)}, got {model_type!r}",
                code="invalid_filter",
                details=[{"field": "model_type", "source": "query", "message": "not a training type"}],
            )
        return await service.list_models(model_type)

    @post("/models/{model_type:str}/activate", status_code=HTTP_200_OK, summary="Put a model version in use")
    async def activate_model(self, service: TrainingService, model_type: str, data: ActivateModelRequest) -> ModelInfo:
        """Switch the type's active model to `version` (e.g. back to an older one); 404 without it, 503 when broken."""
        return await service.activate_model(model_type, data.version)

    @get("/predictions/home_type", summary="The stored home's type by the active classifier", responses=errors(404))
    async def predict_home_type(self, service: TrainingService) -> HomeTypePrediction:
        """Predicted home type and confidence; 404 while no home_type model is active."""
        return await service.predict_home_type()

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
        """Queue a `gnn_synergy`, `home_type` or `soft_prompt` run; 202 with it, 409 while one is active.

        404 `unknown_training_type` (listing the known ones) for another type; 400 `invalid_training_params`
        for params its trainer does not know or accept.
        """
        return await service.start_run(training_type, data or TrainingRequest())


class SyntheticHomeController(Controller):
    """Synthetic homes with known ground truth, for measuring detectors and for demos."""

    path = "/training/synthetic"
    tags = ["training"]

    @post("/homes", status_code=HTTP_201_CREATED, summary="Generate a synthetic home")
    async def create_home(self, homes: SyntheticHomeService, data: SyntheticHomeRequest | None = None) -> SyntheticHome:
        """Generate a home and N days of its events with their ground truth; `load` stores them locally."""
        return await homes.create(data or SyntheticHomeRequest())

    @post("/datasets", status_code=HTTP_201_CREATED, summary="Generate a synthetic dataset")
    async def create_dataset(
        self, datasets: SyntheticDatasetService, data: SyntheticDatasetRequest
    ) -> SyntheticDataset:
        """Weather, calendar, occupancy or a whole home's events as JSON Lines; the same values give the same rows."""
        return await datasets.create(data)

    @get("/datasets", summary="List synthetic datasets")
    async def list_datasets(self, datasets: SyntheticDatasetService) -> SyntheticDatasetList:
        """Stored datasets, newest first, with their parameters, row count and checksum."""
        return await datasets.list()

    @get(
        "/datasets/{dataset_id:str}/download", summary="Download a synthetic dataset", media_type="application/x-ndjson"
    )
    async def download_dataset(self, datasets: SyntheticDatasetService, dataset_id: str) -> File:
        """The dataset's JSON Lines file; 404 `synthetic_dataset_not_found` for an unknown id."""
        path = datasets.file(dataset_id)
        return File(path=path, filename=path.name, media_type="application/x-ndjson")


def build_router(
    service: TrainingService, homes: SyntheticHomeService, datasets: SyntheticDatasetService | None = None
) -> Router:
    """The module's router with its services bound for injection."""
    return Router(
        path="/api/v1",
        route_handlers=[TrainingController, SyntheticHomeController],
        dependencies={
            "service": Provide(lambda: service, sync_to_thread=False),
            "homes": Provide(lambda: homes, sync_to_thread=False),
            "datasets": Provide(lambda: datasets, sync_to_thread=False),
        },
    )
