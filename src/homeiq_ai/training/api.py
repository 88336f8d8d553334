"""Public contract of the training module: the TrainingApi Protocol, its DTOs and its errors.

Other modules import this file only. It depends on the standard library and msgspec alone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol

import msgspec

__all__ = [
    "CLIMATE_ZONES",
    "DATASET_KINDS",
    "ERRORS_BY_CODE",
    "HOME_TYPES",
    "RUN_STATUSES",
    "TRAINING_TYPES",
    "ActivateModelRequest",
    "ActiveModelNotFoundError",
    "HomeTypePrediction",
    "InvalidFilterError",
    "InvalidSyntheticHomeError",
    "InvalidTrainingParamsError",
    "ModelInfo",
    "ModelList",
    "ModelNotFoundError",
    "ModelUnavailableError",
    "PairScoreRequest",
    "PairScores",
    "RunStatus",
    "SyntheticDataset",
    "SyntheticDatasetList",
    "SyntheticDatasetNotFoundError",
    "SyntheticDatasetRequest",
    "SyntheticHome",
    "SyntheticHomeRequest",
    "TrainingAlreadyRunningError",
    "TrainingApi",
    "TrainingError",
    "TrainingRequest",
    "TrainingRun",
    "TrainingRunFinishedError",
    "TrainingRunNotFoundError",
    "TrainingRunPage",
    "TrainingRunQuery",
    "UnknownTrainingTypeError",
]

TRAINING_TYPES = ("gnn_synergy", "home_type", "soft_prompt")
RUN_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
RunStatus = Literal["queued", "running", "completed", "failed", "cancelled"]


class TrainingRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Options of one training run, handed to its trainer as they are."""

    params: dict[str, Any] = msgspec.field(default_factory=dict)


class TrainingRun(msgspec.Struct, kw_only=True):
    """One training run: queued, then run by the worker to completion or failure."""

    id: str
    training_type: str
    status: RunStatus
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    metrics: dict[str, Any] = msgspec.field(default_factory=dict)
    error: str | None = None
    requested_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Live while running: epoch, epochs, loss, metrics so far; the last report once the run has ended.
    progress: dict[str, Any] = msgspec.field(default_factory=dict)
    # Seconds spent queued and running (running: so far).
    timings: dict[str, float] = msgspec.field(default_factory=dict)
    attempts: int = 0
    cancel_requested: bool = False
    heartbeat_at: datetime | None = None
    model_version: str | None = None


class TrainingRunPage(msgspec.Struct, kw_only=True):
    """One page of training runs, newest first."""

    items: list[TrainingRun]
    total: int
    limit: int
    offset: int


class TrainingRunQuery(msgspec.Struct, kw_only=True):
    """Filters for listing training runs."""

    training_type: str | None = None
    status: str | None = None
    limit: int = 50
    offset: int = 0


class ModelInfo(msgspec.Struct, kw_only=True):
    """A trained model: its held-out metrics, what it was trained with and on, and whether it can be used.

    `data` holds the data seeds and a hash of the training data; `available` is False (with the reason)
    when its file is missing or does not match its checksum.
    """

    id: str
    model_type: str
    version: str
    created_at: datetime
    metrics: dict[str, Any] = msgspec.field(default_factory=dict)
    active: bool = True
    available: bool = True
    unavailable_reason: str | None = None
    run_id: str | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class ModelList(msgspec.Struct, kw_only=True):
    """Every stored model of the asked types, newest first."""

    items: list[ModelInfo]
    total: int


class ActivateModelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which stored version of a type to put in use."""

    version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class HomeTypePrediction(msgspec.Struct, kw_only=True):
    """The home type the active classifier sees in the stored home, with its confidence (0..1)."""

    home_type: str
    confidence: float
    probabilities: dict[str, float]
    model_id: str
    version: str


HOME_TYPES = ("studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey")
CLIMATE_ZONES = ("temperate", "continental", "mediterranean", "subtropical", "nordic")


class SyntheticHomeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A synthetic home to generate: deterministic for the same values.

    Without `time_zone` the home is in Europe/Berlin; other time zones need `latitude`/`longitude`
    unless the generator knows them. `load` also stores the home and its events in the local store.
    """

    seed: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] = 42
    home_type: Literal["studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey"] = (
        "single_family"
    )
    days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 30
    start: date | None = None
    entity_target: Annotated[int, msgspec.Meta(ge=10, le=500)] | None = None
    time_zone: str | None = None
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    climate_zone: Literal["temperate", "continental", "mediterranean", "subtropical", "nordic"] | None = None
    load: bool = False


class SyntheticHome(msgspec.Struct, kw_only=True):
    """A generated home: where its files are, what it holds, and what was loaded."""

    id: str
    seed: int
    home_type: str
    time_zone: str
    latitude: float
    longitude: float
    climate_zone: str
    start: date
    days: int
    areas: int
    entities: int
    events: int
    truth: dict[str, int]
    path: str
    loaded: bool
    inserted: int = 0
    duplicates: int = 0
    seconds: float = 0.0


DATASET_KINDS = ("weather", "calendar", "occupancy", "home")


class SyntheticDatasetRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A synthetic dataset to generate: the same values always give the same rows."""

    kind: Literal["weather", "calendar", "occupancy", "home"]
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] = 42
    home_type: Literal["studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey"] = (
        "single_family"
    )
    days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 30
    start: date | None = None
    time_zone: str | None = None
    climate_zone: Literal["temperate", "continental", "mediterranean", "subtropical", "nordic"] | None = None


class SyntheticDataset(msgspec.Struct, kw_only=True):
    """A stored synthetic dataset: what it was generated from, its size and checksum."""

    id: str
    kind: str
    seed: int
    home_type: str
    days: int
    start: date
    time_zone: str
    climate_zone: str
    rows: int
    sha256: str
    download: str


class SyntheticDatasetList(msgspec.Struct, kw_only=True):
    """Stored synthetic datasets, newest first."""

    items: list[SyntheticDataset]
    total: int


class PairScoreRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Entity pairs (trigger, response) to score with a type's active model."""

    pairs: Annotated[list[tuple[str, str]], msgspec.Meta(max_length=10_000)]


class PairScores(msgspec.Struct, kw_only=True):
    """One score per pair, in the order asked, from the named model."""

    model_id: str
    version: str
    scores: list[float]


class TrainingError(Exception):
    """Base of the training module's declared errors; `code` and `http_status` travel over HTTP."""

    code: ClassVar[str] = "training_error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownTrainingTypeError(TrainingError):
    """The training type is not one of TRAINING_TYPES (the message lists them)."""

    code = "unknown_training_type"
    http_status = 404


class InvalidTrainingParamsError(TrainingError):
    """A run's params name an option its trainer does not know, or a value out of range."""

    code = "invalid_training_params"
    http_status = 400


class TrainingRunFinishedError(TrainingError):
    """The run has already ended, so it cannot be cancelled."""

    code = "training_run_finished"
    http_status = 409


class ModelNotFoundError(TrainingError):
    """No stored model of that type has that version."""

    code = "model_not_found"
    http_status = 404


class TrainingAlreadyRunningError(TrainingError):
    """A run of that training type is already queued or running."""

    code = "training_already_running"
    http_status = 409


class TrainingRunNotFoundError(TrainingError):
    """No training run has that id."""

    code = "training_run_not_found"
    http_status = 404


class ActiveModelNotFoundError(TrainingError):
    """No model of that type is in use; `get_active_model` answers None instead of raising it."""

    code = "active_model_not_found"
    http_status = 404


class InvalidSyntheticHomeError(TrainingError):
    """The generator cannot build a home from these values (an unknown time zone without a location, ...)."""

    code = "invalid_synthetic_home"
    http_status = 400


class ModelUnavailableError(TrainingError):
    """The active model of a type exists but cannot score in this process."""

    code = "model_unavailable"
    http_status = 503


class SyntheticDatasetNotFoundError(TrainingError):
    """No stored synthetic dataset has that id."""

    code = "synthetic_dataset_not_found"
    http_status = 404


class InvalidFilterError(TrainingError):
    """A list filter has a value that cannot match anything."""

    code = "invalid_filter"
    http_status = 400


ERRORS_BY_CODE: dict[str, type[TrainingError]] = {
    cls.code: cls
    for cls in (
        UnknownTrainingTypeError,
        InvalidTrainingParamsError,
        TrainingRunFinishedError,
        ModelNotFoundError,
        SyntheticDatasetNotFoundError,
        TrainingAlreadyRunningError,
        TrainingRunNotFoundError,
        ActiveModelNotFoundError,
        InvalidFilterError,
        InvalidSyntheticHomeError,
        ModelUnavailableError,
    )
}


class TrainingApi(Protocol):
    """What other modules may ask of the training module, in-process or over HTTP alike."""

    async def list_runs(self, query: TrainingRunQuery) -> TrainingRunPage:
        """List training runs, newest first; raises UnknownTrainingTypeError, InvalidFilterError."""
        ...

    async def get_run(self, run_id: str) -> TrainingRun:
        """Return one training run; raises TrainingRunNotFoundError."""
        ...

    async def start_run(self, training_type: str, request: TrainingRequest) -> TrainingRun:
        """Queue a training run; raises UnknownTrainingTypeError, InvalidTrainingParamsError,
        TrainingAlreadyRunningError."""
        ...

    async def cancel_run(self, run_id: str) -> TrainingRun:
        """Cancel a queued run at once, or ask a running one to stop; raises TrainingRunNotFoundError,
        TrainingRunFinishedError."""
        ...

    async def list_models(self, model_type: str | None = None) -> ModelList:
        """Stored models, newest first, with their availability; raises UnknownTrainingTypeError."""
        ...

    async def activate_model(self, model_type: str, version: str) -> ModelInfo:
        """Put a stored version in use for its type; raises ModelNotFoundError, ModelUnavailableError."""
        ...

    async def predict_home_type(self) -> HomeTypePrediction:
        """The stored home's type by the active home_type model; raises ActiveModelNotFoundError,
        ModelUnavailableError."""
        ...

    async def score_pairs(self, model_type: str, pairs: list[tuple[str, str]]) -> list[float]:
        """Scores of entity pairs by the type's active model; raises ActiveModelNotFoundError or
        ModelUnavailableError."""
        ...

    async def get_active_model(self, model_type: str) -> ModelInfo | None:
        """Return the model in use for a type, or None when none has been trained."""
        ...
