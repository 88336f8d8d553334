"""ModuleSpec of the query module: router and in-process api."""

from __future__ import annotations

from homeiq_ai.kernel.modules import ModuleContext, ModuleSpec
from homeiq_ai.query.facade import LocalQueryApi
from homeiq_ai.query.llm import LlmPlanner
from homeiq_ai.query.routes import build_router
from homeiq_ai.query.service import QueryService


def _llm(ctx: ModuleContext) -> LlmPlanner | None:
    """The optional LLM planner: only where OPENAI_API_KEY is set."""
    settings = ctx.settings
    if settings.openai_api_key is None:
        return None
    return LlmPlanner(
        settings.openai_api_key.get(),
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        timeout_s=settings.openai_timeout_seconds,
        max_retries=settings.openai_retries,
    )


def _service(ctx: ModuleContext) -> QueryService:
    """The one service of this process, shared by the router and the api facade."""
    return ctx.singleton("query.service", lambda: QueryService(ctx.db, llm=_llm(ctx), patterns=ctx.api("pattern")))


spec = ModuleSpec(
    name="query",
    requires=("pattern",),
    build_router=lambda ctx: build_router(_service(ctx)),
    build_local_api=lambda ctx: LocalQueryApi(_service(ctx)),
)
