"""home_type: which kind of home (studio ... multi_storey) from its entity inventory and activity."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from homeiq_ai.training.ml.control import ModelArtifact, RunControl, TrainingResult, check_params
from homeiq_ai.training.ml.homegraph import HOME_FEATURE_NAMES, HomeSnapshot, home_features, snapshot_from_generated
from homeiq_ai.training.ml.torchutil import import_torch

__all__ = ["DEFAULTS", "HomeTypeModel", "load_home_type", "shifted_setting", "train_home_type", "validate"]

HOME_TYPES = ("studio", "apartment", "townhouse", "bungalow", "single_family", "multi_storey")
DEFAULTS: dict[str, Any] = {
    "train_seeds": list(range(1, 13)),
    "test_seeds": list(range(1001, 1007)),
    "days": 7,
    "epochs": 300,
    "hidden": 32,
    "learning_rate": 0.01,
    "seed": 0,
}
BOUNDS = {
    "train_seeds": (0, 2**31 - 1), "test_seeds": (0, 2**31 - 1), "days": (1, 60), "epochs": (1, 5000),
    "hidden": (4, 256), "learning_rate": (1e-5, 1.0), "seed": (0, 2**31 - 1),
}  # fmt: skip
FORMAT = "home_type/1"
# The shifted setting: other climates and time zones, and homes grown or shrunk by entity_target.
SHIFTED = (
    {"time_zone": "America/Phoenix"},
    {"time_zone": "Europe/Stockholm"},
    {"time_zone": "Australia/Sydney"},
)
SIZE_FACTORS = (0.8, 1.25)


def validate(params: dict[str, Any]) -> dict[str, Any]:
    """Params merged over DEFAULTS; raises ValueError naming a bad one."""
    merged = check_params(params, DEFAULTS, BOUNDS)
    overlap = set(merged["train_seeds"]) & set(merged["test_seeds"])
    if overlap:
        raise ValueError(f"test_seeds must be unseen in training; both hold {sorted(overlap)}")
    return merged


def _homes(
    seeds: list[int], days: int, control: RunControl | None, shifted: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    from homeiq_ai.training.synthetic import generate_home

    xs, ys = [], []
    for label, home_type in enumerate(HOME_TYPES):
        natural = len(generate_home(seed=seeds[0], home_type=home_type, days=1).spec.entities) if shifted else 0
        for i, seed in enumerate(seeds):
            if control is not None:
                control.check()
            kw: dict[str, Any] = {}
            if shifted:
                kw = dict(SHIFTED[i % len(SHIFTED)])
                kw["entity_target"] = max(10, int(natural * SIZE_FACTORS[i % len(SIZE_FACTORS)]))
            try:
                home = generate_home(seed=seed, home_type=home_type, days=days, **kw)
            except ValueError:  # an entity target this home type cannot meet: keep its natural size
                kw.pop("entity_target", None)
                home = generate_home(seed=seed, home_type=home_type, days=days, **kw)
            xs.append(home_features(snapshot_from_generated(home)))
            ys.append(label)
    return np.stack(xs), np.array(ys, dtype=np.int64)


def shifted_setting(seeds: list[int], days: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of homes drawn unlike the training ones (other climates, sizes)."""
    return _homes(seeds, days, None, shifted=True)


def _confusion(pred: np.ndarray, truth: np.ndarray) -> list[list[int]]:
    m = np.zeros((len(HOME_TYPES), len(HOME_TYPES)), dtype=int)
    for p, t in zip(pred.tolist(), truth.tolist(), strict=True):
        m[t, p] += 1
    return m.tolist()


