"""What a bounded context hands the composition root: its ModuleSpec, and what it is given back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from litestar import Router

    from homeiq_ai.kernel.cache import CorrelationCache
    from homeiq_ai.kernel.db import Database
    from homeiq_ai.kernel.mqtt import MqttBus
    from homeiq_ai.kernel.service_client import ServiceClients
    from homeiq_ai.settings import Settings

__all__ = ["CheckResult", "HealthCheck", "JobSpec", "ModuleContext", "ModuleSpec"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one readiness check."""

    ok: bool
    detail: str = "ok"


HealthCheck = Callable[[], Awaitable[CheckResult]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A scheduled job of a module.

    Attributes:
        id: unique job id, prefixed with the module name.
        func: the coroutine function to run; takes no arguments.
        trigger: "cron" (with `cron`, a crontab line in the home's time zone) or "interval".
        cron: five-field crontab expression for cron triggers.
        seconds: period of interval triggers.
        run_at_start: also run once as soon as the scheduler starts (an interval job would
            otherwise first run one period after start).
    """

    id: str
    func: Callable[[], Awaitable[Any]]
    trigger: Literal["cron", "interval"]
    cron: str | None = None
    seconds: float | None = None
    run_at_start: bool = False


@dataclass(slots=True)
class ModuleContext:
    """The kernel pieces and bound peer apis a module builds its services from."""

    settings: Settings
    db: Database
    services: ServiceClients
    mqtt: MqttBus
    cache: CorrelationCache
    loaded_modules: tuple[str, ...]
    apis: Mapping[str, Any] = field(default_factory=dict)
    _singletons: dict[str, Any] = field(default_factory=dict)

    def singleton(self, key: str, factory: Callable[[], Any]) -> Any:
        """Return the one object of this process stored under `key`, building it on first use."""
        if key not in self._singletons:
            self._singletons[key] = factory()
        return self._singletons[key]

    def api(self, name: str) -> Any:
        """Return the bound api of a required module (Local in-process, else Http)."""
        try:
            return self.apis[name]
        except KeyError:
            raise RuntimeError(f"module api {name!r} was not declared in `requires`") from None


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    """How a module plugs into the app.

    Attributes:
        name: the module name ("pattern", ...).
        requires: names of the modules whose api this module calls.
        build_router: returns the module's Litestar Router.
        build_local_api: returns the in-process implementation of the module's api Protocol.
        build_jobs: returns the module's scheduled jobs.
        build_health_checks: returns named readiness checks.
        on_startup: run once in the lifespan after the kernel has started.
        on_shutdown: run once in the lifespan before the kernel stops.
        build_home_type: returns an async callable answering the stored home's predicted type (or
            None), shown by GET /api/v1/home of this process.
    """

    name: str
    requires: tuple[str, ...]
    build_router: Callable[[ModuleContext], Router]
    build_local_api: Callable[[ModuleContext], Any]
    build_jobs: Callable[[ModuleContext], Sequence[JobSpec]] = lambda _ctx: ()
    build_health_checks: Callable[[ModuleContext], Mapping[str, HealthCheck]] = lambda _ctx: {}
    on_startup: Callable[[ModuleContext], Awaitable[None]] | None = None
    on_shutdown: Callable[[ModuleContext], Awaitable[None]] | None = None
    build_home_type: Callable[[ModuleContext], Callable[[], Awaitable[Any]]] | None = None
