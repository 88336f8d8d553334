"""What passes between a running trainer (in its worker thread) and the service: progress, cancel, result."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ModelArtifact", "RunCancelledError", "RunControl", "TrainingResult", "check_params"]


class RunCancelledError(Exception):
    """Raised inside a trainer when its run was cancelled; the run ends `cancelled`, no model is kept."""


class RunControl:
    """Thread-safe link to one running run: the trainer reports progress, the service asks it to stop."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._lock = threading.Lock()
        self._progress: dict[str, Any] = {}
        self._cancel = threading.Event()

    def report(self, **progress: Any) -> None:
        """Merge progress (epoch, epochs, loss, metrics so far) into what the next heartbeat stores."""
        with self._lock:
            self._progress.update(progress)

    def snapshot(self) -> dict[str, Any]:
        """A copy of the progress reported so far."""
        with self._lock:
            return dict(self._progress)

    def cancel(self) -> None:
        """Ask the trainer to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once the run was asked to stop."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise RunCancelledError when the run was asked to stop (trainers call it every epoch)."""
        if self._cancel.is_set():
            raise RunCancelledError("the run was cancelled")


@dataclass(slots=True)
class ModelArtifact:
    """A trained model's file and what it was trained with, before the service stores it.

    Attributes:
        path: the file the trainer wrote (under RunControl.work_dir).
        score_key: the held-out metric that decides whether it beats the active model.
        higher_is_better: direction of `score_key`.
        params: the parameters it was trained with.
        data: data seeds and hash.
    """

    path: Path
    score_key: str
    higher_is_better: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TrainingResult:
    """What a trainer returns: the run's metrics (held-out figures) and the model to store, if any."""

    metrics: dict[str, Any]
    model: ModelArtifact | None = None


def check_params(params: dict[str, Any], defaults: dict[str, Any], bounds: dict[str, tuple[float, float]]) -> dict:
    """Merge params over defaults, refusing unknown names, wrong types and values out of bounds.

    Raises:
        ValueError: naming the parameter and what is allowed.
    """
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(defaults))}")
    merged = dict(defaults)
    for name, value in params.items():
        default = defaults[name]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            value = float(value)
        elif isinstance(default, list):
            kind = str if default and isinstance(default[0], str) else int
            if not isinstance(value, list) or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
                noun = "strings" if kind is str else "integers"
                raise ValueError(f"{name} must be a list of {noun}, got {value!r}")
            if not value:
                raise ValueError(f"{name} must not be empty")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        if name in bounds:
            lo, hi = bounds[name]
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not lo <= item <= hi:
                    raise ValueError(f"{name} must be within [{lo:g}, {hi:g}], got {item!r}")
        merged[name] = value
    return merged
