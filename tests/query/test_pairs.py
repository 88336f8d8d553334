"""`homeiq-ai training-pairs`: answered queries and the labelled set become soft-prompt pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_coro
from homeiq_ai.cli import main
from homeiq_ai.kernel.db import Database
from homeiq_ai.query.api import QueryRequest
from homeiq_ai.query.service import QueryService
from homeiq_ai.training.ml.soft_prompt import load_pairs
from query.catalogs import home_index

LABELLED = Path(__file__).resolve().parents[1] / "data" / "query_labelled.jsonl"


class _Catalog:
    async def index(self) -> Any:
        return home_index("synthetic_family")


def _plan_two(url: str) -> list[str]:
    """One planned query, one that needs a question; returns their statuses."""

    async def _go() -> list[str]:
        db = Database(url)
        try:
            service = QueryService(db, catalog=_Catalog())  # type: ignore[arg-type]
            done = await service.create_query(QueryRequest(query="porch light on at sunset on weekdays"))
            open_ = await service.create_query(QueryRequest(query="turn on the light"))
            return [done.status, open_.status]
        finally:
            await db.dispose()

    return run_coro(_go)


def test_answered_queries_and_labelled_rows_become_pairs(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only planned queries are written, with trigger/condition/action; the soft prompt reads the file."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HOMEIQ_DATA_DIR", str(tmp_path))
    assert _plan_two(database_url) == ["planned", "needs_clarification"]
    out = tmp_path / "pairs.jsonl"
    assert main(["training-pairs", str(out), "--labelled", str(LABELLED)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    answered = [r for r in rows if r["source"].startswith("query:")]
    assert [r["request"] for r in answered] == ["porch light on at sunset on weekdays"]
    plan = answered[0]["plan"]
    assert set(plan) == {"trigger", "condition", "action"}
    assert [(t["platform"], t["event"]) for t in plan["trigger"]] == [("sun", "sunset")]
    assert plan["action"][0]["service"] == "light.turn_on"
    labelled_rows = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    no_question = [r for r in labelled_rows if not r["question"]]
    assert len(rows) - 1 == len(no_question) > 100
    assert f"{len(rows)} pairs (1 answered queries" in capsys.readouterr().err
    pairs = load_pairs({"use_builtin": False}, out)
    assert len(pairs) == len(rows) and pairs[0][0] == "porch light on at sunset on weekdays"


def test_a_bad_labelled_file_names_its_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line that is not a labelled row stops the command with its line number; no file is written."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "request": "x", "actions": []}\n{"request": 3}\n')
    out = tmp_path / "pairs.jsonl"
    assert main(["training-pairs", str(out), "--labelled", str(bad), "--no-queries"]) == 1
    assert "line 2" in capsys.readouterr().err
    assert not out.exists()
