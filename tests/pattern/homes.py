"""Synthetic homes and their frames, generated once per test session and shared by the detector tests."""

from __future__ import annotations

from functools import lru_cache

from homeiq_ai.pattern.detectors.base import EntityInfo, EventFrame
from homeiq_ai.pattern.detectors.frame import frame_from_events
from homeiq_ai.training.synthetic import GeneratedHome, generate_home


@lru_cache(maxsize=16)
def synthetic_home(
    seed: int = 1, home_type: str = "single_family", days: int = 30, realism: str = "tight"
) -> GeneratedHome:
    """A generated home (cached: the same arguments give the same object)."""
    return generate_home(seed=seed, home_type=home_type, days=days, realism=realism)


@lru_cache(maxsize=16)
def synthetic_frame(
    seed: int = 1, home_type: str = "single_family", days: int = 30, realism: str = "tight"
) -> EventFrame:
    """The whole period of a synthetic home as an EventFrame, with its entities' registry data."""
    home = synthetic_home(seed, home_type, days, realism)
    spec = home.spec
    entities = {
        e.entity_id: EntityInfo(
            entity_id=e.entity_id,
            domain=e.domain,
            area_id=e.area_id,
            device_class=e.device_class,
            entity_category=e.entity_category,
            friendly_name=e.friendly_name,
        )
        for e in spec.entities
    }
    return frame_from_events(
        home.events,
        time_zone=spec.time_zone,
        latitude=spec.latitude,
        longitude=spec.longitude,
        entities=entities,
        holidays=home.truth.holidays,
    )
