"""ModuleSpec of the automation module: router and in-process api; reads patterns and queries."""

from __future__ import annotations

import json
import logging

from homeiq_ai.automation.api import GenerateRequest
from homeiq_ai.automation.facade import LocalAutomationApi
from homeiq_ai.automation.routes import build_router
from homeiq_ai.automation.service import AutomationService
from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.model import HomeInfo
from homeiq_ai.kernel.modules import JobSpec, ModuleContext, ModuleSpec

log = logging.getLogger(__name__)
AFTER_ANALYSIS_CRON = "30 5 * * *"


def _service(ctx: ModuleContext) -> AutomationService:
    """The one service of this process, with the pattern and query apis bound by the app."""
    return ctx.singleton(
        "automation.service",
        lambda: AutomationService(
            ctx.db,
            ctx.api("pattern"),
            ctx.api("query"),
            home_assistant_configured=bool(ctx.settings.ha_url and ctx.settings.ha_token),
            home_assistant=lambda: HomeAssistantClient.from_settings(ctx.settings),
            home=HomeInfo(
                time_zone=ctx.settings.home_time_zone,
                latitude=ctx.settings.home_latitude,
                longitude=ctx.settings.home_longitude,
                source="settings",
            ),
        ),
    )


async def _generate_all(service: AutomationService) -> None:
    for source in ("patterns", "synergies"):
        result = await service.generate_suggestions(GenerateRequest(source=source, limit=200))  # type: ignore[arg-type]
        log.info("suggestions from %s after analysis: %d new", source, len(result.created))


async def _startup(ctx: ModuleContext) -> None:
    """Suggest after every completed analysis: the pattern module publishes its completion on MQTT."""
    service = _service(ctx)

    async def on_complete(_topic: str, payload: bytes) -> None:
        if json.loads(payload or b"{}").get("status") == "completed":
            await _generate_all(service)

    if ctx.mqtt.enabled:
        ctx.mqtt.subscribe(ctx.mqtt.topic("analysis", "pattern", "complete"), on_complete)
    # A deploy killed between Home Assistant's answer and its version record is settled from HA's read-back.
    service.start_reconcile()


async def _shutdown(ctx: ModuleContext) -> None:
    await _service(ctx).close()


def _jobs(ctx: ModuleContext) -> list[JobSpec]:
    # Without MQTT, a daily run after the nightly analysis does the same (generation never duplicates).
    return [
        JobSpec(
            id="automation.suggest_after_analysis",
            func=lambda: _generate_all(_service(ctx)),
            trigger="cron",
            cron=AFTER_ANALYSIS_CRON,
        )
    ]


spec = ModuleSpec(
    name="automation",
    requires=("pattern", "query"),
    build_router=lambda ctx: build_router(_service(ctx)),
    build_local_api=lambda ctx: LocalAutomationApi(_service(ctx)),
    build_jobs=_jobs,
    on_startup=_startup,
    on_shutdown=_shutdown,
)
