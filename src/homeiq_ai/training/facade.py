"""LocalTrainingApi: the training api in-process, for modules loaded beside this one."""

from __future__ import annotations

from homeiq_ai.training.api import (
    HomeTypePrediction,
    ModelInfo,
    ModelList,
    TrainingRequest,
    TrainingRun,
    TrainingRunPage,
    TrainingRunQuery,
)
from homeiq_ai.training.service import TrainingService


class LocalTrainingApi:
    """Implements TrainingApi by calling the service; each call has its own session."""

    def __init__(self, service: TrainingService) -> None:
        self._service = service

    async def list_runs(self, query: TrainingRunQuery) -> TrainingRunPage:
        """See TrainingApi.list_runs."""
        return await self._service.list_runs(query)

    async def get_run(self, run_id: str) -> TrainingRun:
        """See TrainingApi.get_run."""
        return await self._service.get_run(run_id)

    async def start_run(self, training_type: str, request: TrainingRequest) -> TrainingRun:
        """See TrainingApi.start_run."""
        return await self._service.start_run(training_type, request)

    async def get_active_model(self, model_type: str) -> ModelInfo | None:
        """See TrainingApi.get_active_model."""
        return await self._service.get_active_model(model_type)

    async def score_pairs(self, model_type: str, pairs: list[tuple[str, str]]) -> list[float]:
        """See TrainingApi.score_pairs."""
        return (await self._service.score_pairs(model_type, pairs)).scores

    async def cancel_run(self, run_id: str) -> TrainingRun:
        """See TrainingApi.cancel_run."""
        return await self._service.cancel_run(run_id)

    async def list_models(self, model_type: str | None = None) -> ModelList:
        """See TrainingApi.list_models."""
        return await self._service.list_models(model_type)

    async def activate_model(self, model_type: str, version: str) -> ModelInfo:
        """See TrainingApi.activate_model."""
        return await self._service.activate_model(model_type, version)

    async def predict_home_type(self) -> HomeTypePrediction:
        """See TrainingApi.predict_home_type."""
        return await self._service.predict_home_type()
