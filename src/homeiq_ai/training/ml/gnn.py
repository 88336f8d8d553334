"""gnn_synergy: link prediction of synergy pairs on the graph of one home, trained on synthetic homes.

Nodes are behaviour entities (domain, device class, kind of area, activity); edges are same area,
same device and observed co-occurrence (lift, confidence, delay). Two rounds of message passing give
each entity a context vector; a decoder scores (trigger, response) from both vectors and the pair's
own evidence. Labels are the planted causal pairs and sequence steps of the synthetic homes.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from homeiq_ai.training.ml.control import ModelArtifact, RunControl, TrainingResult, check_params
from homeiq_ai.training.ml.homegraph import (
    NODE_FEATURES,
    PAIR_FEATURES,
    HomeGraph,
    build_graph,
    snapshot_from_generated,
)
from homeiq_ai.training.ml.torchutil import average_precision, import_torch, precision_at_k, roc_auc

__all__ = ["DEFAULTS", "GnnScorer", "home_graphs", "labels_of", "load_gnn", "score_graph", "train_gnn_synergy"]

DEFAULTS: dict[str, Any] = {
    "train_seeds": [1, 2, 3, 4, 5, 6],
    "test_seeds": [1001, 1002, 1003],
    "home_types": ["studio", "apartment", "single_family", "multi_storey"],
    "days": 14,
    "epochs": 60,
    "hidden": 32,
    "learning_rate": 0.01,
    "seed": 0,
}
BOUNDS = {
    "train_seeds": (0, 2**31 - 1), "test_seeds": (0, 2**31 - 1), "days": (2, 120), "epochs": (1, 2000),
    "hidden": (4, 256), "learning_rate": (1e-5, 1.0), "seed": (0, 2**31 - 1),
}  # fmt: skip
FORMAT = "gnn_synergy/1"


def validate(params: dict[str, Any]) -> dict[str, Any]:
    """Params merged over DEFAULTS; raises ValueError naming a bad one."""
    from homeiq_ai.training.synthetic import HOME_TYPES

    merged = check_params(params, DEFAULTS, BOUNDS)
    if not isinstance(merged["home_types"], list) or not merged["home_types"]:
        raise ValueError("home_types must be a non-empty list")
    for name in merged["home_types"]:
        if name not in HOME_TYPES:
            raise ValueError(f"home_types: unknown home type {name!r}; choose from {', '.join(HOME_TYPES)}")
    overlap = set(merged["train_seeds"]) & set(merged["test_seeds"])
    if overlap:
        raise ValueError(f"test_seeds must be unseen in training; both hold {sorted(overlap)}")
    return merged


def labels_of(graph: HomeGraph, planted: set[tuple[str, str]]) -> np.ndarray:
    """1 for the graph's pairs that are planted relations, else 0."""
    ids = graph.entity_ids
    return np.array([(ids[a], ids[b]) in planted for a, b in graph.pairs.tolist()], dtype=np.float32)


def home_graphs(seeds: list[int], home_types: list[str], days: int, control: RunControl | None = None, **kw: Any):
    """(graph, labels, home) for each seed and home type, generated deterministically."""
    from homeiq_ai.training.synthetic import generate_home

    out = []
    for home_type in home_types:
        for seed in seeds:
            if control is not None:
                control.check()
            home = generate_home(seed=seed, home_type=home_type, days=days, **kw)
            graph = build_graph(snapshot_from_generated(home))
            planted = {(p[0], p[2]) for p in home.truth.implied_pairs()}
            out.append((graph, labels_of(graph, planted), home))
    return out


