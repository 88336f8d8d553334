"""Home routes through the real app: mounted in every process, registry, listing, and every ingest 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from helpers import assert_error
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.store import HomeStore
from homeiq_ai.settings import MODULE_NAMES, Settings

EVENTS = "/api/v1/home/events"


def _line(entity_id: str = "light.kitchen", minute: int = 0, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "entity_id": entity_id,
        "old_state": "off",
        "new_state": "on",
        "time": f"2026-03-01T07:{minute:02d}:00+00:00",
    }
    item.update(overrides)
    return item


REGISTRY = {
    "areas": [{"area_id": "kitchen", "name": "Kitchen", "aliases": ["Küche"]}],
    "devices": [{"device_id": "dev-hue", "name": "Hue", "area": "Living Room"}],
    "entities": [
        {"entity_id": "light.kitchen", "friendly_name": "Kitchen light", "area": "kitchen", "device_class": None},
        {"entity_id": "light.sofa", "friendly_name": "Sofa lamp", "device_id": "dev-hue", "aliases": ["Couch"]},
        {"entity_id": "binary_sensor.hall_motion", "area": "Hall", "device_class": "motion"},
    ],
}


@pytest.mark.parametrize("module", MODULE_NAMES)
async def test_mounted_in_every_process(
    module: str, make_settings: Callable[..., Settings], app_client: Callable[..., Any]
) -> None:
    """Each single-module process serves the home routes; home info comes from the settings."""
    settings = make_settings(HOME_TIME_ZONE="Europe/Berlin", HOME_LATITUDE="52.52", HOME_LONGITUDE="13.405")
    async with app_client([module], settings) as client:
        info = (await client.get("/api/v1/home")).json()
        assert info == {
            "name": "Home",
            "time_zone": "Europe/Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "elevation": None,
            "source": "settings",
        }
        assert (await client.get("/api/v1/home/areas")).json() == {"items": [], "total": 0}


async def test_register_then_list_areas_devices_entities(app_client: Callable[..., Any]) -> None:
    """A registry stores areas (also those only named), devices and entities with resolved areas."""
    async with app_client(["pattern"]) as client:
        stored = await client.post("/api/v1/home/entities", json=REGISTRY)
        assert stored.status_code == 200, stored.text
        assert stored.json() == {"areas": 3, "devices": 1, "entities": 3}
        areas = (await client.get("/api/v1/home/areas")).json()
        assert [(a["area_id"], a["name"]) for a in areas["items"]] == [
            ("hall", "Hall"),
            ("kitchen", "Kitchen"),
            ("living_room", "Living Room"),
        ]
        devices = (await client.get("/api/v1/home/devices")).json()["items"]
        assert [(d["device_id"], d["area_id"]) for d in devices] == [("dev-hue", "living_room")]
        entities = (await client.get("/api/v1/home/entities")).json()
        assert entities["total"] == 3
        by_id = {e["entity_id"]: e for e in entities["items"]}
        assert by_id["light.sofa"]["area_id"] == "living_room"  # from its device
        assert by_id["binary_sensor.hall_motion"]["area_id"] == "hall"
        assert by_id["binary_sensor.hall_motion"]["domain"] == "binary_sensor"

        async def ids(**params: Any) -> list[str]:
            page = (await client.get("/api/v1/home/entities", params=params)).json()
            return [e["entity_id"] for e in page["items"]]

        assert await ids(domain="light") == ["light.kitchen", "light.sofa"]
        assert await ids(area_id="living_room") == ["light.sofa"]
        assert await ids(search="COUCH") == ["light.sofa"]
        assert await ids(search="kitchen LIGHT") == ["light.kitchen"]
        assert await ids(search="motion") == ["binary_sensor.hall_motion"]
        assert await ids(limit=1, offset=1) == ["light.kitchen"]
        assert_error(await client.get("/api/v1/home/entities", params={"limit": 0}), 400, "invalid_request")


async def test_registry_rejects_bad_entries(app_client: Callable[..., Any]) -> None:
    """A bad entity id or an unknown field in the registry is a 400 naming the entry."""
    async with app_client(["pattern"]) as client:
        body = assert_error(
            await client.post("/api/v1/home/entities", json={"entities": [{"entity_id": "Light.Kitchen"}]}),
            400,
            "invalid_request",
        )
        assert "entities[0].entity_id" in body["message"]
        body = assert_error(
            await client.post("/api/v1/home/entities", json={"entities": [{"entity_id": "light.a", "room": "x"}]}),
            400,
            "invalid_request",
        )
        assert "entities[0]" in body["message"] and "room" in body["message"]
        assert (await client.get("/api/v1/home/entities")).json()["total"] == 0


async def test_ingest_stores_and_counts_duplicates(app_client: Callable[..., Any], db: Database) -> None:
    """201 with inserted and duplicates; the same batch again is all duplicates; entities registered."""
    batch = [
        _line(minute=0),
        _line(minute=5, old_state="on", new_state="off"),
        _line("sensor.temp", 1, new_state="21.5"),
    ]
    batch[2]["attributes"] = {"friendly_name": "Temperature", "unit_of_measurement": "°C"}
    batch[2]["context_id"] = "01HQCONTEXT"
    async with app_client(["query"]) as client:
        first = await client.post(EVENTS, json={"events": batch})
        assert first.status_code == 201, first.text
        assert first.json() == {"inserted": 3, "duplicates": 0}
        again = await client.post(EVENTS, json={"events": batch})
        assert again.json() == {"inserted": 0, "duplicates": 3}
        entities = (await client.get("/api/v1/home/entities", params={"search": "temperature"})).json()["items"]
        assert [(e["entity_id"], e["unit_of_measurement"]) for e in entities] == [("sensor.temp", "°C")]
    assert await HomeStore(db).count_events() == 3


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        (_line(minute=3, colour="red"), "events[3]", "unknown field `colour`"),
        (_line(minute=3, time="2026-03-01T07:03:00"), "events[3].time", "timezone"),
        (_line(minute=3, time="yesterday at noon"), "events[3].time", "datetime"),
        (_line(minute=3, time=1767250000), "events[3].time", "Expected `datetime`"),
        (_line(minute=3, time="0001-01-01T00:00:00+05:00"), "events[3]", "outside the supported range"),
        (_line(minute=3, new_state="x" * 256), "events[3].new_state", "length <= 255"),
        (_line(minute=3, old_state="y" * 300), "events[3].old_state", "length <= 255"),
        (_line("Light.Kitchen", 3), "events[3].entity_id", "regex"),
        (_line("light kitchen", 3), "events[3].entity_id", "regex"),
        ({k: v for k, v in _line(minute=3).items() if k != "new_state"}, "events[3]", "new_state"),
        (_line(minute=3, attributes=["not", "an", "object"]), "events[3].attributes", "Expected `object"),
    ],
)
async def test_ingest_rejects_a_bad_item_and_writes_nothing(
    bad: dict[str, Any], field: str, fragment: str, app_client: Callable[..., Any], db: Database
) -> None:
    """Any bad event is a 400 naming `events[i].field`; the good events of the batch are not stored."""
    batch = [_line(minute=0), _line(minute=1), _line(minute=2), bad, _line(minute=4)]
    async with app_client(["pattern"]) as client:
        body = assert_error(await client.post(EVENTS, json={"events": batch}), 400, "invalid_request")
    assert f"{field}:" in body["message"] or f"{field}" == body["details"][0]["field"], body
    assert fragment in body["message"], body
    assert body["details"][0]["field"] == field
    assert await HomeStore(db).count_events() == 0
    assert await HomeStore(db).entities() == []


async def test_ingest_batch_over_the_limit_is_413(
    make_settings: Callable[..., Settings], app_client: Callable[..., Any], db: Database
) -> None:
    """More events than INGEST_MAX_BATCH is a 413 giving the count and the limit; nothing is stored."""
    settings = make_settings(INGEST_MAX_BATCH="5")
    async with app_client(["pattern"], settings) as client:
        batch = [_line(minute=m) for m in range(6)]
        body = assert_error(await client.post(EVENTS, json={"events": batch}), 413, "payload_too_large")
        assert "6" in body["message"] and "5" in body["message"]
        assert body["details"] == {"count": 6, "max": 5}
        ok = await client.post(EVENTS, json={"events": batch[:5]})
        assert ok.status_code == 201 and ok.json()["inserted"] == 5
    assert await HomeStore(db).count_events() == 5


async def test_ingest_rejects_bad_bodies(app_client: Callable[..., Any]) -> None:
    """No body, malformed JSON, a missing `events` or an extra top-level field are 400s."""
    async with app_client(["pattern"]) as client:
        assert_error(await client.post(EVENTS), 400, "invalid_request")
        assert_error(
            await client.post(EVENTS, content=b"{nope", headers={"content-type": "application/json"}),
            400,
            "invalid_request",
        )
        assert_error(await client.post(EVENTS, json={}), 400, "invalid_request")
        body = assert_error(await client.post(EVENTS, json={"events": [], "source": "x"}), 400, "invalid_request")
        assert "source" in body["message"]
        empty = await client.post(EVENTS, json={"events": []})
        assert empty.status_code == 201 and empty.json() == {"inserted": 0, "duplicates": 0}


async def test_list_events_by_entity_window_and_cursor(app_client: Callable[..., Any]) -> None:
    """Events in time order, filtered by repeated entity_id and by start/end, paged by cursor."""
    batch = [_line(f"light.l{m % 3}", m) for m in range(30)]
    async with app_client(["automation"]) as client:
        assert (await client.post(EVENTS, json={"events": batch})).status_code == 201
        page = (await client.get(EVENTS, params={"entity_id": ["light.l0", "light.l1"], "limit": 50})).json()
        assert [e["entity_id"] for e in page["items"]] == [f"light.l{m % 3}" for m in range(30) if m % 3 != 2]
        assert page["next_cursor"] is None
        window = {"start": "2026-03-01T07:10:00Z", "end": "2026-03-01T07:20:00+00:00"}
        items = (await client.get(EVENTS, params=window)).json()["items"]
        assert [e["time"] for e in items] == [f"2026-03-01T07:{m}:00Z" for m in range(10, 20)]

        seen: list[str] = []
        params: dict[str, Any] = {"limit": 7, "entity_id": "light.l2"}
        while True:
            page = (await client.get(EVENTS, params=params)).json()
            seen += [e["time"] for e in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == [f"2026-03-01T07:{m:02d}:00Z" for m in range(2, 30, 3)]

        for bad_params, field in (
            ({"start": "2026-03-01T07:10:00"}, "start"),
            ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
            ({"cursor": "garbage"}, "cursor"),
            ({"limit": 0}, "limit"),
            ({"start": "soon"}, "start"),
        ):
            body = assert_error(await client.get(EVENTS, params=bad_params), 400, "invalid_request")
            assert field in body["message"], body


async def test_home_info_from_home_assistant_once_saved(app_client: Callable[..., Any], db: Database) -> None:
    """After a sync saved Home Assistant's /api/config, the home info is HA's, not the settings'."""
    from homeiq_ai.kernel.homedata.model import HomeInfo

    await HomeStore(db).save_home_info(
        HomeInfo(name="Cottage", time_zone="Europe/London", latitude=51.5, longitude=-0.1, source="home_assistant")
    )
    async with app_client(["training"]) as client:
        info = (await client.get("/api/v1/home")).json()
    assert (info["name"], info["time_zone"], info["source"]) == ("Cottage", "Europe/London", "home_assistant")
