"""MqttBus against a real Mosquitto: roundtrips, outbox, reconnect, disabled mode, secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest

from homeiq_ai.kernel import mqtt as mqtt_module
from homeiq_ai.kernel.mqtt import MqttBus, make_client_id
from homeiq_ai.settings import Secret, Settings

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 1883
WAIT_SECONDS = 15.0


def _reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((BROKER_HOST, 0))
        return sock.getsockname()[1]


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


@dataclass
class Inbox:
    """Collects what a handler receives."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)

    async def handler(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, payload))

    def payloads(self, topic: str) -> list[bytes]:
        return [payload for got, payload in self.messages if got == topic]


@pytest.fixture(scope="session")
def broker() -> tuple[str, int]:
    if not _reachable(BROKER_HOST, BROKER_PORT):
        pytest.skip(
            f"!!! Mosquitto is NOT reachable at {BROKER_HOST}:{BROKER_PORT}: the MQTT bus is NOT tested "
            "against a real broker. Start one (e.g. `mosquitto -d`) to run these tests. !!!"
        )
    return BROKER_HOST, BROKER_PORT


def _settings(host: str | None, port: int = BROKER_PORT, **extra: object) -> Settings:
    # A unique prefix per test keeps parallel runs on the shared broker from seeing each other.
    return Settings(
        mqtt_broker=host, mqtt_port=port, mqtt_topic_prefix=f"homeiq-test/{uuid.uuid4().hex}", **extra
    )


BusFactory = Callable[..., Awaitable[MqttBus]]


@pytest.fixture
async def make_bus() -> AsyncIterator[BusFactory]:
    buses: list[MqttBus] = []

    async def _make(settings: Settings, name: str = "test", *, start: bool = True) -> MqttBus:
        bus = MqttBus(settings, client_name=name)
        buses.append(bus)
        if start:
            await bus.start()
        return bus

    yield _make
    for bus in buses:
        await bus.stop()


async def _connected(*buses: MqttBus) -> None:
    await eventually(lambda: all(bus.connected for bus in buses))


async def _prime(publisher: MqttBus, topic: str, inbox: Inbox) -> None:
    # The broker may see a publish before the subscriber's SUBSCRIBE: probe until one gets through.
    deadline = time.monotonic() + WAIT_SECONDS
    while not inbox.payloads(topic):
        assert time.monotonic() < deadline, f"subscription to {topic} never became active"
        await publisher.publish(topic, b"probe", qos=0)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    inbox.messages.clear()


class PrivateBroker:
    """A Mosquitto subprocess on a free port that a test may stop and start again."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _reachable(BROKER_HOST, self.port, timeout=0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("!!! no `mosquitto` binary: reconnect and outbox flush after outages are NOT tested !!!")
    private = PrivateBroker(binary)
    yield private
    private.stop()


async def test_publish_subscribe_roundtrip_with_json(broker: tuple[str, int], make_bus: BusFactory) -> None:
    """A mapping published by one bus arrives as JSON at another bus's handler."""
    settings = _settings(broker[0], broker[1])
    inbox = Inbox()
    receiver = await make_bus(settings, "receiver", start=False)
    receiver.subscribe(receiver.topic("events", "+"), inbox.handler)
    await receiver.start()
    sender = await make_bus(settings, "sender")
    await _connected(receiver, sender)
    topic = sender.topic("events", "analysis_completed")
    await _prime(sender, topic, inbox)

    sent = await sender.publish(topic, {"run_id": 7, "patterns": ["a", "b"], "ok": True})

    assert sent is True
    await eventually(lambda: bool(inbox.payloads(topic)))
    assert json.loads(inbox.payloads(topic)[0]) == {"run_id": 7, "patterns": ["a", "b"], "ok": True}


