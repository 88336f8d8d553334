"""Security: the key on every mutating route, secrets kept out of logs/errors/OpenAPI, inert user text, body limit.

The mutating routes are read from the app's own route table (every POST/PUT/PATCH/DELETE handler of the
all-in-one app), not from a hand-written list, so a route added later is covered without a change here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar.routes import HTTPRoute

import secret_scan
from homeiq_ai.app import create_app
from homeiq_ai.settings import Settings

API_KEY = "sec-api-key-9d1f0c7a3b"
WRONG_KEY = "sec-wrong-key-5e2b8d"
HA_TOKEN = "sec-ha-token-77c2e1f0aa"
LLM_KEY = "sec-llm-key-3a9b4c2d1e"
DB_PASSWORD = "sec-db-pass-6f0e2d9c8b"
INFLUX_TOKEN = "sec-influx-token-1b7d"
MQTT_PASSWORD = "sec-mqtt-pass-4c8e"
SECRETS = (API_KEY, HA_TOKEN, LLM_KEY, DB_PASSWORD, INFLUX_TOKEN, MQTT_PASSWORD)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# The one mutating route that must stay open: the page's sign-in form, where the key is presented.
OPEN_MUTATING = {("POST", "/login")}
SRC = Path(__file__).resolve().parents[2] / "src" / "homeiq_ai"


def _concrete(path_format: str) -> str:
    """A path template with each parameter filled (the guard runs before the parameter is looked up)."""
    return re.sub(r"\{[^}]+\}", "x1", path_format)


def mutating_routes(app: Any) -> list[tuple[str, str]]:
    """(method, concrete path) of every POST/PUT/PATCH/DELETE handler in the app's route table."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(set(route.methods) & MUTATING):
            found.append((method, _concrete(route.path_format)))
    return sorted(found)


@pytest.fixture
def keyed(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(API_KEY=API_KEY)


def test_route_table_has_the_mutating_routes(keyed: Settings) -> None:
    """The enumeration sees the API's and the page's mutating routes (it would not pass on an empty table)."""
    routes = mutating_routes(create_app(keyed, "all"))
    paths = {path for _method, path in routes}
    assert ("POST", "/api/v1/deployment/deploy") in routes
    assert ("DELETE", "/api/v1/automations/x1") in routes
    assert ("PATCH", "/api/v1/suggestions/x1") in routes
    assert any(not path.startswith("/api/") for path in paths), "the page's form posts are enumerated too"
    assert len(routes) >= 30, routes


async def test_every_mutating_route_needs_the_key(app_client: Callable[..., Any], keyed: Settings) -> None:
    """Without the key, and with a wrong one, every mutating route is refused before it does anything."""
    async with app_client("all", keyed) as client:
        routes = mutating_routes(client.app)
        refused: list[str] = []
        for method, path in routes:
            if (method, path) in OPEN_MUTATING:
                continue
            for headers in (
                {},
                {"X-API-Key": WRONG_KEY},
                {"Authorization": f"Bearer {WRONG_KEY}"},
                {"Authorization": f"Bearer {API_KEY}x"},
            ):
                response = await client.request(method, path, headers=headers, json={}, follow_redirects=False)
                if path.startswith("/api/"):
                    ok = response.status_code == 401 and response.json()["code"] == "unauthorized"
                else:
                    # the page: no key cookie -> 401 (or the sign-in page), never the action
                    ok = response.status_code in (401, 303) and (
                        response.status_code == 401 or response.headers["location"].startswith("/login")
                    )
                if not ok:
                    refused.append(f"{method} {path} {headers}: {response.status_code} {response.text[:200]}")
                for secret in SECRETS:
                    assert secret not in response.text
        assert not refused, "\n".join(refused)
        # the right key passes the guard (whatever the route then answers, it is not 401)
        answer = await client.post("/api/v1/suggestions/generate", headers={"X-API-Key": API_KEY}, json={})
        assert answer.status_code != 401, answer.text


def test_key_comparisons_are_constant_time() -> None:
    """Every comparison of a presented key or token goes through hmac.compare_digest, never == on the secret."""
    files = [SRC / "kernel" / "auth.py", SRC / "web" / "security.py"]
    for path in files:
        tree = ast.parse(path.read_text())
        digests = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compare_digest"
        ]
        assert digests, f"{path} compares keys without hmac.compare_digest"
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                assert not names & {"expected", "expected_bytes", "api_key", "key", "_session_token", "cookie"}, (
                    f"{path}:{node.lineno} compares a secret with ==/!="
                )


