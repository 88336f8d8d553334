"""ModuleSpec of the automation module: router and in-process api; reads patterns and queries."""

from __future__ import annotations

from homeiq_ai.automation.facade import LocalAutomationApi
from homeiq_ai.automation.routes import build_router
from homeiq_ai.automation.service import AutomationService
from homeiq_ai.kernel.modules import ModuleContext, ModuleSpec


def _service(ctx: ModuleContext) -> AutomationService:
    """The one service of this process, with the pattern and query apis bound by the app."""
    return ctx.singleton(
        "automation.service",
        lambda: AutomationService(
            ctx.db,
            ctx.api("pattern"),
            ctx.api("query"),
            home_assistant_configured=bool(ctx.settings.ha_url and ctx.settings.ha_token),
        ),
    )


spec = ModuleSpec(
    name="automation",
    requires=("pattern", "query"),
    build_router=lambda ctx: build_router(_service(ctx)),
    build_local_api=lambda ctx: LocalAutomationApi(_service(ctx)),
)
