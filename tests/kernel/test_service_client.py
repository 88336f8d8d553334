"""Peer service calls: which failures are retried, which errors come out, headers and health probes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msgspec
import pytest

from homeiq_ai.kernel.errors import BadRequestError, NotFoundError, ServiceUnavailableError, UpstreamError
from homeiq_ai.kernel.service_client import PeerError, ServiceClients
from homeiq_ai.pattern.api import ERRORS_BY_CODE, InvalidFilterError, PatternNotFoundError
from integration.procs import free_port

BASE = "http://pattern.test:8016"


class Item(msgspec.Struct):
    """A tiny DTO."""

    id: str
    n: int


class Recorder:
    """A MockTransport handler answering from a script, counting and keeping every request."""

    def __init__(
        self, *answers: Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception
    ) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    @property
    def attempts(self) -> int:
        return len(self.requests)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def _clients(recorder: Recorder, *, tries: int = 3, api_key: str | None = None) -> ServiceClients:
    return ServiceClients(
        {"pattern": BASE},
        tries=tries,
        timeout=1.5,
        api_key=api_key,
        transport=httpx.MockTransport(recorder),
    )


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"status": status, "code": code, "message": message})


async def test_get_retried_on_503_then_upstream_error() -> None:
    """A GET answered 503 every time is tried `tries` times, then raises UpstreamError."""
    recorder = Recorder(_error(503, "service_unavailable", "down"))
    clients = _clients(recorder, tries=3)
    try:
        with pytest.raises(UpstreamError) as caught:
            await clients.service("pattern").request("GET", "/api/v1/patterns")
    finally:
        await clients.aclose()
    assert recorder.attempts == 3
    assert caught.value.status_code == 502
    assert "pattern" in caught.value.message and "503" in caught.value.message
    assert caught.value.details["service"] == "pattern"


async def test_get_recovers_after_transient_503() -> None:
    """A GET answered 503 once and then 200 returns the 200 after two attempts."""
    recorder = Recorder(_error(503, "service_unavailable", "down"), httpx.Response(200, json={"ok": True}))
    clients = _clients(recorder, tries=3)
    try:
        data = await clients.service("pattern").get_json("/api/v1/patterns")
    finally:
        await clients.aclose()
    assert data == {"ok": True}
    assert recorder.attempts == 2


async def test_connect_error_retried_then_peer_unavailable() -> None:
    """Connection failures are retried `tries` times, then ServiceUnavailableError peer_unavailable."""
    recorder = Recorder(httpx.ConnectError("connection refused"))
    clients = _clients(recorder, tries=4)
    try:
        with pytest.raises(ServiceUnavailableError) as caught:
            await clients.service("pattern").request("GET", "/api/v1/patterns")
    finally:
        await clients.aclose()
    assert recorder.attempts == 4
    assert caught.value.code == "peer_unavailable"
    assert caught.value.status_code == 503
    assert "pattern" in caught.value.message
    assert BASE in caught.value.message


async def test_get_read_timeout_retried() -> None:
    """A GET that times out reading is retried (it is idempotent)."""
    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json=[1]))
    clients = _clients(recorder)
    try:
        assert await clients.service("pattern").get_json("/x") == [1]
    finally:
        await clients.aclose()
    assert recorder.attempts == 2


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
async def test_4xx_never_retried(status: int) -> None:
    """A 4xx answer is tried once and raises PeerError with the peer's code and message."""
    recorder = Recorder(_error(status, "some_code", "the peer says no"))
    clients = _clients(recorder, tries=5)
    try:
        with pytest.raises(PeerError) as caught:
            await clients.service("pattern").request("GET", "/api/v1/patterns")
    finally:
        await clients.aclose()
    assert recorder.attempts == 1
    assert caught.value.status_code == status
    assert caught.value.code == "some_code"
    assert caught.value.message == "the peer says no"
    assert caught.value.service == "pattern"


async def test_4xx_without_json_body() -> None:
    """A 4xx with a non-JSON body still gives PeerError with a generic code."""
    recorder = Recorder(httpx.Response(404, text="nope"))
    clients = _clients(recorder)
    try:
        with pytest.raises(PeerError) as caught:
            await clients.service("pattern").request("GET", "/x")
    finally:
        await clients.aclose()
    assert caught.value.code == "peer_error"
    assert recorder.attempts == 1


async def test_declared_api_error_raised_by_call() -> None:
    """call(..., errors=ERRORS_BY_CODE) turns a peer's declared code into that api error."""
    recorder = Recorder(_error(404, "pattern_not_found", "no pattern has id 'p-9'"))
    clients = _clients(recorder)
    try:
        with pytest.raises(PatternNotFoundError) as caught:
            await clients.service("pattern").call("GET", "/api/v1/patterns/p-9", Item, errors=ERRORS_BY_CODE)
    finally:
        await clients.aclose()
    assert caught.value.message == "no pattern has id 'p-9'"
    assert recorder.attempts == 1


