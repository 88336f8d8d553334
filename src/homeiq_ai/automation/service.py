"""Use cases of the automation module: suggestions from patterns and queries, approval, deployment."""

from __future__ import annotations

import uuid

from homeiq_ai.automation.api import (
    Deployment,
    DeploymentPage,
    DeployRequest,
    GenerateRequest,
    GenerateResult,
    HomeAssistantNotConfiguredError,
    InvalidSuggestionStateError,
    SourceNotReadyError,
    Suggestion,
    SuggestionNotFoundError,
    SuggestionPage,
)
from homeiq_ai.automation.models import DeploymentRecord, SuggestionRecord
from homeiq_ai.automation.repository import AutomationRepository
from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.pattern.api import PatternApi, PatternQuery
from homeiq_ai.query.api import QueryApi

SUGGESTION_STATUSES = ("proposed", "approved", "rejected", "deployed")
SUGGESTION_SOURCES = ("pattern", "synergy", "query")


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


class AutomationService:
    """Turns patterns and queries into suggestions and moves them through approval to deployment."""

    def __init__(
        self,
        db: Database,
        patterns: PatternApi,
        queries: QueryApi,
        *,
        home_assistant_configured: bool,
        repository: type[AutomationRepository] = AutomationRepository,
    ) -> None:
        self._db = db
        self._patterns = patterns
        self._queries = queries
        self._ha_configured = home_assistant_configured
        self._repository = repository

    async def list_suggestions(
        self, status: str | None = None, source: str | None = None, limit: int = 50, offset: int = 0
    ) -> SuggestionPage:
        """Suggestions, newest first."""
        async with self._db.session() as session:
            records, total = await self._repository(session).list_suggestions(status, source, limit, offset)
            items = [suggestion_dto(r) for r in records]
        return SuggestionPage(items=items, total=total, limit=limit, offset=offset)

    async def get_suggestion(self, suggestion_id: str) -> Suggestion:
        """One suggestion."""
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(suggestion_id)
            if record is None:
                raise SuggestionNotFoundError(f"no suggestion has id {suggestion_id!r}")
            return suggestion_dto(record)

    async def generate_suggestions(self, request: GenerateRequest) -> GenerateResult:
        """Create one suggestion per source item that has none yet (calling again creates no duplicate)."""
        if request.source == "query":
            candidates = await self._query_candidates(request)
        else:
            page = await self._patterns.list_patterns(
                PatternQuery(min_confidence=request.min_confidence, limit=request.limit)
            )
            candidates = [
                SuggestionRecord(
                    source="pattern",
                    source_id=p.id,
                    title=_title(p.description),
                    description=p.description,
                    confidence=p.confidence,
                    entity_ids=list(p.entity_ids),
                )
                for p in page.items
            ]
        now = utcnow()
        async with self._db.session() as session:
            repo = self._repository(session)
            by_source: dict[str, set[str]] = {}
            for source in {c.source for c in candidates}:
                by_source[source] = await repo.existing_source_ids(
                    source, [c.source_id for c in candidates if c.source == source]
                )
            created: list[SuggestionRecord] = []
            for candidate in candidates:
                if candidate.source_id in by_source[candidate.source]:
                    continue
                candidate.id = uuid.uuid4().hex
                candidate.status = "proposed"
                candidate.config = None
                candidate.created_at = candidate.updated_at = now
                repo.add_suggestion(candidate)
                by_source[candidate.source].add(candidate.source_id)
                created.append(candidate)
            await session.flush()
            result = GenerateResult(
                created=[suggestion_dto(r) for r in created], already_suggested=len(candidates) - len(created)
            )
        return result

    async def _query_candidates(self, request: GenerateRequest) -> list[SuggestionRecord]:
        if not request.query_id:
            raise SourceNotReadyError("source 'query' needs query_id")
        query = await self._queries.get_query(request.query_id)
        suggestions = await self._queries.list_suggestions(request.query_id)
        candidates = [
            SuggestionRecord(
                source="query",
                source_id=s.id,
                title=_title(s.title),
                description=s.description,
                confidence=s.confidence,
                entity_ids=[],
            )
            for s in suggestions.items
            if s.confidence >= request.min_confidence
        ][: request.limit]
        if not candidates and query.plan is None:
            raise SourceNotReadyError(
                f"query {query.id!r} has no automation plan yet (status {query.status!r}); "
                "answer its clarifications or refine it first"
            )
        if not candidates and query.plan is not None:
            candidates.append(
                SuggestionRecord(
                    source="query",
                    source_id=query.id,
                    title=_title(query.text),
                    description=query.text,
                    confidence=1.0,
                    entity_ids=[],
                )
            )
        return candidates

    async def approve_suggestion(self, suggestion_id: str) -> Suggestion:
        """Approve a proposed suggestion; approving an approved one changes nothing."""
        async with self._db.session() as session:
            record = await self._repository(session).get_suggestion(suggestion_id, for_update=True)
            if record is None:
                raise SuggestionNotFoundError(f"no suggestion has id {suggestion_id!r}")
            if record.status not in ("proposed", "approved"):
                raise InvalidSuggestionStateError(
                    f"suggestion {suggestion_id!r} is {record.status}; only a proposed one can be approved"
                )
            if record.status == "proposed":
                record.status = "approved"
                record.updated_at = utcnow()
            return suggestion_dto(record)

    async def deploy(self, request: DeployRequest) -> Deployment:
        """Deploy an approved suggestion's automation to Home Assistant.

        Raises:
            SuggestionNotFoundError, InvalidSuggestionStateError: the suggestion cannot be deployed.
            HomeAssistantNotConfiguredError: HA_URL / HA_TOKEN are not set.
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
                    f"suggestion {record.id!r} has no Home Assistant automation config yet; "
                    "this version does not generate automation YAML"
                )
        if not self._ha_configured:
            raise HomeAssistantNotConfiguredError("deployment needs Home Assistant: set HA_URL and HA_TOKEN")
        raise InvalidSuggestionStateError("deployment to Home Assistant is not available in this version")

    async def list_deployments(self, limit: int, offset: int) -> DeploymentPage:
        """Deployments, newest first."""
        async with self._db.session() as session:
            records, total = await self._repository(session).list_deployments(limit, offset)
            items = [deployment_dto(r) for r in records]
        return DeploymentPage(items=items, total=total, limit=limit, offset=offset)
