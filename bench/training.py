"""Training figures on this machine: each model's held-out metrics, training time and peak memory;
the synergy ranking with and without the GNN on held-out homes (tight and, where the generator has it,
loose realism); and the status endpoint's p95 while a run trains.

Each part runs in its own process so that its peak RSS is its own.

    .venv/bin/python bench/training.py [--part gnn|home_type|soft_prompt|status] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from homeiq_ai.training.ml.control import RunControl
from homeiq_ai.training.ml.torchutil import average_precision, precision_at_k, roc_auc

GNN_PARAMS = {
    "train_seeds": [1, 2, 3, 4, 5, 6],
    "test_seeds": [1001, 1002, 1003],
    "home_types": ["studio", "apartment", "single_family", "multi_storey"],
    "days": 14,
    "epochs": 60,
}
HOME_TYPE_PARAMS = {"train_seeds": list(range(1, 13)), "test_seeds": list(range(1001, 1007)), "days": 3}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rule_scores(home: Any, graph: Any, pair_scores: dict | None = None) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Rule-based synergy scores (pattern module) of the graph's pairs: 1 - rank/len, 0 when not listed."""
    sys.path.insert(0, str(Path(__file__).parent))
    from homeiq_ai.pattern.detectors.base import DetectorConfig
    from homeiq_ai.pattern.detectors.registry import default_detectors
    from homeiq_ai.pattern.synergies.detect import detect_synergies
    from pattern_quality import frame_entities, home_frame

    frame = home_frame(home)
    patterns = []
    for name, fn in default_detectors():
        if name in ("co_occurrence", "sequence"):
            patterns.extend(fn(frame, DetectorConfig()))
    result = detect_synergies(
        dict(frame_entities(home)), patterns, pair_scores=pair_scores, model_name="gnn" if pair_scores else None
    )
    ranked = [tuple(s.entity_ids) for s in result if s.synergy_type == "device_pair"]
    position = {p: i for i, p in enumerate(ranked)}
    ids = graph.entity_ids
    scores = np.array(
        [1.0 - position[(ids[a], ids[b])] / len(ranked) if (ids[a], ids[b]) in position else 0.0
         for a, b in graph.pairs.tolist()]
    )  # fmt: skip
    return scores, ranked


def _figures(scores: list[np.ndarray], labels: list[np.ndarray]) -> str:
    auc = roc_auc(np.concatenate(scores), np.concatenate(labels))
    judged = [(s, y) for s, y in zip(scores, labels, strict=True) if y.sum() > 0]
    pk = statistics.fmean(precision_at_k(s, y) for s, y in judged)
    ap = statistics.fmean(average_precision(s, y) for s, y in judged)
    return f"ROC AUC {auc:.4f}  P@k {pk:.4f}  AP {ap:.4f}"


def part_gnn(quick: bool) -> None:
    """Train the GNN, then rank held-out homes with it, with the rules, and with both blended."""
    from homeiq_ai.training.ml import gnn
    from homeiq_ai.training.synthetic import generate_home

    params = dict(GNN_PARAMS, epochs=20, train_seeds=[1, 2], test_seeds=[1001]) if quick else GNN_PARAMS
    work = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    result = gnn.train_gnn_synergy(params, RunControl(work), threads=1)
    seconds = time.perf_counter() - t0
    print(f"gnn_synergy: trained in {seconds:.1f} s, peak RSS {_peak_mib():.0f} MiB, params {json.dumps(params)}")
    print(f"  held-out (tight, trainer's own figure): {json.dumps(result.metrics['held_out'])}")
    scorer = gnn.load_gnn(result.model.path)
    realisms = ["tight"]
    if "realism" in inspect.signature(generate_home).parameters:
        realisms.append("loose")
    else:
        print("  (the generator has no 'realism' setting: loose homes not evaluated)")
    for realism in realisms:
        kw = {"realism": realism} if realism != "tight" else {}
        items = gnn.home_graphs(params["test_seeds"], params["home_types"], params["days"], **kw)
        g_scores, r_scores, labels = [], [], []
        rank_rule, rank_blend = [], []
        for graph, y, home in items:
            s = scorer.score(graph)
            g_scores.append(s)
            rs, ranked = _rule_scores(home, graph)
            r_scores.append(rs)
            labels.append(y)
            planted = {(p[0], p[2]) for p in home.truth.implied_pairs()}
            k = len(planted)
            if k == 0:
                continue
            ids = graph.entity_ids
            blend = {(ids[a], ids[b]): float(v) for (a, b), v in zip(graph.pairs.tolist(), s, strict=True)}
            _, ranked_blend = _rule_scores(home, graph, blend)
            rank_rule.append(len(planted & set(ranked[:k])) / k)
            rank_blend.append(len(planted & set(ranked_blend[:k])) / k)
        missed = sum(int(y.sum()) for y in labels)
        print(f"  held-out {realism:>5} homes ({len(items)}, {missed} planted pairs among candidates):")
        print(f"    GNN alone        {_figures(g_scores, labels)}")
        print(f"    rules (pattern)  {_figures(r_scores, labels)}")
        print(
            f"    synergy list P@k: rules {statistics.fmean(rank_rule):.4f}  "
            f"rules+GNN blended {statistics.fmean(rank_blend):.4f}"
        )


