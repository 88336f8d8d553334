"""Shared torch set-up for trainers: threads for a small machine, seeding, ranking metrics (lazy torch)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["average_precision", "import_torch", "precision_at_k", "roc_auc"]


def import_torch(threads: int) -> Any:
    """Import torch with `threads` intra-op threads (one leaves a core to the API on a 2-core machine)."""
    import torch

    torch.set_num_threads(max(1, int(threads)))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return torch


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties count half); 0.5 when one class is absent."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return 0.5
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # Average ranks over ties.
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def precision_at_k(scores: np.ndarray, labels: np.ndarray, k: int | None = None) -> float:
    """Share of true pairs among the k best scored (k = number of true pairs by default)."""
    labels = np.asarray(labels).astype(bool)
    k = int(labels.sum()) if k is None else k
    if k <= 0:
        return 0.0
    top = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")[:k]
    return float(labels[top].sum() / k)


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean of the precision at each true pair's rank."""
    labels = np.asarray(labels).astype(bool)
    if not labels.any():
        return 0.0
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    hits = np.cumsum(labels[order])
    ranks = np.arange(1, len(order) + 1)
    return float((hits / ranks)[labels[order]].mean())