def _model_class(torch: Any) -> Any:
    nn = torch.nn

    class SynergyGNN(nn.Module):
        """Two rounds of message passing over area, device and co-occurrence edges, then a pair decoder."""

        def __init__(self, hidden: int) -> None:
            super().__init__()
            self.inp = nn.Linear(NODE_FEATURES, hidden)
            self.gate = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
            self.rounds = nn.ModuleList([nn.Linear(4 * hidden, hidden) for _ in range(2)])
            self.decode = nn.Sequential(nn.Linear(2 * hidden + PAIR_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def forward(self, g: dict[str, Any]) -> Any:
            h = torch.relu(self.inp(g["node_x"]))
            present = (g["cooc"][..., 1] > 0).float()
            weight = torch.sigmoid(self.gate(g["cooc"])).squeeze(-1) * present
            adjacency = [g["same_area"], g["same_device"], weight]
            normed = [a / a.sum(dim=1, keepdim=True).clamp(min=1.0) for a in adjacency]
            for layer in self.rounds:
                h = h + torch.relu(layer(torch.cat([h] + [a @ h for a in normed], dim=1)))
            pairs = g["pairs"]
            return self.decode(torch.cat([h[pairs[:, 0]], h[pairs[:, 1]], g["pair_x"]], dim=1)).squeeze(-1)

    return SynergyGNN


def _tensors(torch: Any, graph: HomeGraph, mean: np.ndarray, std: np.ndarray) -> dict[str, Any]:
    return {
        "node_x": torch.from_numpy(graph.node_x),
        "same_area": torch.from_numpy(graph.same_area),
        "same_device": torch.from_numpy(graph.same_device),
        "cooc": torch.from_numpy(graph.cooc),
        "pairs": torch.from_numpy(graph.pairs),
        "pair_x": torch.from_numpy(((graph.pair_x - mean) / std).astype(np.float32)),
    }


def _evaluate(scores: list[np.ndarray], labels: list[np.ndarray]) -> dict[str, float]:
    """Pooled ROC AUC; precision@k and average precision per home with planted pairs (k = their number)."""
    pooled_s, pooled_l = np.concatenate(scores), np.concatenate(labels)
    judged = [(s, y) for s, y in zip(scores, labels, strict=True) if y.sum() > 0]
    return {
        "roc_auc": round(roc_auc(pooled_s, pooled_l), 4),
        "precision_at_k": round(float(np.mean([precision_at_k(s, y) for s, y in judged])) if judged else 0.0, 4),
        "average_precision": round(float(np.mean([average_precision(s, y) for s, y in judged])) if judged else 0.0, 4),
        "homes": len(scores),
        "pairs": len(pooled_l),
        "positives": int(pooled_l.sum()),
    }


def train_gnn_synergy(params: dict[str, Any], control: RunControl, threads: int = 1) -> TrainingResult:
    """Train on homes of `train_seeds`, measure on homes of `test_seeds` (never seen), save the model."""
    p = validate(params)
    began = time.perf_counter()
    control.report(stage="generating homes")
    train = home_graphs(p["train_seeds"], p["home_types"], p["days"], control)
    test = home_graphs(p["test_seeds"], p["home_types"], p["days"], control)
    data_seconds = time.perf_counter() - began
    torch = import_torch(threads)
    torch.manual_seed(p["seed"])
    all_x = np.concatenate([g.pair_x for g, _, _ in train])
    mean, std = all_x.mean(axis=0), all_x.std(axis=0) + 1e-6
    model = _model_class(torch)(p["hidden"])
    optimiser = torch.optim.Adam(model.parameters(), lr=p["learning_rate"], weight_decay=1e-4)
    train_t = [(_tensors(torch, g, mean, std), torch.from_numpy(y)) for g, y, _ in train]
    test_t = [(_tensors(torch, g, mean, std), y) for g, y, _ in test]
    positives = sum(float(y.sum()) for _, y in train_t)
    total = sum(len(y) for _, y in train_t)
    weight = torch.tensor(max(1.0, (total - positives) / max(positives, 1.0)))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=weight)
    loss_value = float("nan")
    for epoch in range(1, p["epochs"] + 1):
        control.check()
        model.train()
        losses = []
        for g, y in train_t:
            optimiser.zero_grad()
            loss = loss_fn(model(g), y)
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        loss_value = float(np.mean(losses))
        report: dict[str, Any] = {
            "stage": "training", "epoch": epoch, "epochs": p["epochs"], "loss": round(loss_value, 5),
        }  # fmt: skip
        if epoch % 10 == 0 or epoch == p["epochs"]:
            report["metrics"] = {"held_out": _evaluate(*_score_all(torch, model, test_t))}
        control.report(**report)
    held_out = _evaluate(*_score_all(torch, model, test_t))
    baseline = _evaluate([g.pair_x[:, 1] + g.pair_x[:, 10] for g, _, _ in test], [y for _, y, _ in test])
    train_seconds = time.perf_counter() - began
    path = control.work_dir / "gnn_synergy.pt"
    torch.save(
        {
            "format": FORMAT,
            "hidden": p["hidden"],
            "state_dict": model.state_dict(),
            "mean": torch.from_numpy(mean.astype(np.float32)),
            "std": torch.from_numpy(std.astype(np.float32)),
        },
        path,
    )
    digest = hashlib.sha256("".join(h.spec.seed.__str__() + g.entity_ids[0] for g, _, h in train).encode())
    for g, _, _ in train:
        digest.update(g.pair_x.tobytes())
    metrics = {
        "roc_auc": held_out["roc_auc"],
        "precision_at_k": held_out["precision_at_k"],
        "average_precision": held_out["average_precision"],
        "held_out": held_out,
        "baseline_confidence": baseline,
        "final_train_loss": round(loss_value, 5),
        "train_homes": len(train),
        "seconds": {"data": round(data_seconds, 2), "total": round(train_seconds, 2)},
    }
    data = {
        "train_seeds": p["train_seeds"], "test_seeds": p["test_seeds"], "home_types": p["home_types"],
        "days": p["days"], "hash": digest.hexdigest()[:16],
    }  # fmt: skip
    return TrainingResult(metrics=metrics, model=ModelArtifact(path=path, score_key="roc_auc", params=p, data=data))


def _score_all(torch: Any, model: Any, items: list) -> tuple[list[np.ndarray], list[np.ndarray]]:
    model.eval()
    with torch.no_grad():
        scores = [torch.sigmoid(model(g)).numpy() for g, _ in items]
    return scores, [np.asarray(y) for _, y in items]


class GnnScorer:
    """A loaded gnn_synergy model: scores the pairs of one home's graph."""

    def __init__(self, torch: Any, model: Any, mean: np.ndarray, std: np.ndarray) -> None:
        self._torch, self._model, self._mean, self._std = torch, model, mean, std

    def score(self, graph: HomeGraph) -> np.ndarray:
        """Probability that each pair of the graph is a synergy."""
        if len(graph.pairs) == 0:
            return np.zeros(0)
        with self._torch.no_grad():
            return self._torch.sigmoid(self._model(_tensors(self._torch, graph, self._mean, self._std))).numpy()


def load_gnn(path: Path, threads: int = 1) -> GnnScorer:
    """Load a saved model; raises ValueError when the file is not a gnn_synergy model."""
    torch = import_torch(threads)
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path.name} is not a {FORMAT} model")
    model = _model_class(torch)(int(blob["hidden"]))
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return GnnScorer(torch, model, blob["mean"].numpy(), blob["std"].numpy())


def score_graph(scorer: GnnScorer, graph: HomeGraph, pairs: list[tuple[str, str]]) -> list[float]:
    """Scores of (trigger, response) entity pairs; 0.0 for a pair whose entities are not in the graph."""
    index = graph.pair_index()
    scores = scorer.score(graph)
    return [float(scores[index[p]]) if p in index else 0.0 for p in pairs]
