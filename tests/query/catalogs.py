"""The labelled homes of tests/data/query_homes as catalog indexes and as home-store rows."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from homeiq_ai.kernel.homedata.model import Area, Entity
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.query.resolution.index import Catalog, CatalogArea, CatalogEntity, CatalogIndex

HOMES = Path(__file__).resolve().parents[1] / "data" / "query_homes"


@lru_cache(maxsize=8)
def raw_home(name: str) -> dict[str, Any]:
    """The JSON of one labelled home."""
    return json.loads((HOMES / f"{name}.json").read_text())


@lru_cache(maxsize=8)
def home_index(name: str) -> CatalogIndex:
    """The catalog index of one labelled home (built once per test session)."""
    raw = raw_home(name)
    entities = [
        CatalogEntity(
            entity_id=e["entity_id"],
            name=e["friendly_name"] or e["entity_id"].split(".", 1)[1].replace("_", " "),
            area_id=e["area_id"],
            device_class=e["device_class"],
            aliases=tuple(e.get("aliases") or ()),
        )
        for e in raw["entities"]
    ]
    areas = [CatalogArea(area_id=a["area_id"], name=a["name"]) for a in raw["areas"]]
    return CatalogIndex(Catalog(entities=entities, areas=areas))


async def seed_home(store: HomeStore, name: str) -> None:
    """Write one labelled home's areas and entities into a home store."""
    raw = raw_home(name)
    await store.upsert_areas([Area(area_id=a["area_id"], name=a["name"]) for a in raw["areas"]])
    await store.upsert_entities(
        [
            Entity(
                entity_id=e["entity_id"],
                domain=e["entity_id"].split(".", 1)[0],
                friendly_name=e["friendly_name"],
                area_id=e["area_id"],
                device_class=e["device_class"],
                aliases=list(e.get("aliases") or []),
            )
            for e in raw["entities"]
        ]
    )
