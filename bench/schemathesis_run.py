"""Schemathesis, larger than CI, against the all-in-one app and each process of the four-process split.

Every check (`--checks all`) and the examples, coverage, fuzzing and stateful phases, on the embedded
default (SQLite, a synthetic demo home, a few stored patterns, no Home Assistant). Prints, per process:
operations, generated cases, unique failures by check, errors and time; exits 1 when any process has a
failure or an error. Reports (JSON and the CLI's text, with a reproducing curl per failure) are left in
--out.

    python bench/schemathesis_run.py [--max-examples 50] [--seed 1] [--layout all,split] [--out DIR]
        [--include-heavy]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from api.fuzz import HEAVY_ROUTES, prepare_database, run_schemathesis, serve  # noqa: E402
from conftest import sqlite_url  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layout", default="all,split", help="all, split or both (comma-separated)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the reports (default: a temp dir)")
    parser.add_argument(
        "--include-heavy", action="store_true", help="also fuzz synthetic home/dataset generation (slow)"
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="schemathesis-"))
    out.mkdir(parents=True, exist_ok=True)
    results = []
    started = time.monotonic()
    for layout in [name.strip() for name in args.layout.split(",") if name.strip()]:
        work = out / layout
        work.mkdir(parents=True, exist_ok=True)
        db_url = sqlite_url(work / "data" / "bench.db")
        (work / "data").mkdir(exist_ok=True)
        prepare_database(db_url, work / "data")
        with serve(layout, db_url, work / "data", work) as servers:
            for name, server in servers.items():
                result = run_schemathesis(
                    name,
                    server.url,
                    work / "reports",
                    max_examples=args.max_examples,
                    seed=args.seed,
                    exclude_path_regex=None if args.include_heavy else HEAVY_ROUTES,
                    request_timeout=120.0,
                )
                label = "all-in-one" if layout == "all" else f"split/{name}"
                result.process = label
                print(result.summary(), flush=True)
                results.append(result)
    cases = sum(r.cases for r in results)
    failures = sum(r.failures for r in results)
    errors = sum(r.errors for r in results)
    print(
        f"total: {cases} cases, {failures} unique failures, {errors} errors in "
        f"{time.monotonic() - started:.0f} s (max-examples {args.max_examples}, seed {args.seed}); reports in {out}"
    )
    return 1 if failures or errors else 0


if __name__ == "__main__":
    sys.exit(main())
