"""A real Home Assistant 2024.3.3 with the demo home on loopback, once per test session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from integration.procs import free_port

REPO = Path(__file__).resolve().parents[3]
HA_VERSION = "2024.3.3"
VENV_BUILD_TIMEOUT_S = 1200
START_TIMEOUT_S = 120

CONFIGURATION_YAML = """\
homeassistant:
  name: HomeIQ Test Home
  latitude: 52.52
  longitude: 13.405
  elevation: 34
  time_zone: Europe/Berlin
  unit_system: metric
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
demo:
sun:
input_boolean:
  homeiq_test:
    name: HomeIQ test switch
automation: !include automations.yaml
script:
scene:
recorder:
  db_url: "sqlite:///{config_dir}/home-assistant_v2.db"
  commit_interval: 1
history:
logbook:
"""

# Areas the fixture makes on top of the three that onboarding creates (living_room, kitchen, bedroom).
NEW_AREAS = {"office": "Office", "garden": "Garden"}
# Demo devices (by their ("demo", id) identifier) given an area; their entities inherit it.
DEVICE_AREAS = {
    "light_1": "bedroom",  # light.bed_light
    "light_2": "living_room",  # light.ceiling_lights (its entity overrides with office)
    "light_3": "kitchen",  # light.kitchen_lights
    "sensor_1": "garden",  # sensor.outside_temperature
}
# Entities given their own area: it wins over the device's.
ENTITY_AREAS = {"light.ceiling_lights": "office", "input_boolean.homeiq_test": "office"}


@dataclass
class HomeAssistantInstance:
    """A running Home Assistant: its URL, a long-lived token and where its files are."""

    url: str
    token: str
    config_dir: Path
    log_path: Path
    timings: dict[str, float] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    device_ids: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        """What Home Assistant printed so far."""
        return self.log_path.read_text(errors="replace")

    def headers(self) -> dict[str, str]:
        """The Authorization header of the test user's token."""
        return {"Authorization": f"Bearer {self.token}"}

    def ws(self, *messages: dict[str, Any]) -> list[Any]:
        """Send WebSocket commands (synchronously) and return their results; fails on an error result."""
        ws_url = self.url.replace("http://", "ws://") + "/api/websocket"
        out = []
        with ws_connect(ws_url, max_size=None, open_timeout=10) as ws:
            json.loads(ws.recv(timeout=10))
            ws.send(json.dumps({"type": "auth", "access_token": self.token}))
            reply = json.loads(ws.recv(timeout=10))
            assert reply["type"] == "auth_ok", reply
            for number, message in enumerate(messages, start=1):
                ws.send(json.dumps({**message, "id": number}))
                while True:
                    answer = json.loads(ws.recv(timeout=30))
                    if answer.get("id") == number and answer.get("type") == "result":
                        break
                assert answer["success"], answer
                out.append(answer["result"])
        return out


def _loud_skip(reason: str) -> None:
    bar = "!" * 100
    pytest.skip(f"\n{bar}\n!!! SKIPPED (Home Assistant {HA_VERSION}): {reason}\n{bar}")


