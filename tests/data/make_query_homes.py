"""Write the home catalogs of the query labelled set: two synthetic homes and Home Assistant's demo home.

Run from the repository root: `python tests/data/make_query_homes.py`. The output (tests/data/query_homes/)
is committed, so that the labelled set and its homes stay fixed while the generator evolves.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "query_homes"
HA = ROOT / "tests" / "fixtures" / "homeassistant"


def synthetic(name: str, seed: int, home_type: str) -> None:
    """Dump a generated home's areas and entities."""
    from homeiq_ai.training.synthetic import generate_home

    spec = generate_home(seed=seed, home_type=home_type, days=1).spec
    catalog = {
        "name": name,
        "time_zone": spec.time_zone,
        "areas": [{"area_id": a.area_id, "name": a.name, "aliases": []} for a in spec.areas],
        "entities": [
            {
                "entity_id": e.entity_id,
                "friendly_name": e.friendly_name,
                "area_id": e.area_id,
                "device_class": e.device_class,
                "aliases": [],
            }
            for e in spec.entities
            if e.entity_category is None
        ],
    }
    (OUT / f"{name}.json").write_text(json.dumps(catalog, indent=1) + "\n")


def ha_demo() -> None:
    """Dump Home Assistant's demo home (states, entity/device/area registries of the fixture)."""
    states = json.loads((HA / "states.json").read_text())
    registry = json.loads((HA / "entity_registry.json").read_text())
    devices = json.loads((HA / "device_registry.json").read_text())
    areas = json.loads((HA / "area_registry.json").read_text())
    reg = {r["entity_id"]: r for r in (registry if isinstance(registry, list) else registry.get("entities", []))}
    dev_list = devices if isinstance(devices, list) else devices.get("devices", [])
    dev_area = {d["id"]: d.get("area_id") for d in dev_list}
    area_list = areas if isinstance(areas, list) else areas.get("areas", [])
    entities = []
    for s in states:
        r = reg.get(s["entity_id"], {})
        area = r.get("area_id") or dev_area.get(r.get("device_id"))
        entities.append(
            {
                "entity_id": s["entity_id"],
                "friendly_name": s["attributes"].get("friendly_name"),
                "area_id": area,
                "device_class": s["attributes"].get("device_class"),
                "aliases": list(r.get("aliases") or []),
            }
        )
    catalog = {
        "name": "ha_demo",
        "time_zone": "America/Los_Angeles",
        "areas": [
            {
                "area_id": a["area_id"] if "area_id" in a else a["id"],
                "name": a["name"],
                "aliases": list(a.get("aliases") or []),
            }
            for a in area_list
        ],
        "entities": entities,
    }
    (OUT / "ha_demo.json").write_text(json.dumps(catalog, indent=1) + "\n")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    synthetic("synthetic_family", 1, "single_family")
    synthetic("synthetic_apartment", 2, "apartment")
    ha_demo()
