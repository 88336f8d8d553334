"""The one composition root: `create_app(settings, modules)` builds a Litestar app for any module set."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Any

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from homeiq_ai import __version__
from homeiq_ai.kernel.auth import api_key_guard
from homeiq_ai.kernel.cache import CorrelationCache
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.errors import exception_handlers
from homeiq_ai.kernel.health import HealthController, HealthState
from homeiq_ai.kernel.homedata.routes import home_router
from homeiq_ai.kernel.homedata.sync import sync_job
from homeiq_ai.kernel.migrate import head_revision
from homeiq_ai.kernel.modules import CheckResult, HealthCheck, ModuleContext, ModuleSpec
from homeiq_ai.kernel.mqtt import MqttBus
from homeiq_ai.kernel.openapi import StrictStructSchemaPlugin, fix_options_allow, install_error_schema
from homeiq_ai.kernel.ratelimit import RateLimiter, rate_limit_middleware
from homeiq_ai.kernel.scheduler import Scheduler
from homeiq_ai.kernel.service_client import ServiceClients
from homeiq_ai.settings import MODULE_NAMES, Settings

__all__ = ["ALL", "create_app", "resolve_modules"]

log = logging.getLogger(__name__)

# The owner's page: a module with no tables, api or port of its own, loaded after the others.
PAGE_MODULES: tuple[str, ...] = ("web",)
ALL: tuple[str, ...] = MODULE_NAMES + PAGE_MODULES
STARTUP_RETRY_SECONDS = 5.0


def resolve_modules(modules: Iterable[str] | str) -> tuple[str, ...]:
    """Normalise a module selection to known names in dependency order.

    Args:
        modules: names, a comma-separated string, or "all".

    Raises:
        ValueError: an unknown name, or an empty selection.
    """
    if isinstance(modules, str):
        modules = [m for m in (part.strip() for part in modules.split(",")) if m]
    wanted = set(modules)
    if "all" in wanted:
        wanted = (wanted - {"all"}) | set(ALL)
    unknown = sorted(wanted - set(ALL))
    if unknown:
        raise ValueError(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(ALL)}, all")
    if not wanted:
        raise ValueError(f"no module selected; choose from {', '.join(ALL)}, all")
    return tuple(name for name in ALL if name in wanted)


def _load_spec(name: str) -> ModuleSpec:
    # Imported only when the module is loaded: a process without training never imports torch.
    spec = importlib.import_module(f"homeiq_ai.{name}.module").spec
    if not isinstance(spec, ModuleSpec) or spec.name != name:
        raise RuntimeError(f"homeiq_ai.{name}.module.spec is not the ModuleSpec of {name!r}")
    return spec


def _http_api(name: str, services: ServiceClients) -> Any:
    client_module = importlib.import_module(f"homeiq_ai.{name}.client")
    return client_module.http_api(services.service(name))


class _StartupTracker:
    """Runs a module's startup hook, retrying in the background while it fails (e.g. DB down)."""

    def __init__(self, name: str, spec: ModuleSpec, ctx: ModuleContext) -> None:
        self.name = name
        self._spec = spec
        self._ctx = ctx
        self.error: str | None = None
        self.done = spec.on_startup is None
        self._task: asyncio.Task[None] | None = None

    async def _attempt(self) -> bool:
        assert self._spec.on_startup is not None
        try:
            await self._spec.on_startup(self._ctx)
        except Exception as exc:  # the process stays up and reports not-ready instead
            self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            log.warning(
                "startup of module %s failed (retrying every %ss): %s",
                self.name,
                STARTUP_RETRY_SECONDS,
                self.error,
            )
            return False
        self.done, self.error = True, None
        return True

    async def start(self) -> None:
        if self.done or await self._attempt():
            return
        self._task = asyncio.create_task(self._retry(), name=f"startup-{self.name}")

    async def _retry(self) -> None:
        while not self.done:
            await asyncio.sleep(STARTUP_RETRY_SECONDS)
            await self._attempt()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def check(self) -> HealthCheck:
        async def _check() -> CheckResult:
            return CheckResult(True) if self.done else CheckResult(False, f"startup pending: {self.error}")

        return _check


