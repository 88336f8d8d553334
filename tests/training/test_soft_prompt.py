"""soft_prompt runs on a tiny base model built on the spot (random weights, a locally trained tokenizer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from homeiq_ai.settings import Settings
from homeiq_ai.training.ml.soft_prompt import BUILT_IN_PAIRS, load_soft_prompt


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer GPT-2 with random weights and a word-level tokenizer trained on the pairs' words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-lm")
    texts = [
        f"{p['request']} => {json.dumps(p['plan'], sort_keys=True, separators=(',', ':'))}" for p in BUILT_IN_PAIRS
    ]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<unk>", "<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    fast.save_pretrained(folder)
    config = GPT2Config(vocab_size=len(fast), n_positions=128, n_embd=32, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


async def test_soft_prompt_learns_saves_and_reloads(
    tiny_model: Path, make_settings: Callable[..., Settings], app_client: Callable[..., Any], tmp_path: Path
) -> None:
    """Held-out loss falls, the prompt is stored and reloads, plan accuracy is given with and without it."""
    dataset = tmp_path / "pairs.jsonl"
    dataset.write_text(
        json.dumps({"request": "turn on the garage light", "plan": {"action": "light.turn_on", "area": "garage"}})
        + "\n"
    )
    settings = make_settings(SOFT_PROMPT_BASE_MODEL=str(tiny_model), SOFT_PROMPT_DATASET=str(dataset))
    async with app_client(["training"], settings) as client:
        response = await client.post(
            "/api/v1/training/soft_prompt",
            json={
                "params": {
                    "epochs": 15,
                    "examples": [
                        {"request": "turn off the garage light", "plan": {"action": "light.turn_off", "area": "garage"}}
                    ],
                }
            },
        )
        assert response.status_code == 202, response.text
        done = await client.app.state.local_apis["training"]._service.run_next()
        assert done is not None and done.status == "completed", done
        m = done.metrics
        assert m["held_out_loss"] < m["held_out_loss_before"]
        assert len(m["held_out_loss_curve"]) == 16
        for key in (
            "plan_token_accuracy_with_prompt",
            "plan_token_accuracy_without_prompt",
            "plan_exact_with_prompt",
            "plan_exact_without_prompt",
        ):
            assert 0.0 <= m[key] <= 1.0
        assert m["train_pairs"] + m["held_out_pairs"] == len(BUILT_IN_PAIRS) + 2
        model = (await client.get("/api/v1/training/models/soft_prompt/active")).json()
        assert model["version"] == "1" and model["data"]["pairs"] == len(BUILT_IN_PAIRS) + 2
        prompt = load_soft_prompt(Path(settings.data_dir) / "models/soft_prompt/1/soft_prompt.pt")
        assert tuple(prompt.shape) == (8, 32)


async def test_soft_prompt_without_a_base_model_fails_at_once(app_client: Callable[..., Any]) -> None:
    """No SOFT_PROMPT_BASE_MODEL: the run fails before any work, saying what to set."""
    async with app_client(["training"]) as client:
        await client.post("/api/v1/training/soft_prompt")
        done = await client.app.state.local_apis["training"]._service.run_next()
        assert done is not None and done.status == "failed"
        assert "SOFT_PROMPT_BASE_MODEL" in done.error
        assert done.progress == {} and done.model_version is None
        assert (await client.get("/api/v1/training/models")).json()["total"] == 0
