"""Rows written straight into a module's tables, for tests that need stored data to read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from homeiq_ai.kernel.db import Database
from homeiq_ai.pattern.models import PatternRecord, SynergyRecord
from homeiq_ai.pattern.repository import PatternRepository

BASE_TIME = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


async def seed_patterns(
    database_url: str, specs: Sequence[tuple[str, str, Sequence[str], float]]
) -> list[str]:
    """Store patterns given as (id, pattern_type, entity_ids, confidence); returns their ids."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            repo = PatternRepository(session)
            for i, (pattern_id, pattern_type, entity_ids, confidence) in enumerate(specs):
                await repo.add_pattern(
                    PatternRecord(
                        id=pattern_id,
                        pattern_type=pattern_type,
                        area_id="living_room" if i % 2 == 0 else "kitchen",
                        description=f"{entity_ids[0]} turns on around 18:{i:02d}",
                        confidence=confidence,
                        quality=confidence,
                        occurrences=10 + i,
                        details={"seeded": True},
                        first_seen=BASE_TIME - timedelta(days=30),
                        last_seen=BASE_TIME,
                    ),
                    entity_ids,
                )
    finally:
        await db.dispose()
    return [s[0] for s in specs]


async def seed_synergies(database_url: str, specs: Sequence[tuple[str, Sequence[str], float]]) -> list[str]:
    """Store synergies given as (id, entity_ids in causal order, score); returns their ids."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            repo = PatternRepository(session)
            for synergy_id, entity_ids, score in specs:
                await repo.add_synergy(
                    SynergyRecord(
                        id=synergy_id,
                        synergy_type="device_pair" if len(entity_ids) == 2 else "chain",
                        depth=len(entity_ids),
                        area_id="hall",
                        score=score,
                        explanation=" -> ".join(entity_ids),
                        details={},
                    ),
                    entity_ids,
                )
    finally:
        await db.dispose()
    return [s[0] for s in specs]


STANDARD_PATTERNS = [
    ("p-evening-lamp", "time_of_day", ["light.living_room_lamp"], 0.95),
    ("p-door-hall", "co_occurrence", ["binary_sensor.front_door", "light.hall"], 0.88),
    ("p-morning", "sequence", ["binary_sensor.hall_motion", "light.hall", "light.kitchen"], 0.72),
    ("p-fan", "duration", ["fan.bathroom"], 0.40),
]
