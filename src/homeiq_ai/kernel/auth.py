"""Optional API key: when API_KEY is set, every /api/ route needs it; health and schema stay open."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from homeiq_ai.kernel.errors import UnauthorizedError

__all__ = ["api_key_guard", "presented_key"]


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The key a request carries: `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    header = connection.headers.get("x-api-key")
    if header:
        return header.strip()
    auth = connection.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def api_key_guard(expected: str) -> Any:
    """Build a guard comparing the presented key in constant time."""
    expected_bytes = expected.encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        if not connection.scope["path"].startswith("/api/"):
            return
        key = presented_key(connection)
        if key is None:
            raise UnauthorizedError("this route needs the API key (Authorization: Bearer or X-API-Key)")
        if not hmac.compare_digest(key.encode(), expected_bytes):
            raise UnauthorizedError("the API key is not valid")

    return guard
