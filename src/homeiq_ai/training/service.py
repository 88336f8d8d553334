"""Use cases of the training module: queueing runs, working the queue, and the models in use."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from homeiq_ai.kernel.db import Database, check_time_range, utcnow
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.training.api import (
    RUN_STATUSES,
    TRAINING_TYPES,
    ActiveModelNotFoundError,
    HomeTypePrediction,
    InvalidFilterError,
    InvalidSyntheticHomeError,
    InvalidTrainingParamsError,
    ModelInfo,
    ModelList,
    ModelNotFoundError,
    ModelUnavailableError,
    PairScores,
    SyntheticDataset,
    SyntheticDatasetList,
    SyntheticDatasetNotFoundError,
    SyntheticDatasetRequest,
    SyntheticHome,
    SyntheticHomeRequest,
    TrainingAlreadyRunningError,
    TrainingRequest,
    TrainingRun,
    TrainingRunFinishedError,
    TrainingRunNotFoundError,
    TrainingRunPage,
    TrainingRunQuery,
    UnknownTrainingTypeError,
)
from homeiq_ai.training.datasets import list_manifests, write_dataset
from homeiq_ai.training.ml.control import RunCancelledError, RunControl, TrainingResult
from homeiq_ai.training.ml.registry import ModelFiles
from homeiq_ai.training.models import TrainingModelRecord, TrainingRunRecord
from homeiq_ai.training.repository import TrainingRepository
from homeiq_ai.training.synthetic import spec as synthetic_spec
from homeiq_ai.training.synthetic.generator import generate_home
from homeiq_ai.training.synthetic.io import write_home
from homeiq_ai.training.synthetic.spec import GeneratedHome

log = logging.getLogger(__name__)

# A trainer gets the claimed run and its control (progress, cancel, scratch folder) and returns its
# metrics or a TrainingResult with the model to store; raising fails the run with that reason.
Trainer = Callable[[TrainingRun, RunControl], Awaitable[Mapping[str, Any] | TrainingResult]]
# A scorer gets the active model, its file and entity pairs, and returns one score per pair.
Scorer = Callable[[ModelInfo, str, list[tuple[str, str]]], Awaitable[list[float]]]
# A home-type predictor gets the active model and its file and answers for the stored home.
HomeTypePredictor = Callable[[ModelInfo, str], Awaitable[HomeTypePrediction]]
# A validator merges a run's params over its trainer's defaults; ValueError names a bad one.
Validator = Callable[[dict[str, Any]], dict[str, Any]]

STALE_RUN_REASON = "the process running this training stopped before it finished"
REQUEUED_REASON = "attempt {attempt}: " + STALE_RUN_REASON + "; requeued"
MAX_ATTEMPTS = 2


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)


def run_dto(record: TrainingRunRecord, now: datetime | None = None) -> TrainingRun:
    """Map a stored training run to its DTO."""
    # Only spans that have ended, so that the same run reads the same twice (live: see heartbeat_at).
    timings: dict[str, float] = {}
    queued = _seconds(record.requested_at, record.started_at)
    if queued is not None:
        timings["queued_seconds"] = queued
    running = _seconds(record.started_at, record.finished_at)
    if running is not None:
        timings["running_seconds"] = running
    return TrainingRun(
        id=record.id,
        training_type=record.training_type,
        status=record.status,  # type: ignore[arg-type]
        params=dict(record.params or {}),
        metrics=dict(record.metrics or {}),
        error=record.error,
        requested_at=record.requested_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        progress=dict(record.progress or {}),
        timings=timings,
        attempts=int(record.attempts or 0),
        cancel_requested=bool(record.cancel_requested),
        heartbeat_at=record.heartbeat_at,
        model_version=record.model_version,
    )


def model_dto(record: TrainingModelRecord, problem: str | None = None) -> ModelInfo:
    """Map a stored model to its DTO; `problem` makes it unavailable with that reason."""
    return ModelInfo(
        id=record.id,
        model_type=record.model_type,
        version=record.version,
        created_at=record.created_at,
        metrics=dict(record.metrics or {}),
        active=bool(record.active),
        available=problem is None,
        unavailable_reason=problem,
        run_id=record.run_id,
        params=dict(record.params or {}),
        data=dict(record.data or {}),
    )


def check_training_type(training_type: str) -> None:
    """Raise UnknownTrainingTypeError unless `training_type` is one of TRAINING_TYPES."""
    if training_type not in TRAINING_TYPES:
        raise UnknownTrainingTypeError(
            f"unknown training type {training_type!r}; choose one of {', '.join(TRAINING_TYPES)}"
        )


def _beats(new: Mapping[str, Any], old: Mapping[str, Any] | None, key: str, higher: bool) -> tuple[bool, str]:
    """Whether the new held-out metric beats the active model's, and a sentence saying so."""
    value = new.get(key)
    if not isinstance(value, int | float):
        return False, f"not activated: the run measured no {key}"
    if old is None:
        return True, f"activated: the first model of its type ({key} {value:.4g})"
    previous = old.get(key)
    if not isinstance(previous, int | float):
        return True, f"activated: the active model has no {key} to compare ({key} {value:.4g})"
    better = value > previous if higher else value < previous
    sign = ">" if higher else "<"
    if better:
        return True, f"activated: {key} {value:.4g} {sign} {previous:.4g} of the active model"
    return False, f"not activated: {key} {value:.4g} does not beat {previous:.4g} of the active model"


