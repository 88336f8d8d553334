"""Training module through the real app: queueing runs, the one-active-run rule, the worker, recovery."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from helpers import assert_error
from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.settings import Settings
from homeiq_ai.training.api import (
    TRAINING_TYPES,
    InvalidTrainingParamsError,
    ModelInfo,
    TrainingAlreadyRunningError,
    TrainingRequest,
    TrainingRun,
    TrainingRunNotFoundError,
    TrainingRunQuery,
    UnknownTrainingTypeError,
)
from homeiq_ai.training.client import HttpTrainingApi
from homeiq_ai.training.jobs import WORKER_INTERVAL_SECONDS, run_worker_job
from homeiq_ai.training.models import TrainingModelRecord, TrainingRunRecord
from homeiq_ai.training.service import STALE_RUN_REASON, TrainingService

RUNS = "/api/v1/training/runs"


async def _start(client: Any, training_type: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/training/{training_type}", json=body or None)
    assert response.status_code == 202, response.text
    return response.json()


# --- POST /api/v1/training/{training_type} ------------------------------------------------------


@pytest.mark.parametrize("training_type", TRAINING_TYPES)
async def test_start_run_queues_a_run_and_answers_202(
    app_client: Callable[..., Any], training_type: str
) -> None:
    """Each known type is accepted with 202 and its stored run, queued with the given params."""
    async with app_client(["training"]) as client:
        response = await client.post(f"/api/v1/training/{training_type}", json={"params": {"epochs": 3}})
        assert response.status_code == 202, response.text
        run = response.json()
        assert len(run["id"]) == 32 and int(run["id"], 16) >= 0
        assert run["training_type"] == training_type
        assert run["status"] == "queued"
        assert run["params"] == {"epochs": 3}
        assert run["metrics"] == {}
        assert run["error"] is None
        assert run["requested_at"].endswith("Z") or "+00:00" in run["requested_at"]
        assert run["started_at"] is None and run["finished_at"] is None
        stored = await client.get(f"{RUNS}/{run['id']}")
        assert stored.status_code == 200
        assert stored.json() == run


async def test_start_run_without_a_body_uses_no_params(app_client: Callable[..., Any]) -> None:
    """The body is optional; a run without one has empty params."""
    async with app_client(["training"]) as client:
        response = await client.post("/api/v1/training/home_type")
        assert response.status_code == 202, response.text
        assert response.json()["params"] == {}


async def test_unknown_training_type_is_404_naming_the_known_ones(app_client: Callable[..., Any]) -> None:
    """An unknown type answers 404 `unknown_training_type` listing every known type."""
    async with app_client(["training"]) as client:
        body = assert_error(await client.post("/api/v1/training/deep_magic"), 404, "unknown_training_type")
        assert "deep_magic" in body["message"]
        for name in TRAINING_TYPES:
            assert name in body["message"]
        assert (await client.get(RUNS)).json()["total"] == 0


async def test_second_run_of_a_type_is_409_while_one_is_active(app_client: Callable[..., Any]) -> None:
    """Only one queued-or-running run per type: a second POST is 409; another type is still accepted."""
    async with app_client(["training"]) as client:
        first = await _start(client, "gnn_synergy")
        body = assert_error(
            await client.post("/api/v1/training/gnn_synergy"), 409, "training_already_running"
        )
        assert first["id"] in body["message"]
        await _start(client, "soft_prompt")
        assert (await client.get(RUNS)).json()["total"] == 2


async def test_params_of_the_wrong_type_is_400_naming_the_field(app_client: Callable[..., Any]) -> None:
    """`params` must be an object; the error names the field."""
    async with app_client(["training"]) as client:
        body = assert_error(
            await client.post("/api/v1/training/home_type", json={"params": [1, 2]}), 400, "invalid_request"
        )
        assert "params" in body["message"]
        assert body["details"][0]["field"] == "params"


async def test_unknown_body_field_is_400(app_client: Callable[..., Any]) -> None:
    """The request body forbids fields it does not declare."""
    async with app_client(["training"]) as client:
        response = await client.post("/api/v1/training/home_type", json={"epochs": 3})
        body = assert_error(response, 400, "invalid_request")
        assert "epochs" in body["message"]


async def test_malformed_json_is_400(app_client: Callable[..., Any]) -> None:
    """A body that is not JSON is refused with 400."""
    async with app_client(["training"]) as client:
        response = await client.post(
            "/api/v1/training/home_type", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert_error(response, 400, "invalid_request")


async def test_concurrent_starts_of_a_type_queue_exactly_one_run(
    any_database_url: str, make_settings: Callable[..., Settings], app_client: Callable[..., Any]
) -> None:
    """Requests racing for one type: one 202, the rest 409 (the database enforces it), on both databases."""
    async with app_client(["training"], make_settings(DATABASE_URL=any_database_url)) as client:
        responses = await asyncio.gather(*(client.post("/api/v1/training/gnn_synergy") for _ in range(6)))
        assert sorted(r.status_code for r in responses) == [202] + [409] * 5
        for response in responses:
            if response.status_code == 409:
                assert_error(response, 409, "training_already_running")
        assert (await client.get(RUNS)).json()["total"] == 1


async def test_run_lifecycle_on_both_databases(
    any_database_url: str, make_settings: Callable[..., Settings], app_client: Callable[..., Any]
) -> None:
    """Queue, fail for want of a trainer, queue again, recover a stale run: on SQLite and PostgreSQL."""
    settings = make_settings(DATABASE_URL=any_database_url)
    database = Database(any_database_url)
    try:
        async with app_client(["training"], settings) as client:
            run = await _start(client, "soft_prompt", params={"epochs": 2})
            done = await TrainingService(database).run_next()
            assert done is not None and done.id == run["id"]
            assert done.status == "failed"
            assert done.error == "no trainer for 'soft_prompt' is installed in this version"
            again = await _start(client, "soft_prompt")
            async with database.session() as session:
                stmt = update(TrainingRunRecord).where(TrainingRunRecord.id == again["id"])
                # A worker that claimed it for the second time died (no live lease).
                await session.execute(stmt.values(status="running", attempts=2))
        async with app_client(["training"], settings) as client:
            page = (await client.get(RUNS, params={"training_type": "soft_prompt"})).json()
            assert [(r["id"], r["status"]) for r in page["items"]] == [
                (again["id"], "failed"),
                (run["id"], "failed"),
            ]
            assert page["items"][0]["error"] == STALE_RUN_REASON
    finally:
        await database.dispose()


# --- GET /api/v1/training/runs -------------------------------------------------------------------


async def test_get_unknown_run_is_404(app_client: Callable[..., Any]) -> None:
    """A run id that does not exist answers 404 `training_run_not_found`."""
    async with app_client(["training"]) as client:
        body = assert_error(await client.get(f"{RUNS}/0123456789abcdef"), 404, "training_run_not_found")
        assert "0123456789abcdef" in body["message"]


async def test_list_runs_newest_first_with_paging_and_filters(
    app_client: Callable[..., Any], db: Database
) -> None:
    """Runs come newest first; limit/offset page them; training_type and status filter them."""
    async with app_client(["training"]) as client:
        runs = [await _start(client, t) for t in TRAINING_TYPES]
        # Spread the request times so that the order does not hang on clock resolution.
        async with db.session() as session:
            for i, run in enumerate(runs):
                await session.execute(
                    update(TrainingRunRecord)
                    .where(TrainingRunRecord.id == run["id"])
                    .values(requested_at=utcnow() - timedelta(minutes=10 - i))
                )
        page = (await client.get(RUNS)).json()
        assert [r["id"] for r in page["items"]] == [r["id"] for r in reversed(runs)]
        assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)

        page = (await client.get(RUNS, params={"limit": 1, "offset": 1})).json()
        assert [r["id"] for r in page["items"]] == [runs[1]["id"]]
        assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)

        page = (await client.get(RUNS, params={"training_type": "home_type"})).json()
        assert [r["id"] for r in page["items"]] == [runs[1]["id"]]

        await run_worker_job(TrainingService(db)).func()  # fails the oldest: gnn_synergy
        failed = (await client.get(RUNS, params={"status": "failed"})).json()
        assert [r["id"] for r in failed["items"]] == [runs[0]["id"]]
        queued = (await client.get(RUNS, params={"status": "queued"})).json()
        assert queued["total"] == 2
        both = (await client.get(RUNS, params={"status": "queued", "training_type": "soft_prompt"})).json()
        assert [r["id"] for r in both["items"]] == [runs[2]["id"]]


@pytest.mark.parametrize(
    ("params", "code", "word"),
    [
        ({"limit": 0}, "invalid_request", "limit"),
        ({"limit": 501}, "invalid_request", "limit"),
        ({"offset": -1}, "invalid_request", "offset"),
        ({"limit": "many"}, "invalid_request", "limit"),
        ({"status": "sleeping"}, "invalid_filter", "status"),
        ({"training_type": "deep_magic"}, "invalid_filter", "deep_magic"),
    ],
)
async def test_bad_list_parameters_are_400(
    app_client: Callable[..., Any], params: dict[str, Any], code: str, word: str
) -> None:
    """Paging out of range and filters that name nothing are refused with 400."""
    async with app_client(["training"]) as client:
        body = assert_error(await client.get(RUNS, params=params), 400, code)
        assert word in body["message"]


async def test_limit_500_is_accepted(app_client: Callable[..., Any]) -> None:
    """The largest page size is 500."""
    async with app_client(["training"]) as client:
        assert (await client.get(RUNS, params={"limit": 500})).status_code == 200


# --- the run worker ------------------------------------------------------------------------------


async def test_worker_job_is_registered_every_10_seconds(
    app_client: Callable[..., Any], db: Database
) -> None:
    """The app registers `training.run_worker` on an interval of 10 s."""
    async with app_client(["training"]) as client:
        assert "training.run_worker" in client.app.state.scheduler.job_ids
    job = run_worker_job(TrainingService(db))
    assert (job.id, job.trigger, job.seconds) == ("training.run_worker", "interval", 10.0)
    assert WORKER_INTERVAL_SECONDS == 10.0


async def test_worker_fails_a_run_without_a_trainer_and_says_why(
    app_client: Callable[..., Any], db: Database
) -> None:
    """With no trainer installed the worker marks the run failed with the honest reason, never completed."""
    async with app_client(["training"]) as client:
        run = await _start(client, "gnn_synergy", params={"epochs": 1})
        await run_worker_job(TrainingService(db)).func()
        stored = (await client.get(f"{RUNS}/{run['id']}")).json()
        assert stored["status"] == "failed"
        assert stored["error"] == "no trainer for 'gnn_synergy' is installed in this version"
        assert stored["metrics"] == {}
        assert stored["started_at"] is not None and stored["finished_at"] is not None
        assert stored["started_at"] <= stored["finished_at"]
        # The type is free again once its run has ended.
        await _start(client, "gnn_synergy")


async def test_worker_with_an_empty_queue_does_nothing(db: Database) -> None:
    """No queued run: the worker returns None and changes nothing."""
    assert await TrainingService(db).run_next() is None


async def test_worker_takes_the_oldest_queued_run_first(db: Database) -> None:
    """Runs are claimed in the order they were requested, one per tick."""
    service = TrainingService(db)
    first = await service.start_run("soft_prompt", TrainingRequest())
    second = await service.start_run("home_type", TrainingRequest())
    async with db.session() as session:
        await session.execute(
            update(TrainingRunRecord)
            .where(TrainingRunRecord.id == second.id)
            .values(requested_at=first.requested_at - timedelta(seconds=5))
        )
    done = await service.run_next()
    assert done is not None and done.id == second.id
    assert (await service.get_run(first.id)).status == "queued"


async def test_installed_trainer_completes_the_run_with_its_metrics(db: Database) -> None:
    """A registered trainer gets the running run; what it returns becomes the run's metrics."""
    seen: list[TrainingRun] = []

    async def trainer(run: TrainingRun, _control: Any) -> dict[str, Any]:
        seen.append(run)
        return {"loss": 0.25, "epochs": run.params["epochs"]}

    service = TrainingService(db, trainers={"home_type": trainer})
    queued = await service.start_run("home_type", TrainingRequest(params={"epochs": 2}))
    done = await service.run_next()
    assert done is not None
    assert (done.status, done.metrics, done.error) == ("completed", {"loss": 0.25, "epochs": 2}, None)
    assert seen[0].id == queued.id and seen[0].status == "running"


