"""soft_prompt: prompt tuning of a frozen local causal LM on (request -> plan JSON) pairs.

Only the prompt embeddings (`prompt_length` x hidden size) are learnt; the base model (a Hugging Face
folder named by SOFT_PROMPT_BASE_MODEL) stays frozen. Pairs come from the run's `examples`, the
SOFT_PROMPT_DATASET file (JSON Lines of {"request", "plan"}) and a small built-in set.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from homeiq_ai.training.ml.control import ModelArtifact, RunControl, TrainingResult, check_params
from homeiq_ai.training.ml.torchutil import import_torch

__all__ = ["BUILT_IN_PAIRS", "DEFAULTS", "load_pairs", "load_soft_prompt", "train_soft_prompt", "validate"]

DEFAULTS: dict[str, Any] = {
    "epochs": 20,
    "prompt_length": 8,
    "learning_rate": 0.05,
    "holdout_share": 0.25,
    "seed": 0,
    "max_pairs": 500,
    "use_builtin": True,
}
BOUNDS = {
    "epochs": (1, 1000), "prompt_length": (1, 128), "learning_rate": (1e-5, 10.0), "holdout_share": (0.05, 0.9),
    "seed": (0, 2**31 - 1), "max_pairs": (2, 100_000),
}  # fmt: skip
FORMAT = "soft_prompt/1"
SEPARATOR = " => "

BUILT_IN_PAIRS: list[dict[str, Any]] = [
    {"request": f"turn {verb} the {room} light", "plan": {"action": f"light.turn_{verb}", "area": room}}
    for verb in ("on", "off")
    for room in ("kitchen", "hallway", "bedroom", "office", "living_room", "bathroom")
] + [
    {"request": f"when motion in the {room} turn on the light", "plan": {"trigger": "motion", "area": room,
     "action": "light.turn_on"}}
    for room in ("kitchen", "hallway", "garage", "stairs")
]  # fmt: skip


def validate(params: dict[str, Any]) -> dict[str, Any]:
    """Params merged over DEFAULTS (`examples` aside); raises ValueError naming a bad one."""
    rest = {k: v for k, v in params.items() if k != "examples"}
    merged = check_params(rest, DEFAULTS, BOUNDS)
    examples = params.get("examples", [])
    if not isinstance(examples, list) or not all(
        isinstance(e, dict) and isinstance(e.get("request"), str) and "plan" in e for e in examples
    ):
        raise ValueError('examples must be a list of {"request": text, "plan": JSON}')
    merged["examples"] = examples
    return merged


def load_pairs(params: dict[str, Any], dataset: Path | None) -> list[tuple[str, str]]:
    """(request, plan JSON text) pairs: the run's examples, the dataset file, the built-in set."""
    rows: list[dict[str, Any]] = list(params.get("examples", []))
    if dataset is not None:
        if not dataset.is_file():
            raise ValueError(f"SOFT_PROMPT_DATASET {dataset} is not a file")
        for n, line in enumerate(dataset.read_text().splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row, dict) or "request" not in row or "plan" not in row:
                    raise ValueError(f"SOFT_PROMPT_DATASET line {n}: expected {{'request', 'plan'}}")
                rows.append(row)
    if params.get("use_builtin", True):
        rows.extend(BUILT_IN_PAIRS)
    pairs = [(str(r["request"]), json.dumps(r["plan"], sort_keys=True, separators=(",", ":"))) for r in rows]
    return pairs[: params.get("max_pairs", len(pairs))]


def _check_base(base_model: Path | None) -> Path:
    if base_model is None:
        raise ValueError(
            "soft_prompt needs a base model: set SOFT_PROMPT_BASE_MODEL to a local Hugging Face model folder"
        )
    if not (base_model / "config.json").is_file():
        raise ValueError(f"SOFT_PROMPT_BASE_MODEL {base_model} is not a Hugging Face model folder (no config.json)")
    return base_model


