"""Training pairs for the soft prompt: answered queries and the labelled set, as {"request", "plan"} lines.

The training module cannot call the query module (query -> pattern -> training would become a cycle),
so the pairs travel as a JSON Lines file: `homeiq-ai training-pairs PAIRS.jsonl` writes it and
SOFT_PROMPT_DATASET names it for a `soft_prompt` run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from homeiq_ai.kernel.db import Database
from homeiq_ai.query.models import QueryRecord
from homeiq_ai.query.repository import QueryRepository

__all__ = ["PLAN_KEYS", "answered_pairs", "labelled_pairs", "plan_of"]

PLAN_KEYS = ("trigger", "condition", "action")
"""What a pair's plan keeps of the automation config: alias, description and mode are not learned."""


def plan_of(automation: dict[str, Any]) -> dict[str, Any]:
    """The learnable part of an automation config (trigger, condition, action)."""
    return {key: automation.get(key, []) for key in PLAN_KEYS}


def _request(record: QueryRecord) -> str:
    """The words the plan answers: the request, its refinements and the free-text answers given."""
    parts = [record.text, *(record.refinements or [])]
    return " ".join(p.strip() for p in parts if p and p.strip())


async def answered_pairs(db: Database) -> list[dict[str, Any]]:
    """Every planned query of the store, oldest first, as {"request", "plan", "source"}."""
    out: list[dict[str, Any]] = []
    async with db.session() as session:
        for record in await QueryRepository(session).planned_queries():
            if isinstance(record.plan, dict) and record.plan.get("action"):
                out.append({"request": _request(record), "plan": plan_of(record.plan), "source": f"query:{record.id}"})
    return out


def labelled_pairs(path: Path) -> Iterator[dict[str, Any]]:
    """The labelled set (tests/data/query_labelled.jsonl): rows whose request needs no question.

    Its plans are the set's canonical strings (e.g. `sun|sunset|0`), kept as they are.

    Raises:
        ValueError: a line is not a labelled row (names the line).
    """
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("request"), str) or "actions" not in row:
            raise ValueError(f"{path} line {n}: expected a labelled row with request, triggers, conditions, actions")
        if row.get("question"):
            continue
        plan = {
            "trigger": list(row.get("triggers", [])),
            "condition": list(row.get("conditions", [])),
            "action": list(row["actions"]),
        }
        yield {"request": row["request"], "plan": plan, "source": f"labelled:{row.get('id', n)}"}