async def test_str_and_bytes_payloads_are_sent_as_is(broker: tuple[str, int], make_bus: BusFactory) -> None:
    """A str goes out UTF-8 encoded and bytes unchanged."""
    settings = _settings(*broker)
    inbox = Inbox()
    bus = await make_bus(settings, start=False)
    bus.subscribe(bus.topic("#"), inbox.handler)
    await bus.start()
    await _connected(bus)
    topic = bus.topic("raw")
    await _prime(bus, topic, inbox)

    await bus.publish(topic, "héllo")
    await bus.publish(topic, b"\x00\xff")

    await eventually(lambda: len(inbox.payloads(topic)) == 2)
    assert inbox.payloads(topic) == ["héllo".encode(), b"\x00\xff"]


async def test_retained_message_reaches_a_late_subscriber(
    broker: tuple[str, int], make_bus: BusFactory
) -> None:
    """A retained message is delivered to a bus that subscribes after it was published."""
    settings = _settings(*broker)
    publisher = await make_bus(settings, "publisher")
    await _connected(publisher)
    topic = publisher.topic("state")
    assert await publisher.publish(topic, {"status": "idle"}, retain=True) is True
    await eventually(lambda: not publisher._pending or all(i.is_published() for i in publisher._pending))

    inbox = Inbox()
    late = await make_bus(settings, "late", start=False)
    late.subscribe(topic, inbox.handler)
    await late.start()
    try:
        await eventually(lambda: bool(inbox.payloads(topic)))
        assert json.loads(inbox.payloads(topic)[0]) == {"status": "idle"}
    finally:
        await publisher.publish(topic, b"", retain=True)  # an empty retained payload clears it


async def test_wildcard_subscriptions_match_like_mqtt(broker: tuple[str, int], make_bus: BusFactory) -> None:
    """`+` and `#` filters receive exactly the topics MQTT says they match."""
    settings = _settings(*broker)
    everything, one_level = Inbox(), Inbox()
    bus = await make_bus(settings, start=False)
    bus.subscribe(bus.topic("#"), everything.handler)
    bus.subscribe(bus.topic("rooms", "+", "light"), one_level.handler)
    await bus.start()
    await _connected(bus)
    await _prime(bus, bus.topic("rooms", "probe", "light"), one_level)
    everything.messages.clear()

    await bus.publish(bus.topic("rooms", "kitchen", "light"), "on")
    await bus.publish(bus.topic("rooms", "kitchen", "ceiling", "light"), "off")
    await bus.publish(bus.topic("other"), "x")

    await eventually(lambda: len(everything.messages) == 3)
    await asyncio.sleep(0.2)
    assert [topic for topic, _ in one_level.messages] == [bus.topic("rooms", "kitchen", "light")]


