"""Use cases of the training module: queueing runs, working the queue, and the models in use."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
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
    InvalidFilterError,
    InvalidSyntheticHomeError,
    ModelInfo,
    ModelUnavailableError,
    PairScores,
    SyntheticHome,
    SyntheticHomeRequest,
    TrainingAlreadyRunningError,
    TrainingRequest,
    TrainingRun,
    TrainingRunNotFoundError,
    TrainingRunPage,
    TrainingRunQuery,
    UnknownTrainingTypeError,
)
from homeiq_ai.training.models import TrainingModelRecord, TrainingRunRecord
from homeiq_ai.training.repository import TrainingRepository
from homeiq_ai.training.synthetic import spec as synthetic_spec
from homeiq_ai.training.synthetic.generator import generate_home
from homeiq_ai.training.synthetic.io import write_home
from homeiq_ai.training.synthetic.spec import GeneratedHome

log = logging.getLogger(__name__)

# A trainer gets the claimed run and returns its metrics; raising fails the run with that reason.
Trainer = Callable[[TrainingRun], Awaitable[Mapping[str, Any]]]
# A scorer gets the active model and entity pairs and returns one score per pair.
Scorer = Callable[[ModelInfo, list[tuple[str, str]]], Awaitable[list[float]]]

STALE_RUN_REASON = "the process running this training stopped before it finished"


def run_dto(record: TrainingRunRecord) -> TrainingRun:
    """Map a stored training run to its DTO."""
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
    )


def model_dto(record: TrainingModelRecord) -> ModelInfo:
    """Map a stored model to its DTO."""
    return ModelInfo(
        id=record.id,
        model_type=record.model_type,
        version=record.version,
        created_at=record.created_at,
        metrics=dict(record.metrics or {}),
    )


def check_training_type(training_type: str) -> None:
    """Raise UnknownTrainingTypeError unless `training_type` is one of TRAINING_TYPES."""
    if training_type not in TRAINING_TYPES:
        raise UnknownTrainingTypeError(
            f"unknown training type {training_type!r}; choose one of {', '.join(TRAINING_TYPES)}"
        )


class TrainingService:
    """Queues training runs, one active run per type, and works the queue with the installed trainers."""

    def __init__(
        self,
        db: Database,
        *,
        trainers: Mapping[str, Trainer] | None = None,
        scorers: Mapping[str, Scorer] | None = None,
        repository: type[TrainingRepository] = TrainingRepository,
    ) -> None:
        self._db = db
        # No trainer ships in this version; a run of a type without one fails and says so.
        self.trainers: Mapping[str, Trainer] = dict(trainers or {})
        # Nor a scorer: asking an active model for scores then answers model_unavailable.
        self._scorers: Mapping[str, Scorer] = dict(scorers or {})
        self._repository = repository

    async def start_run(self, training_type: str, request: TrainingRequest) -> TrainingRun:
        """Queue a run of a training type; the worker job picks it up.

        Raises:
            UnknownTrainingTypeError: the type is not one of TRAINING_TYPES.
            TrainingAlreadyRunningError: a run of that type is queued or running.
        """
        check_training_type(training_type)
        now = utcnow()
        record = TrainingRunRecord(
            id=uuid.uuid4().hex,
            training_type=training_type,
            status="queued",
            active_type=training_type,
            params=dict(request.params),
            metrics={},
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
        return run_dto(record)

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
            UnknownTrainingTypeError: the training_type filter names no type.
            InvalidFilterError: the status filter names no status.
        """
        if query.training_type is not None:
            check_training_type(query.training_type)
        if query.status is not None and query.status not in RUN_STATUSES:
            raise InvalidFilterError(f"status must be one of {', '.join(RUN_STATUSES)}, got {query.status!r}")
        async with self._db.session() as session:
            records, total = await self._repository(session).list_runs(query)
            items = [run_dto(r) for r in records]
        return TrainingRunPage(items=items, total=total, limit=query.limit, offset=query.offset)

    async def score_pairs(self, model_type: str, pairs: list[tuple[str, str]]) -> PairScores:
        """Score entity pairs with the type's active model.

        Raises:
            ActiveModelNotFoundError: no model of that type is active.
            ModelUnavailableError: this version has no scorer that can load the model.
        """
        model = await self.get_active_model(model_type)
        if model is None:
            raise ActiveModelNotFoundError(f"no {model_type!r} model has been trained yet")
        scorer = self._scorers.get(model_type)
        if scorer is None:
            raise ModelUnavailableError(
                f"the {model_type} model {model.version} cannot be loaded: this version has no scorer for it"
            )
        scores = await scorer(model, pairs)
        return PairScores(model_id=model.id, version=model.version, scores=[float(x) for x in scores])

    async def get_active_model(self, model_type: str) -> ModelInfo | None:
        """The model in use for a type, or None when none has been trained."""
        async with self._db.session() as session:
            record = await self._repository(session).active_model(model_type)
            return model_dto(record) if record is not None else None

    async def run_next(self) -> TrainingRun | None:
        """Claim the oldest queued run and take it to its end.

        Returns:
            The finished run, or None when the queue was empty (or another worker claimed the run).
        """
        async with self._db.session() as session:
            repository = self._repository(session)
            run_id = await repository.oldest_queued_id()
            if run_id is None:
                return None
            if not await repository.claim_run(run_id, utcnow()):
                return None
            record = await repository.get_run(run_id)
            assert record is not None
            run = run_dto(record)
        trainer = self.trainers.get(run.training_type)
        metrics: dict[str, Any] | None = None
        error: str | None = None
        if trainer is None:
            error = f"no trainer for '{run.training_type}' is installed in this version"
            log.warning("training run %s failed: %s", run.id, error)
        else:
            try:
                metrics = dict(await trainer(run))
            except Exception as exc:  # a failing trainer fails its run, never the worker
                log.exception("trainer %s failed in run %s", run.training_type, run.id)
                error = f"{type(exc).__name__}: {exc}"
        async with self._db.session() as session:
            repository = self._repository(session)
            await repository.finish_run(
                run.id, status="failed" if error else "completed", now=utcnow(), error=error, metrics=metrics
            )
        return await self.get_run(run.id)

    async def recover_stale_runs(self) -> int:
        """Mark runs a stopped process left running as failed (called at start-up); queued runs stay."""
        async with self._db.session() as session:
            count = await self._repository(session).fail_running_runs(STALE_RUN_REASON, utcnow())
        if count:
            log.warning("marked %d unfinished training run(s) as failed", count)
        return count


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