async def test_failing_trainer_fails_the_run_with_itsassert_error(db: Database) -> None:
    """A trainer that raises fails its run with the exception as the reason; the worker survives."""

    async def trainer(_run: TrainingRun, _control: Any) -> dict[str, Any]:
        raise RuntimeError("out of memory")

    service = TrainingService(db, trainers={"soft_prompt": trainer})
    await service.start_run("soft_prompt", TrainingRequest())
    done = await service.run_next()
    assert done is not None
    assert (done.status, done.error) == ("failed", "RuntimeError: out of memory")
    await service.start_run("soft_prompt", TrainingRequest())


async def test_start_up_requeues_then_fails_runs_left_running_by_a_dead_process(
    app_client: Callable[..., Any], db: Database
) -> None:
    """At start-up a run whose lease ran out is requeued once, failed the second time; a queued one stays."""
    async with app_client(["training"]) as client:
        running = await _start(client, "gnn_synergy")
        queued = await _start(client, "home_type")
    async def die(attempts: int) -> None:
        async with db.session() as session:
            await session.execute(
                update(TrainingRunRecord)
                .where(TrainingRunRecord.id == running["id"])
                .values(status="running", started_at=utcnow(), attempts=attempts, lease_owner="dead:1",
                        lease_expires_at=utcnow() - timedelta(seconds=1))
            )

    await die(1)
    async with app_client(["training"]) as client:
        requeued = (await client.get(f"{RUNS}/{running['id']}")).json()
        assert requeued["status"] == "queued", "the first death requeues the run once"
        assert "requeued" in requeued["error"]
    await die(2)
    async with app_client(["training"]) as client:
        stale = (await client.get(f"{RUNS}/{running['id']}")).json()
        assert stale["status"] == "failed"
        assert stale["error"] == STALE_RUN_REASON
        assert stale["finished_at"] is not None
        assert (await client.get(f"{RUNS}/{queued['id']}")).json()["status"] == "queued"
        await _start(client, "gnn_synergy")
        assert_error(await client.post("/api/v1/training/home_type"), 409, "training_already_running")


