"""Use cases of the query module: plan a request against the home catalog, answer its questions, list suggestions."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from homeiq_ai.kernel.db import Database, utcnow
from homeiq_ai.kernel.haconfig import ServiceAction
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.query.api import (
    MAX_TEXT_CHARS,
    MAX_USER_ID_CHARS,
    Clarification,
    EntityMatch,
    InvalidQueryError,
    Query,
    QueryNotFoundError,
    QueryOption,
    QueryPlan,
    QueryQuestion,
    QueryRequest,
    QuerySuggestion,
    QuerySuggestionPage,
    RefineRequest,
)
from homeiq_ai.query.llm import LlmPlanError, LlmPlanner
from homeiq_ai.query.models import QueryRecord, QuerySuggestionRecord
from homeiq_ai.query.parsing.parser import ParsedPlan, ParseResult, Question, parse_request, sensitive_reason
from homeiq_ai.query.repository import QueryRepository
from homeiq_ai.query.resolution.index import Catalog, CatalogArea, CatalogEntity, CatalogIndex

log = logging.getLogger(__name__)

PLANNED = "planned"
NEEDS_CLARIFICATION = "needs_clarification"
MAX_ANSWERS = 50
FALLBACK_NOTE = "The language model failed or timed out; the offline parser planned this."


def query_dto(record: QueryRecord) -> Query:
    """Map a stored query to its DTO."""
    return Query(
        id=record.id,
        query_id=record.id,
        text=record.text,
        status=record.status,
        user_id=record.user_id,
        context=dict(record.context) if record.context is not None else None,
        refinements=list(record.refinements or []),
        clarifications=[Clarification(**c) for c in record.clarifications or []],
        plan=dict(record.plan) if record.plan is not None else None,
        entities=[EntityMatch(**e) for e in record.entities or []],
        plans=[QueryPlan(**p) for p in record.plans or []],
        questions=[
            QueryQuestion(id=q["id"], text=q["text"], options=[QueryOption(**o) for o in q.get("options", [])])
            for q in record.questions or []
        ],
        answers=dict(record.answers or {}),
        confidence=record.confidence or 0.0,
        engine=record.engine or "offline",
        notes=[FALLBACK_NOTE] if record.engine == "offline_fallback" else [],
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def suggestion_dto(record: QuerySuggestionRecord) -> QuerySuggestion:
    """Map a stored suggestion to its DTO."""
    return QuerySuggestion(
        id=record.id,
        query_id=record.query_id,
        title=record.title,
        description=record.description,
        plan=dict(record.plan or {}),
        confidence=record.confidence,
        created_at=record.created_at,
    )


def clean_text(value: str, field: str) -> str:
    """Strip surrounding blanks and check the length.

    Raises:
        InvalidQueryError: nothing is left, or more than MAX_TEXT_CHARS characters are.
    """
    text = value.strip()
    if not text:
        raise InvalidQueryError(f"{field} must not be empty or only blanks")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidQueryError(f"{field} may have at most {MAX_TEXT_CHARS} characters, got {len(text)}")
    return text


class CatalogCache:
    """The home catalog's index, rebuilt only when the catalog's version (a hash) changes.

    The catalog is read from the home store at most once per `ttl_s`; between reads every request
    uses the same index, so a request never scans the catalog.
    """

    def __init__(self, store: HomeStore, *, ttl_s: float = 30.0) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._index: CatalogIndex | None = None
        self._read_at = -1e18
        self._lock = asyncio.Lock()
        self.builds = 0

    def invalidate(self) -> None:
        """Read the catalog again on the next request (after a sync, say)."""
        self._read_at = -1e18

    async def index(self) -> CatalogIndex:
        """The current index."""
        if self._index is not None and time.monotonic() - self._read_at < self._ttl_s:
            return self._index
        async with self._lock:
            if self._index is not None and time.monotonic() - self._read_at < self._ttl_s:
                return self._index
            areas = await self._store.areas()
            entities = await self._store.entities()
            catalog = Catalog(
                entities=[
                    CatalogEntity(
                        entity_id=e.entity_id,
                        name=e.friendly_name or e.entity_id.split(".", 1)[1].replace("_", " "),
                        area_id=e.area_id,
                        device_class=e.device_class,
                        aliases=tuple(e.aliases),
                    )
                    for e in entities
                ],
                areas=[CatalogArea(area_id=a.area_id, name=a.name, aliases=tuple(a.aliases)) for a in areas],
            )
            if self._index is None or self._index.version != catalog.version:
                self._index = await asyncio.to_thread(CatalogIndex, catalog)
                self.builds += 1
            self._read_at = time.monotonic()
            return self._index


def _plan_columns(record: QueryRecord, result: ParseResult, index: CatalogIndex, engine: str = "offline") -> None:
    """Write a parse result into the session's columns."""
    questions = [
        {"id": q.id, "text": q.text, "options": [{"id": i, "label": label} for i, label in q.options]}
        for q in result.questions
    ]
    asked = {c["id"]: c for c in record.clarifications or []}
    for q in questions:
        asked.setdefault(q["id"], {"id": q["id"], "question": q["text"], "options": [o["id"] for o in q["options"]]})
    for qid, answer in (record.answers or {}).items():
        if qid in asked:
            asked[qid] = {**asked[qid], "answer": answer}
    record.clarifications = list(asked.values())
    record.questions = questions
    record.entities = [
        {"entity_id": eid, "name": index.name_of(eid), "score": round(score, 3)} for eid, score in result.entities
    ]
    record.plans = [
        {"summary": p.summary, "confidence": p.confidence, "automation": p.automation.to_config()} for p in result.plans
    ]
    record.confidence = result.confidence
    record.engine = engine
    record.catalog_version = index.version
    record.status = PLANNED if result.plans and not result.questions else NEEDS_CLARIFICATION
    record.plan = record.plans[0]["automation"] if record.status == PLANNED else None