async def test_secrets_stay_out_of_logs_errors_and_openapi(
    app_client: Callable[..., Any],
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With every secret set and Home Assistant/the LLM/the broker unreachable, no log, answer or schema holds one."""
    settings = make_settings(
        API_KEY=API_KEY,
        HA_URL="http://127.0.0.1:9",
        HA_TOKEN=HA_TOKEN,
        OPENAI_API_KEY=LLM_KEY,
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        INFLUXDB_URL="http://127.0.0.1:9",
        INFLUXDB_TOKEN=INFLUX_TOKEN,
        MQTT_PASSWORD=MQTT_PASSWORD,
        CORRELATION_CACHE_DB=f"postgresql+asyncpg://homeiq:{DB_PASSWORD}@127.0.0.1:9/homeiq",
        LOG_LEVEL="DEBUG",
        SERVICE_RETRIES="1",
        SERVICE_TIMEOUT="1",
    )
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    headers = {"X-API-Key": API_KEY}
    async with app_client("all", settings) as client:
        calls = [
            ("GET", "/schema/openapi.json", None),
            ("GET", "/health/ready", None),
            ("POST", "/api/v1/query", {"query": "turn on the porch light at sunset"}),
            ("POST", "/api/v1/suggestions/generate", {}),
            ("POST", "/api/v1/deployment/deploy", {"suggestion_id": "nope"}),
            ("GET", "/api/v1/automations/audit", None),
            ("POST", "/api/v1/automations/validate", {"yaml": "alias: x\ntrigger: []\naction: []\n"}),
            ("GET", "/api/v1/patterns?min_confidence=2", None),
            ("POST", "/api/v1/home/events", {"events": "not a list"}),
            ("GET", "/api/v1/nowhere", None),
            ("GET", "/api/v1/patterns", {"Authorization": f"Bearer {WRONG_KEY}"}),
        ]
        for method, path, body in calls:
            extra = body if method == "GET" and isinstance(body, dict) else None
            response = await client.request(
                method,
                path,
                headers=extra or headers,
                json=body if method != "GET" else None,
            )
            bodies.append(f"{method} {path} -> {response.status_code} {response.text}")
            bodies.append(str(dict(response.headers)))
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''} {record.args!r}" for record in caplog.records)
    formatted = caplog.text
    assert caplog.records, "the run logged nothing: the check would be empty"
    for secret in SECRETS:
        assert secret not in formatted, f"a secret is in the captured log: {secret}"
        assert secret not in logged, f"a secret is in a log record: {secret}"
        for text in bodies:
            assert secret not in text, f"a secret is in an answer: {text[:300]}"


@pytest.mark.parametrize(
    "hostile",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "{{ states('lock.front_door') }}",
        "{% for x in states %}{{ x }}{% endfor %}",
        "&anchor *anchor",
        "x\nservice: lock.unlock",
    ],
)
async def test_hostile_text_stays_inert_in_generated_yaml(app_client: Callable[..., Any], hostile: str) -> None:
    """An alias from the owner: stored and given back as plain text; the YAML is safe-loaded to the same string."""
    automation = {
        "alias": hostile,
        "description": hostile,
        "trigger": [{"platform": "state", "entity_id": "binary_sensor.hallway_motion", "to": "on"}],
        "action": [{"service": "light.turn_on", "target": {"entity_id": "light.hallway"}}],
    }
    async with app_client("all") as client:
        created = await client.post("/api/v1/suggestions", json={"automation": automation})
        if created.status_code != 201:
            # refused outright is inert too, as long as it is a clean 400 naming the problem
            assert created.status_code == 400, created.text
            assert created.json()["message"]
            return
        suggestion = created.json()
        text = suggestion["yaml"]
    # the tag is never a tag: safe_load (which refuses python tags) reads the alias back as the same string
    assert not re.search(r"^\s*\w+: !!", text, re.MULTILINE), text
    loaded = yaml.safe_load(text)
    loaded = loaded[0] if isinstance(loaded, list) else loaded
    assert loaded["alias"] == hostile.strip() or loaded["alias"] == hostile, text
    assert loaded["description"] in (hostile, hostile.strip()), text
    assert "lock.unlock" not in str(loaded.get("action")), "text in the alias became an action"
    assert suggestion["config"]["alias"] in (hostile, hostile.strip())


async def test_yaml_python_tags_are_refused(app_client: Callable[..., Any]) -> None:
    """Hand-written YAML with a !!python tag is refused with 400, never constructed."""
    yaml_text = "alias: !!python/object/apply:os.system ['echo pwned']\ntrigger: []\naction: []\n"
    async with app_client("all") as client:
        created = await client.post("/api/v1/suggestions", json={"yaml": yaml_text})
        validated = await client.post("/api/v1/automations/validate", json={"yaml": yaml_text})
    assert created.status_code == 400, created.text
    assert created.json()["code"]
    assert validated.status_code in (200, 400), validated.text
    if validated.status_code == 200:
        results = validated.json()["results"]
        assert results and not any(r["valid"] for r in results), validated.text
        assert "is not accepted" in results[0]["errors"][0]["message"], validated.text


async def test_body_over_the_limit_is_refused(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    """A body larger than MAX_BODY_BYTES answers 413 payload_too_large with the error body, and nothing is stored."""
    settings = make_settings(MAX_BODY_BYTES="2048")
    async with app_client("all", settings) as client:
        big = {"query": "x" * 5000}
        response = await client.post("/api/v1/query", json=big)
        small = await client.post("/api/v1/query", json={"query": "turn on the porch light at sunset"})
        listed = await client.get("/api/v1/suggestions")
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["status"] == 413 and body["code"] == "payload_too_large" and body["message"]
    assert small.status_code == 201, small.text
    assert listed.status_code == 200


# --- the suite-wide secret scan (tests/secret_scan.py) can fail -----------------------------------------------

_SCAN_CONFTEST = """
import secret_scan

def pytest_configure(config):
    secret_scan.configure(config)

def pytest_unconfigure(config):
    secret_scan.unconfigure(config)
"""


def test_find_secrets_names_what_it_found_and_masks_it() -> None:
    planted = "planted-" + uuid.uuid4().hex
    assert secret_scan.find_secrets(f"GET /x?key={planted} 200", [planted, "other-secret-xyz"]) == [planted]
    assert planted not in secret_scan.mask(planted) and secret_scan.mask(planted).startswith("pla")


@pytest.mark.parametrize(
    "leak",
    [
        # a log record of a Secret built in the test (as make_settings builds them)
        "logging.getLogger('homeiq_ai.x').warning('connecting with %s', Secret(PLANTED).get())",
        # stdout of the test
        "Secret(PLANTED); print('token', PLANTED)",
        # a server process's log file under the session's temporary directory (tests/integration/procs.py)
        "Secret(PLANTED); (tmp_path / 'query.log').write_text('auth ' + PLANTED)",
        # a fixture value's runtime token (Home Assistant's long-lived token), in an exception logged
        "logging.getLogger('x').exception('boom', exc_info=RuntimeError(ha.token))",
    ],
)
def test_the_secret_scan_fails_a_session_that_leaks(pytester: pytest.Pytester, leak: str) -> None:
    """A secret planted in a log record, stdout, a log file or a traceback fails the session; the value is masked."""
    planted = "planted-" + uuid.uuid4().hex[:16]
    pytester.makeconftest(_SCAN_CONFTEST)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_leak=f"""
import logging, types
import pytest
from homeiq_ai.settings import Secret
PLANTED = {planted!r}

@pytest.fixture
def ha():
    return types.SimpleNamespace(token={planted[::-1]!r})

def test_leaks(tmp_path, ha):
    {leak}
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*SECRETS IN LOGS*", "*leak(s): the session fails*"])
    assert planted not in result.stdout.str() and planted[::-1] not in result.stdout.str()


def test_the_secret_scan_passes_a_clean_session(pytester: pytest.Pytester) -> None:
    """The same plumbing with the secret kept out of every output passes and says what it grepped."""
    pytester.makeconftest(_SCAN_CONFTEST)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_clean="""
import logging
from homeiq_ai.settings import Secret

def test_clean(tmp_path):
    secret = Secret("clean-" + "x" * 12)
    logging.getLogger("x").warning("using %r", secret)
    print(secret)
    (tmp_path / "server.log").write_text(f"started with {secret}")
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*secret scan: * test secrets, * log files grepped, none found*"])


# --- the dependency audit step of scripts/test.sh (scripts/audit_deps.py) -----------------------------------------

AUDIT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"
_DEP = {"name": "demo-pkg", "version": "1.0"}
_VULN = {"id": "PYSEC-0000-1", "aliases": ["CVE-0000-0001"], "fix_versions": ["1.1"], "description": "x"}


def _run_audit(
    tmp_path: Path, behaviour: str, explained: str | None = None, lock: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the audit step with a stand-in pip-audit whose answer `behaviour` describes (python source); with
    `explained` or `lock`, a copy of the step runs beside those files (the lock defaulting to the real one)."""
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\nout = sys.argv[sys.argv.index('-o') + 1]\n"
        f"service = sys.argv[sys.argv.index('-s') + 1]\n{behaviour}\n"
    )
    fake.chmod(0o755)
    env = {**os.environ, "PIP_AUDIT": str(fake)}
    script = AUDIT
    if explained is not None or lock is not None:
        # a copy of the step beside its own explained-findings file and lock
        (tmp_path / "scripts").mkdir()
        script = tmp_path / "scripts" / "audit_deps.py"
        script.write_text(AUDIT.read_text())
        (tmp_path / "scripts" / "pip-audit-explained.txt").write_text(explained or "")
        (tmp_path / "requirements.lock").write_text(LOCK.read_text() if lock is None else lock)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)