# --- the active model and the api implementations --------------------------------------------------


async def test_active_model_is_none_until_one_is_stored(app_client: Callable[..., Any], db: Database) -> None:
    """get_active_model answers None (route: 404) until a model is stored, then the newest active one."""
    async with app_client(["training"]) as client:
        api = client.app.state.local_apis["training"]
        assert await api.get_active_model("gnn_synergy") is None
        assert_error(
            await client.get("/api/v1/training/models/gnn_synergy/active"), 404, "active_model_not_found"
        )

        now = utcnow()
        async with db.session() as session:
            session.add_all(
                [
                    TrainingModelRecord(
                        id="m1",
                        model_type="gnn_synergy",
                        version="1",
                        active=True,
                        metrics={"auc": 0.7},
                        created_at=now - timedelta(days=1),
                    ),
                    TrainingModelRecord(
                        id="m2",
                        model_type="gnn_synergy",
                        version="2",
                        active=True,
                        metrics={"auc": 0.8},
                        created_at=now,
                    ),
                    TrainingModelRecord(
                        id="m3",
                        model_type="gnn_synergy",
                        version="3",
                        active=False,
                        metrics={},
                        created_at=now + timedelta(seconds=1),
                    ),
                ]
            )
        model = await api.get_active_model("gnn_synergy")
        assert isinstance(model, ModelInfo)
        assert (model.id, model.version, model.metrics) == ("m2", "2", {"auc": 0.8})
        body = (await client.get("/api/v1/training/models/gnn_synergy/active")).json()
        assert (body["id"], body["model_type"], body["version"]) == ("m2", "gnn_synergy", "2")
        assert await api.get_active_model("home_type") is None


