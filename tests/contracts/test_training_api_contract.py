"""The TrainingApi contract, run against LocalTrainingApi and HttpTrainingApi with the same assertions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from homeiq_ai.app import create_app
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.settings import Settings
from homeiq_ai.training.api import (
    ActiveModelNotFoundError,
    InvalidFilterError,
    InvalidTrainingParamsError,
    ModelNotFoundError,
    ModelUnavailableError,
    TrainingAlreadyRunningError,
    TrainingApi,
    TrainingRequest,
    TrainingRunFinishedError,
    TrainingRunNotFoundError,
    TrainingRunQuery,
    UnknownTrainingTypeError,
)
from homeiq_ai.training.client import HttpTrainingApi

TINY_HOME_TYPE = {"train_seeds": [1], "test_seeds": [101], "days": 1, "epochs": 20}


@pytest.fixture(params=["local", "http"])
async def training(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[tuple[TrainingApi, Any]]:
    """(the training api in-process or over HTTP, the app's service to work the queue)."""
    app = create_app(settings, ["training"])
    async with AsyncTestClient(app=app):
        service = app.state.local_apis["training"]._service
        if request.param == "local":
            yield app.state.local_apis["training"], service
            return
        services = ServiceClients({"training": "http://training.test"}, transport=httpx.ASGITransport(app=app))
        try:
            yield HttpTrainingApi(services.service("training")), service
        finally:
            await services.aclose()


async def test_runs_queue_cancel_and_errors(training: tuple[TrainingApi, Any]) -> None:
    """Start, list, cancel, and the declared errors, the same either way."""
    api, _ = training
    run = await api.start_run("gnn_synergy", TrainingRequest(params={"epochs": 2}))
    assert run.status == "queued" and run.params == {"epochs": 2}
    assert (await api.list_runs(TrainingRunQuery(status="queued"))).total == 1
    with pytest.raises(TrainingAlreadyRunningError):
        await api.start_run("gnn_synergy", TrainingRequest())
    with pytest.raises(UnknownTrainingTypeError):
        await api.start_run("deep_magic", TrainingRequest())
    with pytest.raises(InvalidTrainingParamsError):
        await api.start_run("home_type", TrainingRequest(params={"epochs": -1}))
    with pytest.raises(InvalidFilterError):
        await api.list_runs(TrainingRunQuery(training_type="deep_magic"))
    cancelled = await api.cancel_run(run.id)
    assert cancelled.status == "cancelled" and cancelled == await api.get_run(run.id)
    with pytest.raises(TrainingRunFinishedError):
        await api.cancel_run(run.id)
    with pytest.raises(TrainingRunNotFoundError):
        await api.cancel_run("nope")


async def test_models_activation_and_prediction(training: tuple[TrainingApi, Any]) -> None:
    """Trained models list, activate and predict alike; missing ones raise the declared errors."""
    api, service = training
    assert (await api.list_models()).total == 0
    with pytest.raises(ActiveModelNotFoundError):
        await api.predict_home_type()
    with pytest.raises(ActiveModelNotFoundError):
        await api.score_pairs("gnn_synergy", [("a.b", "c.d")])
    await api.start_run("home_type", TrainingRequest(params=TINY_HOME_TYPE))
    done = await service.run_next()
    assert done.status == "completed", done
    models = await api.list_models("home_type")
    assert [(m.version, m.active, m.available) for m in models.items] == [("1", True, True)]
    assert (await api.activate_model("home_type", "1")).active is True
    with pytest.raises(ModelNotFoundError):
        await api.activate_model("home_type", "7")
    # The stored home is empty: the classifier has nothing to judge by.
    with pytest.raises(ModelUnavailableError):
        await api.predict_home_type()
    active = await api.get_active_model("home_type")
    assert active is not None and active.version == "1" and active.params["epochs"] == 20
