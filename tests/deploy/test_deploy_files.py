"""The deployment files agree with the code, and every command they run really serves and stops."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from homeiq_ai.settings import DEFAULT_SERVICE_URLS, MODULE_PORTS

ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
IMAGE = "homeiq-ai:latest"
ALL_IN_ONE_PORT = 8000
ALL_IN_ONE_COMMAND = ["homeiq-ai", "serve", "--modules", "all", "--upgrade-db"]
MIGRATE_COMMAND = ["homeiq-ai", "db", "upgrade"]
ROLE_SERVICES = {
    "ai-training-service": "training",
    "ai-pattern-service": "pattern",
    "ai-query-service": "query",
    "ai-automation-service": "automation",
}
SERVICE_URL_VARS = {
    "training": "AI_TRAINING_SERVICE_URL",
    "pattern": "AI_PATTERN_SERVICE_URL",
    "query": "AI_QUERY_SERVICE_URL",
    "automation": "AI_AUTOMATION_SERVICE_URL",
}
SPLIT_DATABASE_URL = "postgresql+asyncpg://homeiq:homeiq@postgres:5432/homeiq"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
MIGRATE_TIMEOUT_S = 120.0
SCRIPTS = [*sorted((ROOT / "scripts").glob("*.sh")), ROOT / ".ci" / "run"]


# --- reading the files ------------------------------------------------------------------------------


def _load_compose(name: str) -> dict[str, Any]:
    with (ROOT / name).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def one() -> dict[str, Any]:
    """compose.yml, with YAML anchors and merge keys resolved."""
    return _load_compose("compose.yml")


@pytest.fixture(scope="module")
def split() -> dict[str, Any]:
    """compose.split.yml, with YAML anchors and merge keys resolved."""
    return _load_compose("compose.split.yml")


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    pairs = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        pairs.append((instruction.upper(), args.strip()))
    return pairs


def _dockerfile(instruction: str) -> list[str]:
    return [args for name, args in _dockerfile_instructions() if name == instruction]


def _healthcheck_argv(test: list[str] | str) -> list[str]:
    """The command line of a compose healthcheck `test`."""
    if isinstance(test, str):
        return ["sh", "-c", test]
    kind, *rest = test
    if kind == "CMD":
        return rest
    if kind == "CMD-SHELL":
        return ["sh", "-c", rest[0]]
    raise AssertionError(f"unexpected healthcheck form {test!r}")


def _interpolate(value: Any) -> str:
    """A compose environment value as compose sees it when the host sets none of the variables."""
    text = str(value)
    text = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", text)
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", "", text)


def _app_services(compose: Mapping[str, Any]) -> dict[str, Any]:
    services = compose["services"]
    return {name: svc for name, svc in services.items() if str(svc.get("image", "")).startswith("homeiq")}


# --- static checks -----------------------------------------------------------------------------------


def test_every_app_service_uses_the_one_image(one: dict[str, Any], split: dict[str, Any]) -> None:
    """Every homeiq service of both compose files runs the same image, built from this repo."""
    services = {**{f"compose.yml:{n}": s for n, s in _app_services(one).items()},
                **{f"compose.split.yml:{n}": s for n, s in _app_services(split).items()}}
    assert set(_app_services(split)) == {"migrator", *ROLE_SERVICES}
    assert set(_app_services(one)) == {"homeiq-ai"}
    for name, svc in services.items():
        assert svc["image"] == IMAGE, name
        build = svc.get("build")
        assert build in (".", {"context": "."}), f"{name}: build {build!r}"


def test_all_in_one_service(one: dict[str, Any]) -> None:
    """compose.yml: one process on 8000, reachable on every seed port, data in a named volume."""
    svc = one["services"]["homeiq-ai"]
    assert svc["command"] == ALL_IN_ONE_COMMAND
    env = svc["environment"]
    assert str(env["PORT"]) == str(ALL_IN_ONE_PORT)
    assert env["HOST"] == "0.0.0.0"
    assert sorted(svc["ports"]) == sorted(f"{p}:{ALL_IN_ONE_PORT}" for p in MODULE_PORTS.values())
    assert "homeiq-data:/app/data" in svc["volumes"]
    assert "homeiq-data" in one["volumes"]
    assert svc["restart"] == "unless-stopped"
    assert f"http://127.0.0.1:{ALL_IN_ONE_PORT}/health/ready" in " ".join(svc["healthcheck"]["test"])
    for name in ("HA_URL", "HA_TOKEN", "OPENAI_API_KEY", "MQTT_BROKER"):
        assert env[name] == f"${{{name}:-}}", f"{name} is passed through, empty when unset"


@pytest.mark.parametrize(("service", "module"), sorted(ROLE_SERVICES.items()))
def test_role_service(split: dict[str, Any], service: str, module: str) -> None:
    """compose.split.yml: each role runs its module's entrypoint on its seed port, after the migrator."""
    svc = split["services"][service]
    port = MODULE_PORTS[module]
    assert svc["command"] == ["python", f"entrypoints/{module}.py"]
    assert (ROOT / "entrypoints" / f"{module}.py").is_file()
    env = svc["environment"]
    assert str(env["PORT"]) == str(port)
    assert env["HOST"] == "0.0.0.0"
    assert env["DATABASE_URL"] == SPLIT_DATABASE_URL
    assert env["MQTT_BROKER"] == "mosquitto"
    assert svc["ports"] == [f"{port}:{port}"]
    assert svc["depends_on"]["migrator"] == {"condition": "service_completed_successfully"}
    assert f"http://127.0.0.1:{port}/health/ready" in " ".join(svc["healthcheck"]["test"])
    assert "homeiq-data:/app/data" in svc["volumes"]