def _load_base(torch: Any, base: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return tokenizer, model


def _encode(tokenizer: Any, request: str, plan: str) -> tuple[list[int], list[int]]:
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    request_ids = tokenizer.encode(request + SEPARATOR, add_special_tokens=False)
    plan_ids = tokenizer.encode(plan, add_special_tokens=False)
    return request_ids, [*plan_ids, eos]


def _loss_and_acc(torch: Any, model: Any, prompt: Any, items: list[tuple[list[int], list[int]]]) -> tuple[Any, float]:
    """Mean loss over plan tokens and teacher-forced plan-token accuracy, with `prompt` (or none)."""
    embed = model.get_input_embeddings()
    losses, correct, total = [], 0, 0
    for req, plan in items:
        ids = torch.tensor(req + plan)
        x = embed(ids)[None]
        n_prompt = 0
        if prompt is not None:
            x = torch.cat([prompt[None], x], dim=1)
            n_prompt = prompt.shape[0]
        logits = model(inputs_embeds=x).logits[0]
        start = n_prompt + len(req) - 1  # the position that predicts the first plan token
        pred = logits[start : start + len(plan)]
        target = torch.tensor(plan)
        losses.append(torch.nn.functional.cross_entropy(pred, target))
        correct += int((pred.argmax(dim=-1) == target).sum())
        total += len(plan)
    return torch.stack(losses).mean(), correct / max(total, 1)


def _exact(torch: Any, model: Any, prompt: Any, items: list[tuple[list[int], list[int]]]) -> float:
    """Share of plans generated exactly (greedy, as long as the target)."""
    embed = model.get_input_embeddings()
    hits = 0
    with torch.no_grad():
        for req, plan in items:
            ids = list(req)
            for _ in range(len(plan)):
                x = embed(torch.tensor(ids))[None]
                if prompt is not None:
                    x = torch.cat([prompt[None], x], dim=1)
                ids.append(int(model(inputs_embeds=x).logits[0, -1].argmax()))
            hits += int(ids[len(req) :] == plan)
    return hits / max(len(items), 1)


def train_soft_prompt(
    params: dict[str, Any], control: RunControl, base_model: Path | None, dataset: Path | None, threads: int = 1
) -> TrainingResult:
    """Learn the prompt on the training pairs; held-out loss and plan accuracy with and without it."""
    base = _check_base(base_model)  # before anything else: without a base model the run fails at once
    p = validate(params)
    pairs = load_pairs(p, dataset)
    if len(pairs) < 4:
        raise ValueError(f"soft_prompt needs at least 4 request/plan pairs, has {len(pairs)}")
    torch = import_torch(threads)
    torch.manual_seed(p["seed"])
    control.report(stage="loading base model")
    tokenizer, model = _load_base(torch, base)
    order = list(range(len(pairs)))
    random.Random(p["seed"]).shuffle(order)
    n_test = max(1, round(len(pairs) * p["holdout_share"]))
    test = [_encode(tokenizer, *pairs[i]) for i in order[:n_test]]
    train = [_encode(tokenizer, *pairs[i]) for i in order[n_test:]]
    embed = model.get_input_embeddings().weight
    init = embed[torch.randint(0, embed.shape[0], (p["prompt_length"],))].detach().clone()
    prompt = torch.nn.Parameter(init)
    optimiser = torch.optim.Adam([prompt], lr=p["learning_rate"])
    with torch.no_grad():
        loss_without, acc_without = _loss_and_acc(torch, model, None, test)
        loss_before, _ = _loss_and_acc(torch, model, prompt, test)
    curve = [round(float(loss_before), 4)]
    for epoch in range(1, p["epochs"] + 1):
        control.check()
        optimiser.zero_grad()
        loss, _ = _loss_and_acc(torch, model, prompt, train)
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            held, _ = _loss_and_acc(torch, model, prompt, test)
        curve.append(round(float(held), 4))
        control.report(stage="training", epoch=epoch, epochs=p["epochs"], loss=round(loss.item(), 5),
                       metrics={"held_out_loss": curve[-1]})  # fmt: skip
    with torch.no_grad():
        loss_after, acc_with = _loss_and_acc(torch, model, prompt, test)
    path = control.work_dir / "soft_prompt.pt"
    torch.save({"format": FORMAT, "prompt": prompt.detach().clone(), "base_model": str(base)}, path)
    metrics = {
        "held_out_loss": round(float(loss_after), 4),
        "held_out_loss_before": round(float(loss_before), 4),
        "held_out_loss_without_prompt": round(float(loss_without), 4),
        "held_out_loss_curve": curve,
        "plan_token_accuracy_with_prompt": round(acc_with, 4),
        "plan_token_accuracy_without_prompt": round(acc_without, 4),
        "plan_exact_with_prompt": round(_exact(torch, model, prompt.detach(), test), 4),
        "plan_exact_without_prompt": round(_exact(torch, model, None, test), 4),
        "train_pairs": len(train),
        "held_out_pairs": len(test),
    }
    digest = hashlib.sha256("\n".join(a + b for a, b in pairs).encode()).hexdigest()[:16]
    data = {"pairs": len(pairs), "hash": digest, "base_model": str(base), "split_seed": p["seed"]}
    params_saved = {k: v for k, v in p.items() if k != "examples"} | {"examples": len(p["examples"])}
    return TrainingResult(
        metrics=metrics,
        model=ModelArtifact(
            path=path, score_key="held_out_loss", higher_is_better=False, params=params_saved, data=data
        ),
    )


def load_soft_prompt(path: Path, threads: int = 1) -> Any:
    """The saved prompt tensor; raises ValueError when the file is not a soft prompt."""
    torch = import_torch(threads)
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path.name} is not a {FORMAT} file")
    return blob["prompt"]