def part_home_type(quick: bool) -> None:
    """Train the classifier; held-out and shifted accuracy and confusion."""
    from homeiq_ai.training.ml import home_type

    params = (
        dict(HOME_TYPE_PARAMS, train_seeds=[1, 2, 3], test_seeds=[1001, 1002], days=1) if quick else HOME_TYPE_PARAMS
    )
    t0 = time.perf_counter()
    result = home_type.train_home_type(params, RunControl(Path(tempfile.mkdtemp())), threads=1)
    m = result.metrics
    print(f"home_type: trained in {time.perf_counter() - t0:.1f} s, peak RSS {_peak_mib():.0f} MiB")
    print(
        f"  held-out accuracy {m['accuracy']:.4f} on {m['held_out_homes']} homes; shifted {m['shifted_accuracy']:.4f}"
    )
    print(f"  labels {m['labels']}")
    print(f"  confusion (rows truth) {m['confusion']}")
    print(f"  shifted confusion      {m['shifted_confusion']}  ({m['shifted_setting']})")


def part_soft_prompt(quick: bool) -> None:
    """Prompt tuning on a tiny random GPT-2 built here (no model can be downloaded): loss and accuracy."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from homeiq_ai.training.ml import soft_prompt

    folder = Path(tempfile.mkdtemp())
    texts = [f"{p['request']} => {json.dumps(p['plan'], sort_keys=True)}" for p in soft_prompt.BUILT_IN_PAIRS]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<unk>", "<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    fast.save_pretrained(folder)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(fast), n_positions=128, n_embd=64, n_layer=2, n_head=2)).save_pretrained(
        folder
    )
    params = {"epochs": 20 if quick else 80}
    t0 = time.perf_counter()
    result = soft_prompt.train_soft_prompt(params, RunControl(Path(tempfile.mkdtemp())), folder, None)
    m = result.metrics
    print(
        f"soft_prompt (tiny random GPT-2, 2x64, {m['train_pairs']}+{m['held_out_pairs']} pairs, "
        f"{params['epochs']} epochs): {time.perf_counter() - t0:.1f} s, peak RSS {_peak_mib():.0f} MiB"
    )
    print(
        f"  held-out loss {m['held_out_loss_before']} -> {m['held_out_loss']} (no prompt "
        f"{m['held_out_loss_without_prompt']}); plan-token accuracy {m['plan_token_accuracy_without_prompt']} "
        f"without, {m['plan_token_accuracy_with_prompt']} with; exact plans {m['plan_exact_without_prompt']} "
        f"without, {m['plan_exact_with_prompt']} with"
    )


def part_status(quick: bool) -> None:
    """p50/p95 of GET /runs/{id} while a gnn_synergy run trains in the same process."""
    from litestar.testing import AsyncTestClient

    from homeiq_ai.app import create_app
    from homeiq_ai.settings import load_settings

    async def main() -> None:
        folder = Path(tempfile.mkdtemp())
        url = f"sqlite+aiosqlite:///{folder / 'shared.db'}"
        subprocess.run([sys.executable, "-m", "homeiq_ai", "db", "upgrade"], check=True, capture_output=True,  # noqa: ASYNC221
                       env={"DATABASE_URL": url, "HOMEIQ_DATA_DIR": str(folder), "PATH": "/usr/bin:/bin"})  # fmt: skip
        settings = load_settings({"DATABASE_URL": url, "HOMEIQ_DATA_DIR": str(folder), "SCHEDULER_ENABLED": "false"})
        app = create_app(settings, ["training"])
        async with AsyncTestClient(app=app) as client:
            service = app.state.local_apis["training"]._service
            params = dict(GNN_PARAMS, epochs=40 if quick else 80)
            run = (await client.post("/api/v1/training/gnn_synergy", json={"params": params})).json()
            task = asyncio.create_task(service.run_next())
            latencies = []
            while not task.done():
                t0 = time.perf_counter()
                body = (await client.get(f"/api/v1/training/runs/{run['id']}")).json()
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.05)
            await task
            lat = np.array(latencies[1:])
            print(
                f"status while training ({len(lat)} requests, run {body['status']} at epoch "
                f"{body['progress'].get('epoch')}): p50 {np.percentile(lat, 50):.1f} ms, "
                f"p95 {np.percentile(lat, 95):.1f} ms, max {lat.max():.1f} ms"
            )

    asyncio.run(main())


def main() -> int:
    """Run each part in its own process (or one part with --part)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["gnn", "home_type", "soft_prompt", "status"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    parts = {"gnn": part_gnn, "home_type": part_home_type, "soft_prompt": part_soft_prompt, "status": part_status}
    if args.part:
        parts[args.part](args.quick)
        return 0
    for name in parts:
        cmd = [sys.executable, __file__, "--part", name] + (["--quick"] if args.quick else [])
        if subprocess.run(cmd).returncode != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
