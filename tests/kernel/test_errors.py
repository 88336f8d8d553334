"""The one error body shape for routing, parsing, size, declared and unexpected errors."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from litestar import Litestar, get
from litestar.exceptions import InternalServerException
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from conftest import run_coro, sqlite_url
from homeiq_ai.kernel import migrate
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.errors import (
    ConflictError,
    HomeIQError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
    declared_error,
    exception_handlers,
)
from homeiq_ai.query.models import QueryRecord
from homeiq_ai.settings import Settings
from integration.procs import ServerProcess, free_port

BODY_KEYS = {"status", "code", "message"}


def assert_error_body(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is `status` with the one error shape and `code`; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) in (BODY_KEYS, BODY_KEYS | {"details"}), body
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


async def _stored_queries(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.session() as session:
            return int((await session.execute(select(func.count()).select_from(QueryRecord))).scalar_one())
    finally:
        await db.dispose()


class TeapotError(Exception):
    """An api.py-style error: stdlib only, declaring its HTTP status and code."""

    code: ClassVar[str] = "teapot_refused"
    http_status: ClassVar[int] = 418

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@get("/boom", sync_to_thread=False)
def boom() -> None:
    """Fails unexpectedly."""
    raise RuntimeError("secret-detail")


@get("/http-500", sync_to_thread=False)
def http_500() -> None:
    """Fails with Litestar's own 500."""
    raise InternalServerException("secret-http-detail")


@get("/teapot", sync_to_thread=False)
def teapot() -> None:
    """Fails with a declared module error."""
    raise TeapotError("the teapot will not brew coffee")


@get("/missing", sync_to_thread=False)
def missing() -> None:
    """Fails with a kernel NotFoundError carrying details."""
    raise NotFoundError("thing 't-1' does not exist", details={"id": "t-1"})


@get("/conflict", sync_to_thread=False)
def conflict() -> None:
    """Fails with a kernel ConflictError and a specific code."""
    raise ConflictError("already approved", code="already_approved")


@get("/unauthorized", sync_to_thread=False)
def unauthorized() -> None:
    """Fails with a kernel UnauthorizedError."""
    raise UnauthorizedError("no key")


@get("/down", sync_to_thread=False)
def down() -> None:
    """Fails with a kernel ServiceUnavailableError."""
    raise ServiceUnavailableError("the broker is down", code="broker_down")


def _tiny_app() -> Litestar:
    return Litestar(
        route_handlers=[boom, http_500, teapot, missing, conflict, unauthorized, down],
        exception_handlers=exception_handlers,
        debug=False,
        logging_config=None,
    )


async def test_unknown_route_is_404(app_client: Callable[..., Any]) -> None:
    """An unknown route answers 404 not_found naming the path."""
    async with app_client("all") as client:
        response = await client.get("/api/v1/does-not-exist")
    body = assert_error_body(response, 404, "not_found")
    assert set(body) == BODY_KEYS
    assert "/api/v1/does-not-exist" in body["message"]


async def test_wrong_method_is_405(app_client: Callable[..., Any]) -> None:
    """DELETE on a GET-only route answers 405 method_not_allowed."""
    async with app_client("all") as client:
        response = await client.delete("/api/v1/patterns")
    body = assert_error_body(response, 405, "method_not_allowed")
    assert "DELETE" in body["message"]


async def test_malformed_json_is_400(app_client: Callable[..., Any], database_url: str) -> None:
    """A body that is not JSON answers 400 invalid_request and stores nothing."""
    async with app_client("all") as client:
        response = await client.post(
            "/api/v1/query/", content=b'{"query": "lamp', headers={"content-type": "application/json"}
        )
    assert_error_body(response, 400, "invalid_request")
    assert await _stored_queries(database_url) == 0


async def test_wrong_field_type_is_400_naming_the_field(app_client: Callable[..., Any]) -> None:
    """A body field of the wrong type answers 400 naming the field in message and details."""
    async with app_client("all") as client:
        response = await client.post("/api/v1/query/", json={"query": 123})
    body = assert_error_body(response, 400, "invalid_request")
    assert "query" in body["message"]
    assert body["details"] == [{"field": "query", "source": "body", "message": body["details"][0]["message"]}]
    assert "str" in body["details"][0]["message"]


async def test_wrong_query_parameter_is_400_naming_it(app_client: Callable[..., Any]) -> None:
    """A query parameter out of range answers 400 naming the parameter."""
    async with app_client("pattern") as client:
        response = await client.get("/api/v1/patterns", params={"limit": 0})
    body = assert_error_body(response, 400, "invalid_request")
    assert "limit" in body["message"]
    assert [d["field"] for d in body["details"]] == ["limit"]