async def test_handler_exception_does_not_break_later_deliveries(
    broker: tuple[str, int], make_bus: BusFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that raises is logged and still receives the next message."""
    settings = _settings(*broker)
    received: list[bytes] = []
    probe = Inbox()

    async def flaky(topic: str, payload: bytes) -> None:
        received.append(payload)
        if payload == b"boom":
            raise RuntimeError("handler exploded")

    bus = await make_bus(settings, start=False)
    topic = bus.topic("flaky")
    bus.subscribe(topic, probe.handler)
    bus.subscribe(topic, flaky)
    await bus.start()
    await _connected(bus)
    await _prime(bus, topic, probe)
    received.clear()

    with caplog.at_level(logging.ERROR, logger="homeiq_ai.kernel.mqtt"):
        await bus.publish(topic, "boom")
        await eventually(lambda: received == [b"boom"])
        await bus.publish(topic, "after")
        await eventually(lambda: received == [b"boom", b"after"])

    assert "handler exploded" in caplog.text
    assert bus.connected


async def test_unreachable_broker_publish_is_fast_and_queues(make_bus: BusFactory) -> None:
    """With nothing listening, start and publish return at once, do not raise, and queue."""
    settings = _settings(BROKER_HOST, _free_port())
    started = time.monotonic()
    bus = await make_bus(settings)
    sent = await bus.publish(bus.topic("notice"), {"text": "broker is down"})
    elapsed = time.monotonic() - started

    assert sent is False
    assert elapsed < 0.5
    assert bus.queued == 1
    assert bus.connected is False
    assert bus.status()["queued"] == 1

    result = await bus.health_check()()
    assert result.ok is True
    assert result.detail == "disconnected, 1 queued"

    started = time.monotonic()
    await bus.stop()
    assert time.monotonic() - started < mqtt_module.STOP_TIMEOUT_SECONDS + 1


async def test_outbox_is_bounded_and_drops_the_oldest(
    make_bus: BusFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past its bound the outbox drops the oldest message, with a warning."""
    monkeypatch.setattr(mqtt_module, "OUTBOX_MAX", 3)
    bus = await make_bus(_settings(BROKER_HOST, _free_port()), start=False)

    with caplog.at_level(logging.WARNING, logger="homeiq_ai.kernel.mqtt"):
        for index in range(5):
            assert await bus.publish(bus.topic("n", str(index)), str(index)) is False

    assert bus.queued == 3
    assert bus.status()["dropped"] == 2
    assert [message.topic for message in bus._outbox] == [bus.topic("n", str(i)) for i in (2, 3, 4)]
    assert "outbox full" in caplog.text


async def test_disabled_bus_is_a_noop(make_bus: BusFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Without MQTT_BROKER every method does nothing and start logs one info line."""
    bus = await make_bus(_settings(None), start=False)
    with caplog.at_level(logging.DEBUG, logger="homeiq_ai.kernel.mqtt"):
        await bus.start()
        assert await bus.publish(bus.topic("x"), {"a": 1}) is False
        bus.subscribe(bus.topic("#"), Inbox().handler)
        await bus.stop()

    assert bus.enabled is False
    assert bus.connected is False
    assert bus.queued == 0
    assert bus.status()["enabled"] is False
    assert bus.status()["broker"] is None
    assert [record.getMessage() for record in caplog.records] == ["MQTT disabled: MQTT_BROKER is not set"]
    assert caplog.records[0].levelno == logging.INFO
    result = await bus.health_check()()
    assert result.ok is True


async def test_client_ids_are_unique_per_instance() -> None:
    """Two buses of the same name in one process get different, broker-safe client ids."""
    settings = _settings(BROKER_HOST)
    first = MqttBus(settings, client_name="training+pattern")
    second = MqttBus(settings, client_name="training+pattern")

    assert first.client_id != second.client_id
    for client_id in (first.client_id, second.client_id):
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", client_id)
        assert client_id.startswith("homeiq-ai-training-pattern-")
        assert f"-{os.getpid()}-" in client_id

    long_id = make_client_id("x" * 200)
    assert len(long_id) <= 64
    assert re.search(rf"-{os.getpid()}-[0-9a-f]{{8}}$", long_id)


async def test_topic_joins_prefix_and_parts() -> None:
    """topic() joins the configured prefix and the parts with single slashes."""
    bus = MqttBus(Settings(mqtt_broker=BROKER_HOST, mqtt_topic_prefix="homeiq/ai-automation"), "t")
    assert bus.topic("analysis", "completed") == "homeiq/ai-automation/analysis/completed"
    assert bus.topic("/suggestions/", "42") == "homeiq/ai-automation/suggestions/42"
    assert bus.topic() == "homeiq/ai-automation"


async def test_invalid_topics_are_rejected(make_bus: BusFactory) -> None:
    """Publishing to a wildcard topic or subscribing to a malformed filter raises ValueError."""
    bus = await make_bus(_settings(BROKER_HOST, _free_port()), start=False)
    with pytest.raises(ValueError):
        await bus.publish(bus.topic("+"), "x")
    with pytest.raises(ValueError):
        await bus.publish("", "x")
    with pytest.raises(ValueError):
        await bus.publish(bus.topic("ok"), "x", qos=3)
    with pytest.raises(ValueError):
        bus.subscribe("a/#/b", Inbox().handler)
    with pytest.raises(ValueError):
        bus.subscribe("a/b+", Inbox().handler)
    assert bus.queued == 0


async def test_health_check_reports_connection(broker: tuple[str, int], make_bus: BusFactory) -> None:
    """The readiness check passes and names the broker while connected."""
    bus = await make_bus(_settings(*broker))
    await _connected(bus)
    result = await bus.health_check()()
    assert result.ok is True
    assert result.detail == f"connected to {broker[0]}:{broker[1]}"
    status = bus.status()
    assert status["connected"] is True
    assert status["broker"] == f"{broker[0]}:{broker[1]}"
    assert status["client_id"] == bus.client_id


async def test_password_never_appears_in_logs(
    broker: tuple[str, int], make_bus: BusFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither logs (at DEBUG, paho included), status nor repr show the MQTT password."""
    password = f"pw-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    for host, port in (broker, (BROKER_HOST, _free_port())):
        settings = _settings(host, port, mqtt_username="homeiq", mqtt_password=Secret(password))
        bus = await make_bus(settings)
        # Either outcome (accepted, refused, unreachable) must keep the secret out of the logs.
        await asyncio.sleep(1.5)
        await bus.publish(bus.topic("x"), {"n": 1})
        assert password not in repr(bus.status())
        assert password not in repr(settings)
        await bus.stop()

    assert caplog.records, "expected the bus to log something"
    assert password not in caplog.text


async def test_outbox_is_flushed_when_the_broker_starts_late(
    private_broker: PrivateBroker, make_bus: BusFactory
) -> None:
    """Messages published before the broker exists go out once it starts."""
    settings = _settings(BROKER_HOST, private_broker.port)
    publisher = await make_bus(settings, "publisher")
    topics = [publisher.topic("late", str(i)) for i in range(3)]
    for index, topic in enumerate(topics):
        # Retained, so the check below does not depend on who connects first.
        assert await publisher.publish(topic, {"n": index}, retain=True) is False
    assert publisher.queued == 3

    private_broker.start()
    await _connected(publisher)
    await eventually(lambda: publisher.queued == 0)

    inbox = Inbox()
    reader = await make_bus(settings, "reader", start=False)
    reader.subscribe(publisher.topic("late", "#"), inbox.handler)
    await reader.start()
    await eventually(lambda: len(inbox.messages) == 3)
    assert {topic: json.loads(payload) for topic, payload in inbox.messages} == {
        topic: {"n": index} for index, topic in enumerate(topics)
    }


async def test_reconnect_resubscribes_and_flushes_after_broker_restart(
    private_broker: PrivateBroker, make_bus: BusFactory
) -> None:
    """After a broker restart both buses reconnect, subscriptions are renewed and the outbox is sent."""
    private_broker.start()
    settings = _settings(BROKER_HOST, private_broker.port)
    inbox = Inbox()
    subscriber = await make_bus(settings, "subscriber", start=False)
    subscriber.subscribe(subscriber.topic("#"), inbox.handler)
    await subscriber.start()
    publisher = await make_bus(settings, "publisher")
    await _connected(subscriber, publisher)
    live = publisher.topic("live")
    await _prime(publisher, live, inbox)

    private_broker.stop()
    await eventually(lambda: not publisher.connected and not subscriber.connected)
    outage = publisher.topic("outage")
    assert await publisher.publish(outage, {"during": "outage"}, retain=True) is False
    assert publisher.queued == 1
    assert (await publisher.health_check()()).detail == "disconnected, 1 queued"

    private_broker.start()
    await _connected(subscriber, publisher)
    await eventually(lambda: publisher.queued == 0)
    await eventually(lambda: bool(inbox.payloads(outage)))
    assert json.loads(inbox.payloads(outage)[0]) == {"during": "outage"}

    assert await publisher.publish(live, "after restart") is True
    await eventually(lambda: inbox.payloads(live) == [b"after restart"])
