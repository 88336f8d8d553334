"""HttpTrainingApi: the training api over HTTP, for modules running in another process."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec

from homeiq_ai.kernel.errors import UpstreamError
from homeiq_ai.kernel.service_client import ServiceClient
from homeiq_ai.training.api import (
    ERRORS_BY_CODE,
    ActivateModelRequest,
    ActiveModelNotFoundError,
    HomeTypePrediction,
    ModelInfo,
    ModelList,
    PairScoreRequest,
    PairScores,
    TrainingRequest,
    TrainingRun,
    TrainingRunPage,
    TrainingRunQuery,
)


def _params(query: msgspec.Struct) -> dict[str, object]:
    return {k: v for k, v in msgspec.structs.asdict(query).items() if v is not None}


def _segment(value: str) -> str:
    # An id or type typed by a person must stay one path segment.
    return quote(value, safe="")


async def _declared_5xx(call: Any) -> Any:
    """Await a call; a 5xx whose body names a declared error (503 model_unavailable) raises that error."""
    try:
        return await call
    except UpstreamError as exc:
        body = (exc.details or {}).get("body") if isinstance(exc.details, dict) else None
        declared = ERRORS_BY_CODE.get(body.get("code")) if isinstance(body, dict) else None
        if declared is not None:
            raise declared(str(body.get("message") or exc)) from exc
        raise


class HttpTrainingApi:
    """Implements TrainingApi against the training service's routes."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def list_runs(self, query: TrainingRunQuery) -> TrainingRunPage:
        """See TrainingApi.list_runs."""
        return await self._client.call(
            "GET", "/api/v1/training/runs", TrainingRunPage, params=_params(query), errors=ERRORS_BY_CODE
        )

    async def get_run(self, run_id: str) -> TrainingRun:
        """See TrainingApi.get_run."""
        return await self._client.call(
            "GET", f"/api/v1/training/runs/{_segment(run_id)}", TrainingRun, errors=ERRORS_BY_CODE
        )

    async def start_run(self, training_type: str, request: TrainingRequest) -> TrainingRun:
        """See TrainingApi.start_run."""
        return await self._client.call(
            "POST",
            f"/api/v1/training/{_segment(training_type)}",
            TrainingRun,
            json=request,
            errors=ERRORS_BY_CODE,
        )

    async def get_active_model(self, model_type: str) -> ModelInfo | None:
        """See TrainingApi.get_active_model."""
        try:
            return await self._client.call(
                "GET",
                f"/api/v1/training/models/{_segment(model_type)}/active",
                ModelInfo,
                errors=ERRORS_BY_CODE,
            )
        except ActiveModelNotFoundError:
            return None

    async def score_pairs(self, model_type: str, pairs: list[tuple[str, str]]) -> list[float]:
        """See TrainingApi.score_pairs.

        Scoring changes nothing, but 503 `model_unavailable` is an answer, not a passing fault: the call
        is not marked idempotent so that the client raises the declared error instead of retrying 5xx.
        Connection failures are still retried.
        """
        result = await _declared_5xx(
            self._client.call(
                "POST",
                f"/api/v1/training/models/{_segment(model_type)}/score",
                PairScores,
                json=PairScoreRequest(pairs=pairs),
                errors=ERRORS_BY_CODE,
                idempotent=False,
            )
        )
        return result.scores

    async def cancel_run(self, run_id: str) -> TrainingRun:
        """See TrainingApi.cancel_run."""
        return await self._client.call(
            "POST", f"/api/v1/training/runs/{_segment(run_id)}/cancel", TrainingRun, errors=ERRORS_BY_CODE
        )

    async def list_models(self, model_type: str | None = None) -> ModelList:
        """See TrainingApi.list_models."""
        params = {"model_type": model_type} if model_type is not None else {}
        return await self._client.call(
            "GET", "/api/v1/training/models", ModelList, params=params, errors=ERRORS_BY_CODE
        )

    async def activate_model(self, model_type: str, version: str) -> ModelInfo:
        """See TrainingApi.activate_model (503 `model_unavailable` is raised, not retried)."""
        return await _declared_5xx(
            self._client.call(
                "POST",
                f"/api/v1/training/models/{_segment(model_type)}/activate",
                ModelInfo,
                json=ActivateModelRequest(version=version),
                errors=ERRORS_BY_CODE,
                idempotent=False,
            )
        )

    async def predict_home_type(self) -> HomeTypePrediction:
        """See TrainingApi.predict_home_type (503 `model_unavailable` is raised, not retried)."""
        return await _declared_5xx(
            self._client.call(
                "GET",
                "/api/v1/training/predictions/home_type",
                HomeTypePrediction,
                errors=ERRORS_BY_CODE,
                idempotent=False,
            )
        )


def http_api(client: ServiceClient) -> HttpTrainingApi:
    """Build the HTTP implementation for the composition root."""
    return HttpTrainingApi(client)
