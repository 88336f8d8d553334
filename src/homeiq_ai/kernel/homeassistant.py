"""The one client of a Home Assistant: REST (config, states, history, automations, services) and WebSocket."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, WebSocketException

from homeiq_ai.kernel.errors import (
    BadRequestError,
    GatewayTimeoutError,
    HomeIQError,
    NotFoundError,
    ServiceUnavailableError,
    UpstreamError,
)
from homeiq_ai.kernel.service_client import OwnsHttpClient, PeerError, ServiceClient
from homeiq_ai.settings import Secret, Settings

__all__ = ["HISTORY_OPTIONS", "HomeAssistantClient", "history_entity_chunks"]

log = logging.getLogger(__name__)

# websockets logs every frame at DEBUG, the auth frame with the token included; its own logger stays
# above DEBUG whatever the root level is, so the token cannot reach a log through it.
_WS_LOG = logging.getLogger(f"{__name__}.websocket")
_WS_LOG.setLevel(logging.INFO)

SERVICE_NAME = "Home Assistant"

# The options of GET /api/history/period/<start> that return every change of an entity's state:
# - significant_changes_only=0: no "significant changes" filter (HA's default 1 may drop rows);
# - minimal_response: after each entity's first state only {state, last_changed}, and rows where only
#   attributes changed are left out (a few climate-like domains still answer every row in full, which
#   the conversion filters);
# - no_attributes: attributes are not read from the recorder at all (they are not stored as events).
# The start state (HA's state at the requested start) stays included: it is the old_state of the first
# change. `filter_entity_id` is required by HA 2024.x; `end_time` bounds the window.
HISTORY_OPTIONS: dict[str, str] = {
    "significant_changes_only": "0",
    "minimal_response": "",
    "no_attributes": "",
}

# aiohttp (HA's web server) refuses request lines over 8190 bytes; entity ids go in chunks below that.
MAX_ENTITY_IDS_CHARS = 4000
WS_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def history_entity_chunks(entity_ids: Sequence[str], max_chars: int = MAX_ENTITY_IDS_CHARS) -> list[list[str]]:
    """Split entity ids into groups whose comma-joined text stays within `max_chars`."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for entity_id in entity_ids:
        extra = len(entity_id) + (1 if current else 0)
        if current and size + extra > max_chars:
            chunks.append(current)
            current, size = [], 0
            extra = len(entity_id)
        current.append(entity_id)
        size += extra
    if current:
        chunks.append(current)
    return chunks


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not accepted: give a timezone-aware value")
    return moment.astimezone(UTC).isoformat()


def _ws_url(base_url: str) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/websocket"


class _WsRetryable(Exception):
    """Internal: a WebSocket failure worth another try."""


async def _ws_receive(ws: Any) -> dict[str, Any]:
    raw = await ws.recv()
    try:
        message = json.loads(raw)
    except ValueError:
        raise UpstreamError(f"{SERVICE_NAME} sent a WebSocket message that is not JSON") from None
    if not isinstance(message, dict):
        raise UpstreamError(f"{SERVICE_NAME} sent a WebSocket message that is not an object")
    return message


