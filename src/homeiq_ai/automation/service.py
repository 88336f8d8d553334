"""Use cases of the automation module: suggestions from patterns and queries, approval, deployment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError

from homeiq_ai.automation.api import (
    AutomationNotFoundError,
    AutomationVersion,
    DeployedAutomation,
    DeployedAutomationPage,
    DeployInProgressError,
    Deployment,
    DeploymentPage,
    DeployRequest,
    DeployResult,
    EditSuggestionRequest,
    GenerateRequest,
    GenerateResult,
    HomeAssistantNotConfiguredError,
    InvalidAutomationError,
    InvalidSuggestionStateError,
    ManualSuggestionRequest,
    SourceNotReadyError,
    Suggestion,
    SuggestionNotFoundError,
    SuggestionPage,
    UnsafeAutomationError,
    ValidationAnswer,
)
from homeiq_ai.automation.backtest import History, backtest
from homeiq_ai.automation.deployment import find_entity, save_and_verify, stored_matches, unified_diff
from homeiq_ai.automation.generation import Draft, Wording, build_from_pattern, build_from_synergy
from homeiq_ai.automation.models import DeploymentRecord, SuggestionRecord
from homeiq_ai.automation.repository import AutomationRepository
from homeiq_ai.automation.validation import HomeCatalog, build_catalog, validate, validate_text
from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.kernel.errors import BadRequestError, HomeIQError, UpstreamError
from homeiq_ai.kernel.haconfig import Automation, HaConfigError, parse_automation, parse_text, render_yaml
from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.model import Entity, HomeInfo
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.pattern.api import PatternApi, PatternQuery, SynergyQuery
from homeiq_ai.query.api import QueryApi

log = logging.getLogger(__name__)

SUGGESTION_STATUSES = ("proposed", "approved", "rejected", "deployed", "disabled", "rolled_back", "deleted")
SUGGESTION_SOURCES = ("pattern", "synergy", "query", "manual")
CLAIM_STALE_SECONDS = 300.0
"""A pending deploy claim older than this belongs to no live deploy (HA calls are bounded far below it)."""
# Legal lifecycle moves: status -> statuses it may move to.
MOVES: dict[str, frozenset[str]] = {
    "proposed": frozenset({"approved", "rejected"}),
    # An approved suggestion with a Home Assistant automation was edited after deployment: still live there.
    "approved": frozenset({"deployed", "rejected", "disabled", "deleted", "rolled_back"}),
    "rejected": frozenset({"proposed"}),
    "deployed": frozenset({"disabled", "rolled_back", "deleted", "deployed"}),
    "disabled": frozenset({"deployed", "deleted", "rolled_back"}),
    "rolled_back": frozenset({"deployed", "disabled", "deleted", "rolled_back"}),
    "deleted": frozenset(),
}
# A rejected suggestion comes back only when its evidence grew this much (confidence x occurrences).
EVIDENCE_GROWTH = 1.5
HaFactory = Callable[[], HomeAssistantClient | None]
BACKTEST_DAYS = 30
"""The backtest replays this many days of the recorded history, ending at the newest stored state change."""


def rank_score(confidence: float, backtest_result: dict[str, Any] | None) -> float:
    """Confidence weighted by backtest agreement: one that would have done what people did ranks first."""
    agreement = (backtest_result or {}).get("agreement")
    return round(confidence * (0.5 + 0.5 * float(agreement or 0.0)), 4)


def suggestion_dto(record: SuggestionRecord) -> Suggestion:
    """Map a stored suggestion to its DTO."""
    return Suggestion(
        id=record.id,
        source=record.source,  # type: ignore[arg-type]
        source_id=record.source_id,
        title=record.title,
        description=record.description,
        status=record.status,  # type: ignore[arg-type]
        confidence=record.confidence,
        entity_ids=list(record.entity_ids or []),
        config=record.config,
        automation=record.config,
        yaml=record.yaml,
        evidence=record.evidence,
        validation=record.validation,
        safety=(record.validation or {}).get("safety"),
        backtest=record.backtest,
        rank_score=rank_score(record.confidence, record.backtest),
        status_reason=record.status_reason,
        ha_automation_id=record.ha_automation_id,
        entity_id=record.entity_id,
        automation_id=record.id if record.ha_automation_id and record.status != "deleted" else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def deployment_dto(record: DeploymentRecord) -> Deployment:
    """Map a stored deployment to its DTO."""
    return Deployment(
        id=record.id,
        suggestion_id=record.suggestion_id,
        ha_automation_id=record.ha_automation_id,
        version=record.version,
        status=record.status,
        deployed_at=record.deployed_at,
        error=record.error,
    )


def _title(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _evidence_strength(record: SuggestionRecord) -> float:
    occurrences = float((record.evidence or {}).get("occurrences") or 1)
    return record.confidence * occurrences


def _draft_record(
    source: str,
    source_id: str,
    draft: Draft | None,
    title: str,
    confidence: float,
    entity_ids: list[str],
    evidence: dict[str, Any],
) -> SuggestionRecord:
    # A synergy's explanation is a paragraph: its automation's name is the title a person scans.
    if source == "synergy" and draft is not None:
        title = draft.automation.alias
    record = SuggestionRecord(
        source=source,
        source_id=source_id,
        title=_title(title),
        description=draft.description if draft else title,
        confidence=confidence,
        entity_ids=entity_ids,
        evidence=evidence,
    )
    if draft is not None:
        record.config = draft.automation.to_config(include_id=False)
        record.yaml = render_yaml(draft.automation, include_id=False)
    return record


def _evidence(kind: str, item: Any, occurrences: int, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": item.id,
        "type": getattr(item, "pattern_type", None) or getattr(item, "synergy_type", None),
        "occurrences": occurrences,
        "confidence": getattr(item, "confidence", None) or getattr(item, "score", None),
        # The detectors write occurrence times in the home's local time zone already.
        "example_times": list(details.get("occurrence_times") or [])[-5:],
        "details": {k: v for k, v in details.items() if k not in ("occurrence_times", "histogram")},
    }


def _query_record(
    source_id: str, title: str, description: str, confidence: float, plan: dict[str, Any] | None, query_id: str
) -> SuggestionRecord:
    """A suggestion from a query's plan: the plan is the automation (the query module checked it)."""
    record = SuggestionRecord(
        source="query",
        source_id=source_id,
        title=_title(title),
        description=description,
        confidence=confidence,
        entity_ids=[],
        evidence={"kind": "query", "id": query_id, "occurrences": 1, "confidence": confidence},
    )
    if plan:
        try:
            automation = parse_automation(plan)
        except HaConfigError as exc:
            log.warning("query %s: its plan is not a valid automation (%s); suggested without config", query_id, exc)
            return record
        record.config = automation.to_config(include_id=False)
        record.yaml = render_yaml(automation, include_id=False)
        record.entity_ids = sorted({e for _p, e in automation.entity_references()})
    return record


