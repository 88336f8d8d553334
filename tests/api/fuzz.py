"""Schemathesis against real uvicorn processes: the all-in-one app and each module process of the split.

Used by tests/api/test_schemathesis.py (small, in CI) and bench/schemathesis_run.py (larger). Every
process runs on the embedded default: one SQLite file at head, a synthetic demo home and a few stored
patterns, no Home Assistant, no broker, no LLM. The schema each process serves at /schema/openapi.json
is fuzzed with every check and the examples, coverage, fuzzing and stateful phases; the CLI writes a JSON
report, which `run_schemathesis` returns.

Home Assistant is not configured, so the routes that need it answer 503 `home_assistant_not_configured`
(declared in their schema): for those routes alone the `not_a_server_error` check accepts 503, any other
5xx still fails. Everything else is checked as schemathesis ships it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integration.procs import REPO, ServerProcess, free_port, uvicorn_argv

PROCESSES = ("all", "training", "pattern", "query", "automation")
URL_VARS = {
    "training": "AI_TRAINING_SERVICE_URL",
    "pattern": "AI_PATTERN_SERVICE_URL",
    "query": "AI_QUERY_SERVICE_URL",
    "automation": "AI_AUTOMATION_SERVICE_URL",
}
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Routes that talk to Home Assistant: without one they answer 503 home_assistant_not_configured.
HOME_ASSISTANT_ROUTES = r"^/api/v1/(deployment|automations)(/|$)"
# Generating a synthetic home or dataset takes seconds of CPU per request (up to 730 days of events):
# in the small CI run they are left out, the bench runs them.
HEAVY_ROUTES = r"^/api/v1/training/synthetic/(homes|datasets)$"

# Rules a JSON schema cannot state, each answered 400 with a message naming the field: the
# `positive_data_acceptance` check accepts that 400 on these operations alone (method, path regex, rule).
SEMANTIC_400 = (
    ("POST", r"^/api/v1/suggestions$", "exactly one of yaml/automation; the automation must be valid"),
    ("PATCH", r"^/api/v1/suggestions/[^/]+$", "the YAML must be a valid automation"),
    ("POST", r"^/api/v1/(patterns|synergies)/[^/]+/feedback$", "'rate' needs a rating, the others take none"),
    ("POST", r"^/api/v1/query/[^/]+/refine$", "answers or refinement; answers name offered questions/options"),
    ("POST", r"^/api/v1/home/events$", "event times within 1970-01-02 .. 2200-01-01"),
    ("GET", r"^/api/v1/home/events$", "end after start"),
    ("POST", r"^/api/v1/analysis/run$", "start before end, with offsets, inside the stored range"),
)

_POSITIVE = '["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]'
_CONFIG = f"""
[[operations]]
include-path-regex = "{HOME_ASSISTANT_ROUTES}"
checks.not_a_server_error.expected-statuses = ["2XX", "3XX", "4XX", "503"]
""" + "".join(
    f"""
[[operations]]
include-method = "{method}"
include-path-regex = '{path}'
checks.positive_data_acceptance.expected-statuses = {_POSITIVE}
"""
    for method, path, _rule in SEMANTIC_400
)


def base_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of every process: the embedded default, no Home Assistant, no broker, no LLM."""
    env = {
        "DATABASE_URL": db_url,
        "HOMEIQ_DATA_DIR": str(data_dir),
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "MQTT_BROKER": "",
        "HA_URL": "",
        "HA_TOKEN": "",
        "OPENAI_API_KEY": "",
        # fuzzing sends hundreds of queries a minute: the limiter is tested on its own (tests/kernel)
        "RATE_LIMIT_QUERY_PER_MINUTE": "0",
        "RATE_LIMIT_DEPLOY_PER_MINUTE": "0",
    }
    env.update(extra)
    return env


def prepare_database(db_url: str, data_dir: Path, demo_days: int = 2) -> None:
    """Upgrade to head, load the synthetic demo home and a few stored patterns."""
    from conftest import run_coro
    from factories import STANDARD_PATTERNS, seed_patterns
    from homeiq_ai.kernel import migrate

    migrate.upgrade(db_url)
    env = base_env(db_url, data_dir)
    cli = [sys.executable, "-m", "homeiq_ai", "demo", "--days", str(demo_days)]
    subprocess.run(cli, cwd=REPO, env={**_os_env(), **env}, check=True, capture_output=True, timeout=300)
    run_coro(lambda: seed_patterns(db_url, STANDARD_PATTERNS))


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)


@contextmanager
def serve(layout: str, db_url: str, data_dir: Path, log_dir: Path, **extra: str) -> Iterator[dict[str, ServerProcess]]:
    """Start "all" (one process) or "split" (the four module processes, each told where the others are)."""
    names = ["all"] if layout == "all" else list(URL_VARS)
    ports = {name: free_port() for name in names}
    env = base_env(db_url, data_dir, **extra)
    if layout == "split":
        env.update({URL_VARS[name]: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    servers: dict[str, ServerProcess] = {}
    try:
        for name in names:
            servers[name] = ServerProcess(name, uvicorn_argv(name, ports[name]), env, ports[name], log_dir)
        for server in servers.values():
            server.wait_ready(60)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@dataclass
class FuzzResult:
    """The figures of one schemathesis run."""

    process: str
    report: dict[str, Any]
    output: str
    failures_by_check: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return int(self.report["test_cases"]["generated"])

    @property
    def failures(self) -> int:
        return int(self.report["test_cases"]["unique_failures"])

    @property
    def errors(self) -> int:
        return sum(int(error["count"]) for error in self.report.get("errors", []))

    def summary(self) -> str:
        checks = ", ".join(f"{code} {count}" for code, count in sorted(self.failures_by_check.items())) or "none"
        return (
            f"{self.process}: {self.report['operations']['tested']} operations, {self.cases} cases, "
            f"{self.failures} unique failures ({checks}), {self.errors} errors, "
            f"{self.report['running_time']:.1f} s"
        )


def run_schemathesis(
    process: str,
    base_url: str,
    out_dir: Path,
    *,
    max_examples: int,
    seed: int = 1,
    phases: Sequence[str] = PHASES,
    headers: dict[str, str] | None = None,
    exclude_path_regex: str | None = None,
    request_timeout: float = 30.0,
    max_time: int | None = None,
) -> FuzzResult:
    """Run the schemathesis CLI on `base_url`/schema/openapi.json with every check; return its figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = out_dir / "schemathesis.toml"
    config.write_text(_CONFIG)
    report = out_dir / f"{process}.json"
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        "all",
        "--phases",
        ",".join(phases),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        str(request_timeout),
        "--suppress-health-check",
        "all",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    if exclude_path_regex:
        argv += ["--exclude-path-regex", exclude_path_regex]
    if max_time:
        argv += ["--max-time", str(max_time)]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    done = subprocess.run(argv, cwd=out_dir, capture_output=True, text=True, timeout=3600)
    output = done.stdout + done.stderr
    if not report.exists():
        raise AssertionError(f"schemathesis wrote no report (exit {done.returncode}):\n{output[-4000:]}")
    data = json.loads(report.read_text())
    by_check = {f"{item['code']} {item['title']}": int(item["count"]) for item in data.get("failures", [])}
    (out_dir / f"{process}.txt").write_text(output)
    return FuzzResult(process=process, report=data, output=output, failures_by_check=by_check)
