"""The served OpenAPI document declares the error body the app really sends, and the statuses by rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_TYPES: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _validate(body: Any, schema: dict[str, Any]) -> None:
    """Check a body against the flat object schema ErrorBody (type, required, properties, no others)."""
    assert schema["type"] == "object" and isinstance(body, dict), body
    missing = set(schema["required"]) - set(body)
    assert not missing, f"missing {missing} in {body}"
    if schema.get("additionalProperties") is False:
        extra = set(body) - set(schema["properties"])
        assert not extra, f"undeclared {extra} in {body}"
    for key, value in body.items():
        declared = schema["properties"][key]["type"]
        types = declared if isinstance(declared, list) else [declared]
        assert any(_TYPES[t](value) for t in types), f"{key}={value!r} is not {types}"


async def _schema(app_client: Callable[..., Any]) -> dict[str, Any]:
    async with app_client("all") as client:
        return (await client.get("/schema/openapi.json")).json()


async def test_every_error_response_references_error_body(app_client: Callable[..., Any]) -> None:
    """Each 4xx/5xx of each operation points at ErrorBody; no Litestar validation schema is left."""
    schema = await _schema(app_client)
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"status", "code", "message"}
    seen = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    seen += 1
                    ref = response["content"]["application/json"]["schema"]
                    assert ref == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
    assert seen > 100
    assert "Validation Exception" not in str(schema)


async def test_statuses_declared_by_rule(app_client: Callable[..., Any]) -> None:
    """401 on /api/, 404 with path parameters, 413 with a body, 429 where limited, 409 and 5xx by area."""
    paths = (await _schema(app_client))["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    rollback = codes("/api/v1/automations/{automation_id}/rollback", "post")
    assert rollback >= {"400", "401", "404", "409", "413", "429", "502", "503", "504"}
    assert codes("/api/v1/deployment/deploy", "post") >= {"401", "409", "413", "429", "502", "503", "504"}
    assert "429" in codes("/api/v1/query", "post")
    assert "429" in codes("/api/v1/query/{query_id}/refine", "post")
    patterns = codes("/api/v1/patterns", "get")
    assert "401" in patterns and not patterns & {"404", "409", "413", "429", "502"}
    assert "401" not in codes("/health/live", "get")
    retry_after = paths["/api/v1/deployment/deploy"]["post"]["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after == {"$ref": "#/components/headers/RetryAfter"}


async def test_real_error_bodies_validate(app_client: Callable[..., Any]) -> None:
    """A real 400 (with field details) and a real 404 from the app match the ErrorBody schema."""
    async with app_client("all") as client:
        error_body = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]["ErrorBody"]
        bad = await client.post("/api/v1/query/", json={"query": 1})
        missing = await client.get("/api/v1/training/runs/no-such-run")
        no_route = await client.get("/api/v1/nothing-here")
    assert bad.status_code == 400 and isinstance(bad.json()["details"], list)
    assert missing.status_code == 404 and no_route.status_code == 404
    for response in (bad, missing, no_route):
        _validate(response.json(), error_body)
