"""Schemathesis against each process of the four-process split, small enough for CI (about a minute).

Every check (`--checks all`: server errors, response schema, status codes, content types, headers,
negative data rejected, positive data accepted, Allow headers, auth, ...) and the examples, coverage,
fuzzing and stateful phases, against the schema each process serves. The all-in-one app's schema is the
union of these four (plus health), and bench/schemathesis_run.py runs it too, larger. The processes run
with API_KEY and HA_TOKEN set (the key is sent as a header), and their logs and the fuzzer's output are
then searched for both: a secret that reached a log or an answer fails the last test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.fuzz import HEAVY_ROUTES, URL_VARS, FuzzResult, prepare_database, run_schemathesis, serve
from conftest import sqlite_url
from integration.procs import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.api_fuzz]

API_KEY = "fuzz-api-key-c0ffee5e1f2b"
HA_TOKEN = "fuzz-ha-token-9a8b7c6d5e"
MAX_EXAMPLES = 3
RESULTS: dict[str, FuzzResult] = {}


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, ServerProcess], Path]]:
    """The four module processes over one prepared SQLite file, keyed, without Home Assistant."""
    work = tmp_path_factory.mktemp("fuzz")
    data = work / "data"
    data.mkdir()
    db_url = sqlite_url(data / "fuzz.db")
    prepare_database(db_url, data, demo_days=1)
    with serve("split", db_url, data, work, API_KEY=API_KEY, HA_TOKEN=HA_TOKEN) as servers:
        yield servers, work


@pytest.mark.parametrize("process", list(URL_VARS))
def test_schemathesis_finds_nothing(split: tuple[dict[str, ServerProcess], Path], process: str) -> None:
    """Zero failures and zero errors, with every operation of the process tested."""
    servers, work = split
    result = run_schemathesis(
        process,
        servers[process].url,
        work / "reports",
        max_examples=MAX_EXAMPLES,
        headers={"X-API-Key": API_KEY},
        exclude_path_regex=HEAVY_ROUTES,
    )
    RESULTS[process] = result
    print(result.summary())
    report = result.report
    assert report["operations"]["tested"] >= 10, result.summary()
    assert result.cases >= 100, result.summary()
    assert report["stop_reason"] == "completed", result.output[-4000:]
    assert result.failures == 0 and result.errors == 0, result.output[-12000:]


def test_no_secret_in_logs_or_answers(split: tuple[dict[str, ServerProcess], Path]) -> None:
    """The servers' logs and everything the fuzzer printed (failing answers included) hold neither secret."""
    servers, _work = split
    assert RESULTS, "the fuzz tests did not run first"
    texts = {f"{name}.log": server.log() for name, server in servers.items()}
    texts |= {f"schemathesis {name}": result.output for name, result in RESULTS.items()}
    assert any(texts.values()), "nothing was captured: the check would be empty"
    for where, text in texts.items():
        for secret in (API_KEY, HA_TOKEN):
            assert secret not in text, f"a secret is in {where}"
