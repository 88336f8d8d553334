"""The MQTT broker down, then back, under a running process: the analysis completes while the broker is down,
its notice waits in the outbox, and it reaches a subscriber once the broker is up, without a restart."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from conftest import sqlite_url
from integration.procs import ServerProcess, free_port, uvicorn_argv

pytestmark = pytest.mark.integration


def test_analysis_notice_waits_for_the_broker(tmp_path: Path, migrated_sqlite_template: Path) -> None:
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("!!! no `mosquitto` binary: the broker outage of a running process is NOT tested !!!")
    from kernel.test_mqtt import PrivateBroker

    broker = PrivateBroker(binary)
    db_file = tmp_path / "shared.db"
    shutil.copyfile(migrated_sqlite_template, db_file)
    prefix = f"homeiq-test/{uuid.uuid4().hex}"
    port = free_port()
    env = {
        "DATABASE_URL": sqlite_url(db_file),
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "MQTT_BROKER": "127.0.0.1",
        "MQTT_PORT": str(broker.port),
        "MQTT_TOPIC_PREFIX": prefix,
    }
    server = ServerProcess("pattern", uvicorn_argv("all", port), env, port, tmp_path)
    received: list[dict[str, object]] = []
    got = threading.Event()
    subscriber = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")

    def on_connect(client: paho.Client, *_args: object) -> None:
        client.subscribe(f"{prefix}/analysis/pattern/complete", qos=1)

    def on_message(_client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        received.append(json.loads(message.payload))
        got.set()

    subscriber.on_connect, subscriber.on_message = on_connect, on_message
    try:
        server.wait_ready(60)  # ready without the broker: MQTT is not a readiness condition
        run = httpx.post(f"{server.url}/api/v1/analysis/run", json={}, timeout=30).json()
        deadline = time.monotonic() + 60
        while (status := httpx.get(f"{server.url}/api/v1/analysis/runs/{run['id']}", timeout=10).json())[
            "status"
        ] not in ("completed", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert status["status"] == "completed", status
        ready = httpx.get(f"{server.url}/health/ready", timeout=10).json()
        assert ready["checks"]["mqtt"] == {"ok": True, "detail": "disconnected, 1 queued"}, ready

        broker.start()
        subscriber.connect("127.0.0.1", broker.port)
        subscriber.loop_start()
        # paho's reconnect backoff (1, 2, 4, ... s) reaches the broker; the queued notice then goes out.
        assert got.wait(45), f"no notice after the broker came back:\n{server.log()[-3000:]}"
        assert [m["run_id"] for m in received] == [run["id"]] and received[0]["status"] == "completed"
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
        assert server.stop() == 0, server.log()
        broker.stop()