class TrainingService:
    """Queues training runs, one active run per type, works the queue under leases, keeps the models.

    Several processes may share the queue: a run is claimed by one atomic update and held by a lease
    that its worker renews with every heartbeat (which also stores the run's progress). A run whose
    lease ran out was left by a process that died: it is requeued once, failed the second time.
    """

    def __init__(
        self,
        db: Database,
        *,
        trainers: Mapping[str, Trainer] | None = None,
        scorers: Mapping[str, Scorer] | None = None,
        validators: Mapping[str, Validator] | None = None,
        home_type_predictor: HomeTypePredictor | None = None,
        repository: type[TrainingRepository] = TrainingRepository,
        models_dir: Path | None = None,
        lease_seconds: float = 60.0,
        heartbeat_seconds: float | None = None,
        worker_id: str | None = None,
    ) -> None:
        self._db = db
        # Without trainers (the bare service) a run fails and says that no trainer is installed.
        self.trainers: Mapping[str, Trainer] = dict(trainers or {})
        # Without a scorer, asking an active model for scores answers model_unavailable.
        self._scorers: Mapping[str, Scorer] = dict(scorers or {})
        self._validators: Mapping[str, Validator] = dict(validators or {})
        self._predictor = home_type_predictor
        self._repository = repository
        self.files = ModelFiles(models_dir or Path(tempfile.gettempdir()) / "homeiq-models")
        self.lease_seconds = float(lease_seconds)
        self.heartbeat_seconds = heartbeat_seconds or min(2.0, self.lease_seconds / 3.0)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._running: dict[str, RunControl] = {}

    # --- runs -------------------------------------------------------------------------------------

    async def start_run(self, training_type: str, request: TrainingRequest) -> TrainingRun:
        """Queue a run of a training type; the worker job picks it up.

        Raises:
            UnknownTrainingTypeError: the type is not one of TRAINING_TYPES.
            InvalidTrainingParamsError: the params do not fit the type's trainer.
            TrainingAlreadyRunningError: a run of that type is queued or running.
        """
        check_training_type(training_type)
        validator = self._validators.get(training_type)
        if validator is not None:
            try:
                validator(dict(request.params))
            except ValueError as exc:
                raise InvalidTrainingParamsError(f"invalid params for {training_type}: {exc}") from None
        now = utcnow()
        record = TrainingRunRecord(
            id=uuid.uuid4().hex,
            training_type=training_type,
            status="queued",
            active_type=training_type,
            params=dict(request.params),
            metrics={},
            progress={},
            attempts=0,
            cancel_requested=False,
            requested_at=now,
        )
        try:
            async with self._db.session() as session:
                repository = self._repository(session)
                active = await repository.active_run(training_type)
                if active is not None:
                    raise TrainingAlreadyRunningError(
                        f"a {training_type} run is already {active.status} (id {active.id}); "
                        "start another when it has finished"
                    )
                await repository.add_run(record)
        except IntegrityError:
            # Another request queued a run of this type between our check and our insert.
            raise TrainingAlreadyRunningError(
                f"a {training_type} run is already queued or running; start another when it has finished"
            ) from None
        return run_dto(record, now)

    async def get_run(self, run_id: str) -> TrainingRun:
        """One training run.

        Raises:
            TrainingRunNotFoundError: no run has that id.
        """
        async with self._db.session() as session:
            record = await self._repository(session).get_run(run_id)
            if record is None:
                raise TrainingRunNotFoundError(f"no training run has id {run_id!r}")
            return run_dto(record)

    async def list_runs(self, query: TrainingRunQuery) -> TrainingRunPage:
        """One page of training runs, newest first.

        Raises:
            InvalidFilterError: the status or training_type filter names nothing.
        """
        if query.training_type is not None and query.training_type not in TRAINING_TYPES:
            raise InvalidFilterError(
                f"training_type must be one of {', '.join(TRAINING_TYPES)}, got {query.training_type!r}"
            )
        if query.status is not None and query.status not in RUN_STATUSES:
            raise InvalidFilterError(f"status must be one of {', '.join(RUN_STATUSES)}, got {query.status!r}")
        now = utcnow()
        async with self._db.session() as session:
            records, total = await self._repository(session).list_runs(query)
            items = [run_dto(r, now) for r in records]
        return TrainingRunPage(items=items, total=total, limit=query.limit, offset=query.offset)

    async def cancel_run(self, run_id: str) -> TrainingRun:
        """Cancel a queued run at once; ask a running one to stop (it ends `cancelled`, keeping no model).

        Raises:
            TrainingRunNotFoundError: no run has that id.
            TrainingRunFinishedError: the run has already ended.
        """
        async with self._db.session() as session:
            repository = self._repository(session)
            record = await repository.get_run(run_id)
            if record is None:
                raise TrainingRunNotFoundError(f"no training run has id {run_id!r}")
            if record.status not in ("queued", "running"):
                raise TrainingRunFinishedError(f"training run {run_id} has already ended {record.status}")
            if not (record.status == "queued" and await repository.cancel_queued(run_id, utcnow())):
                await repository.request_cancel(run_id)
        control = self._running.get(run_id)
        if control is not None:  # running here: no need to wait for the next heartbeat
            control.cancel()
        return await self.get_run(run_id)

    async def run_next(self) -> TrainingRun | None:
        """Recover runs of dead processes, then claim the oldest queued run and take it to its end.

        Returns:
            The finished run, or None when the queue was empty (or another worker claimed the run).
        """
        await self.recover_stale_runs()
        run = await self._claim()
        if run is None:
            return None
        return await self._execute(run)

    async def _claim(self) -> TrainingRun | None:
        async with self._db.session() as session:
            repository = self._repository(session)
            run_id = await repository.oldest_queued_id()
            if run_id is None:
                return None
            now = utcnow()
            lease_until = now + timedelta(seconds=self.lease_seconds)
            if not await repository.claim_run(run_id, now, self.worker_id, lease_until):
                return None
            record = await repository.get_run(run_id)
            assert record is not None
            await session.refresh(record)
            return run_dto(record, now)

    async def _execute(self, run: TrainingRun) -> TrainingRun:
        trainer = self.trainers.get(run.training_type)
        metrics: dict[str, Any] | None = None
        error: str | None = None
        status = "completed"
        control = RunControl(self.files.work_dir(run.id))
        self._running[run.id] = control
        lost = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(run.id, control, lost))
        result: Mapping[str, Any] | TrainingResult | None = None
        try:
            if trainer is None:
                error = f"no trainer for '{run.training_type}' is installed in this version"
                log.warning("training run %s failed: %s", run.id, error)
            else:
                try:
                    result = await trainer(run, control)
                except RunCancelledError:
                    status = "cancelled"
                except Exception as exc:  # a failing trainer fails its run, never the worker
                    log.exception("trainer %s failed in run %s", run.training_type, run.id)
                    error = f"{type(exc).__name__}: {exc}"
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self._running.pop(run.id, None)
        if lost.is_set():
            # Another worker declared this process dead and took the run back: keep nothing.
            self.files.discard(run.id)
            log.warning("training run %s lost its lease; its result is discarded", run.id)
            return await self.get_run(run.id)
        if error:
            status = "failed"
        model_version: str | None = None
        progress = control.snapshot()
        if status == "completed" and result is not None:
            if isinstance(result, TrainingResult):
                metrics = dict(result.metrics)
                if result.model is not None:
                    try:
                        model_version, note = await self._store_model(run, result, metrics)
                        metrics["model_version"] = model_version
                        metrics["activation"] = note
                        metrics["activated"] = note.startswith("activated")
                    except Exception as exc:
                        log.exception("storing the model of run %s failed", run.id)
                        status, error = "failed", f"storing the model failed: {type(exc).__name__}: {exc}"
            else:
                metrics = dict(result)
        self.files.discard(run.id)
        async with self._db.session() as session:
            await self._repository(session).finish_run(
                run.id, status=status, now=utcnow(), error=error, metrics=metrics, owner=self.worker_id,
                progress=progress, model_version=model_version,
            )  # fmt: skip
        return await self.get_run(run.id)

    async def _heartbeat(self, run_id: str, control: RunControl, lost: asyncio.Event) -> None:
        """Renew the lease and store progress until cancelled; pass on a cancel request to the trainer."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                now = utcnow()
                async with self._db.session() as session:
                    held, cancel = await self._repository(session).heartbeat(
                        run_id, self.worker_id, now, now + timedelta(seconds=self.lease_seconds), control.snapshot()
                    )
            except Exception:  # a busy database misses one beat; the lease outlasts several
                log.warning("heartbeat of training run %s failed", run_id, exc_info=True)
                continue
            if not held:
                lost.set()
                control.cancel()
                return
            if cancel:
                control.cancel()

    async def recover_stale_runs(self) -> int:
        """Requeue (once) or fail runs whose lease ran out: the process running them stopped.

        Called at start-up and before every claim, so any process of the queue notices a dead one.
        Runs of live workers (lease still valid) are left alone; queued runs stay queued.
        """
        changed = 0
        async with self._db.session() as session:
            repository = self._repository(session)
            now = utcnow()
            for record in await repository.expired_runs(now):
                if record.id in self._running:
                    continue  # ours, only slow to beat (a stalled event loop): not dead
                if (record.attempts or 0) < MAX_ATTEMPTS:
                    done = await repository.requeue_run(record, REQUEUED_REASON.format(attempt=record.attempts or 1))
                else:
                    done = await repository.fail_expired_run(record, STALE_RUN_REASON, now)
                changed += int(done)
        if changed:
            log.warning("recovered %d training run(s) left by a stopped process", changed)
        return changed

    async def close(self) -> None:
        """Ask runs of this process to stop (shutdown); their leases run out and another process requeues them."""
        for control in self._running.values():
            control.cancel()

    # --- models -----------------------------------------------------------------------------------

    async def _store_model(self, run: TrainingRun, result: TrainingResult, metrics: dict[str, Any]) -> tuple[str, str]:
        artifact = result.model
        assert artifact is not None
        async with self._db.session() as session:
            repository = self._repository(session)
            existing = await repository.models(run.training_type)
            numbers = [int(m.version) for m in existing if m.version.isdigit()]
            version = str(max(numbers, default=0) + 1)
            active = next((m for m in existing if m.active), None)
            now = utcnow()
            metadata = {
                "model_type": run.training_type, "version": version, "run_id": run.id, "created_at": now.isoformat(),
                "metrics": metrics, "params": artifact.params, "data": artifact.data,
            }  # fmt: skip
            path, digest = await asyncio.to_thread(
                self.files.store, artifact.path, run.training_type, version, metadata
            )
            activate, note = _beats(
                metrics, active.metrics if active is not None else None, artifact.score_key, artifact.higher_is_better
            )
            record = TrainingModelRecord(
                id=uuid.uuid4().hex,
                model_type=run.training_type,
                version=version,
                run_id=run.id,
                artifact_path=str(path),
                artifact_sha256=digest,
                active=False,
                metrics=metrics,
                params=dict(artifact.params),
                data=dict(artifact.data),
                created_at=now,
            )
            await repository.add_model(record)
            if activate:
                await repository.activate(run.training_type, record.id)
        return version, note

    async def list_models(self, model_type: str | None = None) -> ModelList:
        """Stored models, newest first, each with its availability (file present and intact).

        Raises:
            UnknownTrainingTypeError: the type names no training type.
        """
        if model_type is not None:
            check_training_type(model_type)
        async with self._db.session() as session:
            records = await self._repository(session).models(model_type)
        problems = await asyncio.to_thread(
            lambda: [ModelFiles.problem(r.artifact_path, r.artifact_sha256) for r in records]
        )
        items = [model_dto(r, p) for r, p in zip(records, problems, strict=True)]
        return ModelList(items=items, total=len(items))

    async def activate_model(self, model_type: str, version: str) -> ModelInfo:
        """Put a stored version in use (e.g. switch back to an older one).

        Raises:
            UnknownTrainingTypeError: the type names no training type.
            ModelNotFoundError: no model of that type has that version.
            ModelUnavailableError: its file is missing or corrupt.
        """
        check_training_type(model_type)
        async with self._db.session() as session:
            repository = self._repository(session)
            record = await repository.model_version(model_type, version)
            if record is None:
                raise ModelNotFoundError(f"no {model_type} model has version {version!r}")
            problem = await asyncio.to_thread(ModelFiles.problem, record.artifact_path, record.artifact_sha256)
            if problem is not None:
                raise ModelUnavailableError(f"the {model_type} model {version} is unavailable: {problem}")
            await repository.activate(model_type, record.id)
            await session.flush()
            await session.refresh(record)
            return model_dto(record)

    async def get_active_model(self, model_type: str) -> ModelInfo | None:
        """The model in use for a type (with its availability), or None when none has been trained."""
        async with self._db.session() as session:
            record = await self._repository(session).active_model(model_type)
        if record is None:
            return None
        problem = None
        if record.artifact_path is not None or record.artifact_sha256 is not None:
            problem = await asyncio.to_thread(ModelFiles.problem, record.artifact_path, record.artifact_sha256)
        return model_dto(record, problem)

    async def _usable_active(self, model_type: str) -> tuple[ModelInfo, str]:
        async with self._db.session() as session:
            record = await self._repository(session).active_model(model_type)
        if record is None:
            raise ActiveModelNotFoundError(f"no {model_type!r} model has been trained yet")
        problem = await asyncio.to_thread(ModelFiles.problem, record.artifact_path, record.artifact_sha256)
        if problem is not None:
            raise ModelUnavailableError(f"the {model_type} model {record.version} is unavailable: {problem}")
        return model_dto(record), str(record.artifact_path)

    async def score_pairs(self, model_type: str, pairs: list[tuple[str, str]]) -> PairScores:
        """Score entity pairs with the type's active model.

        Raises:
            ActiveModelNotFoundError: no model of that type is active.
            ModelUnavailableError: the model's file is missing, corrupt or unreadable, or no scorer exists.
        """
        scorer = self._scorers.get(model_type)
        if scorer is None:
            model = await self.get_active_model(model_type)
            if model is None:
                raise ActiveModelNotFoundError(f"no {model_type!r} model has been trained yet")
            raise ModelUnavailableError(
                f"the {model_type} model {model.version} cannot be loaded: this version has no scorer for it"
            )
        model, path = await self._usable_active(model_type)
        try:
            scores = await scorer(model, path, pairs)
        except ValueError as exc:
            raise ModelUnavailableError(f"the {model_type} model {model.version} is unavailable: {exc}") from None
        return PairScores(model_id=model.id, version=model.version, scores=[float(x) for x in scores])

    async def predict_home_type(self) -> HomeTypePrediction:
        """The stored home's type by the active home_type model.

        Raises:
            ActiveModelNotFoundError: no home_type model is active.
            ModelUnavailableError: the model cannot be loaded, or the home has nothing to judge by.
        """
        if self._predictor is None:
            raise ModelUnavailableError("this version has no home type predictor")
        model, path = await self._usable_active("home_type")
        try:
            return await self._predictor(model, path)
        except ValueError as exc:
            raise ModelUnavailableError(f"the home_type model {model.version} is unavailable: {exc}") from None


LOAD_CHUNK = 50_000


def _kernel_entity(entity: synthetic_spec.Entity) -> Entity:
    return Entity(
        entity_id=entity.entity_id,
        domain=entity.domain,
        friendly_name=entity.friendly_name,
        device_class=entity.device_class,
        unit_of_measurement=entity.unit_of_measurement,
        area_id=entity.area_id,
        device_id=entity.device_id,
        entity_category=entity.entity_category,
    )


def _truth_counts(truth: synthetic_spec.GroundTruth) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in synthetic_spec.GroundTruth.__struct_fields__:
        value = getattr(truth, name)
        if isinstance(value, list):
            counts[name] = len(value)
    return counts


async def load_home(home: GeneratedHome, store: HomeStore) -> tuple[int, int]:
    """Store a generated home (its location, registry and events) in the local store.

    Returns:
        (inserted, duplicates): events already stored are skipped, so loading twice adds nothing.
    """
    spec = home.spec
    await store.save_home_info(
        HomeInfo(
            name=f"Synthetic {spec.home_type.replace('_', ' ')} (seed {spec.seed})",
            time_zone=spec.time_zone,
            latitude=spec.latitude,
            longitude=spec.longitude,
            source="synthetic",
        )
    )
    await store.upsert_areas([Area(area_id=a.area_id, name=a.name) for a in spec.areas])
    await store.upsert_devices(
        [
            Device(device_id=d.device_id, name=d.name, area_id=d.area_id, manufacturer=d.manufacturer, model=d.model)
            for d in spec.devices
        ]
    )
    await store.upsert_entities([_kernel_entity(e) for e in spec.entities])
    inserted = duplicates = 0
    chunk: list[Event] = []
    for event in home.events:
        chunk.append(
            Event(
                entity_id=event.entity_id,
                old_state=event.old_state,
                new_state=event.new_state,
                time=event.time,
                attributes=event.attributes,
            )
        )
        if len(chunk) >= LOAD_CHUNK:
            result = await store.insert_events(chunk, register_entities=False)
            inserted, duplicates, chunk = inserted + result.inserted, duplicates + result.duplicates, []
    if chunk:
        result = await store.insert_events(chunk, register_entities=False)
        inserted, duplicates = inserted + result.inserted, duplicates + result.duplicates
    return inserted, duplicates


class SyntheticHomeService:
    """Generates synthetic homes with their ground truth, saves them, and loads them on request."""

    def __init__(self, db: Database, data_dir: Path) -> None:
        self._db = db
        self._data_dir = data_dir

    async def create(self, request: SyntheticHomeRequest) -> SyntheticHome:
        """Generate a home, write its events, registry and truth under the data folder, optionally load it.

        Raises:
            InvalidSyntheticHomeError: the generator rejected the values.
        """
        began = time.perf_counter()
        if request.start is not None:
            first = datetime(request.start.year, request.start.month, request.start.day, tzinfo=UTC)
            try:
                check_time_range(first, "start")
                check_time_range(first + timedelta(days=request.days), "start + days")
            except (ValueError, OverflowError) as exc:
                raise InvalidSyntheticHomeError(str(exc)) from None
        try:
            home = await asyncio.to_thread(
                generate_home,
                seed=request.seed,
                home_type=request.home_type,
                days=request.days,
                start=request.start,
                entity_target=request.entity_target,
                time_zone=request.time_zone or "Europe/Berlin",
                latitude=request.latitude,
                longitude=request.longitude,
                climate_zone=request.climate_zone,
            )
        except ValueError as exc:
            raise InvalidSyntheticHomeError(str(exc)) from None
        spec = home.spec
        home_id = f"{spec.home_type}-s{spec.seed}-{spec.start.isoformat()}-{spec.days}d-{uuid.uuid4().hex[:6]}"
        directory = self._data_dir / "synthetic" / home_id
        await asyncio.to_thread(write_home, directory, home)
        inserted = duplicates = 0
        if request.load:
            inserted, duplicates = await load_home(home, HomeStore(self._db))
        return SyntheticHome(
            id=home_id,
            seed=spec.seed,
            home_type=spec.home_type,
            time_zone=spec.time_zone,
            latitude=spec.latitude,
            longitude=spec.longitude,
            climate_zone=spec.climate_zone,
            start=spec.start,
            days=spec.days,
            areas=len(spec.areas),
            entities=len(spec.entities),
            events=len(home.events),
            truth=_truth_counts(home.truth),
            path=str(directory),
            loaded=request.load,
            inserted=inserted,
            duplicates=duplicates,
            seconds=round(time.perf_counter() - began, 3),
        )


def _dataset_dto(manifest: dict[str, Any]) -> SyntheticDataset:
    return SyntheticDataset(
        id=manifest["id"], kind=manifest["kind"], seed=manifest["seed"], home_type=manifest["home_type"],
        days=manifest["days"], start=date.fromisoformat(manifest["start"]), time_zone=manifest["time_zone"],
        climate_zone=manifest["climate_zone"], rows=manifest["rows"], sha256=manifest["sha256"],
        download=f"/api/v1/training/synthetic/datasets/{manifest['id']}/download",
    )  # fmt: skip


class SyntheticDatasetService:
    """Weather, calendar, occupancy and whole-home datasets, cut from generated homes, kept as files."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "synthetic" / "datasets"

    async def create(self, request: SyntheticDatasetRequest) -> SyntheticDataset:
        """Generate and store a dataset.

        Raises:
            InvalidSyntheticHomeError: the generator rejected the values.
        """
        args: dict[str, Any] = {
            "seed": request.seed, "home_type": request.home_type, "days": request.days, "start": request.start,
            "time_zone": request.time_zone or "Europe/Berlin", "climate_zone": request.climate_zone,
        }  # fmt: skip
        dataset_id = f"{request.kind}-s{request.seed}-{request.days}d-{uuid.uuid4().hex[:8]}"
        try:
            manifest = await asyncio.to_thread(write_dataset, self.root, dataset_id, request.kind, args)
        except ValueError as exc:
            shutil.rmtree(self.root / dataset_id, ignore_errors=True)
            raise InvalidSyntheticHomeError(str(exc)) from None
        return _dataset_dto(manifest)

    async def list(self) -> SyntheticDatasetList:
        """Stored datasets, newest first."""
        items = [_dataset_dto(m) for m in await asyncio.to_thread(list_manifests, self.root)]
        return SyntheticDatasetList(items=items, total=len(items))

    def file(self, dataset_id: str) -> Path:
        """The JSON Lines file of a dataset.

        Raises:
            SyntheticDatasetNotFoundError: no dataset has that id.
        """
        folder = self.root / dataset_id
        if "/" in dataset_id or dataset_id.startswith(".") or not (folder / "manifest.json").is_file():
            raise SyntheticDatasetNotFoundError(f"no synthetic dataset has id {dataset_id!r}")
        manifest = json.loads((folder / "manifest.json").read_text())
        return folder / manifest["file"]
