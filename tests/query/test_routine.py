"""Pattern context: "when I usually get up" takes the usual time the pattern api knows, else asks."""

from __future__ import annotations

from typing import Any

from homeiq_ai.kernel.db import Database
from homeiq_ai.pattern.api import Pattern, PatternPage, PatternQuery
from homeiq_ai.query.api import QueryRequest
from homeiq_ai.query.service import QueryService
from query.catalogs import home_index


class _Catalog:
    async def index(self) -> Any:
        return home_index("synthetic_family")


class _Patterns:
    """A pattern api that knows one routine: the kitchen ceiling light goes on at 06:40."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[PatternQuery] = []

    async def list_patterns(self, query: PatternQuery) -> PatternPage:
        self.asked.append(query)
        if self.fail:
            raise ConnectionError("pattern service down")
        items = []
        if query.entity_id == "light.kitchen_ceiling":
            items.append(
                Pattern(
                    id="p1",
                    pattern_type="time_of_day",
                    entity_ids=["light.kitchen_ceiling"],
                    description="on at 06:40",
                    confidence=0.9,
                    quality=0.8,
                    occurrences=20,
                    details={"time": "06:40", "minute_of_day": 400},
                )
            )
        return PatternPage(items=items, total=len(items), limit=query.limit, offset=0)


TEXT = "turn on the kitchen ceiling light when i usually get up"


async def test_a_known_routine_becomes_the_time_trigger(db: Database) -> None:
    """The pattern's usual time is the trigger; nothing is asked."""
    patterns = _Patterns()
    service = QueryService(db, catalog=_Catalog(), patterns=patterns)  # type: ignore[arg-type]
    query = await service.create_query(QueryRequest(query=TEXT))
    assert query.status == "planned", query.questions
    assert query.plan is not None and query.plan["trigger"] == [{"platform": "time", "at": "06:40:00"}]
    assert patterns.asked[0].pattern_type == "time_of_day"


async def test_no_routine_or_a_failing_pattern_api_asks(db: Database) -> None:
    """Without a known routine (or with the pattern service down) the time is asked for."""
    service = QueryService(db, catalog=_Catalog(), patterns=_Patterns(fail=True))  # type: ignore[arg-type]
    query = await service.create_query(QueryRequest(query=TEXT))
    assert query.status == "needs_clarification"
    assert [q.id for q in query.questions] == ["routine_time"]
