"""Assertions shared by the route tests."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Check an error answer has the one body shape with this status and code; returns the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["message"], body
    return body