def _report(*deps: dict[str, Any]) -> str:
    return f"json.dump({{'dependencies': {list(deps)!r}, 'fixes': []}}, open(out, 'w'))"


def test_audit_passes_a_clean_set(tmp_path: Path) -> None:
    done = _run_audit(tmp_path, _report({**_DEP, "vulns": []}))
    assert done.returncode == 0, done.stderr
    assert "1 packages audited against osv" in done.stdout and "WARNING" not in done.stderr


def test_audit_reads_the_lock_and_this_environment_holds_it(tmp_path: Path) -> None:
    """pip-audit is given requirements.lock without resolving it again; the test environment is the locked set
    (every pin installed at its version), so the audit covers what the tests ran against."""
    argv_file = tmp_path / "argv.json"
    done = _run_audit(
        tmp_path, f"json.dump(sys.argv, open({str(argv_file)!r}, 'w'))\n" + _report({**_DEP, "vulns": []})
    )
    assert done.returncode == 0, done.stderr
    argv = json.loads(argv_file.read_text())
    assert argv[argv.index("-r") + 1] == str(LOCK) and "--no-deps" in argv and "--disable-pip" in argv
    pins = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    assert len(pins) > 50 and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.!-]+", p) for p in pins)
    assert any(p.startswith("torch==2.13.0") for p in pins) and not any(p.startswith("homeiq") for p in pins)


