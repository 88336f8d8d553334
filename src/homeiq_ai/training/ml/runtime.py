"""The trainers, scorers and predictor of this version, bound to a process's settings and home store."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from homeiq_ai.kernel.db import utcnow
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.training.api import HomeTypePrediction, ModelInfo, TrainingRun
from homeiq_ai.training.ml import gnn, home_type, soft_prompt
from homeiq_ai.training.ml.control import RunControl, TrainingResult
from homeiq_ai.training.ml.homegraph import HomeSnapshot, build_graph, snapshot_from_columns
from homeiq_ai.training.ml.registry import ModelFiles

__all__ = ["MlRuntime"]

SNAPSHOT_TTL_SECONDS = 300.0


class MlRuntime:
    """Runs trainers in a worker thread (so the API keeps answering) and scores with loaded models."""

    def __init__(
        self,
        store: HomeStore,
        files: ModelFiles,
        *,
        threads: int = 1,
        history_days: int = 30,
        base_model: Path | None = None,
        prompt_dataset: Path | None = None,
    ) -> None:
        self._base_model = base_model
        self._prompt_dataset = prompt_dataset
        self._store = store
        self._files = files
        self._threads = threads
        self._history_days = history_days
        self._snapshot: tuple[float, HomeSnapshot] | None = None
        self._lock = asyncio.Lock()

    def validators(self) -> dict[str, Any]:
        """Params validators by training type."""
        return {"gnn_synergy": gnn.validate, "home_type": home_type.validate, "soft_prompt": soft_prompt.validate}

    def trainers(self) -> dict[str, Any]:
        """Trainers by training type."""

        async def train_gnn(run: TrainingRun, control: RunControl) -> TrainingResult:
            return await asyncio.to_thread(gnn.train_gnn_synergy, run.params, control, self._threads)

        async def train_home_type(run: TrainingRun, control: RunControl) -> TrainingResult:
            return await asyncio.to_thread(home_type.train_home_type, run.params, control, self._threads)

        async def train_soft_prompt(run: TrainingRun, control: RunControl) -> TrainingResult:
            return await asyncio.to_thread(
                soft_prompt.train_soft_prompt, run.params, control, self._base_model, self._prompt_dataset,
                self._threads,
            )  # fmt: skip

        return {"gnn_synergy": train_gnn, "home_type": train_home_type, "soft_prompt": train_soft_prompt}

    async def snapshot(self) -> HomeSnapshot:
        """The stored home (registry and the last `history_days` of events), cached for a few minutes."""
        async with self._lock:
            if self._snapshot is not None and time.monotonic() - self._snapshot[0] < SNAPSHOT_TTL_SECONDS:
                return self._snapshot[1]
            entities = await self._store.entities()
            areas = await self._store.areas()
            end = (await self._store.newest_event_time()) or utcnow()
            columns = await self._store.event_columns(
                end - timedelta(days=self._history_days), end + timedelta(seconds=1)
            )
            snap = await asyncio.to_thread(
                snapshot_from_columns, entities, areas, columns.entity_id, columns.new_state, columns.time
            )
            self._snapshot = (time.monotonic(), snap)
            return snap

    async def score_gnn(self, model: ModelInfo, path: str, pairs: list[tuple[str, str]]) -> list[float]:
        """Scores of pairs of the stored home by a gnn_synergy model; ValueError when it cannot load."""
        sha = await self._sha(model)
        scorer = await asyncio.to_thread(self._files.load, path, sha, lambda p: gnn.load_gnn(p, self._threads))
        snap = await self.snapshot()

        def run() -> list[float]:
            graph = build_graph(snap, include=pairs)
            return gnn.score_graph(scorer, graph, pairs)

        return await asyncio.to_thread(run)

    async def predict_home_type(self, model: ModelInfo, path: str) -> HomeTypePrediction:
        """The stored home's type by a home_type model; ValueError when it cannot load or judge."""
        sha = await self._sha(model)
        classifier = await asyncio.to_thread(
            self._files.load, path, sha, lambda p: home_type.load_home_type(p, self._threads)
        )
        snap = await self.snapshot()
        name, confidence, probabilities = await asyncio.to_thread(classifier.predict, snap)
        return HomeTypePrediction(
            home_type=name, confidence=round(confidence, 4), probabilities=probabilities,
            model_id=model.id, version=model.version,
        )  # fmt: skip

    async def _sha(self, model: ModelInfo) -> str | None:
        # The service verified the file's checksum just before this call; the cache is keyed by path.
        return None
