"""The kernel's error hierarchy and the one mapper from exceptions to HTTP error bodies.

Every error body has the same shape::

    {"status": 404, "code": "not_found", "message": "pattern 'p-1' does not exist", "details": {...}}

`code` is stable and meant for machines; `message` is for people; `details` is optional.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

__all__ = [
    "BadRequestError",
    "ConflictError",
    "GatewayTimeoutError",
    "HomeIQError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "UpstreamError",
    "declared_error",
    "error_body",
    "exception_handlers",
]

log = logging.getLogger(__name__)


class HomeIQError(Exception):
    """Base of every error this service raises on purpose; carries its HTTP status and code."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class BadRequestError(HomeIQError):
    """The request is well-formed but its content is not acceptable."""

    status_code = 400
    code = "invalid_request"


class UnauthorizedError(HomeIQError):
    """The request lacks valid credentials."""

    status_code = 401
    code = "unauthorized"


class NotFoundError(HomeIQError):
    """The addressed resource does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(HomeIQError):
    """The resource is in a state that does not allow the operation."""

    status_code = 409
    code = "conflict"


class UpstreamError(HomeIQError):
    """A service this one depends on answered with an error."""

    status_code = 502
    code = "upstream_error"


class ServiceUnavailableError(HomeIQError):
    """A dependency (database, peer service, Home Assistant, broker) cannot be reached now."""

    status_code = 503
    code = "service_unavailable"


class GatewayTimeoutError(ServiceUnavailableError):
    """A dependency accepted the request but did not answer within its timeout (a slow Home Assistant).

    A subclass of ServiceUnavailableError, so every fallback written for an unreachable dependency also
    covers a slow one; only the status differs (504, not 503).
    """

    status_code = 504
    code = "gateway_timeout"


_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Build the one error body shape."""
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _validation_message(exc: ValidationException) -> tuple[str, list[dict[str, Any]] | None]:
    extra = exc.extra if isinstance(exc.extra, list) else None
    if not extra:
        detail = exc.detail or "invalid request"
        if "malformed" in detail.lower() or "json" in detail.lower():
            return "the request body is not valid JSON", None
        return detail, None
    problems = []
    for item in extra:
        if isinstance(item, dict):
            field = item.get("key") or "body"
            text = str(item.get("message", "invalid"))
            if field == "data" and item.get("source") == "body":
                # Litestar names the whole body "data"; a missing body surfaces as the KeyError "'data'".
                field = "body"
                if text == "'data'":
                    text = "a JSON body is required"
            problems.append({"field": field, "source": item.get("source"), "message": text})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return f"invalid request: {summary}", problems


def handle_homeiq_error(_request: Request[Any, Any, Any], exc: HomeIQError) -> Response[Any]:
    """Map a deliberate error to its body."""
    if exc.status_code >= 500:
        log.warning("%s: %s", exc.code, exc.message)
    headers = {"WWW-Authenticate": 'Bearer realm="homeiq-ai"'} if exc.status_code == 401 else None
    return _response(exc.status_code, error_body(exc.status_code, exc.code, exc.message, exc.details), headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Map Litestar's own exceptions (routing, parsing, validation, size) to the same body shape."""
    status = exc.status_code
    details: Any = None
    if isinstance(exc, ValidationException):
        message, details = _validation_message(exc)
    elif status == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif status == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    elif status == 413:
        message = "the request body is larger than this service accepts"
    elif status >= 500:
        log.error("unhandled HTTP %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
        message = "internal error"
    else:
        message = exc.detail or "request failed"
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return _response(status, error_body(status, code, message, details), headers)


def declared_error(exc: Exception) -> tuple[int, str, str] | None:
    """Status, code and message of an error a module's api.py declares, else None.

    api.py files use only the standard library, so their errors cannot subclass HomeIQError; they
    declare `http_status` and `code` class attributes instead.
    """
    status = getattr(exc, "http_status", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int) and 400 <= status < 600 and isinstance(code, str):
        return status, code, str(getattr(exc, "message", None) or exc)
    return None


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Map declared module errors; log anything else with its trace (the client sees no internals)."""
    declared = declared_error(exc)
    if declared is not None:
        status, code, message = declared
        return _response(status, error_body(status, code, message, getattr(exc, "details", None)))
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    status = HTTP_500_INTERNAL_SERVER_ERROR
    return _response(status, error_body(status, "internal_error", "internal error"))


exception_handlers: dict[type[Exception], Any] = {
    HomeIQError: handle_homeiq_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