def test_audit_fails_when_the_environment_is_not_the_locked_set(tmp_path: Path) -> None:
    """A locked package at another version, or not installed at all: the tests did not run against the audited
    set, so the step fails and names each difference."""
    version = importlib.metadata.version("msgspec")
    lock = f"# a lock\nmsgspec=={version}.post99\nno-such-package-homeiq==1.0\n"
    done = _run_audit(tmp_path, _report({**_DEP, "vulns": []}), lock=lock)
    assert done.returncode == 1, done.stdout
    assert f"msgspec=={version}.post99 is locked but {version} is installed" in done.stderr
    assert "no-such-package-homeiq==1.0 is locked but not installed" in done.stderr
    assert "scripts/setup.sh" in done.stderr
    (tmp_path / "bad").mkdir()
    malformed = _run_audit(tmp_path / "bad", _report({**_DEP, "vulns": []}), lock="msgspec>=1\n")
    assert malformed.returncode != 0 and "is not a 'name==version' pin" in malformed.stderr


def test_audit_fails_on_an_unexplained_finding(tmp_path: Path) -> None:
    done = _run_audit(tmp_path, _report({**_DEP, "vulns": [_VULN]}) + "\nsys.exit(1)")
    assert done.returncode == 1, done.stdout
    assert "UNEXPLAINED: demo-pkg 1.0: PYSEC-0000-1 (fix: 1.1)" in done.stderr


def test_audit_passes_an_explained_finding_and_needs_a_reason(tmp_path: Path) -> None:
    behaviour = _report({**_DEP, "vulns": [_VULN]}) + "\nsys.exit(1)"
    done = _run_audit(tmp_path, behaviour, "# comment\nCVE-0000-0001  only the CLI is affected; we import the lib\n")
    assert done.returncode == 0, done.stderr
    assert "explained: demo-pkg 1.0: PYSEC-0000-1 (fix: 1.1): only the CLI is affected" in done.stdout
    (tmp_path / "again").mkdir()
    unreasoned = _run_audit(tmp_path / "again", behaviour, "PYSEC-0000-1\n")
    assert unreasoned.returncode != 0 and "has no reason" in unreasoned.stderr


def test_audit_warns_loudly_and_skips_only_when_unreachable(tmp_path: Path) -> None:
    """DNS failure on OSV and every package 'not found' on PyPI (this sandbox): a LOUD warning, exit 0."""
    behaviour = (
        "if service == 'osv':\n"
        "    sys.stderr.write(\"ConnectionError: Failed to resolve 'api.osv.dev'\\n\"); sys.exit(1)\n"
        + _report({"name": "demo-pkg", "skip_reason": "Dependency not found on PyPI and could not be audited"})
    )
    done = _run_audit(tmp_path, behaviour)
    assert done.returncode == 0, done.stderr
    assert "NOTHING WAS AUDITED" in done.stderr and "Failed to resolve" in done.stderr


def test_audit_fails_when_pip_audit_breaks_for_another_reason(tmp_path: Path) -> None:
    done = _run_audit(tmp_path, "sys.stderr.write('ValueError: bad requirement\\n'); sys.exit(1)")
    assert done.returncode == 1 and "broke" in done.stderr, done.stderr