async def test_http_api_behaves_like_the_local_one(app_client: Callable[..., Any]) -> None:
    """HttpTrainingApi returns the same DTOs and raises the same declared errors as LocalTrainingApi."""
    async with app_client(["training"]) as client:
        services = ServiceClients(
            {"training": "http://training.test"}, tries=1, transport=httpx.ASGITransport(app=client.app)
        )
        try:
            http = HttpTrainingApi(services.service("training"))
            local = client.app.state.local_apis["training"]
            run = await http.start_run("home_type", TrainingRequest(params={"epochs": 1}))
            with pytest.raises(InvalidTrainingParamsError):
                await http.start_run("gnn_synergy", TrainingRequest(params={"a": 1}))
            assert run == await local.get_run(run.id) == await http.get_run(run.id)
            page = await http.list_runs(TrainingRunQuery(training_type="home_type"))
            assert page == await local.list_runs(TrainingRunQuery(training_type="home_type"))
            assert await http.get_active_model("gnn_synergy") is None
            with pytest.raises(TrainingAlreadyRunningError):
                await http.start_run("home_type", TrainingRequest())
            with pytest.raises(TrainingAlreadyRunningError):
                await local.start_run("home_type", TrainingRequest())
            for api in (http, local):
                with pytest.raises(UnknownTrainingTypeError):
                    await api.start_run("nope", TrainingRequest())
                with pytest.raises(TrainingRunNotFoundError):
                    await api.get_run("no such run?x=1")
        finally:
            await services.aclose()


def test_importing_the_training_module_does_not_import_torch() -> None:
    """Loading the module (and its client) leaves torch unimported: only a run that trains may load it."""
    code = (
        "import sys, homeiq_ai.training.module, homeiq_ai.training.client; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
