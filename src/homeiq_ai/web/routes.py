"""The page's routes: server-rendered HTML over the module apis, the key form, CSRF on every form."""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from homeiq_ai.automation.api import AutomationApi
from homeiq_ai.kernel.homedata.store import HomeStore, LocalHomeSource
from homeiq_ai.pattern.api import PatternApi, PatternQuery, SynergyQuery
from homeiq_ai.query.api import QueryApi
from homeiq_ai.training.api import TrainingApi, TrainingRunQuery
from homeiq_ai.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    LoginRequired,
    WebSecurity,
    csrf_cookie,
    csrf_matches,
    new_csrf_token,
)
from homeiq_ai.web.views import (
    HealthStrip,
    as_data,
    backtest_chart,
    declared_error,
    occurrence_chart,
    rank_suggestions,
)

__all__ = ["WebPages", "build_router"]

HERE = Path(__file__).parent
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


class Unavailable(Exception):
    """The bound api lacks a method this page needs (an older peer process)."""


class WebPages:
    """Everything the routes need: the four apis, the home's store, the health strip, the templates."""

    def __init__(
        self,
        *,
        automation: AutomationApi,
        query: QueryApi,
        pattern: PatternApi,
        training: TrainingApi,
        store: HomeStore,
        home: LocalHomeSource,
        security: WebSecurity,
        health: HealthStrip,
    ) -> None:
        self.automation = automation
        self.query = query
        self.pattern = pattern
        self.training = training
        self.store = store
        self.home = home
        self.security = security
        self.health = health
        # Autoescape on for every template: people's names, descriptions and YAML are data.
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    async def tz(self) -> zoneinfo.ZoneInfo:
        """The home's time zone (Home Assistant's at the last sync, else HOME_TIME_ZONE)."""
        info = await self.home.home_info()
        try:
            return zoneinfo.ZoneInfo(info.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    async def render(self, request: Request[Any, Any, Any], name: str, status: int = 200, **ctx: Any) -> Response[str]:
        """Render a template with the health strip, CSRF token and local-time filter; set the token cookie."""
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        tz = await self.tz()
        self.env.filters["local"] = lambda v: _local(v, tz)
        html = self.env.get_template(name).render(
            csrf_field=CSRF_FIELD,
            csrf_token=token,
            health=await self.health.refresh(),
            time_zone=str(tz),
            tz=tz,
            message=request.query_params.get("msg"),
            error=request.query_params.get("err"),
            path=request.url.path,
            key_required=self.security.enabled,
            **ctx,
        )
        cookies: list[Cookie] = []
        if request.cookies.get(CSRF_COOKIE) != token:
            cookies.append(csrf_cookie(token))
        headers = {
            "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            "x-content-type-options": "nosniff",
            "referrer-policy": "same-origin",
            "cache-control": "no-store",
        }
        return Response(html, status_code=status, media_type=MediaType.HTML, cookies=cookies, headers=headers)

    async def call(self, api: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an api method by name; Unavailable when the bound implementation lacks it."""
        func = getattr(api, method, None)
        if func is None:
            raise Unavailable(f"{type(api).__name__}.{method} is not available in this version")
        return await func(*args, **kwargs)


def _local(value: Any, tz: zoneinfo.ZoneInfo) -> str:
    from homeiq_ai.web.views import parse_time

    parsed = parse_time(value)
    if parsed is None:
        return "" if value is None else str(value)
    return parsed.astimezone(tz).strftime("%a %d %b %Y %H:%M")


def _back(to: str, *, msg: str | None = None, err: str | None = None) -> Redirect:
    query = "&".join(f"{k}={quote(v)}" for k, v in (("msg", msg), ("err", err)) if v)
    return Redirect(f"{to}?{query}" if query else to, status_code=303)


def _check_form(request: Request[Any, Any, Any], data: dict[str, str]) -> None:
    if not csrf_matches(request, data.get(CSRF_FIELD)):
        raise PermissionDeniedException("the form's CSRF token does not match: reload the page and try again")


def _error_text(exc: Exception) -> str:
    declared = declared_error(exc)
    if declared is not None:
        return f"{declared[2]} ({declared[1]})"
    if isinstance(exc, Unavailable | msgspec.ValidationError):
        return str(exc)
    raise exc


def _request(api_module: Any, name: str, **fields: Any) -> Any:
    cls = getattr(api_module, name, None)
    if cls is None:
        raise Unavailable(f"{api_module.__name__}.{name} is not available in this version")
    return msgspec.convert(fields, cls)


def build_router(pages: WebPages) -> Router:
    """The page mounted at `/`, guarded by the key cookie and CSRF; not part of the OpenAPI schema."""
    import homeiq_ai.automation.api as automation_api
    import homeiq_ai.query.api as query_api

    @get("/", include_in_schema=False)
    async def inbox(request: Request[Any, Any, Any], status: str | None = None) -> Response[str]:
        tz = await pages.tz()
        try:
            page = await pages.automation.list_suggestions(status=status or None, limit=50)
            items = rank_suggestions([as_data(s) for s in page.items])
            problem = None
        except Exception as exc:
            items, problem = [], _error_text(exc)
        cards = []
        for item in items:
            chart, caption = await occurrence_chart(item, pages.store, tz)
            timeline, summary = backtest_chart(item.get("backtest"), tz)
            cards.append({"s": item, "chart": chart, "caption": caption, "timeline": timeline, "bt": summary})
        return await pages.render(request, "inbox.html", cards=cards, problem=problem, status=status or "")

    @get("/suggestions/{suggestion_id:str}", include_in_schema=False)
    async def suggestion(request: Request[Any, Any, Any], suggestion_id: str) -> Response[str]:
        tz = await pages.tz()
        try:
            item = as_data(await pages.automation.get_suggestion(suggestion_id))
        except Exception as exc:
            return await pages.render(request, "error.html", 404, problem=_error_text(exc))
        chart, caption = await occurrence_chart(item, pages.store, tz)
        timeline, summary = backtest_chart(item.get("backtest"), tz)
        automation = None
        versions_problem = None
        automation_id = item.get("automation_id")
        if automation_id:
            try:
                automation = as_data(await pages.call(pages.automation, "get_automation", automation_id))
            except Exception as exc:
                versions_problem = _error_text(exc)
        return await pages.render(
            request,
            "suggestion.html",
            s=item,
            chart=chart,
            caption=caption,
            timeline=timeline,
            bt=summary,
            automation=automation,
            versions_problem=versions_problem,
        )

    @post("/suggestions/{suggestion_id:str}/{action:str}", include_in_schema=False)
    async def act(
        request: Request[Any, Any, Any], suggestion_id: str, action: str, data: dict[str, str] = Form
    ) -> Redirect:
        _check_form(request, data)
        here = f"/suggestions/{quote(suggestion_id)}"
        api = pages.automation
        reason = (data.get("reason") or "").strip() or None
        try:
            if action == "approve":
                await pages.call(api, "approve_suggestion", suggestion_id, reason)
            elif action == "reject":
                await pages.call(api, "reject_suggestion", suggestion_id, reason)
            elif action == "edit":
                body = _request(automation_api, "EditSuggestionRequest", yaml=data.get("yaml", ""))
                await pages.call(api, "edit_suggestion", suggestion_id, body)
            elif action == "deploy":
                await pages.call(api, "deploy", _request(automation_api, "DeployRequest", suggestion_id=suggestion_id))
            elif action in ("disable", "enable", "delete", "rollback"):
                automation_id = data.get("automation_id", "")
                if action == "rollback":
                    version = int(data.get("version", "0") or 0)
                    await pages.call(api, "rollback_automation", automation_id, version)
                else:
                    await pages.call(api, f"{action}_automation", automation_id)
                if action == "delete":
                    return _back("/", msg="deleted")
            else:
                return _back(here, err=f"unknown action {action!r}")
        except Exception as exc:
            return _back(here, err=_error_text(exc))
        return _back(here, msg=f"{action}: done")

    @post("/suggestions/generate", include_in_schema=False)
    async def generate(request: Request[Any, Any, Any], data: dict[str, str] = Form) -> Redirect:
        _check_form(request, data)
        source = data.get("source", "patterns")
        try:
            fields: dict[str, Any] = {"source": source}
            if data.get("query_id"):
                fields["query_id"] = data["query_id"]
            result = await pages.automation.generate_suggestions(
                _request(automation_api, "GenerateRequest", **fields)
            )
        except Exception as exc:
            return _back("/", err=_error_text(exc))
        return _back("/", msg=f"{len(result.created)} new suggestion(s)")

    @post("/validate", include_in_schema=False)
    async def validate(request: Request[Any, Any, Any]) -> Response[Any]:
        # JSON from page.js: the header token was checked by the guard; it must be present.
        if request.headers.get("x-csrf-token") is None:
            raise PermissionDeniedException("the CSRF token header is missing")
        body = await request.json()
        text = body.get("yaml", "") if isinstance(body, dict) else ""
        try:
            req = _request(automation_api, "ValidateRequest", yaml=text)
            answer = as_data(await pages.call(pages.automation, "validate", req))
        except Exception as exc:
            return Response({"error": _error_text(exc)}, status_code=200)
        return Response(msgspec.to_builtins(answer), status_code=200)

    @get("/ask", include_in_schema=False)
    async def ask(request: Request[Any, Any, Any], q: str | None = None) -> Response[str]:
        query = problem = None
        if q:
            try:
                query = as_data(await pages.query.get_query(q))
            except Exception as exc:
                problem = _error_text(exc)
        return await pages.render(request, "ask.html", query=query, problem=problem)

    @post("/ask", include_in_schema=False)
    async def ask_post(request: Request[Any, Any, Any], data: dict[str, str] = Form) -> Redirect:
        _check_form(request, data)
        try:
            query = await pages.query.create_query(_request(query_api, "QueryRequest", query=data.get("query", "")))
        except Exception as exc:
            return _back("/ask", err=_error_text(exc))
        return Redirect(f"/ask?q={quote(query.id)}", status_code=303)

    @post("/ask/{query_id:str}/answer", include_in_schema=False)
    async def ask_answer(request: Request[Any, Any, Any], query_id: str, data: dict[str, str] = Form) -> Redirect:
        _check_form(request, data)
        answers = {k[7:]: v for k, v in data.items() if k.startswith("answer:") and v}
        refinement = (data.get("refinement") or "").strip() or None
        try:
            fields: dict[str, Any] = {}
            if answers:
                fields["answers"] = answers
            if refinement:
                fields["refinement"] = refinement
            await pages.query.refine_query(query_id, _request(query_api, "RefineRequest", **fields))
        except Exception as exc:
            return Redirect(f"/ask?q={quote(query_id)}&err={quote(_error_text(exc))}", status_code=303)
        return Redirect(f"/ask?q={quote(query_id)}", status_code=303)

    @get("/patterns", include_in_schema=False)
    async def patterns(
        request: Request[Any, Any, Any],
        pattern_type: str | None = None,
        entity_id: str | None = None,
        area_id: str | None = None,
        min_confidence: float | None = None,
    ) -> Response[str]:
        filters = {
            "pattern_type": pattern_type or None,
            "entity_id": entity_id or None,
            "area_id": area_id or None,
            "min_confidence": min_confidence,
        }
        problem = None
        try:
            found = await pages.pattern.list_patterns(PatternQuery(**filters, limit=50))
            items = [as_data(p) for p in found.items]
            syn = await pages.pattern.list_synergies(
                SynergyQuery(entity_id=filters["entity_id"], area_id=filters["area_id"], limit=50)
            )
            synergies = [as_data(s) for s in syn.items]
        except Exception as exc:
            items, synergies, problem = [], [], _error_text(exc)
        tz = await pages.tz()
        charts = {}
        for p in items:
            evidence = {"evidence": p.get("details"), "entity_ids": p["entity_ids"]}
            chart, _ = await occurrence_chart(evidence, pages.store, tz)
            charts[p["id"]] = chart
        return await pages.render(
            request, "patterns.html", patterns=items, synergies=synergies, charts=charts, f=filters, problem=problem
        )

    @post("/feedback/{kind:str}/{item_id:str}", include_in_schema=False)
    async def feedback(
        request: Request[Any, Any, Any], kind: str, item_id: str, data: dict[str, str] = Form
    ) -> Redirect:
        _check_form(request, data)
        import homeiq_ai.pattern.api as pattern_api

        method = {"patterns": "pattern_feedback", "synergies": "synergy_feedback"}.get(kind)
        if method is None:
            return _back("/patterns", err=f"unknown kind {kind!r}")
        try:
            body = _request(pattern_api, "FeedbackRequest", action=data.get("action", ""))
            await pages.call(pages.pattern, method, item_id, body)
        except Exception as exc:
            return _back("/patterns", err=_error_text(exc))
        return _back("/patterns", msg="thanks: feedback saved")

    @get("/runs", include_in_schema=False)
    async def runs(request: Request[Any, Any, Any]) -> Response[str]:
        analysis: list[Any] = []
        analysis_problem = training_problem = None
        try:
            page = await pages.call(pages.pattern, "list_analysis_runs")
            analysis = [as_data(r) for r in page.items]
        except Exception as exc:
            analysis_problem = _error_text(exc)
        try:
            training = [as_data(r) for r in (await pages.training.list_runs(TrainingRunQuery(limit=20))).items]
        except Exception as exc:
            training, training_problem = [], _error_text(exc)
        return await pages.render(
            request,
            "runs.html",
            analysis=analysis,
            training=training,
            analysis_problem=analysis_problem,
            training_problem=training_problem,
        )

    @get("/runs/analysis/{run_id:str}", include_in_schema=False)
    async def analysis_run(request: Request[Any, Any, Any], run_id: str) -> Response[str]:
        try:
            run = as_data(await pages.pattern.get_analysis_run(run_id))
        except Exception as exc:
            return await pages.render(request, "error.html", 404, problem=_error_text(exc))
        return await pages.render(request, "run.html", run=run)

    @post("/runs/analysis", include_in_schema=False)
    async def start_analysis(request: Request[Any, Any, Any], data: dict[str, str] = Form) -> Redirect:
        _check_form(request, data)
        import homeiq_ai.pattern.api as pattern_api

        try:
            days = int(data.get("days") or 30)
            run = await pages.pattern.start_analysis(_request(pattern_api, "AnalysisRequest", days=days))
        except ValueError:
            return _back("/runs", err="days must be a whole number")
        except Exception as exc:
            return _back("/runs", err=_error_text(exc))
        return Redirect(f"/runs/analysis/{quote(run.id)}", status_code=303)

    @get("/login", include_in_schema=False)
    async def login(request: Request[Any, Any, Any]) -> Response[str]:
        return await pages.render(request, "login.html")

    @post("/login", include_in_schema=False)
    async def login_post(request: Request[Any, Any, Any], data: dict[str, str] = Form) -> Response[Any]:
        _check_form(request, data)
        if not pages.security.enabled:
            return _back("/")
        if not pages.security.key_matches(data.get("api_key", "")):
            return await pages.render(request, "login.html", 401, problem="that is not the API key")
        return Redirect("/", status_code=303, cookies=[pages.security.session_cookie()])

    def _login_required(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
        if request.method == "GET":
            return Redirect("/login", status_code=303)
        return Response("this page needs the API key: sign in at /login", status_code=401, media_type=MediaType.TEXT)

    def _forbidden(_request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
        return Response(str(exc.detail), status_code=403, media_type=MediaType.TEXT)

    static = create_static_files_router(path="/static", directories=[HERE / "static"], name="web-static")
    return Router(
        path="/",
        route_handlers=[
            inbox, suggestion, act, generate, validate, ask, ask_post, ask_answer, patterns, feedback,
            runs, analysis_run, start_analysis, login, login_post, static,
        ],
        guards=[pages.security.guard],
        exception_handlers={LoginRequired: _login_required, NotAuthorizedException: _login_required,
                            PermissionDeniedException: _forbidden},
        include_in_schema=False,
    )