def test_service_names_match_the_seed_urls(split: dict[str, Any]) -> None:
    """Every AI_*_SERVICE_URL names a service of compose.split.yml at that service's port."""
    services = split["services"]
    for service in ROLE_SERVICES:
        env = services[service]["environment"]
        for module, var in SERVICE_URL_VARS.items():
            url = urlsplit(env[var])
            assert env[var] == DEFAULT_SERVICE_URLS[module], f"{service}: {var}"
            assert url.hostname in services, f"{service}: {var} names no service"
            assert ROLE_SERVICES[url.hostname] == module
            assert url.port == MODULE_PORTS[module]
            assert str(services[url.hostname]["environment"]["PORT"]) == str(url.port)


def test_migrator_runs_the_migrations_once(split: dict[str, Any]) -> None:
    """The one-shot migrator upgrades the database after PostgreSQL is healthy, and is not restarted."""
    services = split["services"]
    migrator = services["migrator"]
    assert migrator["command"] == MIGRATE_COMMAND
    assert migrator["restart"] == "no"
    assert migrator["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert migrator["environment"]["DATABASE_URL"] == SPLIT_DATABASE_URL
    postgres = services["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    url = urlsplit(SPLIT_DATABASE_URL)
    assert (url.username, url.password, url.path.lstrip("/"), url.hostname) == (
        postgres["environment"]["POSTGRES_USER"],
        postgres["environment"]["POSTGRES_PASSWORD"],
        postgres["environment"]["POSTGRES_DB"],
        "postgres",
    )


def test_mosquitto_config_is_mounted(split: dict[str, Any]) -> None:
    """The broker of the split deployment takes anonymous clients on 1883 from the config in deploy/."""
    volume = next(v for v in split["services"]["mosquitto"]["volumes"] if "mosquitto.conf" in v)
    source = volume.split(":", 1)[0]
    conf = (ROOT / source).read_text(encoding="utf-8").splitlines()
    assert "listener 1883" in conf
    assert "allow_anonymous true" in conf


def test_dockerfile_matches_compose(one: dict[str, Any]) -> None:
    """The image's default command is compose.yml's; it serves as non-root on 0.0.0.0 with CPU torch."""
    (cmd,) = _dockerfile("CMD")
    assert json.loads(cmd) == one["services"]["homeiq-ai"]["command"]
    assert _dockerfile("FROM") == ["python:3.11-slim"]
    runs = _dockerfile("RUN")
    torch_at = next(i for i, r in enumerate(runs) if "torch==2.13.0" in r and "--index-url" in r)
    package_at = next(i for i, r in enumerate(runs) if "'.[training]'" in r)
    assert torch_at < package_at
    (user,) = _dockerfile("USER")
    assert user not in ("root", "0")
    envs = " ".join(_dockerfile("ENV"))
    assert "HOST=0.0.0.0" in envs
    assert "HOMEIQ_DATA_DIR=/app/data" in envs
    assert _dockerfile("WORKDIR") == ["/app"]
    exposed = {int(p) for line in _dockerfile("EXPOSE") for p in line.split()}
    assert exposed == {ALL_IN_ONE_PORT, *MODULE_PORTS.values()}
    (healthcheck,) = _dockerfile("HEALTHCHECK")
    assert "/health/ready" in healthcheck and "${PORT:-8000}" in healthcheck


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_is_valid_bash(script: Path) -> None:
    """Each script parses with `bash -n`, is executable and stops at the first error."""
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert "set -euo pipefail" in script.read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    """CI runs exactly the quick-start test command, so what CI checks is what a developer runs."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "./scripts/test.sh" in [line.strip() for line in lines]
    assert "./scripts/test.sh" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- running what the files run ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(
    service_env: Mapping[str, Any], port: int, database_url: str, data_dir: Path
) -> dict[str, str]:
    """The service's compose environment, made local: loopback, a free port, a temp SQLite, no broker."""
    env = dict(os.environ)
    env.update({name: _interpolate(value) for name, value in service_env.items()})
    for name in ("MQTT_BROKER", "CORRELATION_CACHE_DB", "API_KEY"):
        env.pop(name, None)
    env.update(
        PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        PORT=str(port),
        HOST="127.0.0.1",
        DATABASE_URL=database_url,
        HOMEIQ_DATA_DIR=str(data_dir),
        SCHEDULER_ENABLED="false",
        LOG_LEVEL="INFO",  # the shutdown check reads uvicorn's INFO lines
        PYTHONUNBUFFERED="1",
    )
    return env


def _argv(command: list[str], env: Mapping[str, str]) -> list[str]:
    executable = shutil.which(command[0], path=env["PATH"])
    if executable is None:
        pytest.fail(f"{command[0]!r} is not on PATH ({BIN_DIR} first): run ./scripts/setup.sh")
    return [executable, *command[1:]]


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


class _Server:
    """A command line that serves HTTP, run as a real process with its output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.env = env
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            _argv(command, env), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode} before ready:\n{_tail(self.log)}")
            try:
                status, body = _get(f"http://127.0.0.1:{self.port}/health/ready")
            except OSError as exc:
                last = repr(exc)
            else:
                if status == 200:
                    return
                last = f"{status} {body[:500]}"
            time.sleep(0.2)
        pytest.fail(f"/health/ready not 200 within {START_TIMEOUT_S:g} s (last: {last}):\n{_tail(self.log)}")

    def run_probe(self, argv: list[str], extra_env: Mapping[str, str] | None = None) -> None:
        result = subprocess.run(
            argv, cwd=ROOT, env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
            timeout=30, check=False,
        )
        assert result.returncode == 0, f"healthcheck {argv!r} failed:\n{result.stdout}{result.stderr}"

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_TIMEOUT_S:g} s after SIGTERM:\n{_tail(self.log)}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log_file.close()


def _serve_and_stop(server: _Server, probes: list[tuple[list[str], dict[str, str]]]) -> None:
    try:
        server.wait_ready()
        for argv, extra_env in probes:
            server.run_probe(argv, extra_env)
        code = server.stop()
        output = _tail(server.log, 200)
        # uvicorn re-raises the SIGTERM it caught once its graceful shutdown is done (exit 143 in a shell).
        assert code in (0, -signal.SIGTERM), f"exit status {code} after SIGTERM:\n{output}"
        assert "Application shutdown complete" in output, f"no graceful shutdown:\n{output}"
        assert "Traceback" not in output, f"a traceback while serving or stopping:\n{output}"
    finally:
        server.close()


def _port_substituted(argv: list[str], container_port: int, port: int) -> list[str]:
    substituted = [arg.replace(f"127.0.0.1:{container_port}", f"127.0.0.1:{port}") for arg in argv]
    assert substituted != argv, f"the healthcheck {argv!r} does not name 127.0.0.1:{container_port}"
    return substituted


@pytest.fixture(scope="module")
def migrated_db(split: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temp SQLite database brought to head by the migrator's own command line."""
    tmp = tmp_path_factory.mktemp("split-db")
    url = _sqlite_url(tmp / "shared.db")
    migrator = split["services"]["migrator"]
    env = _environment(migrator["environment"], _free_port(), url, tmp / "data")
    result = subprocess.run(
        _argv(migrator["command"], env), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=MIGRATE_TIMEOUT_S, check=False,
    )
    assert result.returncode == 0, f"{migrator['command']} failed:\n{result.stdout}{result.stderr}"
    yield url


@pytest.mark.integration
def test_migrator_command_brings_the_database_to_head(split: dict[str, Any], migrated_db: str,
                                                      tmp_path: Path) -> None:
    """After the migrator's command, `homeiq-ai db check` finds the database at head."""
    env = _environment(split["services"]["migrator"]["environment"], _free_port(), migrated_db, tmp_path)
    result = subprocess.run(
        _argv(["homeiq-ai", "db", "check"], env), cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=MIGRATE_TIMEOUT_S, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration
@pytest.mark.parametrize(("service", "module"), sorted(ROLE_SERVICES.items()))
def test_role_command_serves_and_stops(split: dict[str, Any], migrated_db: str, tmp_path: Path,
                                       service: str, module: str) -> None:
    """Each role's command serves its module until ready, passes its healthcheck, and stops on SIGTERM."""
    svc = split["services"][service]
    port = _free_port()
    env = _environment(svc["environment"], port, migrated_db, tmp_path / "data")
    probe = _port_substituted(_healthcheck_argv(svc["healthcheck"]["test"]), MODULE_PORTS[module], port)
    server = _Server(svc["command"], env, port, tmp_path / f"{service}.log")
    _serve_and_stop(server, [(probe, {})])


@pytest.mark.integration
def test_all_in_one_command_serves_and_stops(one: dict[str, Any], tmp_path: Path) -> None:
    """compose.yml's command (the image's CMD) migrates an empty database, serves, and stops cleanly."""
    svc = one["services"]["homeiq-ai"]
    port = _free_port()
    env = _environment(svc["environment"], port, _sqlite_url(tmp_path / "shared.db"), tmp_path / "data")
    compose_probe = _port_substituted(_healthcheck_argv(svc["healthcheck"]["test"]), ALL_IN_ONE_PORT, port)
    (docker_healthcheck,) = _dockerfile("HEALTHCHECK")
    docker_probe = ["sh", "-c", docker_healthcheck.split(" CMD ", 1)[1]]
    server = _Server(svc["command"], env, port, tmp_path / "all-in-one.log")
    _serve_and_stop(server, [(compose_probe, {}), (docker_probe, {"PORT": str(port)})])