def create_app(settings: Settings, modules: Iterable[str] | str = ALL) -> Litestar:
    """Build the app for a set of modules.

    Each required peer api is bound to its in-process implementation when that module is loaded here,
    otherwise to its HTTP client at the configured service URL.

    Args:
        settings: validated settings (see `load_settings`).
        modules: module names, "all", or a comma-separated string.

    Returns:
        The Litestar application; kernel pieces start and stop in its lifespan.
    """
    names = resolve_modules(modules)
    specs = {name: _load_spec(name) for name in names}

    db = Database(settings.database_url)
    cache_db = db
    if settings.correlation_cache_db and settings.correlation_cache_db != settings.database_url:
        cache_db = Database(settings.correlation_cache_db)
    services = ServiceClients(
        settings.service_urls,
        tries=settings.service_retries,
        timeout=settings.service_timeout_seconds,
        api_key=settings.api_key.get() if settings.api_key else None,
    )
    mqtt = MqttBus(settings, client_name="+".join(names))
    cache = CorrelationCache(
        cache_db,
        ttl_seconds=settings.correlation_cache_ttl_seconds,
        max_entries=settings.correlation_cache_max_entries,
        own_table=cache_db is not db,
    )
    scheduler = Scheduler(settings.home_time_zone, enabled=settings.scheduler_enabled)

    local_apis: dict[str, Any] = {}
    home_types: list[Any] = []  # filled below by the loaded modules that can tell the home's type
    route_handlers: list[Any] = [HealthController, home_router(settings, db, home_types)]
    checks: dict[str, HealthCheck] = {}
    trackers: list[_StartupTracker] = []
    shutdown_hooks: list[tuple[str, Any, ModuleContext]] = []
    for name in names:
        spec = specs[name]
        apis: dict[str, Any] = {}
        for required in spec.requires:
            if required not in MODULE_NAMES or ALL.index(required) >= ALL.index(name):
                raise RuntimeError(f"module {name!r} may not require {required!r} (dependencies are acyclic)")
            apis[required] = local_apis.get(required) or _http_api(required, services)
        ctx = ModuleContext(
            settings=settings,
            db=db,
            services=services,
            mqtt=mqtt,
            cache=cache,
            loaded_modules=names,
            apis=apis,
        )
        local_apis[name] = spec.build_local_api(ctx)
        route_handlers.append(spec.build_router(ctx))
        if spec.build_home_type is not None:
            home_types.append(spec.build_home_type(ctx))
        scheduler.add_jobs(spec.build_jobs(ctx))
        for check_name, check in spec.build_health_checks(ctx).items():
            checks[f"{name}.{check_name}"] = check
        tracker = _StartupTracker(name, spec, ctx)
        trackers.append(tracker)
        if spec.on_startup is not None:
            checks[f"{name}.startup"] = tracker.check()
        if spec.on_shutdown is not None:
            shutdown_hooks.append((name, spec.on_shutdown, ctx))
    if mqtt.enabled:
        checks["mqtt"] = mqtt.health_check()
    # One process keeps the local history in step with Home Assistant: the one that mines it.
    if "pattern" in names:
        ha_sync = sync_job(settings, db)
        if ha_sync is not None:
            scheduler.add_jobs([ha_sync])

    health = HealthState(version=__version__, modules=names, db=db, expected_revision=head_revision(), checks=checks)

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await mqtt.start()
        for tracker in trackers:
            await tracker.start()
        scheduler.start()
        log.info("homeiq-ai %s started with modules: %s", __version__, ", ".join(names))
        try:
            yield
        finally:
            scheduler.shutdown()
            for tracker in trackers:
                await tracker.stop()
            for name, hook, ctx in reversed(shutdown_hooks):
                try:
                    await hook(ctx)
                except Exception:
                    log.exception("shutdown of module %s failed", name)
            await mqtt.stop()
            await services.aclose()
            if cache_db is not db:
                await cache_db.dispose()
            await db.dispose()

    guards = [api_key_guard(settings.api_key.get())] if settings.api_key else []
    rate_limiter = RateLimiter(
        {"query": settings.rate_limit_query_per_minute, "deploy": settings.rate_limit_deploy_per_minute}
    )
    openapi = OpenAPIConfig(
        title="homeiq-ai",
        version=__version__,
        description="Routines and requests turned into Home Assistant automations that are safe to deploy.",
        path="/schema",
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer"),
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
            }
        ),
        use_handler_docstrings=True,
    )
    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        exception_handlers=exception_handlers,
        guards=guards,
        middleware=[rate_limit_middleware(rate_limiter)],
        openapi_config=openapi,
        plugins=[StrictStructSchemaPlugin()],
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,
    )
    app.state.health = health
    app.state.settings = settings
    app.state.local_apis = local_apis
    app.state.scheduler = scheduler
    app.state.cache = cache
    app.state.mqtt = mqtt
    app.state.rate_limiter = rate_limiter
    install_error_schema(app)
    fix_options_allow(app)
    return app