def train_home_type(params: dict[str, Any], control: RunControl, threads: int = 1) -> TrainingResult:
    """Train on homes of `train_seeds`; measure on unseen seeds and on the shifted generator setting."""
    p = validate(params)
    control.report(stage="generating homes")
    x_train, y_train = _homes(p["train_seeds"], p["days"], control)
    x_test, y_test = _homes(p["test_seeds"], p["days"], control)
    x_shift, y_shift = _homes(p["test_seeds"], p["days"], control, shifted=True)
    torch = import_torch(threads)
    torch.manual_seed(p["seed"])
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-3
    model = _model(torch, x_train.shape[1], p["hidden"])
    optimiser = torch.optim.Adam(model.parameters(), lr=p["learning_rate"], weight_decay=1e-3)
    xt = torch.from_numpy(((x_train - mean) / std).astype(np.float32))
    yt = torch.from_numpy(y_train)
    loss_fn = torch.nn.CrossEntropyLoss()
    scorer = HomeTypeModel(torch, model, mean, std)
    for epoch in range(1, p["epochs"] + 1):
        control.check()
        model.train()
        optimiser.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        optimiser.step()
        if epoch % 25 == 0 or epoch == p["epochs"]:
            model.eval()
            acc = float((scorer.probabilities(x_test).argmax(axis=1) == y_test).mean())
            control.report(
                stage="training", epoch=epoch, epochs=p["epochs"], loss=round(loss.item(), 5),
                metrics={"held_out_accuracy": round(acc, 4)},
            )  # fmt: skip
    model.eval()
    pred_test = scorer.probabilities(x_test).argmax(axis=1)
    pred_shift = scorer.probabilities(x_shift).argmax(axis=1)
    path = control.work_dir / "home_type.pt"
    torch.save(
        {
            "format": FORMAT, "hidden": p["hidden"], "features": x_train.shape[1], "state_dict": model.state_dict(),
            "mean": torch.from_numpy(mean.astype(np.float32)), "std": torch.from_numpy(std.astype(np.float32)),
        },
        path,
    )  # fmt: skip
    metrics = {
        "accuracy": round(float((pred_test == y_test).mean()), 4),
        "shifted_accuracy": round(float((pred_shift == y_shift).mean()), 4),
        "confusion": _confusion(pred_test, y_test),
        "shifted_confusion": _confusion(pred_shift, y_shift),
        "labels": list(HOME_TYPES),
        "shifted_setting": "time zones America/Phoenix, Europe/Stockholm, Australia/Sydney (subtropical, "
        "nordic climates); entity_target 0.8x and 1.25x the natural size",
        "held_out_homes": len(y_test),
        "train_homes": len(y_train),
        "final_train_loss": round(loss.item(), 5),
    }
    data = {
        "train_seeds": p["train_seeds"], "test_seeds": p["test_seeds"], "days": p["days"],
        "hash": hashlib.sha256(x_train.tobytes()).hexdigest()[:16],
    }  # fmt: skip
    return TrainingResult(metrics=metrics, model=ModelArtifact(path=path, score_key="accuracy", params=p, data=data))


def _model(torch: Any, features: int, hidden: int) -> Any:
    nn = torch.nn
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, len(HOME_TYPES)))


class HomeTypeModel:
    """A loaded home_type classifier."""

    def __init__(self, torch: Any, model: Any, mean: np.ndarray, std: np.ndarray) -> None:
        self._torch, self._model, self._mean, self._std = torch, model, mean, std

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (rows follow HOME_TYPES) of feature rows."""
        with self._torch.no_grad():
            logits = self._model(self._torch.from_numpy(((x - self._mean) / self._std).astype(np.float32)))
            return self._torch.softmax(logits, dim=1).numpy()

    def predict(self, home: HomeSnapshot) -> tuple[str, float, dict[str, float]]:
        """(home type, confidence, every type's probability) of one home."""
        if not home.entity_ids:
            raise ValueError("the stored home has no entities to judge its type by")
        probs = self.probabilities(home_features(home)[None, :])[0]
        best = int(probs.argmax())
        return (
            HOME_TYPES[best],
            float(probs[best]),
            {t: round(float(v), 4) for t, v in zip(HOME_TYPES, probs, strict=True)},
        )


def load_home_type(path: Path, threads: int = 1) -> HomeTypeModel:
    """Load a saved classifier; raises ValueError when the file is not one."""
    torch = import_torch(threads)
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path.name} is not a {FORMAT} model")
    if int(blob["features"]) != len(HOME_FEATURE_NAMES):
        raise ValueError(
            f"{path.name} was trained on {blob['features']} features, this version has {len(HOME_FEATURE_NAMES)}"
        )
    model = _model(torch, int(blob["features"]), int(blob["hidden"]))
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return HomeTypeModel(torch, model, blob["mean"].numpy(), blob["std"].numpy())
