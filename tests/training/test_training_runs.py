"""Training runs that really train: tiny gnn_synergy and home_type runs, models, cancel, leases, progress."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import assert_error
from homeiq_ai.kernel.db import Database
from homeiq_ai.training.api import TrainingRequest, TrainingRun
from homeiq_ai.training.ml.control import RunControl
from homeiq_ai.training.service import TrainingService

TINY_GNN = {"train_seeds": [1], "test_seeds": [101], "home_types": ["studio"], "days": 5, "epochs": 15}
TINY_HOME_TYPE = {"train_seeds": [1, 2], "test_seeds": [101], "days": 1, "epochs": 60}


def _service(client: Any) -> TrainingService:
    return client.app.state.local_apis["training"]._service


async def _train(client: Any, training_type: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/v1/training/{training_type}", json={"params": params})
    assert response.status_code == 202, response.text
    done = await _service(client).run_next()
    assert done is not None and done.id == response.json()["id"]
    run = (await client.get(f"/api/v1/training/runs/{done.id}")).json()
    assert run["status"] == "completed", run
    return run


async def test_gnn_run_stores_activates_and_scores_the_stored_home(app_client: Callable[..., Any]) -> None:
    """A gnn_synergy run measures held-out homes, stores its model with metadata, and scores real pairs."""
    async with app_client(["training"]) as client:
        run = await _train(client, "gnn_synergy", TINY_GNN)
        metrics = run["metrics"]
        assert 0.0 <= metrics["roc_auc"] <= 1.0 and 0.0 <= metrics["precision_at_k"] <= 1.0
        assert metrics["held_out"]["homes"] == 1 and metrics["held_out"]["positives"] > 0
        assert metrics["activated"] is True and metrics["model_version"] == "1"
        assert run["model_version"] == "1"
        assert run["progress"]["epoch"] == run["progress"]["epochs"] == 15
        assert run["timings"]["running_seconds"] > 0

        models = (await client.get("/api/v1/training/models")).json()
        assert models["total"] == 1
        model = models["items"][0]
        assert (model["model_type"], model["version"], model["active"], model["available"]) == (
            "gnn_synergy",
            "1",
            True,
            True,
        )
        assert model["data"]["train_seeds"] == [1] and model["data"]["test_seeds"] == [101]
        assert len(model["data"]["hash"]) == 16 and model["params"]["epochs"] == 15
        meta = json.loads((Path(client.app.state.settings.data_dir) / "models/gnn_synergy/1/metadata.json").read_text())
        assert meta["version"] == "1" and meta["metrics"]["roc_auc"] == metrics["roc_auc"]

        # A home in the store (unseen seed): a planted pair scores above an unrelated pair.
        home = (
            await client.post(
                "/api/v1/training/synthetic/homes", json={"seed": 7, "home_type": "studio", "days": 5, "load": True}
            )
        ).json()
        assert home["inserted"] > 0
        planted = ("binary_sensor.hallway_motion", "light.hallway")
        unrelated = ("light.hallway", "binary_sensor.hallway_motion")
        response = await client.post(
            "/api/v1/training/models/gnn_synergy/score", json={"pairs": [planted, unrelated, ["x.a", "x.b"]]}
        )
        assert response.status_code == 200, response.text
        scores = response.json()["scores"]
        assert scores[0] > scores[1] and scores[2] == 0.0

        # The same training again does not beat the active model: stored, not activated, and it says so.
        again = await _train(client, "gnn_synergy", TINY_GNN)
        assert again["metrics"]["activated"] is False
        assert again["metrics"]["activation"].startswith("not activated")
        listed = (await client.get("/api/v1/training/models", params={"model_type": "gnn_synergy"})).json()
        assert [(m["version"], m["active"]) for m in listed["items"]] == [("2", False), ("1", True)]
        switched = await client.post("/api/v1/training/models/gnn_synergy/activate", json={"version": "2"})
        assert switched.status_code == 200 and switched.json()["active"] is True
        assert (await client.get("/api/v1/training/models/gnn_synergy/active")).json()["version"] == "2"
        assert_error(
            await client.post("/api/v1/training/models/gnn_synergy/activate", json={"version": "9"}),
            404,
            "model_not_found",
        )

        # A corrupt file: the model is unavailable with the reason; the process keeps answering.
        Path(meta["file"] and client.app.state.settings.data_dir / "models/gnn_synergy/2/gnn_synergy.pt").write_bytes(
            b"not a model"
        )
        listed = (await client.get("/api/v1/training/models")).json()
        broken = next(m for m in listed["items"] if m["version"] == "2")
        assert broken["available"] is False and "corrupt" in broken["unavailable_reason"]
        body = assert_error(
            await client.post("/api/v1/training/models/gnn_synergy/score", json={"pairs": [planted]}),
            503,
            "model_unavailable",
        )
        assert "corrupt" in body["message"]
        assert_error(
            await client.post("/api/v1/training/models/gnn_synergy/activate", json={"version": "2"}),
            503,
            "model_unavailable",
        )
        (Path(client.app.state.settings.data_dir) / "models/gnn_synergy/1/gnn_synergy.pt").unlink()
        body = assert_error(
            await client.post("/api/v1/training/models/gnn_synergy/activate", json={"version": "1"}),
            503,
            "model_unavailable",
        )
        assert "missing" in body["message"]
        assert (await client.get("/health/live")).status_code == 200


async def test_home_type_run_and_the_prediction_of_the_stored_home(app_client: Callable[..., Any]) -> None:
    """A home_type run reports accuracy and confusion on held-out and shifted homes; the home gets a type."""
    async with app_client(["training"]) as client:
        assert_error(await client.get("/api/v1/training/predictions/home_type"), 404, "active_model_not_found")
        run = await _train(client, "home_type", TINY_HOME_TYPE)
        metrics = run["metrics"]
        assert len(metrics["confusion"]) == 6 and sum(map(sum, metrics["confusion"])) == 6
        assert sum(map(sum, metrics["shifted_confusion"])) == 6
        assert 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["shifted_accuracy"] <= 1.0
        await client.post(
            "/api/v1/training/synthetic/homes", json={"seed": 9, "home_type": "multi_storey", "days": 1, "load": True}
        )
        prediction = (await client.get("/api/v1/training/predictions/home_type")).json()
        assert prediction["home_type"] in metrics["labels"]
        assert 0.0 < prediction["confidence"] <= 1.0
        assert prediction["confidence"] == max(prediction["probabilities"].values())
        assert prediction["version"] == "1"


@pytest.mark.parametrize(
    ("training_type", "params", "word"),
    [
        ("gnn_synergy", {"epochs": 0}, "epochs"),
        ("gnn_synergy", {"epochz": 3}, "epochz"),
        ("gnn_synergy", {"home_types": ["castle"]}, "castle"),
        ("gnn_synergy", {"train_seeds": [1], "test_seeds": [1]}, "unseen"),
        ("home_type", {"learning_rate": "fast"}, "learning_rate"),
    ],
)
async def test_bad_params_are_400_and_queue_nothing(
    app_client: Callable[..., Any], training_type: str, params: dict[str, Any], word: str
) -> None:
    """Params a trainer does not know or accept are refused before anything is queued."""
    async with app_client(["training"]) as client:
        response = await client.post(f"/api/v1/training/{training_type}", json={"params": params})
        body = assert_error(response, 400, "invalid_training_params")
        assert word in body["message"]
        assert (await client.get("/api/v1/training/runs")).json()["total"] == 0


def _slow_trainer(started: list[str], steps: int = 400) -> Any:
    async def trainer(run: TrainingRun, control: RunControl) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            for epoch in range(1, steps + 1):
                control.check()
                control.report(epoch=epoch, epochs=steps, loss=1.0 / epoch)
                started.append(run.id)
                import time

                time.sleep(0.01)
            return {"loss": 1.0 / steps}

        return await asyncio.to_thread(work)

    return trainer


async def test_running_run_shows_live_progress_and_cancels_cleanly(db: Database, tmp_path: Path) -> None:
    """While a run trains, status shows its epoch and loss; cancel stops it and keeps no model."""
    seen: list[str] = []
    service = TrainingService(
        db, trainers={"home_type": _slow_trainer(seen)}, models_dir=tmp_path, heartbeat_seconds=0.05
    )
    run = await service.start_run("home_type", TrainingRequest())
    task = asyncio.create_task(service.run_next())
    for _ in range(200):
        await asyncio.sleep(0.02)
        current = await service.get_run(run.id)
        if current.progress.get("epoch", 0) >= 3:
            break
    assert current.status == "running" and current.progress["epochs"] == 400 and current.progress["loss"] < 1
    assert current.heartbeat_at is not None and current.attempts == 1
    other = TrainingService(db, models_dir=tmp_path)  # another process asks to cancel
    asked = await other.cancel_run(run.id)
    assert asked.cancel_requested is True
    done = await asyncio.wait_for(task, 30)
    assert done is not None and done.status == "cancelled" and done.error is None
    assert len(seen) < 400
    assert (await service.list_models()).total == 0
    assert_error_type = pytest.raises(Exception, match="already ended")
    with assert_error_type:
        await service.cancel_run(run.id)


async def test_queued_run_cancels_at_once_and_frees_its_type(app_client: Callable[..., Any]) -> None:
    """Cancelling a queued run ends it `cancelled`; the type can be queued again; 404 for no run."""
    async with app_client(["training"]) as client:
        run = (await client.post("/api/v1/training/home_type")).json()
        cancelled = await client.post(f"/api/v1/training/runs/{run['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert_error(await client.post(f"/api/v1/training/runs/{run['id']}/cancel"), 409, "training_run_finished")
        assert_error(await client.post("/api/v1/training/runs/nope/cancel"), 404, "training_run_not_found")
        assert (await client.post("/api/v1/training/home_type")).status_code == 202


async def test_two_workers_never_run_the_same_job_twice(database_url: str, tmp_path: Path) -> None:
    """Two processes' workers (own engines, own ids) racing for one queued run: exactly one trains it."""
    calls: list[str] = []

    async def trainer(run: TrainingRun, _control: RunControl) -> dict[str, Any]:
        calls.append(run.id)
        await asyncio.sleep(0.05)
        return {"ok": 1}

    dbs = [Database(database_url), Database(database_url)]
    try:
        workers = [
            TrainingService(d, trainers={"gnn_synergy": trainer}, models_dir=tmp_path, worker_id=f"w{i}")
            for i, d in enumerate(dbs)
        ]
        run = await workers[0].start_run("gnn_synergy", TrainingRequest())
        results = await asyncio.gather(*(w.run_next() for w in workers))
        assert calls == [run.id]
        assert sorted(r is None for r in results) == [False, True]
        assert (await workers[1].get_run(run.id)).status == "completed"
    finally:
        for d in dbs:
            await d.dispose()