async def test_declared_400_error_raised_by_call() -> None:
    """A declared 400 code (invalid_filter) comes out as InvalidFilterError, not retried."""
    recorder = Recorder(_error(400, "invalid_filter", "min_confidence must be <= 1"))
    clients = _clients(recorder)
    try:
        with pytest.raises(InvalidFilterError):
            await clients.service("pattern").call("GET", "/api/v1/patterns", Item, errors=ERRORS_BY_CODE)
    finally:
        await clients.aclose()
    assert recorder.attempts == 1


async def test_undeclared_4xx_mapped_by_call() -> None:
    """Undeclared 404 becomes NotFoundError and other 4xx BadRequestError, keeping the peer's code."""
    recorder = Recorder(_error(404, "no_such_thing", "gone"), _error(400, "bad_thing", "bad"))
    clients = _clients(recorder)
    try:
        pattern = clients.service("pattern")
        with pytest.raises(NotFoundError) as not_found:
            await pattern.call("GET", "/a", Item, errors=ERRORS_BY_CODE)
        with pytest.raises(BadRequestError) as bad:
            await pattern.call("GET", "/b", Item, errors=ERRORS_BY_CODE)
    finally:
        await clients.aclose()
    assert not_found.value.code == "no_such_thing"
    assert bad.value.code == "bad_thing"
    assert recorder.attempts == 2


async def test_call_decodes_dto_and_rejects_unexpected_body() -> None:
    """call() decodes the answer into the DTO; a body of the wrong shape raises UpstreamError."""
    recorder = Recorder(httpx.Response(200, json={"id": "a", "n": 1}), httpx.Response(200, json={"id": 1}))
    clients = _clients(recorder)
    try:
        pattern = clients.service("pattern")
        assert await pattern.call("POST", "/items", Item, json=Item(id="a", n=1)) == Item(id="a", n=1)
        with pytest.raises(UpstreamError):
            await pattern.call("GET", "/items/a", Item)
    finally:
        await clients.aclose()
    assert recorder.requests[0].content == b'{"id":"a","n":1}'


async def test_post_not_retried_on_5xx() -> None:
    """A POST answered 503 is sent once (it may have been applied) and raises UpstreamError."""
    recorder = Recorder(_error(503, "service_unavailable", "down"))
    clients = _clients(recorder, tries=5)
    try:
        with pytest.raises(UpstreamError):
            await clients.service("pattern").request("POST", "/api/v1/analysis/run", json={})
    finally:
        await clients.aclose()
    assert recorder.attempts == 1


async def test_post_not_retried_on_read_timeout() -> None:
    """A POST that times out after sending is not retried: ServiceUnavailableError peer_timeout."""
    recorder = Recorder(httpx.ReadTimeout("slow"))
    clients = _clients(recorder, tries=5)
    try:
        with pytest.raises(ServiceUnavailableError) as caught:
            await clients.service("pattern").request("POST", "/api/v1/analysis/run", json={})
    finally:
        await clients.aclose()
    assert recorder.attempts == 1
    assert caught.value.code == "peer_timeout"
    assert "pattern" in caught.value.message


@pytest.mark.parametrize(
    "failure",
    [httpx.RemoteProtocolError("Server disconnected without sending a response."), httpx.ReadError("reset")],
)
async def test_post_not_retried_when_connection_drops(failure: Exception) -> None:
    """A POST whose connection broke after sending is not repeated: ServiceUnavailableError."""
    recorder = Recorder(failure, httpx.Response(201, json={}))
    clients = _clients(recorder, tries=5)
    try:
        with pytest.raises(ServiceUnavailableError) as caught:
            await clients.service("pattern").request("POST", "/api/v1/analysis/run", json={})
    finally:
        await clients.aclose()
    assert recorder.attempts == 1
    assert caught.value.code == "peer_unavailable"


async def test_get_retried_when_connection_drops() -> None:
    """A GET whose connection broke is retried (it is idempotent)."""
    recorder = Recorder(httpx.RemoteProtocolError("Server disconnected"), httpx.Response(200, json={"ok": 1}))
    clients = _clients(recorder)
    try:
        assert await clients.service("pattern").get_json("/x") == {"ok": 1}
    finally:
        await clients.aclose()
    assert recorder.attempts == 2