class HomeAssistantClient(OwnsHttpClient):
    """Talks to one Home Assistant with a long-lived access token.

    REST calls go through the kernel's ServiceClient: bounded retries with backoff on connection
    errors, timeouts and 5xx (the latter two only for calls that are safe to repeat); a 4xx is never
    retried. WebSocket calls open one connection per batch of commands and retry the same failures.

    Errors: ServiceUnavailableError (unreachable), UpstreamError (5xx, token refused, unexpected
    answer), BadRequestError (HA's 400 message), NotFoundError (404). The token never appears in them.
    """

    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        timeout: float = 10.0,
        tries: int = 3,
        history_timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._tries = max(1, tries)
        self._history_timeout = max(timeout, history_timeout)
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._rest = ServiceClient(
            SERVICE_NAME,
            self.base_url,
            self._http,
            tries=self._tries,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token.get()}"},
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HomeAssistantClient | None:
        """The client for HA_URL and HA_TOKEN, or None when either is unset."""
        if not settings.ha_url or settings.ha_token is None:
            return None
        return cls(
            settings.ha_url,
            settings.ha_token,
            timeout=settings.service_timeout_seconds,
            tries=settings.service_retries,
        )

    def __repr__(self) -> str:
        return f"HomeAssistantClient({self.base_url!r})"

    # --- REST ---------------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        try:
            return await self._rest.request(
                method, path, json=json_body, params=params, idempotent=idempotent, timeout=timeout
            )
        except PeerError as exc:
            raise self._peer_error(method, path, exc) from None

    @staticmethod
    def _peer_error(method: str, path: str, exc: PeerError) -> HomeIQError:
        message = exc.message
        if exc.status_code in (401, 403):
            return UpstreamError(
                f"{SERVICE_NAME} refused the access token (HTTP {exc.status_code}) on {method} {path}: check HA_TOKEN",
                code="home_assistant_unauthorized",
            )
        if exc.status_code == 404:
            return NotFoundError(f"{SERVICE_NAME}: {method} {path}: {message}", code="home_assistant_not_found")
        if exc.status_code == 400:
            return BadRequestError(
                f"{SERVICE_NAME} rejected {method} {path}: {message}",
                code="home_assistant_rejected",
                details={"home_assistant": exc.body},
            )
        return UpstreamError(
            f"{SERVICE_NAME} answered HTTP {exc.status_code} to {method} {path}: {message}",
            details={"home_assistant": exc.body},
        )

    async def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise UpstreamError(f"{SERVICE_NAME} answered {method} {path} with a body that is not JSON") from None

    async def _get(self, path: str, params: Mapping[str, Any] | None = None, timeout: float | None = None) -> Any:
        response = await self._request("GET", path, params=params, timeout=timeout)
        return await self._json(response, "GET", path)

    async def config(self) -> dict[str, Any]:
        """GET /api/config: location, time zone, unit system, version, loaded components."""
        return await self._get("/api/config")

    async def states(self) -> list[dict[str, Any]]:
        """GET /api/states: the current state of every entity."""
        return await self._get("/api/states")

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """GET /api/states/<entity_id>, or None when the entity has no state."""
        try:
            return await self._get(f"/api/states/{quote(entity_id, safe='')}")
        except NotFoundError:
            return None

    async def set_state(
        self, entity_id: str, state: str, attributes: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST /api/states/<entity_id>: force a state into HA's state machine (tests, virtual sensors)."""
        path = f"/api/states/{quote(entity_id, safe='')}"
        body = {"state": state, "attributes": dict(attributes or {})}
        response = await self._request("POST", path, json_body=body, idempotent=True)
        return await self._json(response, "POST", path)

    async def history(self, start: datetime, end: datetime, entity_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Every recorded state of the entities from `start` to `end`, in HA's own shape.

        Calls GET /api/history/period/<start> with HISTORY_OPTIONS, one call per chunk of entity ids
        (HA limits the request line). HA answers rows with start < last_updated < end, preceded by each
        entity's state at `start` (stamped `start`) when it has one.

        Args:
            start: timezone-aware start.
            end: timezone-aware end.
            entity_ids: the entities to read; HA requires at least one.

        Returns:
            One list per entity with history, oldest first: the first item is a full state (with
            entity_id), the later ones `{state, last_changed}` (full states for a few domains).
        """
        if not entity_ids:
            return []
        path = f"/api/history/period/{quote(_iso(start), safe='')}"
        out: list[list[dict[str, Any]]] = []
        for chunk in history_entity_chunks(list(entity_ids)):
            params = {"filter_entity_id": ",".join(chunk), "end_time": _iso(end), **HISTORY_OPTIONS}
            answer = await self._get(path, params=params, timeout=self._history_timeout)
            if not isinstance(answer, list):
                raise UpstreamError(f"{SERVICE_NAME} answered the history call with {type(answer).__name__}")
            out.extend(answer)
        return out

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """POST /api/services/<domain>/<service>; returns the states it changed.

        Not retried after a timeout or 5xx: a service call (a toggle) may not be safe to repeat.
        """
        path = f"/api/services/{quote(domain, safe='')}/{quote(service, safe='')}"
        response = await self._request("POST", path, json_body=dict(data or {}), idempotent=False)
        return await self._json(response, "POST", path)

    async def get_automation_config(self, automation_id: str) -> dict[str, Any] | None:
        """GET /api/config/automation/config/<id>: the stored config, or None when there is none."""
        try:
            return await self._get(f"/api/config/automation/config/{quote(automation_id, safe='')}")
        except NotFoundError:
            return None

    async def save_automation_config(self, automation_id: str, config: Mapping[str, Any]) -> None:
        """POST /api/config/automation/config/<id>: create or replace one automation.

        An `id` inside the body would win over the URL's and pile up duplicates, so it is set to the
        URL's. Invalid configs raise BadRequestError with HA's voluptuous message.
        """
        path = f"/api/config/automation/config/{quote(automation_id, safe='')}"
        body = {**dict(config), "id": automation_id}
        await self._request("POST", path, json_body=body, idempotent=True)

    async def delete_automation_config(self, automation_id: str) -> bool:
        """DELETE /api/config/automation/config/<id>; False when HA had no such automation."""
        path = f"/api/config/automation/config/{quote(automation_id, safe='')}"
        try:
            await self._request("DELETE", path)
        except BadRequestError as exc:
            # HA answers an unknown id with 400 "Resource not found".
            if "not found" in exc.message.lower():
                return False
            raise
        except NotFoundError:
            return False
        return True

    # --- WebSocket ----------------------------------------------------------------------------------

    async def ws_command(self, command: str, *, idempotent: bool = True, **payload: Any) -> Any:
        """Send one WebSocket command (e.g. "config/area_registry/create") and return its result."""
        (result,) = await self.ws_commands([{"type": command, **payload}], idempotent=idempotent)
        return result

    async def ws_commands(self, messages: Sequence[Mapping[str, Any]], *, idempotent: bool = True) -> list[Any]:
        """Send commands over one authenticated WebSocket connection; their results in order.

        Connection failures, timeouts and closed connections are retried with backoff; after the
        commands were sent only when `idempotent`. An error result is never retried.
        """
        url = _ws_url(self.base_url)
        reason = "no attempt"
        timed_out = False
        for attempt in range(1, self._tries + 1):
            sent = False
            try:
                async with asyncio.timeout(self._timeout * (2 + len(messages))):
                    async with ws_connect(
                        url,
                        open_timeout=self._timeout,
                        close_timeout=2,
                        max_size=WS_MAX_MESSAGE_BYTES,
                        logger=_WS_LOG,
                        user_agent_header="homeiq-ai",
                    ) as ws:
                        await self._ws_auth(ws)
                        results = []
                        for number, message in enumerate(messages, start=1):
                            sent = True
                            await ws.send(json.dumps({**message, "id": number}))
                            results.append(await self._ws_result(ws, number, str(message.get("type"))))
                        return results
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status < 500:
                    raise UpstreamError(
                        f"{SERVICE_NAME} refused the WebSocket at {self.base_url} (HTTP {status})"
                    ) from None
                reason = f"WebSocket handshake answered HTTP {status}"
                timed_out = False
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException, _WsRetryable) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                timed_out = isinstance(exc, TimeoutError)
                if sent and not idempotent:
                    raise ServiceUnavailableError(
                        f"{SERVICE_NAME} at {self.base_url} dropped the WebSocket after a command was sent "
                        f"({reason}); not retried because it may have been applied"
                    ) from None
            if attempt < self._tries:
                delay = min(2.0, 0.2 * 2 ** (attempt - 1))
                log.info(
                    "%s WebSocket failed (%s); try %d of %d in %.1fs",
                    SERVICE_NAME,
                    reason,
                    attempt + 1,
                    self._tries,
                    delay,
                )
                await asyncio.sleep(delay)
        if timed_out:
            raise GatewayTimeoutError(
                f"{SERVICE_NAME} at {self.base_url} did not answer on the WebSocket in time after "
                f"{self._tries} tries: {reason}",
                code="peer_timeout",
                details={"service": SERVICE_NAME},
            )
        raise ServiceUnavailableError(
            f"{SERVICE_NAME} is unreachable at {self.base_url} (WebSocket) after {self._tries} tries: {reason}",
            code="peer_unavailable",
            details={"service": SERVICE_NAME},
        )

    async def _ws_auth(self, ws: Any) -> None:
        hello = await _ws_receive(ws)
        if hello.get("type") != "auth_required":
            raise _WsRetryable(f"unexpected first WebSocket message {hello.get('type')!r}")
        await ws.send(json.dumps({"type": "auth", "access_token": self._token.get()}))
        reply = await _ws_receive(ws)
        if reply.get("type") == "auth_invalid":
            raise UpstreamError(
                f"{SERVICE_NAME} refused the access token on the WebSocket: check HA_TOKEN",
                code="home_assistant_unauthorized",
            )
        if reply.get("type") != "auth_ok":
            raise _WsRetryable(f"unexpected WebSocket auth answer {reply.get('type')!r}")

    @staticmethod
    async def _ws_result(ws: Any, number: int, command: str) -> Any:
        while True:
            message = await _ws_receive(ws)
            if message.get("id") == number and message.get("type") == "result":
                break
        if message.get("success"):
            return message.get("result")
        error = message.get("error") or {}
        code, text = str(error.get("code", "unknown_error")), str(error.get("message", "command failed"))
        if code == "not_found":
            raise NotFoundError(f"{SERVICE_NAME}: {command}: {text}", code="home_assistant_not_found")
        if code in ("invalid_format", "invalid_info", "home_assistant_error"):
            raise BadRequestError(
                f"{SERVICE_NAME} rejected {command}: {text}", code="home_assistant_rejected", details=error
            )
        raise UpstreamError(f"{SERVICE_NAME} failed {command}: {code}: {text}", details=error)

    async def area_registry(self) -> list[dict[str, Any]]:
        """Every area (config/area_registry/list)."""
        return await self.ws_command("config/area_registry/list")

    async def device_registry(self) -> list[dict[str, Any]]:
        """Every device (config/device_registry/list)."""
        return await self.ws_command("config/device_registry/list")

    async def entity_registry(self) -> list[dict[str, Any]]:
        """Every registered entity (config/entity_registry/list)."""
        return await self.ws_command("config/entity_registry/list")

    async def registries(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Areas, devices and entities over one WebSocket connection."""
        areas, devices, entities = await self.ws_commands(
            [
                {"type": "config/area_registry/list"},
                {"type": "config/device_registry/list"},
                {"type": "config/entity_registry/list"},
            ]
        )
        return areas, devices, entities