def _full_text(record: QueryRecord) -> str:
    return " ".join([record.text, *(record.refinements or [])])


class QueryService:
    """Plans requests against the home catalog, stores the sessions and their suggestions."""

    def __init__(
        self,
        db: Database,
        *,
        repository: type[QueryRepository] = QueryRepository,
        catalog: CatalogCache | None = None,
        llm: LlmPlanner | None = None,
        patterns: Any = None,
    ) -> None:
        self._db = db
        self._llm = llm
        self._patterns = patterns  # the pattern api (PatternApi), for "when I usually get up"
        self._repository = repository
        self.catalog = catalog or CatalogCache(HomeStore(db))

    async def _replace_suggestions(
        self, repository: QueryRepository, record: QueryRecord, *, new: bool = False
    ) -> None:
        if not new:
            await repository.delete_suggestions(record.id)
        if record.status != PLANNED:
            return
        now = utcnow()
        for plan in record.plans:
            await repository.add_suggestion(
                QuerySuggestionRecord(
                    id=uuid.uuid4().hex,
                    query_id=record.id,
                    title=plan["automation"]["alias"][:255],
                    description=plan["summary"],
                    plan=plan["automation"],
                    confidence=plan["confidence"],
                    created_at=now,
                )
            )

    async def _plan(self, text: str, index: CatalogIndex, answers: dict[str, str]) -> tuple[ParseResult, str]:
        """Plan offline; where that needs more than a yes or an am/pm and an LLM is set, ask the LLM.

        Returns the result and the engine: `offline`, `llm`, or `offline_fallback` (the LLM failed).
        """
        result = parse_request(text, index, answers)
        if result.routine and "routine_time" not in answers:
            known = await self._routine_time([e for e, _ in result.entities])
            if known:
                result = parse_request(text, index, {**answers, "routine_time": known})
        hard = [q for q in result.questions if not q.id.startswith(("confirm_", "time_"))]
        if self._llm is None or (result.plans and not hard):
            return result, "offline"
        try:
            automation, summary = await self._llm.plan(text, index)
        except LlmPlanError as exc:
            log.warning("query: %s; the offline parser answers", exc)
            return result, "offline_fallback"
        questions: list[Question] = []
        for _path, action in automation.all_actions():
            why = sensitive_reason(index, action) if isinstance(action, ServiceAction) else None
            if why and isinstance(action, ServiceAction):
                qid = f"confirm_{action.service.replace('.', '_')}_{'_'.join(action.target.entity_id)}"
                if answers.get(qid) != "yes":
                    names = ", ".join(index.name_of(e) for e in action.target.entity_id)
                    questions.append(
                        Question(
                            qid,
                            f"This will {why} {names}. Are you sure?",
                            [("yes", f"Yes, {why} {names}"), ("no", "No")],
                        )
                    )
        entities = sorted(
            {e for _p, a in automation.all_actions() if isinstance(a, ServiceAction) for e in a.target.entity_id}
        )
        llm_result = ParseResult(
            plans=[ParsedPlan(automation=automation, summary=summary, confidence=0.7)],
            questions=questions,
            entities=[(e, 0.7) for e in entities],
            confidence=0.7,
        )
        return llm_result, "llm"

    async def _routine_time(self, entity_ids: list[str]) -> str | None:
        """The usual time (HH:MM:SS) of the most confident time-of-day pattern of these entities, if any."""
        if self._patterns is None or not entity_ids:
            return None
        from homeiq_ai.pattern.api import PatternQuery

        best: tuple[float, str] | None = None
        try:
            async with asyncio.timeout(2.0):
                for entity_id in entity_ids[:3]:
                    page = await self._patterns.list_patterns(
                        PatternQuery(pattern_type="time_of_day", entity_id=entity_id, limit=5)
                    )
                    for pattern in page.items:
                        at = str(pattern.details.get("time") or "")
                        if len(at) == 5 and (best is None or pattern.confidence > best[0]):
                            best = (pattern.confidence, f"{at}:00")
        except Exception as exc:  # the pattern service may be down or slow: then we ask
            log.warning("query: no routine from the pattern api (%s)", type(exc).__name__)
            return None
        return best[1] if best else None

    async def create_query(self, request: QueryRequest) -> Query:
        """Plan a request and store the session.

        Raises:
            InvalidQueryError: empty or too long text, or a too long user id.
        """
        text = clean_text(request.query, "query")
        if request.user_id is not None and len(request.user_id) > MAX_USER_ID_CHARS:
            raise InvalidQueryError(f"user_id may have at most {MAX_USER_ID_CHARS} characters")
        index = await self.catalog.index()
        result, engine = await self._plan(text, index, {})
        now = utcnow()
        record = QueryRecord(
            id=uuid.uuid4().hex,
            text=text,
            status=NEEDS_CLARIFICATION,
            user_id=request.user_id,
            context=dict(request.context) if request.context is not None else None,
            refinements=[],
            clarifications=[],
            answers={},
            plan=None,
            created_at=now,
            updated_at=now,
        )
        _plan_columns(record, result, index, engine)
        async with self._db.session() as session:
            repository = self._repository(session)
            await repository.add_query(record)
            await session.flush()
            await self._replace_suggestions(repository, record, new=True)
        return query_dto(record)

    async def get_query(self, query_id: str) -> Query:
        """One stored query.

        Raises:
            QueryNotFoundError: no query has that id.
        """
        async with self._db.session() as session:
            record = await self._repository(session).get_query(query_id)
            if record is None:
                raise QueryNotFoundError(f"no query has id {query_id!r}")
            return query_dto(record)

    async def refine_query(self, query_id: str, request: RefineRequest) -> Query:
        """Merge answers and/or more words into a query, then plan it again.

        An answer is an option id of its question or free text; a question answered once is not asked
        again (its answer is kept). Free text to a missing trigger or action is read as more words.

        Raises:
            InvalidQueryError: neither answers nor a refinement, empty or too long texts, too many answers.
            QueryNotFoundError: no query has that id.
        """
        refinement = clean_text(request.refinement, "refinement") if request.refinement is not None else None
        answers: dict[str, str] = {}
        for qid, value in (request.answers or {}).items():
            answers[clean_text(qid, "answer id")[:128]] = clean_text(value, f"answer to {qid!r}")
        if refinement is None and not answers:
            raise InvalidQueryError("refine needs `answers` (question id -> option id or text) or a `refinement`")
        if len(answers) > MAX_ANSWERS:
            raise InvalidQueryError(f"at most {MAX_ANSWERS} answers at once")
        index = await self.catalog.index()
        async with self._db.session() as session:
            repository = self._repository(session)
            record = await repository.get_query(query_id, for_update=True)
            if record is None:
                raise QueryNotFoundError(f"no query has id {query_id!r}")
            known = {c["id"]: c for c in record.clarifications or []}
            unknown = sorted(set(answers) - set(known))
            if unknown:
                raise InvalidQueryError(f"no question of this query has id {unknown[0]!r}")
            # New lists and dicts, so that the JSON columns are seen as changed.
            refinements = list(record.refinements or [])
            merged = dict(record.answers or {})
            for qid, value in answers.items():
                options = known[qid].get("options") or []
                if value in options:
                    merged[qid] = value
                elif qid in ("no_trigger", "no_action", "trigger_unclear"):
                    refinements.append(value)
                    merged[qid] = value
                elif options:
                    raise InvalidQueryError(f"answer to {qid!r} must be one of {options}, got {value!r}")
                else:
                    merged[qid] = value
            if refinement is not None:
                refinements.append(refinement)
            record.refinements = refinements
            record.answers = merged
            result, engine = await self._plan(_full_text(record), index, merged)
            _plan_columns(record, result, index, engine)
            record.updated_at = utcnow()
            await session.flush()
            await self._replace_suggestions(repository, record)
            return query_dto(record)

    async def list_suggestions(self, query_id: str) -> QuerySuggestionPage:
        """The suggestions of a query (one per plan of a planned query), most confident first.

        Raises:
            QueryNotFoundError: no query has that id.
        """
        async with self._db.session() as session:
            repository = self._repository(session)
            if await repository.get_query(query_id) is None:
                raise QueryNotFoundError(f"no query has id {query_id!r}")
            items = [suggestion_dto(r) for r in await repository.list_suggestions(query_id)]
        return QuerySuggestionPage(items=items, total=len(items))


__all__: list[Any] = ["CatalogCache", "QueryService"]