async def test_post_retried_on_connect_error() -> None:
    """A POST whose connection failed (nothing was sent) is retried and can succeed."""
    recorder = Recorder(
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no SYN-ACK"),
        httpx.Response(201, json={"id": "r"}),
    )
    clients = _clients(recorder, tries=3)
    try:
        data = await clients.service("pattern").post_json("/api/v1/analysis/run", json={})
    finally:
        await clients.aclose()
    assert data == {"id": "r"}
    assert recorder.attempts == 3


async def test_idempotent_post_retried_on_5xx() -> None:
    """A POST marked idempotent=True is retried on 5xx like a GET."""
    recorder = Recorder(
        _error(502, "upstream_error", "x"), _error(503, "x", "y"), httpx.Response(200, json={})
    )
    clients = _clients(recorder, tries=3)
    try:
        data = await clients.service("pattern").post_json("/api/v1/query/", json={}, idempotent=True)
    finally:
        await clients.aclose()
    assert data == {}
    assert recorder.attempts == 3


async def test_idempotent_false_get_not_retried_on_5xx() -> None:
    """A GET marked idempotent=False is not retried on 5xx."""
    recorder = Recorder(_error(500, "internal_error", "internal error"))
    clients = _clients(recorder, tries=3)
    try:
        with pytest.raises(UpstreamError):
            await clients.service("pattern").request("GET", "/x", idempotent=False)
    finally:
        await clients.aclose()
    assert recorder.attempts == 1


async def test_closed_port_gives_unavailable_quickly() -> None:
    """A real closed loopback port gives ServiceUnavailableError within a bounded time."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    clients = ServiceClients({"pattern": url}, tries=3, timeout=2.0)
    started = time.monotonic()
    try:
        with pytest.raises(ServiceUnavailableError) as caught:
            await clients.service("pattern").request("GET", "/health/live")
    finally:
        await clients.aclose()
    elapsed = time.monotonic() - started
    assert elapsed < 8, f"took {elapsed:.1f} s"
    assert caught.value.code == "peer_unavailable"
    assert url in caught.value.message


class _LiveHandler(BaseHTTPRequestHandler):
    """Answers /health/live with 200 and anything else with 404."""

    def do_GET(self) -> None:
        status = 200 if self.path == "/health/live" else 404
        body = b'{"status": "alive"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def tiny_server() -> Iterator[str]:
    """A real HTTP server on a loopback port answering /health/live."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LiveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_health_true_against_real_server(tiny_server: str) -> None:
    """health() is True when the peer answers /health/live with 200."""
    clients = ServiceClients({"pattern": tiny_server, "query": f"{tiny_server}/elsewhere"})
    try:
        assert await clients.service("pattern").health() is True
        assert await clients.service("query").health() is False
    finally:
        await clients.aclose()


async def test_health_false_on_closed_port() -> None:
    """health() is False, without raising, when nothing listens."""
    clients = ServiceClients({"pattern": f"http://127.0.0.1:{free_port()}"})
    started = time.monotonic()
    try:
        assert await clients.service("pattern").health(timeout=1.0) is False
    finally:
        await clients.aclose()
    assert time.monotonic() - started < 5


async def test_api_key_header_sent_when_configured() -> None:
    """Every request carries X-API-Key when an api key is configured, and none otherwise."""
    with_key = Recorder(httpx.Response(200, json={}))
    without_key = Recorder(httpx.Response(200, json={}))
    keyed = _clients(with_key, api_key="peer-key-123")
    plain = _clients(without_key)
    try:
        await keyed.service("pattern").get_json("/x")
        await keyed.service("pattern").post_json("/y", json={})
        await plain.service("pattern").get_json("/x")
    finally:
        await keyed.aclose()
        await plain.aclose()
    assert [r.headers.get("x-api-key") for r in with_key.requests] == ["peer-key-123", "peer-key-123"]
    assert "x-api-key" not in without_key.requests[0].headers


async def test_url_params_and_timeout() -> None:
    """The path joins the base URL, None params are dropped and the per-try timeout is applied."""
    recorder = Recorder(httpx.Response(200, json={}))
    clients = _clients(recorder)
    try:
        await clients.service("pattern").get_json("/api/v1/patterns", params={"limit": 5, "area_id": None})
    finally:
        await clients.aclose()
    request = recorder.requests[0]
    assert str(request.url) == f"{BASE}/api/v1/patterns?limit=5"
    assert request.extensions["timeout"]["read"] == 1.5


async def test_unknown_service_raises_key_error() -> None:
    """Asking for a service without a configured URL raises KeyError naming it."""
    clients = ServiceClients({"pattern": BASE})
    try:
        with pytest.raises(KeyError, match="weather"):
            clients.service("weather")
        assert clients.service("pattern") is clients.service("pattern")
    finally:
        await clients.aclose()