class AutomationService:
    """Turns patterns, synergies and queries into suggestions and moves them through approval to deployment."""

    def __init__(
        self,
        db: Database,
        patterns: PatternApi,
        queries: QueryApi,
        *,
        home_assistant_configured: bool,
        home_assistant: HaFactory | None = None,
        repository: type[AutomationRepository] = AutomationRepository,
        home: HomeInfo | None = None,
    ) -> None:
        self._db = db
        self._patterns = patterns
        self._queries = queries
        self._ha_configured = home_assistant_configured
        self._ha_factory: HaFactory = home_assistant or (lambda: None)
        self._repository = repository
        self._home = home or HomeInfo(time_zone="UTC", source="settings")
        self._background: set[asyncio.Task[Any]] = set()

    def start_reconcile(self) -> None:
        """At start-up: settle deploy claims a killed process left pending, in the background (HA may be slow)."""
        task = asyncio.create_task(self.reconcile_pending_deployments(), name="automation-reconcile")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Stop background work (the start-up reconcile); claims it did not reach are settled next time."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def list_suggestions(
        self,
        status: str | None = None,
        source: str | None = None,
        limit: int = 50,
        offset: int = 0,
        entity: str | None = None,
    ) -> SuggestionPage:
        """Suggestions, newest first (filters: status, source, entity)."""
        async with self._db.session() as session:
            records, total = await self._repository(session).list_suggestions(status, source, limit, offset, entity)
            items = [suggestion_dto(r) for r in records]
        return SuggestionPage(items=items, total=total, limit=limit, offset=offset)

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """One suggestion."""
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(suggestion_id)
            if record is None:
                raise SuggestionNotFoundError(f"no suggestion has id {suggestion_id!r}")
            return suggestion_dto(record)

    # --- validation ---------------------------------------------------------------------------------

    async def _catalog(self) -> tuple[HomeCatalog, list[Automation]]:
        """The home as Home Assistant sees it now (states, services, automations); the stored home otherwise."""
        client = self._ha_factory()
        if client is None:
            store = HomeStore(self._db)
            return build_catalog(await store.entities(), await store.areas(), await store.devices()), []
        async with client:
            states = await client.states()
            services = await client._get("/api/services")
            existing: list[Automation] = []
            for state in states:
                ha_id = (state.get("attributes") or {}).get("id")
                if str(state.get("entity_id", "")).startswith("automation.") and ha_id:
                    config = await client.get_automation_config(str(ha_id))
                    if config is not None:
                        with contextlib.suppress(HaConfigError):
                            existing.append(parse_automation(config))
        entities = [
            Entity(
                entity_id=s["entity_id"],
                domain=s["entity_id"].split(".", 1)[0],
                friendly_name=(s.get("attributes") or {}).get("friendly_name"),
                device_class=(s.get("attributes") or {}).get("device_class"),
            )
            for s in states
        ]
        return build_catalog(entities, services=services), existing

    async def validate_yaml(self, text: str) -> ValidationAnswer:
        """POST /api/v1/automations/validate: every layer over one automation or a list."""
        catalog, existing = await self._catalog()
        return msgspec.convert(validate_text(text, catalog, existing).to_dict(), ValidationAnswer)

    async def audit(self) -> ValidationAnswer:
        """The same checks over every automation Home Assistant has."""
        catalog, existing = await self._catalog()
        return msgspec.convert(validate(existing, catalog, []).to_dict(), ValidationAnswer)

    async def _validate_record(self, record: SuggestionRecord, catalog: HomeCatalog | None = None) -> None:
        if record.config is None:
            record.validation = None
            return
        if catalog is None:
            catalog, _ = await self._catalog()
        automation = parse_automation(record.config)
        report = validate([automation], catalog, []).to_dict()
        result = report["results"][0]
        record.validation = {**result, "conflicts": report["conflicts"]}

    # --- backtest -------------------------------------------------------------------------------------

    async def _wording(self) -> Wording:
        """The home's friendly names and device classes (the reasons people read), from the home store."""
        entities = await HomeStore(self._db).entities()
        return Wording(
            names={e.entity_id: e.friendly_name for e in entities if e.friendly_name},
            device_classes={e.entity_id: e.device_class for e in entities if e.device_class},
        )

    async def _backtest_records(self, records: list[SuggestionRecord]) -> None:
        """Replay each record's automation on the last BACKTEST_DAYS of the stored history (one read for all)."""
        parsed: list[tuple[SuggestionRecord, Automation]] = []
        for record in records:
            if record.config is None:
                continue
            try:
                parsed.append((record, parse_automation(record.config)))
            except HaConfigError:
                record.backtest = None
        if not parsed:
            return
        store = HomeStore(self._db)
        entity_ids = sorted({e for _r, a in parsed for _p, e in a.entity_references()})
        end = await store.newest_event_time(entity_ids) if entity_ids else None
        if end is None:
            for record, _a in parsed:
                record.backtest = None
            return
        end = end + timedelta(seconds=1)
        start = end - timedelta(days=BACKTEST_DAYS)
        cols = await store.event_columns(start, end, entity_ids)
        history = History.from_columns(cols.entity_id, cols.old_state, cols.new_state, cols.time, start, end)
        home = await store.stored_home_info() or self._home
        for record, automation in parsed:
            result = backtest(
                automation, history, time_zone=home.time_zone, latitude=home.latitude, longitude=home.longitude
            )
            record.backtest = {
                **result.to_dict(),
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
            }

    # --- suggestions ---------------------------------------------------------------------------------

    async def generate_suggestions(self, request: GenerateRequest) -> GenerateResult:
        """One suggestion per opportunity: never the same twice; a rejected one returns only on stronger evidence."""
        if request.source == "query":
            candidates = await self._query_candidates(request)
        elif request.source == "synergies":
            wording = await self._wording()
            page = await self._patterns.list_synergies(
                SynergyQuery(min_score=request.min_confidence, limit=request.limit)
            )
            candidates = [
                _draft_record(
                    "synergy",
                    s.id,
                    build_from_synergy(s.entity_ids, s.details, wording),
                    s.explanation,
                    s.score,
                    list(s.entity_ids),
                    _evidence("synergy", s, int(s.details.get("support") or 0), dict(s.details)),
                )
                for s in page.items
                if not s.covered_by_automation
            ]
        else:
            wording = await self._wording()
            page = await self._patterns.list_patterns(
                PatternQuery(min_confidence=request.min_confidence, limit=request.limit)
            )
            followers: dict[str, list[tuple[str, str]]] = {}
            for p in page.items:
                if p.pattern_type == "co_occurrence" and p.details.get("trigger_entity_id"):
                    followers.setdefault(str(p.details["trigger_entity_id"]), []).append(
                        (str(p.details.get("response_entity_id")), str(p.details.get("response_state") or "on"))
                    )
            candidates = [
                _draft_record(
                    "pattern",
                    p.id,
                    build_from_pattern(p.pattern_type, p.entity_ids, p.details, p.description, followers, wording),
                    p.description,
                    p.confidence,
                    list(p.entity_ids),
                    _evidence("pattern", p, p.occurrences, dict(p.details)),
                )
                for p in page.items
            ]
        catalog: HomeCatalog | None = None
        if any(c.config is not None for c in candidates):
            catalog, _ = await self._catalog()
            await self._backtest_records(candidates)
        now = utcnow()
        async with self._db.session() as session:
            repo = self._repository(session)
            existing = {
                (r.source, r.source_id): r for r in await repo.by_sources([(c.source, c.source_id) for c in candidates])
            }
            created: list[SuggestionRecord] = []
            already = 0
            for candidate in candidates:
                old = existing.get((candidate.source, candidate.source_id))
                if old is not None:
                    if old.status == "rejected" and _evidence_strength(
                        candidate
                    ) >= EVIDENCE_GROWTH * _evidence_strength(old):
                        old.status, old.status_reason = "proposed", "evidence grew since it was rejected"
                        old.confidence, old.evidence, old.updated_at = candidate.confidence, candidate.evidence, now
                        created.append(old)
                    else:
                        already += 1
                    continue
                candidate.id = uuid.uuid4().hex
                candidate.status = "proposed"
                candidate.created_at = candidate.updated_at = now
                await self._validate_record(candidate, catalog)
                repo.add_suggestion(candidate)
                existing[(candidate.source, candidate.source_id)] = candidate
                created.append(candidate)
            await session.flush()
            result = GenerateResult(created=[suggestion_dto(r) for r in created], already_suggested=already)
        return result

    async def create_suggestion(self, request: ManualSuggestionRequest) -> Suggestion:
        """A hand-written automation as a suggestion (source manual)."""
        automation = self._parse_one(request.yaml, request.automation)
        now = utcnow()
        record = SuggestionRecord(
            id=uuid.uuid4().hex,
            source="manual",
            source_id=uuid.uuid4().hex,
            title=_title(automation.alias),
            description=automation.description or automation.alias,
            status="proposed",
            confidence=1.0,
            entity_ids=sorted({e for _p, e in automation.entity_references()}),
            config=automation.to_config(include_id=False),
            yaml=render_yaml(automation, include_id=False),
            evidence={"kind": "manual"},
            created_at=now,
            updated_at=now,
        )
        await self._validate_record(record)
        await self._backtest_records([record])
        async with self._db.session() as session:
            self._repository(session).add_suggestion(record)
            await session.flush()
            return suggestion_dto(record)

    @staticmethod
    def _parse_one(text: str | None, config: dict[str, Any] | None) -> Automation:
        if (text is None) == (config is None):
            raise InvalidAutomationError("give exactly one of 'yaml' or 'automation'")
        try:
            automations = parse_text(text) if text is not None else [parse_automation(config)]
        except HaConfigError as exc:
            raise InvalidAutomationError(f"the automation is not valid: {exc}") from None
        if len(automations) != 1:
            raise InvalidAutomationError(f"a suggestion holds one automation, the text has {len(automations)}")
        return automations[0]

    async def edit_suggestion(self, suggestion_id: str, request: EditSuggestionRequest) -> Suggestion:
        """New YAML for a suggestion; validated again. A deployed one is redeployed as version N+1 on deploy."""
        automation = self._parse_one(request.yaml, None)
        record_probe = SuggestionRecord(config=automation.to_config(include_id=False))
        await self._validate_record(record_probe)
        await self._backtest_records([record_probe])
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(suggestion_id, for_update=True)
            if record is None:
                raise SuggestionNotFoundError(f"no suggestion has id {suggestion_id!r}")
            if record.status in ("rejected", "deleted"):
                raise InvalidSuggestionStateError(
                    f"suggestion {suggestion_id!r} is {record.status}; it cannot be edited"
                )
            record.config = record_probe.config
            record.yaml = render_yaml(automation, include_id=False)
            record.validation = record_probe.validation
            record.backtest = record_probe.backtest
            record.title = _title(automation.alias)
            record.entity_ids = sorted({e for _p, e in automation.entity_references()})
            if record.status in ("deployed", "disabled", "rolled_back"):
                record.status = "approved"
                record.status_reason = "edited after deployment; deploy again for a new version"
            record.updated_at = utcnow()
            return suggestion_dto(record)

    async def _query_candidates(self, request: GenerateRequest) -> list[SuggestionRecord]:
        if not request.query_id:
            raise SourceNotReadyError("source 'query' needs query_id")
        query = await self._queries.get_query(request.query_id)
        suggestions = await self._queries.list_suggestions(request.query_id)
        candidates = [
            _query_record(s.id, s.title, s.description, s.confidence, s.plan, query.id)
            for s in suggestions.items
            if s.confidence >= request.min_confidence
        ][: request.limit]
        if not candidates and query.plan is None:
            raise SourceNotReadyError(
                f"query {query.id!r} has no automation plan yet (status {query.status!r}); "
                "answer its clarifications or refine it first"
            )
        if not candidates and query.plan is not None:
            candidates.append(_query_record(query.id, query.text, query.text, 1.0, query.plan, query.id))
        return candidates

    async def _move(self, suggestion_id: str, to: str, reason: str | None) -> Suggestion:
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(suggestion_id, for_update=True)
            if record is None:
                raise SuggestionNotFoundError(f"no suggestion has id {suggestion_id!r}")
            if record.status == to and to in ("approved", "rejected", "disabled"):
                return suggestion_dto(record)
            if to not in MOVES.get(record.status, frozenset()):
                raise InvalidSuggestionStateError(
                    f"suggestion {suggestion_id!r} is {record.status}; it cannot become {to}"
                )
            record.status, record.status_reason, record.updated_at = to, reason, utcnow()
            return suggestion_dto(record)

    async def approve_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """Approve a proposed suggestion; approving an approved one changes nothing."""
        return await self._move(suggestion_id, "approved", reason)

    async def reject_suggestion(self, suggestion_id: str, reason: str | None = None) -> Suggestion:
        """Reject a proposed (or approved, not yet deployed) suggestion."""
        return await self._move(suggestion_id, "rejected", reason)

    # --- deployment -----------------------------------------------------------------------------------

    def _client(self) -> HomeAssistantClient:
        client = self._ha_factory() if self._ha_configured else None
        if client is None:
            raise HomeAssistantNotConfiguredError("deployment needs Home Assistant: set HA_URL and HA_TOKEN")
        return client

    @staticmethod
    def _ha_error(exc: BadRequestError) -> UpstreamError:
        return UpstreamError(f"{exc.message}", code="home_assistant_rejected", details=exc.details)

    async def deploy(self, request: DeployRequest, *, actor: str = "api") -> DeployResult:
        """Deploy an approved suggestion's automation (version N+1 if it was deployed before).

        Raises:
            SuggestionNotFoundError, InvalidSuggestionStateError: the suggestion cannot be deployed.
            UnsafeAutomationError: a critical finding and no override with a reason.
            HomeAssistantNotConfiguredError: HA_URL / HA_TOKEN are not set.
            DeployInProgressError: another process claimed the same version first.
        """
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(request.suggestion_id)
            if record is None:
                raise SuggestionNotFoundError(f"no suggestion has id {request.suggestion_id!r}")
            if record.status != "approved":
                raise InvalidSuggestionStateError(
                    f"suggestion {record.id!r} is {record.status}; approve it before deploying"
                )
            if record.config is None:
                raise InvalidSuggestionStateError(
                    f"suggestion {record.id!r} has no Home Assistant automation config: its source said too "
                    "little to write one; edit it with YAML first"
                )
            config, yaml_text = dict(record.config), record.yaml or render_yaml(parse_automation(record.config))
            validation = record.validation or {}
            ha_id = record.ha_automation_id or f"homeiq_{record.id}"
        if validation and not validation.get("valid", True):
            errors = "; ".join(f"{e['path']}: {e['message']}" for e in validation.get("errors", []))
            raise InvalidSuggestionStateError(
                f"suggestion {request.suggestion_id!r} does not pass validation: {errors}"
            )
        critical = [f for f in (validation.get("safety") or {}).get("findings", []) if f["severity"] == "critical"]
        note = None
        if critical:
            if not (request.override and request.reason):
                raise UnsafeAutomationError(
                    f"suggestion {request.suggestion_id!r} has critical findings ("
                    + "; ".join(f["message"] for f in critical)
                    + "): deploy with override true and a reason"
                )
            note = f"override: {request.reason}"
            log.warning("deploying %s despite critical findings (%s)", request.suggestion_id, request.reason)
        client = self._client()
        await self._settle_claims(request.suggestion_id)
        return await self._deploy_version(
            request.suggestion_id, ha_id, config, yaml_text, client, actor, note, "deployed"
        )

    async def _deploy_version(
        self,
        suggestion_id: str,
        ha_id: str,
        config: dict[str, Any],
        yaml_text: str,
        client: HomeAssistantClient,
        actor: str,
        note: str | None,
        status_after: str,
    ) -> DeployResult:
        # Claim version N+1 first: the unique (suggestion_id, version) lets one of two racing processes win.
        claim_id = uuid.uuid4().hex
        try:
            async with self._db.session() as session:
                repo = self._repository(session)
                versions = await repo.versions(suggestion_id)
                previous = versions[-1] if versions else None
                if previous is not None and previous.status == "pending":
                    # Another process claimed between our check for leftover claims and this read: claiming
                    # the version after its claim would deploy the same suggestion twice.
                    raise DeployInProgressError(
                        f"suggestion {suggestion_id!r} is being deployed by another process"
                    )
                number = (previous.version if previous else 0) + 1
                repo.add_deployment(
                    DeploymentRecord(
                        id=claim_id,
                        suggestion_id=suggestion_id,
                        ha_automation_id=ha_id,
                        version=number,
                        status="pending",
                        config=config,
                        yaml=yaml_text,
                        diff=unified_diff(
                            previous.yaml if previous else None, yaml_text, f"version {number - 1}", f"version {number}"
                        ),
                        actor=actor,
                        note=note,
                        deployed_at=utcnow(),
                    )
                )
                await session.flush()
        except IntegrityError:
            raise DeployInProgressError(f"suggestion {suggestion_id!r} is being deployed by another process") from None
        try:
            async with client:
                entity_id = await save_and_verify(client, ha_id, config)
        except BadRequestError as exc:
            await self._drop_claim(claim_id)
            raise self._ha_error(exc) from None
        except BaseException:
            await self._drop_claim(claim_id)
            raise
        async with self._db.session() as session:
            repo = self._repository(session)
            claim = await repo.get_deployment(claim_id)
            record = await repo.get_suggestion(suggestion_id, for_update=True)
            assert claim is not None and record is not None
            claim.status = "deployed"
            record.status, record.ha_automation_id, record.entity_id = status_after, ha_id, entity_id
            record.config, record.yaml, record.updated_at = config, yaml_text, utcnow()
            # The reason of an earlier state ("edited after deployment") no longer holds; a rollback says so.
            record.status_reason = note if status_after == "rolled_back" else None
            record.title = _title(str(config.get("alias") or record.title))
        return DeployResult(automation_id=suggestion_id, ha_automation_id=ha_id, entity_id=entity_id, version=number)

    async def _settle_claims(self, suggestion_id: str) -> None:
        """Before a deploy: reconcile this suggestion's leftover claims; one still in flight is a 409."""
        if await self.reconcile_pending_deployments(suggestion_id):
            log.info("reconciled leftover deploy claims of %s before deploying", suggestion_id)
        async with self._db.session() as session:
            if await self._repository(session).pending_deployments(suggestion_id):
                raise DeployInProgressError(f"suggestion {suggestion_id!r} is being deployed by another process")

    async def reconcile_pending_deployments(
        self, suggestion_id: str | None = None, *, stale_after: float = CLAIM_STALE_SECONDS
    ) -> int:
        """Settle deploy claims a stopped process left `pending`, against Home Assistant's read-back.

        A process killed between Home Assistant's answer and its version record leaves a pending claim.
        When HA stores exactly the claim's config under its id, the deploy happened: the claim becomes the
        deployed version and the suggestion follows (status, entity, config). When HA does not, the deploy
        never landed: the claim is dropped once it is older than `stale_after` (a younger one may be a live
        deploy of another process, so it stays until then). Called at start-up and before each deploy.

        Returns:
            How many claims were settled (recorded or dropped).

        Raises:
            Nothing from Home Assistant when it cannot be read: the claims stay for the next try.
        """
        async with self._db.session() as session:
            claims = [
                (c.id, c.suggestion_id, c.ha_automation_id, dict(c.config), c.note, c.deployed_at)
                for c in await self._repository(session).pending_deployments(suggestion_id)
            ]
        if not claims or not self._ha_configured:
            return 0
        settled = 0
        client = self._client()
        try:
            async with client:
                for claim_id, sid, ha_id, config, note, claimed_at in claims:
                    stored = await client.get_automation_config(ha_id)
                    if stored is not None and stored_matches(stored, ha_id, config):
                        entity_id = await find_entity(client, ha_id)
                        settled += await self._record_claim(claim_id, sid, ha_id, config, entity_id, note)
                    elif (utcnow() - claimed_at).total_seconds() > stale_after:
                        await self._drop_claim(claim_id)
                        log.warning("dropped deploy claim %s of %s: Home Assistant never stored it", claim_id, sid)
                        settled += 1
        except HomeIQError as exc:
            log.warning("could not reconcile deploy claims with Home Assistant now (%s); next access retries", exc)
        return settled

    async def _record_claim(
        self,
        claim_id: str,
        suggestion_id: str,
        ha_id: str,
        config: dict[str, Any],
        entity_id: str | None,
        note: str | None,
    ) -> int:
        async with self._db.session() as session:
            repo = self._repository(session)
            claim = await repo.get_deployment(claim_id)
            record = await repo.get_suggestion(suggestion_id, for_update=True)
            if claim is None or record is None or claim.status != "pending":
                return 0
            claim.status = "deployed"
            claim.note = f"{note}; " if note else ""
            claim.note += "recorded at restart from Home Assistant's read-back"
            rollback = bool(note and note.startswith("rollback to version"))
            record.status = "rolled_back" if rollback else "deployed"
            record.ha_automation_id = ha_id
            record.entity_id = entity_id or record.entity_id
            record.config, record.yaml, record.updated_at = config, claim.yaml, utcnow()
            record.status_reason = note if rollback else None
            record.title = _title(str(config.get("alias") or record.title))
        log.warning(
            "deploy %s of %s was stored by Home Assistant but not recorded; recorded now", claim_id, suggestion_id
        )
        return 1

    async def _drop_claim(self, claim_id: str) -> None:
        async with self._db.session() as session:
            await self._repository(session).delete_deployment(claim_id)

    async def _deployed(self, automation_id: str) -> SuggestionRecord:
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(automation_id)
            if record is None or record.ha_automation_id is None or record.status == "deleted":
                raise AutomationNotFoundError(f"no deployed automation has id {automation_id!r}")
            return record

    async def list_automations(self) -> DeployedAutomationPage:
        """Every automation this project deployed (deleted ones left out)."""
        async with self._db.session() as session:
            records = await self._repository(session).deployed_suggestions()
            items = [await self._automation_dto(session, r, with_versions=False) for r in records]
        return DeployedAutomationPage(items=items, total=len(items))

    async def get_automation(self, automation_id: str) -> DeployedAutomation:
        """One deployed automation with all its versions."""
        await self._deployed(automation_id)
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(automation_id)
            assert record is not None
            return await self._automation_dto(session, record, with_versions=True)

    async def _automation_dto(
        self, session: Any, record: SuggestionRecord, *, with_versions: bool
    ) -> DeployedAutomation:
        versions = [v for v in await self._repository(session).versions(record.id) if v.status == "deployed"]
        return DeployedAutomation(
            automation_id=record.id,
            ha_automation_id=record.ha_automation_id or "",
            entity_id=record.entity_id,
            status=record.status,
            alias=str((record.config or {}).get("alias", record.title)),
            version=versions[-1].version if versions else 0,
            versions=[
                AutomationVersion(
                    version=v.version, yaml=v.yaml, diff=v.diff, actor=v.actor, note=v.note, deployed_at=v.deployed_at
                )
                for v in versions
            ]
            if with_versions
            else [],
        )

    @staticmethod
    def _check_move(record: SuggestionRecord, to: str) -> None:
        """Refuse an illegal move before Home Assistant is touched (so a 409 never leaves HA changed)."""
        if record.status != to and to not in MOVES.get(record.status, frozenset()):
            raise InvalidSuggestionStateError(f"automation {record.id!r} is {record.status}; it cannot become {to}")

    async def _service(self, automation_id: str, service: str, status_after: str | None) -> DeployedAutomation:
        record = await self._deployed(automation_id)
        if status_after is not None:
            self._check_move(record, status_after)
        client = self._client()
        try:
            async with client:
                entity_id = record.entity_id or await self._entity_of(client, record.ha_automation_id or "")
                await client.call_service("automation", service, {"entity_id": entity_id})
        except BadRequestError as exc:
            raise self._ha_error(exc) from None
        if status_after is not None:
            await self._move(automation_id, status_after, None)
        return await self.get_automation(automation_id)

    @staticmethod
    async def _entity_of(client: HomeAssistantClient, ha_id: str) -> str:
        from homeiq_ai.automation.deployment import find_entity

        entity_id = await find_entity(client, ha_id)
        if entity_id is None:
            raise UpstreamError(f"Home Assistant has no automation entity for {ha_id!r}")
        return entity_id

    async def enable(self, automation_id: str) -> DeployedAutomation:
        """automation.turn_on in Home Assistant."""
        return await self._service(automation_id, "turn_on", "deployed")

    async def disable(self, automation_id: str) -> DeployedAutomation:
        """automation.turn_off in Home Assistant."""
        return await self._service(automation_id, "turn_off", "disabled")

    async def trigger(self, automation_id: str) -> DeployedAutomation:
        """automation.trigger in Home Assistant (runs its actions now)."""
        return await self._service(automation_id, "trigger", None)

    async def rollback(self, automation_id: str, version: int, *, actor: str = "api") -> DeployResult:
        """Deploy an earlier version again, recorded as a new version."""
        record = await self._deployed(automation_id)
        async with self._db.session() as session:
            old = next(
                (
                    v
                    for v in await self._repository(session).versions(automation_id)
                    if v.version == version and v.status == "deployed"
                ),
                None,
            )
            if old is None:
                raise AutomationNotFoundError(f"automation {automation_id!r} has no version {version}")
            config, yaml_text = dict(old.config), old.yaml or ""
        await self._settle_claims(automation_id)
        return await self._deploy_version(
            automation_id,
            record.ha_automation_id or "",
            config,
            yaml_text,
            self._client(),
            actor,
            f"rollback to version {version}",
            "rolled_back",
        )

    async def delete_automation(self, automation_id: str) -> None:
        """Remove it from Home Assistant; its versions stay in the DB."""
        record = await self._deployed(automation_id)
        self._check_move(record, "deleted")
        client = self._client()
        try:
            async with client:
                await client.delete_automation_config(record.ha_automation_id or "")
        except BadRequestError as exc:
            raise self._ha_error(exc) from None
        await self._move(automation_id, "deleted", None)

    async def list_deployments(self, limit: int, offset: int) -> DeploymentPage:
        """Deployments, newest first."""
        async with self._db.session() as session:
            records, total = await self._repository(session).list_deployments(limit, offset)
            items = [deployment_dto(r) for r in records]
        return DeploymentPage(items=items, total=total, limit=limit, offset=offset)


_ = Awaitable
