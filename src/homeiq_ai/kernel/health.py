"""Health routes of every process: /health/health (no I/O), /health/ready, /health/live."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.modules import CheckResult, HealthCheck

__all__ = ["HealthController", "HealthState"]

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(slots=True)
class HealthState:
    """What the health routes report about this process."""

    version: str
    modules: tuple[str, ...]
    db: Database
    expected_revision: str
    checks: Mapping[str, HealthCheck] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)

    def summary(self) -> dict[str, Any]:
        """The fields every health answer carries."""
        return {"service": "homeiq-ai", "version": self.version, "modules": list(self.modules)}


async def _database_check(state: HealthState) -> dict[str, CheckResult]:
    try:
        revision = await state.db.schema_revision(timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return {"database": CheckResult(False, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")}
    except Exception as exc:  # any driver error means "not ready", with its reason
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {"database": CheckResult(False, f"unreachable: {reason}")}
    results = {"database": CheckResult(True, state.db.dialect)}
    if revision == state.expected_revision:
        results["schema"] = CheckResult(True, f"at head {revision}")
    elif revision is None:
        results["schema"] = CheckResult(False, "no schema: run `homeiq-ai db upgrade`")
    else:
        results["schema"] = CheckResult(
            False, f"at {revision}, head is {state.expected_revision}: run `homeiq-ai db upgrade`"
        )
    return results


async def _run_check(name: str, check: HealthCheck) -> tuple[str, CheckResult]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return name, await check()
    except TimeoutError:
        return name, CheckResult(False, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except Exception as exc:  # a failing check reports, it never fails the probe itself
        return name, CheckResult(False, f"{type(exc).__name__}: {exc}")


class HealthController(Controller):
    """Liveness and readiness of this process."""

    path = "/health"
    tags = ["health"]

    @get("/health", sync_to_thread=False, summary="Process is up (no I/O)")
    def health(self, state: State) -> dict[str, Any]:
        """Answer at once: the process runs; lists loaded modules and the version."""
        return {"status": "ok", **state.health.summary()}

    @get("/live", sync_to_thread=False, summary="Liveness probe")
    def live(self, state: State) -> dict[str, Any]:
        """Answer at once, with uptime."""
        uptime = round(time.monotonic() - state.health.started_at, 3)
        return {"status": "alive", "uptime_seconds": uptime, **state.health.summary()}

    @get("/ready", summary="Readiness: database reachable and at head, module checks pass")
    async def ready(self, state: State) -> Response[dict[str, Any]]:
        """Check the database, its schema revision and each loaded module's checks; 503 with reasons."""
        health: HealthState = state.health
        results = await _database_check(health)
        if results["database"].ok and results.get("schema", CheckResult(False)).ok:
            pairs = await asyncio.gather(*(_run_check(n, c) for n, c in health.checks.items()))
            results.update(dict(pairs))
        ok = all(r.ok for r in results.values())
        body = {
            "status": "ready" if ok else "unavailable",
            **health.summary(),
            "checks": {name: {"ok": r.ok, "detail": r.detail} for name, r in results.items()},
        }
        if not ok:
            body["reason"] = "; ".join(f"{n}: {r.detail}" for n, r in results.items() if not r.ok)
        return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)