async def test_a_live_lease_is_not_taken_for_a_dead_one(db: Database, tmp_path: Path) -> None:
    """Another process's recovery leaves a run alone while its worker keeps renewing the lease."""
    seen: list[str] = []
    service = TrainingService(
        db, trainers={"home_type": _slow_trainer(seen, 60)}, models_dir=tmp_path, lease_seconds=5,
        heartbeat_seconds=0.05,
    )  # fmt: skip
    run = await service.start_run("home_type", TrainingRequest())
    task = asyncio.create_task(service.run_next())
    await asyncio.sleep(0.3)
    assert await TrainingService(db, models_dir=tmp_path).recover_stale_runs() == 0
    done = await asyncio.wait_for(task, 30)
    assert done is not None and done.status == "completed" and done.id == run.id


async def test_home_route_shows_the_predicted_type_once_a_model_is_active(app_client: Callable[..., Any]) -> None:
    """GET /api/v1/home carries `predicted_type` (type, confidence, model) only while a classifier is active."""
    async with app_client(["training"]) as client:
        await client.post(
            "/api/v1/training/synthetic/homes", json={"seed": 4, "home_type": "studio", "days": 1, "load": True}
        )
        assert "predicted_type" not in (await client.get("/api/v1/home")).json()
        await _train(client, "home_type", TINY_HOME_TYPE)
        info = (await client.get("/api/v1/home")).json()
        guess = info["predicted_type"]
        assert guess["model"] == "home_type 1" and 0.0 < guess["confidence"] <= 1.0
        assert guess["home_type"] in ("studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey")
        assert info["source"] == "synthetic"
