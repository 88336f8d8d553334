"""The OpenAPI document declares the error body the app really sends, and the statuses each route can return."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
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

__all__ = [
    "ERROR_BODY",
    "StrictStructSchemaPlugin",
    "declare_errors",
    "errors",
    "fix_options_allow",
    "install_error_schema",
    "statuses_for",
]

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


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` for a route decorator: error statuses the route returns beyond the rules of `statuses_for`.

    Each one is declared with the `ErrorBody` schema by `declare_errors`.
    """
    return {
        status: ResponseSpec(data_container=None, description=_DESCRIPTIONS.get(status, "Error")) for status in statuses
    }


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """A msgspec Struct that refuses unknown fields (`forbid_unknown_fields=True`) says so in its schema.

    Litestar's own plugin leaves `additionalProperties` open, so a client generated from the document
    would send extra fields that the app then rejects with 400.
    """

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if getattr(info, "forbid_unknown_fields", False):
            schema.additional_properties = False
        return schema


def fix_options_allow(app: Litestar) -> None:
    """Make each automatic OPTIONS answer list every method of its path.

    Litestar 2.x builds the automatic OPTIONS handler for the first handler registered on a path; when a
    later handler (GET beside POST) joins the path, the route is rebuilt but the OPTIONS handler still
    reads the methods of the first, partial route, so `Allow` leaves methods out. Its closure is pointed
    at the full route.
    """
    from litestar.routes import HTTPRoute

    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler = route.route_handler_map["OPTIONS"][0]
        fn = getattr(handler.fn, "__closure__", None) or ()
        if getattr(handler.fn, "__name__", "") != "options_handler":
            continue
        for cell in fn:
            if isinstance(cell.cell_contents, HTTPRoute) and cell.cell_contents is not route:
                cell.cell_contents = route


def _optional_bodies(app: Litestar, openapi: OpenAPI) -> None:
    """A handler whose `data` has a default takes no body: its request body is not required."""
    from litestar.routes import HTTPRoute
    from litestar.types import Empty

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = (openapi.paths or {}).get(route.path_format)
        if item is None:
            continue
        for method, (handler, _model) in route.route_handler_map.items():
            data = handler.parsed_fn_signature.parameters.get("data")
            operation = getattr(item, method.lower(), None)
            if data is None or not isinstance(operation, Operation) or operation.request_body is None:
                continue
            if data.default is not Empty or data.is_optional:
                operation.request_body.required = False


def _param_bounds(app: Litestar, openapi: OpenAPI) -> None:
    """Every `Parameter(ge=..., le=...)` bound of a parameter is in its schema.

    Litestar leaves a falsy bound out of an optional parameter's schema (`ge=0.0` on `float | None`), so the
    document would accept a negative confidence that the app rejects.
    """
    from litestar.routes import HTTPRoute

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = (openapi.paths or {}).get(route.path_format)
        if item is None:
            continue
        for method, (handler, _model) in route.route_handler_map.items():
            operation = getattr(item, method.lower(), None)
            if not isinstance(operation, Operation):
                continue
            signature = handler.parsed_fn_signature.parameters
            for parameter in operation.parameters or []:
                field = signature.get(getattr(parameter, "name", ""))
                schema = getattr(parameter, "schema", None)
                kwarg = getattr(field, "kwarg_definition", None)
                if kwarg is None or not isinstance(schema, Schema):
                    continue
                for bound, attribute in (
                    ("ge", "minimum"),
                    ("le", "maximum"),
                    ("gt", "exclusive_minimum"),
                    ("lt", "exclusive_maximum"),
                ):
                    value = getattr(kwarg, bound, None)
                    if value is not None and getattr(schema, attribute) is None:
                        setattr(schema, attribute, value)


def _fixed_tuples(schema: Any) -> None:
    """A fixed-length tuple (`prefixItems`) declares its length; Litestar leaves it open."""
    if isinstance(schema, Schema):
        if schema.prefix_items and schema.min_items is None and schema.max_items is None:
            schema.min_items = schema.max_items = len(schema.prefix_items)
        for value in (
            schema.items,
            *(schema.prefix_items or []),
            *(schema.properties or {}).values(),
            *(schema.one_of or []),
            *(schema.any_of or []),
            *(schema.all_of or []),
        ):
            _fixed_tuples(value)


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
        openapi = super().provide_openapi()
        if ERROR_BODY not in openapi.components.schemas:
            _optional_bodies(self.app, openapi)
            _param_bounds(self.app, openapi)
            for schema in openapi.components.schemas.values():
                _fixed_tuples(schema)
        return declare_errors(openapi)


def install_error_schema(app: Litestar) -> None:
    """Make the app's OpenAPI document (served at /schema and `app.openapi_schema`) declare errors.

    Litestar builds the document lazily in its OpenAPI plugin; the plugin instance is given this
    subclass so that every build, including one after a route is added, passes through `declare_errors`.
    """
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _ErrorBodyOpenAPIPlugin
