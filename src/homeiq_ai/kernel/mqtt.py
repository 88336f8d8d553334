"""MQTT publisher/subscriber on paho-mqtt 2.x, bridged to asyncio; a no-op when MQTT_BROKER is unset."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from homeiq_ai.kernel.modules import CheckResult, HealthCheck
from homeiq_ai.settings import Settings

__all__ = ["MessageHandler", "MqttBus", "make_client_id"]

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], Awaitable[None]]

OUTBOX_MAX = 1000
STOP_TIMEOUT_SECONDS = 3.0
# How long stop() waits for messages already handed to paho to reach the broker.
DRAIN_TIMEOUT_SECONDS = 2.0
CLIENT_ID_MAX = 64
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_PENDING_MAX = 10_000


def make_client_id(client_name: str) -> str:
    """Build a client id unique to this process: two processes with one id would evict each other.

    Args:
        client_name: what this process is, e.g. "pattern" or "training+pattern".

    Returns:
        `homeiq-ai-<client_name>-<hostname>-<pid>-<random hex>`, reduced to `[A-Za-z0-9_-]` and at most
        64 characters; the random suffix is always kept whole.
    """
    suffix = f"-{os.getpid()}-{secrets.token_hex(4)}"
    stem = _UNSAFE_ID_CHARS.sub("-", f"homeiq-ai-{client_name}-{socket.gethostname()}").strip("-")
    return stem[: CLIENT_ID_MAX - len(suffix)] + suffix


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


def _encode(payload: Mapping[str, Any] | str | bytes | bytearray) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, Mapping):
        # msgspec writes datetimes as ISO 8601 and falls back to str() for anything unknown.
        return msgspec.json.encode(dict(payload), enc_hook=_enc_hook)
    raise TypeError(f"MQTT payload must be a mapping, str or bytes, not {type(payload).__name__}")


def _check_topic(topic: str) -> None:
    if not topic or "+" in topic or "#" in topic or "\x00" in topic:
        raise ValueError(f"not a valid MQTT topic to publish to: {topic!r}")


def _check_filter(topic_filter: str) -> None:
    levels = topic_filter.split("/")
    malformed = not topic_filter or "\x00" in topic_filter
    for index, level in enumerate(levels):
        if ("+" in level and level != "+") or ("#" in level and (level != "#" or index != len(levels) - 1)):
            malformed = True
    if malformed:
        raise ValueError(f"not a valid MQTT topic filter: {topic_filter!r}")


@dataclass(frozen=True, slots=True)
class _Queued:
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class _Subscription:
    topic: str
    handler: MessageHandler
    qos: int


class MqttBus:
    """One MQTT connection of this process, usable from asyncio.

    paho runs its network loop in its own thread; this class never blocks the event loop on the
    network and never raises because the broker is down. Messages published while disconnected wait
    in a bounded outbox and go out on the next connect. When `settings.mqtt_broker` is None every
    method is a no-op.
    """

    def __init__(self, settings: Settings, client_name: str) -> None:
        self._settings = settings
        self.client_id = make_client_id(client_name)
        self._host = settings.mqtt_broker
        self._port = settings.mqtt_port
        self._prefix = settings.mqtt_topic_prefix.strip("/")
        # Guards _connected, _outbox and _subscriptions, which paho's thread and the event loop share.
        self._lock = threading.Lock()
        self._connected = False
        self._outbox: deque[_Queued] = deque(maxlen=OUTBOX_MAX)
        self._dropped = 0
        self._subscriptions: list[_Subscription] = []
        self._pending: deque[paho.MQTTMessageInfo] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._connect_failures = 0
        self._client: paho.Client | None = None

    # -- state -------------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """False when MQTT_BROKER is not set; the bus then does nothing."""
        return self._host is not None

    @property
    def connected(self) -> bool:
        """True while the broker has accepted this client's connection."""
        return self._connected

    @property
    def broker(self) -> str | None:
        """`host:port` of the broker, or None when disabled."""
        return f"{self._host}:{self._port}" if self._host is not None else None

    @property
    def queued(self) -> int:
        """How many messages wait in the outbox for the next connect."""
        return len(self._outbox)

    def status(self) -> dict[str, Any]:
        """Describe the bus for diagnostics; never includes credentials."""
        return {
            "enabled": self.enabled,
            "connected": self._connected,
            "broker": self.broker,
            "client_id": self.client_id,
            "queued": len(self._outbox),
            "dropped": self._dropped,
            "subscriptions": sorted({sub.topic for sub in self._subscriptions}),
        }

    def health_check(self) -> HealthCheck:
        """Return a readiness check that reports the connection but always passes.

        A down broker must not take the service out of rotation: messages wait in the outbox.
        """

        async def _check() -> CheckResult:
            if not self.enabled:
                return CheckResult(True, "disabled")
            if self._connected:
                return CheckResult(True, f"connected to {self.broker}")
            return CheckResult(True, f"disconnected, {len(self._outbox)} queued")

        return _check

    def topic(self, *parts: str) -> str:
        """Join the configured topic prefix and `parts` with '/'.

        Example: `bus.topic("analysis", "completed")` -> `homeiq/ai-automation/analysis/completed`.
        """
        pieces = [self._prefix, *(str(part).strip("/") for part in parts)]
        return "/".join(piece for piece in pieces if piece)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background; returns at once, even when the broker is down."""
        if not self.enabled:
            log.info("MQTT disabled: MQTT_BROKER is not set")
            return
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        client = self._client = self._build_client()
        self._started = True
        log.info("MQTT connecting to %s as %s", self.broker, self.client_id)
        try:
            # connect_async only records the target: the connect itself happens in paho's thread,
            # which keeps retrying with the reconnect delay.
            client.connect_async(self._host or "", self._port, keepalive=30)
            client.loop_start()
        except Exception as exc:  # e.g. no thread could be started; MQTT stays off, the service runs
            self._started = False
            log.warning("MQTT could not start for %s: %s", self.broker, exc)

    async def stop(self) -> None:
        """Disconnect and stop paho's thread; bounded in time even when the broker is unreachable."""
        client = self._client
        if not self.enabled or client is None or not self._started:
            return
        self._started = False
        if self._connected:
            await self._drain()
        if self._outbox:
            log.warning("MQTT stopping with %d unsent message(s) in the outbox", len(self._outbox))

        def _shutdown() -> None:
            client.disconnect()
            client.loop_stop()

        try:
            await asyncio.wait_for(asyncio.to_thread(_shutdown), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            # paho's thread is a daemon: leaving it behind cannot hold the process open.
            log.warning("MQTT did not stop within %.0f s; leaving its thread behind", STOP_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("MQTT stop failed: %s", exc)
        with self._lock:
            self._connected = False
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while self._connected and time.monotonic() < deadline:
            with self._lock:
                self._prune_pending()
                if not self._pending:
                    return
            await asyncio.sleep(0.02)

    def _prune_pending(self) -> None:
        # Called with self._lock held.
        while self._pending and self._pending[0].is_published():
            self._pending.popleft()

    # -- publish / subscribe -----------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        payload: Mapping[str, Any] | str | bytes,
        *,
        qos: int = 1,
        retain: bool = False,
    ) -> bool:
        """Publish a message without waiting for the network.

        Args:
            topic: the full topic (see `topic()` to build one under the prefix).
            payload: a mapping (sent as JSON), a str (UTF-8) or bytes.
            qos: MQTT quality of service, 0, 1 or 2.
            retain: ask the broker to keep it as the topic's last known value.

        Returns:
            True when handed to paho while connected; False when queued for the next connect or when
            the bus is disabled.

        Raises:
            ValueError: the topic holds wildcards or is empty, or qos is not 0, 1 or 2.
            TypeError: the payload is not a mapping, str or bytes.
        """
        if not self.enabled:
            return False
        _check_topic(topic)
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
        message = _Queued(topic, _encode(payload), qos, retain)
        with self._lock:
            if self._connected and self._client is not None:
                return self._send(self._client, message)
            self._enqueue(message)
            return False

    def _send(self, client: paho.Client, message: _Queued) -> bool:
        # Called with self._lock held. paho only queues the packet for its thread here: no network wait.
        info = client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._prune_pending()
            if len(self._pending) < _PENDING_MAX:
                self._pending.append(info)
            return True
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and message.qos > 0:
            # The connection dropped just now: paho keeps QoS>0 messages and resends them itself.
            return False
        self._enqueue(message)
        return False

    def _enqueue(self, message: _Queued) -> None:
        if len(self._outbox) == self._outbox.maxlen:
            self._dropped += 1
            # Every publish of a long outage drops one: warn on the first and then every 100th.
            if self._dropped == 1 or self._dropped % 100 == 0:
                log.warning(
                    "MQTT outbox full (%d): dropped the oldest message to %s (%d dropped so far)",
                    self._outbox.maxlen,
                    self._outbox[0].topic,
                    self._dropped,
                )
        self._outbox.append(message)

    def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 1) -> None:
        """Call `handler(topic, payload)` on the event loop for every message matching `topic`.

        The subscription is remembered and renewed on every (re)connect. MQTT wildcards (`+`, `#`) are
        allowed. A handler that raises is logged; later messages still reach it.

        Args:
            topic: a topic filter, e.g. `homeiq/ai-automation/+/completed`.
            handler: coroutine function taking the message topic and raw payload.
            qos: the maximum quality of service to receive with.

        Raises:
            ValueError: the topic filter is malformed (e.g. `a/#/b`).
        """
        if not self.enabled:
            return
        _check_filter(topic)
        subscription = _Subscription(topic, handler, qos)
        with self._lock:
            self._subscriptions.append(subscription)
            client = self._client if self._connected else None
        if client is not None:
            client.subscribe(topic, qos=qos)

    # -- paho callbacks (paho's thread) ------------------------------------------------------------

    def _build_client(self) -> paho.Client:
        client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=self.client_id)
        # An exception escaping a callback would end paho's network thread for good.
        client.suppress_exceptions = True
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.connect_timeout = 5.0
        if self._settings.mqtt_username is not None:
            password = self._settings.mqtt_password.get() if self._settings.mqtt_password else None
            client.username_pw_set(self._settings.mqtt_username, password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        return client

    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        try:
            if reason_code.is_failure:
                self._log_connect_failure(f"refused: {reason_code}")
                return
            with self._lock:
                self._connected = True
                self._connect_failures = 0
                topics: dict[str, int] = {}
                for sub in self._subscriptions:
                    topics[sub.topic] = max(sub.qos, topics.get(sub.topic, 0))
                if topics:
                    client.subscribe(list(topics.items()))
                # A snapshot: a message paho refuses goes back to the outbox and must not loop here.
                backlog = list(self._outbox)
                self._outbox.clear()
                for message in backlog:
                    self._send(client, message)
                flushed = len(backlog) - len(self._outbox)
            log.info(
                "MQTT connected to %s (%d subscription(s), %d queued message(s) sent)",
                self.broker,
                len(topics),
                flushed,
            )
        except Exception:
            log.exception("MQTT on_connect failed")

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        try:
            with self._lock:
                was_connected, self._connected = self._connected, False
            if was_connected and self._started:
                log.warning("MQTT disconnected from %s (%s); reconnecting", self.broker, reason_code)
        except Exception:
            log.exception("MQTT on_disconnect failed")

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        self._log_connect_failure("unreachable")

    def _log_connect_failure(self, why: str) -> None:
        # One warning per outage; the retries after it (every 1..60 s) only at debug level.
        self._connect_failures += 1
        level = logging.WARNING if self._connect_failures == 1 and self._started else logging.DEBUG
        log.log(
            level,
            "MQTT broker %s %s; retrying in the background (%d queued)",
            self.broker,
            why,
            len(self._outbox),
        )

    def _on_message(self, _client: Any, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
            payload = bytes(message.payload)
            with self._lock:
                subscriptions = list(self._subscriptions)
            handlers = [sub.handler for sub in subscriptions if paho.topic_matches_sub(sub.topic, topic)]
            loop = self._loop
            if not handlers or loop is None or loop.is_closed():
                return
            for handler in dict.fromkeys(handlers):
                loop.call_soon_threadsafe(self._spawn, handler, topic, payload)
        except Exception:
            log.exception("MQTT message dispatch failed")

    # -- handler tasks (event loop) ----------------------------------------------------------------

    def _spawn(self, handler: MessageHandler, topic: str, payload: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._run_handler(handler, topic, payload))
        # The loop holds tasks weakly; keep a reference until the handler finishes.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run_handler(handler: MessageHandler, topic: str, payload: bytes) -> None:
        try:
            await handler(topic, payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "MQTT handler %s failed on a message to %s",
                getattr(handler, "__qualname__", repr(handler)),
                topic,
            )