async def test_body_over_limit_is_413_and_not_stored(
    app_client: Callable[..., Any], make_settings: Callable[..., Settings], database_url: str
) -> None:
    """A 10 kB body over MAX_BODY_BYTES=2048 answers 413 payload_too_large and stores nothing."""
    settings = make_settings(MAX_BODY_BYTES="2048")
    payload = json.dumps({"query": "x" * 10_000}).encode()
    async with app_client("all", settings) as client:
        response = await client.post(
            "/api/v1/query/", content=payload, headers={"content-type": "application/json"}
        )
        lying = await client.post(
            "/api/v1/query/",
            content=payload,
            headers={"content-type": "application/json", "content-length": "100"},
        )
        small = await client.post("/api/v1/query/", json={"query": "porch light at sunset"})
    assert_error_body(response, 413, "payload_too_large")
    assert_error_body(lying, 413, "payload_too_large")
    assert small.status_code == 201, small.text
    assert await _stored_queries(database_url) == 1


@pytest.mark.integration
def test_chunked_body_over_limit_is_413_on_a_real_server(tmp_path: Path) -> None:
    """Over uvicorn, a chunked body (no Content-Length) over MAX_BODY_BYTES is 413 too, and not stored."""
    url = sqlite_url(tmp_path / "data" / "shared.db")
    migrate.upgrade(url)
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "HOMEIQ_DATA_DIR": str(tmp_path / "data"),
        "SCHEDULER_ENABLED": "false",
        "MAX_BODY_BYTES": "2048",
        "MQTT_BROKER": "",
        "API_KEY": "",
    }
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "entrypoints.query:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    server = ServerProcess("query-413", argv, env, port, tmp_path)
    payload = json.dumps({"query": "x" * 10_000}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 1000):
            yield payload[start : start + 1000]

    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            chunked = http.post(
                "/api/v1/query/", content=chunks(), headers={"content-type": "application/json"}
            )
            small = http.post("/api/v1/query/", json={"query": "porch light at sunset"})
    finally:
        code = server.stop()
    assert_error_body(chunked, 413, "payload_too_large")
    assert small.status_code == 201, small.text
    assert run_coro(lambda: _stored_queries(url)) == 1
    assert code == 0, server.log()


async def test_declared_module_error_keeps_its_status(app_client: Callable[..., Any]) -> None:
    """A module error declared in api.py (PatternNotFoundError) maps to its own status and code."""
    async with app_client("pattern") as client:
        response = await client.get("/api/v1/patterns/p-missing")
    body = assert_error_body(response, 404, "pattern_not_found")
    assert "p-missing" in body["message"]


async def test_unexpected_exception_is_500_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected exception answers 500 internal_error "internal error"; its text is only logged."""
    caplog.set_level(logging.ERROR)
    async with AsyncTestClient(app=_tiny_app()) as client:
        response = await client.get("/boom")
    body = assert_error_body(response, 500, "internal_error")
    assert body == {"status": 500, "code": "internal_error", "message": "internal error"}
    assert "secret-detail" not in response.text
    assert "RuntimeError" not in response.text
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "secret-detail" in logged, "the server log must keep the cause"


async def test_http_500_is_internal_error_without_detail() -> None:
    """Litestar's own 500 answers internal_error without its detail."""
    async with AsyncTestClient(app=_tiny_app()) as client:
        response = await client.get("/http-500")
    body = assert_error_body(response, 500, "internal_error")
    assert body["message"] == "internal error"
    assert "secret-http-detail" not in response.text


async def test_declared_error_in_tiny_app_maps_to_its_status() -> None:
    """An error class with http_status/code maps to exactly that status and code."""
    async with AsyncTestClient(app=_tiny_app()) as client:
        response = await client.get("/teapot")
    body = assert_error_body(response, 418, "teapot_refused")
    assert body == {"status": 418, "code": "teapot_refused", "message": "the teapot will not brew coffee"}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/missing", 404, "not_found"),
        ("/conflict", 409, "already_approved"),
        ("/unauthorized", 401, "unauthorized"),
        ("/down", 503, "broker_down"),
    ],
)
async def test_kernel_errors_map_to_their_status(path: str, status: int, code: str) -> None:
    """Kernel HomeIQError subclasses map to their status and (possibly overridden) code."""
    async with AsyncTestClient(app=_tiny_app()) as client:
        response = await client.get(path)
    body = assert_error_body(response, status, code)
    if path == "/missing":
        assert body["details"] == {"id": "t-1"}
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_declared_error_rules() -> None:
    """declared_error accepts only int 4xx/5xx statuses with a string code."""

    class NoStatus(Exception):
        code = "x"

    class BadStatus(Exception):
        code = "x"
        http_status = 200

    assert declared_error(TeapotError("t")) == (418, "teapot_refused", "t")
    assert declared_error(NoStatus()) is None
    assert declared_error(BadStatus()) is None
    assert declared_error(RuntimeError("x")) is None
    assert issubclass(NotFoundError, HomeIQError)
