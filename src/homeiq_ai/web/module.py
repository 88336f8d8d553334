"""ModuleSpec of the web page: no tables and no api of its own; it requires every other module's api."""

from __future__ import annotations

from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.store import HomeStore, LocalHomeSource
from homeiq_ai.kernel.modules import CheckResult, ModuleContext, ModuleSpec
from homeiq_ai.web.routes import WebPages, build_router
from homeiq_ai.web.security import WebSecurity
from homeiq_ai.web.views import HealthStrip


def _pages(ctx: ModuleContext) -> WebPages:
    return ctx.singleton("web.pages", lambda: _build(ctx))


def _build(ctx: ModuleContext) -> WebPages:
    settings = ctx.settings
    store = HomeStore(ctx.db)

    async def db_check() -> CheckResult:
        revision = await ctx.db.schema_revision(timeout=3.0)
        return CheckResult(revision is not None, f"{ctx.db.dialect}, schema {revision or 'missing'}")

    async def ha_probe() -> CheckResult:
        client = HomeAssistantClient.from_settings(settings)
        if client is None:
            return CheckResult(False, "not configured")
        async with client:
            info = await client.config()
        return CheckResult(True, f"version {info.get('version', '?')}")

    checks: dict = {}
    if ctx.mqtt.enabled:
        checks["mqtt"] = ctx.mqtt.health_check()
    health = HealthStrip(
        db_check=db_check,
        checks=checks,
        configured={
            "home_assistant": bool(settings.ha_url and settings.ha_token),
            "broker": ctx.mqtt.enabled,
            "llm": settings.openai_api_key is not None,
            "database": True,
        },
        ha_probe=ha_probe if settings.ha_url and settings.ha_token else None,
    )
    return WebPages(
        automation=ctx.api("automation"),
        query=ctx.api("query"),
        pattern=ctx.api("pattern"),
        training=ctx.api("training"),
        store=store,
        home=LocalHomeSource.from_settings(store, settings),
        security=WebSecurity(settings.api_key.get() if settings.api_key else None),
        health=health,
    )


spec = ModuleSpec(
    name="web",
    requires=("training", "pattern", "query", "automation"),
    build_router=lambda ctx: build_router(_pages(ctx)),
    # The page offers no api to other modules.
    build_local_api=lambda _ctx: None,
)