def _report(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


@pytest.fixture(scope="session")
def ha_venv(pytestconfig: pytest.Config) -> Path:
    """The Home Assistant venv built (or reused) by scripts/ha-venv.sh; skipped loudly if it cannot be."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "ha-venv.sh")],
            capture_output=True,
            text=True,
            timeout=VENV_BUILD_TIMEOUT_S,
            env={**os.environ, "HA_VERSION": HA_VERSION},
        )
    except subprocess.TimeoutExpired:
        _loud_skip(f"scripts/ha-venv.sh did not finish within {VENV_BUILD_TIMEOUT_S}s")
    if done.returncode != 0:
        tail = "\n".join(line for line in done.stderr.splitlines() if "is ignored" not in line)[-3000:]
        _loud_skip(f"scripts/ha-venv.sh could not build the Home Assistant venv (no registry access?):\n{tail}")
    venv = Path(done.stdout.strip().splitlines()[-1])
    _report(pytestconfig, f"home assistant venv: {venv} ready in {time.monotonic() - started:.1f}s")
    return venv


def _wait_http(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hass exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/api/onboarding", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"hass did not answer HTTP within {START_TIMEOUT_S}s:\n{log_path.read_text()[-5000:]}")


def _onboard(url: str) -> str:
    """Create the owner through onboarding and return a long-lived access token (no person needed)."""
    client_id = f"{url}/"
    answer = httpx.post(
        f"{url}/api/onboarding/users",
        json={
            "client_id": client_id,
            "name": "HomeIQ Test",
            "username": "homeiq",
            "password": "homeiq-test-password",
            "language": "en",
        },
        timeout=30,
    )
    answer.raise_for_status()
    tokens = httpx.post(
        f"{url}/auth/token",
        data={"grant_type": "authorization_code", "code": answer.json()["auth_code"], "client_id": client_id},
        timeout=30,
    )
    tokens.raise_for_status()
    short = HomeAssistantInstance(url, tokens.json()["access_token"], Path(), Path())
    (token,) = short.ws({"type": "auth/long_lived_access_token", "client_name": "homeiq-tests", "lifespan": 365})
    return str(token)


def _demo_devices(ha: HomeAssistantInstance) -> dict[str, str]:
    """The demo's device ids by their demo identifier, once the demo has registered the ones used here."""
    deadline = time.monotonic() + 60
    while True:
        (devices,) = ha.ws({"type": "config/device_registry/list"})
        ids = {ident[1]: d["id"] for d in devices for ident in d["identifiers"] if ident[0] == "demo"}
        if all(key in ids for key in DEVICE_AREAS):
            return ids
        if time.monotonic() > deadline:
            raise AssertionError(f"the demo registered no devices {sorted(set(DEVICE_AREAS) - set(ids))}")
        time.sleep(0.5)


def _wait_states(ha: HomeAssistantInstance, entity_ids: list[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        states = httpx.get(f"{ha.url}/api/states", headers=ha.headers(), timeout=10).json()
        missing = set(entity_ids) - {s["entity_id"] for s in states}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"entities never got a state: {sorted(missing)}")
        time.sleep(0.5)


def _assign_areas(ha: HomeAssistantInstance) -> None:
    (existing,) = ha.ws({"type": "config/area_registry/list"})
    have = {a["area_id"] for a in existing}
    ha.ws(
        *({"type": "config/area_registry/create", "name": name} for key, name in NEW_AREAS.items() if key not in have)
    )
    (areas,) = ha.ws({"type": "config/area_registry/list"})
    needed = set(DEVICE_AREAS.values()) | set(ENTITY_AREAS.values())
    missing = needed - {a["area_id"] for a in areas}
    assert not missing, f"areas missing after onboarding and create: {missing} (have {areas})"
    ha.ws(
        *(
            {"type": "config/device_registry/update", "device_id": ha.device_ids[key], "area_id": area}
            for key, area in DEVICE_AREAS.items()
        ),
        *(
            {"type": "config/entity_registry/update", "entity_id": entity_id, "area_id": area}
            for entity_id, area in ENTITY_AREAS.items()
        ),
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_home_assistant(venv: Path, config_dir: Path) -> Iterator[HomeAssistantInstance]:
    """Start Home Assistant from `venv` in `config_dir`, onboard it, give areas; stop it on exit."""
    started = time.monotonic()
    port = free_port()
    (config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML.format(port=port, config_dir=config_dir))
    (config_dir / "automations.yaml").write_text("[]\n")
    log_path = config_dir / "hass.out.log"
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    with log_path.open("wb") as log_file:
        # --skip-pip: offline, every requirement is preinstalled by scripts/ha-venv.sh.
        proc = subprocess.Popen(
            [str(venv / "bin" / "hass"), "-c", str(config_dir), "--skip-pip"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        _wait_http(url, proc, log_path)
        http_s = time.monotonic() - started
        ha = HomeAssistantInstance(url, _onboard(url), config_dir, log_path)
        ha.device_ids = _demo_devices(ha)
        _assign_areas(ha)
        _wait_states(ha, ["light.kitchen_lights", "input_boolean.homeiq_test", "sensor.outside_temperature"])
        ha.timings = {"http_s": round(http_s, 2), "ready_s": round(time.monotonic() - started, 2)}
        yield ha
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def home_assistant(
    ha_venv: Path, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[HomeAssistantInstance]:
    """Home Assistant with the demo, onboarded, areas given to devices and entities; stopped at the end."""
    with running_home_assistant(ha_venv, tmp_path_factory.mktemp("home-assistant")) as ha:
        _report(
            pytestconfig,
            f"home assistant {HA_VERSION} at {ha.url}: HTTP after {ha.timings['http_s']:.1f}s, onboarded "
            f"with areas after {ha.timings['ready_s']:.1f}s",
        )
        yield ha
