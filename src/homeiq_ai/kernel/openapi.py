"""The OpenAPI document declares the error body the app really sends, and the statuses each route can return."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from homeiq_ai.kernel.ratelimit import limit_for

__all__ = ["ERROR_BODY", "declare_errors", "install_error_schema", "statuses_for"]

ERROR_BODY = "ErrorBody"
_REF = f"#/components/schemas/{ERROR_BODY}"
_DESCRIPTIONS = {
    400: "Invalid request; the message names what was wrong",
    401: "Missing or invalid API key (when API_KEY is set)",
    404: "Not found",
    409: "Conflicts with the resource's state",
    413: "Request body too large",
    429: "Rate limited; see Retry-After",
    502: "Home Assistant answered with an error",
    503: "A dependency cannot be reached now",
    504: "A dependency did not answer in time",
}
_CONFLICT_PREFIXES = (
    "/api/v1/suggestions",
    "/api/v1/deployment",
    "/api/v1/automations",
    "/api/v1/analysis",
    "/api/v1/training",
)
_HOME_ASSISTANT_PREFIXES = ("/api/v1/deployment", "/api/v1/automations")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def error_body_schema() -> Schema:
    """The schema of `homeiq_ai.kernel.errors.error_body`."""
    return Schema(
        type=OpenAPIType.OBJECT,
        description="The one error body: `code` is stable for machines, `message` is for people.",
        properties={
            "status": Schema(type=OpenAPIType.INTEGER, description="The HTTP status"),
            "code": Schema(type=OpenAPIType.STRING, description="Stable machine code, e.g. not_found"),
            "message": Schema(type=OpenAPIType.STRING, description="What was wrong, for people"),
            "details": Schema(
                type=[OpenAPIType.OBJECT, OpenAPIType.ARRAY, OpenAPIType.NULL],
                description="Optional structured detail (the field problems of a 400)",
            ),
        },
        required=["status", "code", "message"],
        additional_properties=False,
    )


def statuses_for(method: str, path: str, operation: Operation) -> set[int]:
    """The error statuses an /api/ operation can return, by rule (see docs/reliability.md).

    Args:
        method: lower-case HTTP method.
        path: the path template, e.g. /api/v1/automations/{automation_id}.
        operation: the generated operation (its body and existing responses are read).
    """
    statuses = {int(code) for code in (operation.responses or {}) if code.isdigit() and int(code) >= 400}
    if not path.startswith("/api/"):
        return statuses
    statuses.add(401)
    if "{" in path:
        statuses.add(404)
    if operation.request_body is not None:
        statuses.add(413)
    if limit_for(method.upper(), path) is not None:
        statuses.add(429)
    if method in ("post", "patch", "delete") and _under(path, _CONFLICT_PREFIXES):
        statuses.add(409)
    if _under(path, _HOME_ASSISTANT_PREFIXES):
        statuses |= {502, 503, 504}
    return statuses


def _error_response(status: int, existing: Any) -> OpenAPIResponse:
    description = _DESCRIPTIONS.get(status)
    if description is None:
        description = getattr(existing, "description", None) or "Error"
    headers = None
    if status == 429:
        headers = {
            "Retry-After": Reference(ref="#/components/headers/RetryAfter"),
        }
    return OpenAPIResponse(
        description=description,
        content={"application/json": OpenAPIMediaType(schema=Reference(ref=_REF))},
        headers=headers,
    )


def declare_errors(openapi: OpenAPI) -> OpenAPI:
    """Point every 4xx/5xx response at `ErrorBody` and add the statuses each route can return.

    Idempotent: a document that already has `ErrorBody` is returned unchanged.
    """
    schemas = openapi.components.schemas
    if ERROR_BODY in schemas:
        return openapi
    schemas[ERROR_BODY] = error_body_schema()
    headers = dict(openapi.components.headers or {})
    headers["RetryAfter"] = OpenAPIHeader(
        description="Whole seconds until the next request is accepted (at least 1)",
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
    )
    openapi.components.headers = headers
    for path, item in (openapi.paths or {}).items():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if not isinstance(operation, Operation):
                continue
            responses = dict(operation.responses or {})
            for status in sorted(statuses_for(method, path, operation)):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
            operation.responses = dict(sorted(responses.items()))
    return openapi


class _ErrorBodyOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, with `declare_errors` applied to the document it builds."""

    __slots__ = ()

    def provide_openapi(self) -> OpenAPI:
        return declare_errors(super().provide_openapi())


def install_error_schema(app: Litestar) -> None:
    """Make the app's OpenAPI document (served at /schema and `app.openapi_schema`) declare errors.

    Litestar builds the document lazily in its OpenAPI plugin; the plugin instance is given this
    subclass so that every build, including one after a route is added, passes through `declare_errors`.
    """
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _ErrorBodyOpenAPIPlugin
