"""The committed OpenAPI schema (docs/openapi.json) is the one the code serves."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from homeiq_ai.cli import main

REPO = Path(__file__).resolve().parent.parent
SEED_ROUTES = {
    ("post", "/api/v1/training/{training_type}"),
    ("get", "/api/v1/training/runs"),
    ("get", "/api/v1/training/runs/{run_id}"),
    ("get", "/api/v1/patterns"),
    ("get", "/api/v1/synergies"),
    ("post", "/api/v1/analysis/run"),
    ("post", "/api/v1/query"),
    ("post", "/api/v1/query/{query_id}/refine"),
    ("get", "/api/v1/query/{query_id}/suggestions"),
    ("post", "/api/v1/suggestions/generate"),
    ("post", "/api/v1/suggestions/{suggestion_id}/approve"),
    ("post", "/api/v1/deployment/deploy"),
    ("get", "/health/health"),
    ("get", "/health/ready"),
    ("get", "/health/live"),
}


def test_committed_schema_matches_the_code(tmp_path: Path) -> None:
    """Regenerating the schema gives docs/openapi.json byte for byte (run `homeiq-ai openapi -o ...`)."""
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--output", str(out)]) == 0
    committed = (REPO / "docs" / "openapi.json").read_text()
    assert out.read_text() == committed, "stale: run `homeiq-ai openapi -o docs/openapi.json`"


def test_seed_routes_are_all_there() -> None:
    """Every route of the seed contract is in the schema."""
    paths = json.loads((REPO / "docs" / "openapi.json").read_text())["paths"]
    present = {(method, path.rstrip("/") or "/") for path, ops in paths.items() for method in ops}
    assert present >= SEED_ROUTES, SEED_ROUTES - present


async def test_served_schema_is_the_same(app_client: Callable[..., Any]) -> None:
    """The running app serves the same document at /schema/openapi.json."""
    async with app_client("all") as client:
        served = (await client.get("/schema/openapi.json")).json()
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert served == committed
