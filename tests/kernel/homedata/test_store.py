"""The local store on SQLite and PostgreSQL: idempotent writes, time-ordered windows, areas, sync state."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataSource
from homeiq_ai.kernel.homedata.store import HomeStore, LocalHomeSource, decode_cursor, encode_cursor

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _event(entity_id: str, minute: float, new: str = "on", old: str | None = "off", **extra: object) -> Event:
    return Event(entity_id=entity_id, old_state=old, new_state=new, time=T0 + timedelta(minutes=minute), **extra)


@pytest.fixture
async def store(any_database_url: str) -> AsyncIterator[HomeStore]:
    """A store on an empty database at head (SQLite, then PostgreSQL)."""
    db = Database(any_database_url)
    yield HomeStore(db)
    await db.dispose()


async def _all(store: HomeStore, start: datetime, end: datetime, entity_ids=None, batch_size=10_000) -> list[Event]:
    out: list[Event] = []
    async for batch in store.events(start, end, entity_ids, batch_size):
        assert 0 < len(batch) <= batch_size
        out.extend(batch)
    return out


async def test_insert_is_idempotent(store: HomeStore) -> None:
    """Re-inserting stored events, or repeating one inside a batch, stores nothing twice."""
    events = [_event("light.kitchen", 0), _event("light.kitchen", 1, "off", "on"), _event("switch.fan", 0)]
    assert await store.insert_events(events) == (3, 0)
    assert await store.insert_events(events) == (0, 3)
    again = [_event("light.kitchen", 1, "off", "on"), _event("light.kitchen", 2), _event("light.kitchen", 2)]
    assert await store.insert_events(again) == (1, 2)
    assert await store.count_events() == 4
    assert await store.insert_events([]) == (0, 0)


async def test_values_round_trip_in_utc(store: HomeStore) -> None:
    """Times with any offset come back in UTC; attributes (unicode too), nulls and context ids survive."""
    plus_two = timezone(timedelta(hours=2))
    event = Event(
        entity_id="sensor.kueche_temp",
        old_state=None,
        new_state="21.5",
        time=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=plus_two),
        attributes={"friendly_name": "Küche", "nested": {"a": [1, 2.5, None]}},
        context_id="01HQ" + "X" * 22,
    )
    await store.insert_events([event])
    [back] = await _all(store, T0, T0 + timedelta(days=1))
    assert back.time == datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert back.time.utcoffset() == timedelta(0)
    assert (back.old_state, back.new_state, back.context_id) == (None, "21.5", event.context_id)
    assert back.attributes == event.attributes


async def test_window_is_time_ordered_and_half_open(store: HomeStore) -> None:
    """Events come back in time order across entities, with start <= time < end, in bounded batches."""
    rng = random.Random(7)
    entities = [f"light.l{i}" for i in range(5)]
    events = [_event(entities[i % 5], rng.uniform(0, 600)) for i in range(400)]
    events += [_event("light.l0", 0), _event("light.l0", 600)]
    await store.insert_events(events)
    stored = await _all(store, T0 - timedelta(days=1), T0 + timedelta(days=1))
    expected = sorted({(e.entity_id, e.time) for e in events}, key=lambda k: (k[1],))
    assert [e.time for e in stored] == sorted(e.time for e in stored)
    assert len(stored) == len(expected)

    start, end = T0, T0 + timedelta(minutes=600)
    for entity_ids in (None, entities[:2], entities, ["light.l0"]):
        got = await _all(store, start, end, entity_ids, batch_size=7)
        want = sorted(
            (e.time, e.entity_id)
            for e in {(x.entity_id, x.time): x for x in events}.values()
            if start <= e.time < end and (entity_ids is None or e.entity_id in entity_ids)
        )
        assert [(e.time, e.entity_id) for e in got] == want, entity_ids
    assert T0 in {e.time for e in await _all(store, start, end, ["light.l0"])}
    assert end not in {e.time for e in await _all(store, start, end, ["light.l0"])}
    assert await _all(store, start, end, []) == []


async def test_window_of_chosen_entities_with_uneven_density(store: HomeStore) -> None:
    """A long sparse stretch, a dense burst and equal times still come back complete and in order."""
    events = [_event("sensor.a", m * 60 * 24) for m in range(30)]  # one a day
    events += [_event("sensor.b", 20 * 24 * 60 + s / 60) for s in range(500)]  # 500 in ~8 minutes
    events += [_event(f"sensor.c{i}", 10 * 24 * 60) for i in range(30)]  # 30 at the same instant
    await store.insert_events(events)
    chosen = ["sensor.a", "sensor.b"] + [f"sensor.c{i}" for i in range(30)]
    got = await _all(store, T0, T0 + timedelta(days=31), chosen, batch_size=16)
    assert len(got) == len(events)
    assert [e.time for e in got] == sorted(e.time for e in events)


async def test_event_pages_follow_the_cursor(store: HomeStore) -> None:
    """Pages chain through every event exactly once; a foreign cursor is refused."""
    events = [_event(f"light.l{i % 3}", i // 3) for i in range(25)]
    await store.insert_events(events)
    for entity_ids in (None, ["light.l0", "light.l2"]):
        seen: list[Event] = []
        cursor = None
        while True:
            page = await store.event_page(entity_ids=entity_ids, cursor=cursor, limit=4)
            seen.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        want = [e for e in events if entity_ids is None or e.entity_id in entity_ids]
        assert [(e.entity_id, e.time) for e in seen] == [(e.entity_id, e.time) for e in want]
    with pytest.raises(ValueError):
        await store.event_page(cursor="not-a-cursor")
    moment = datetime(2026, 3, 1, 1, 2, 3, 456789, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)


async def test_entity_area_is_its_own_else_its_devices(store: HomeStore) -> None:
    """An entity without an area takes its device's, also after the device moves; its own area wins."""
    await store.upsert_areas([Area(area_id="kitchen", name="Kitchen"), Area(area_id="hall", name="Hall")])
    await store.upsert_devices([Device(device_id="dev1", name="Hue bridge", area_id="kitchen")])
    await store.upsert_entities(
        [
            Entity(entity_id="light.counter", domain="light", device_id="dev1"),
            Entity(entity_id="light.hall", domain="light", device_id="dev1", area_id="hall"),
            Entity(entity_id="sensor.loose", domain="sensor"),
        ]
    )
    areas = {e.entity_id: e.area_id for e in await store.entities()}
    assert areas == {"light.counter": "kitchen", "light.hall": "hall", "sensor.loose": None}
    assert [e.entity_id for e in await store.entities(area_id="kitchen")] == ["light.counter"]

    await store.upsert_devices([Device(device_id="dev1", name="Hue bridge", area_id="hall")])
    page = await store.list_entities(area_id="hall")
    assert [e.entity_id for e in page.items] == ["light.counter", "light.hall"]
    assert [a.area_id for a in await store.areas()] == ["hall", "kitchen"]


async def test_list_entities_filters_searches_and_pages(store: HomeStore) -> None:
    """Domain, area and case-insensitive search over entity_id, friendly name and aliases; paged."""
    await store.upsert_entities(
        [
            Entity(entity_id="light.kitchen_main", domain="light", friendly_name="Deckenlicht", area_id="kitchen"),
            Entity(entity_id="light.desk", domain="light", friendly_name="Desk lamp", aliases=["Schreibtisch"]),
            Entity(entity_id="sensor.kueche_temp", domain="sensor", friendly_name="Temperatur KÜCHE"),
            Entity(entity_id="switch.fan", domain="switch"),
        ]
    )
    page = await store.list_entities(domain="light")
    assert (page.total, [e.entity_id for e in page.items]) == (2, ["light.desk", "light.kitchen_main"])
    assert [e.entity_id for e in (await store.list_entities(search="KITCHEN")).items] == ["light.kitchen_main"]
    assert [e.entity_id for e in (await store.list_entities(search="lamp")).items] == ["light.desk"]
    assert [e.entity_id for e in (await store.list_entities(search="schreib")).items] == ["light.desk"]
    assert [e.entity_id for e in (await store.list_entities(search="küche")).items] == ["sensor.kueche_temp"]
    assert [e.entity_id for e in (await store.list_entities(area_id="kitchen")).items] == ["light.kitchen_main"]
    paged = await store.list_entities(limit=2, offset=1)
    assert (paged.total, [e.entity_id for e in paged.items]) == (4, ["light.kitchen_main", "sensor.kueche_temp"])


async def test_events_register_unknown_entities_without_overwriting(store: HomeStore) -> None:
    """Unknown entities are registered from their events' attributes; registered ones are left alone."""
    await store.upsert_entities([Entity(entity_id="light.known", domain="light", friendly_name="Mine", area_id="a")])
    await store.insert_events(
        [
            _event("light.known", 0, attributes={"friendly_name": "From HA"}),
            _event("sensor.power", 0, "12", None),
            _event(
                "sensor.power",
                1,
                "13",
                "12",
                attributes={"friendly_name": "Power", "device_class": "power", "unit_of_measurement": "W"},
            ),
        ]
    )
    entities = {e.entity_id: e for e in await store.entities()}
    assert (entities["light.known"].friendly_name, entities["light.known"].area_id) == ("Mine", "a")
    power = entities["sensor.power"]
    assert (power.domain, power.friendly_name, power.device_class, power.unit_of_measurement) == (
        "sensor",
        "Power",
        "power",
        "W",
    )


async def test_bad_events_write_nothing(store: HomeStore) -> None:
    """A naive time or an over-long state anywhere in a batch stores none of it."""
    good = [_event("light.a", 0), _event("light.a", 1)]
    naive = Event(entity_id="light.a", old_state="on", new_state="off", time=datetime(2026, 3, 1, 5))
    with pytest.raises(ValueError, match=r"events\[2\]\.time"):
        await store.insert_events([*good, naive])
    with pytest.raises(ValueError, match=r"events\[1\]\.new_state"):
        await store.insert_events([good[0], _event("light.a", 3, "x" * 256)])
    assert await store.count_events() == 0
    assert await store.entities() == []


async def test_newest_oldest_and_sync_state(store: HomeStore) -> None:
    """Newest/oldest event times, and a source's sync state written and read back."""
    assert await store.newest_event_time() is None
    await store.insert_events([_event("light.a", 5), _event("light.b", 9), _event("light.a", 1)])
    assert await store.newest_event_time() == T0 + timedelta(minutes=9)
    assert await store.newest_event_time(["light.a"]) == T0 + timedelta(minutes=5)
    assert await store.oldest_event_time() == T0 + timedelta(minutes=1)

    assert await store.get_sync_state("home_assistant") is None
    await store.set_sync_state("home_assistant", T0, {"windows": 3})
    await store.set_sync_state("home_assistant", T0 + timedelta(hours=1), {"windows": 4})
    state = await store.get_sync_state("home_assistant")
    assert state is not None
    assert (state.source, state.last_synced, state.details) == (
        "home_assistant",
        T0 + timedelta(hours=1),
        {"windows": 4},
    )
    assert state.updated_at.tzinfo is not None


async def test_local_source_implements_the_protocol(store: HomeStore) -> None:
    """LocalHomeSource answers the HomeDataSource methods; home info from settings until HA's is saved."""
    source: HomeDataSource = LocalHomeSource(store, time_zone="Europe/Berlin", latitude=52.5, longitude=13.4)
    info = await source.home_info()
    assert (info.time_zone, info.latitude, info.longitude, info.source) == ("Europe/Berlin", 52.5, 13.4, "settings")
    await store.upsert_areas([Area(area_id="hall", name="Hall")])
    await store.insert_events([_event("light.a", 0), _event("light.a", 1)])
    assert [a.area_id for a in await source.areas()] == ["hall"]
    assert [e.entity_id for e in await source.entities()] == ["light.a"]
    assert await source.devices() == []
    batches = [b async for b in source.events(T0, T0 + timedelta(hours=1), None, 1)]
    assert [len(b) for b in batches] == [1, 1]

    await store.save_home_info(
        HomeInfo(
            name="Casa",
            time_zone="Europe/Madrid",
            latitude=40.4,
            longitude=-3.7,
            elevation=650,
            source="home_assistant",
        )
    )
    info = await source.home_info()
    assert (info.name, info.time_zone, info.elevation, info.source) == ("Casa", "Europe/Madrid", 650, "home_assistant")


async def test_event_columns_match_the_window(store: HomeStore) -> None:
    """The bulk column read returns the half-open window in time order with exact UTC seconds."""
    events = [_event("light.a", m, new="on" if m % 2 else "off") for m in (5, 1, 3)] + [_event("light.b", 2)]
    await store.insert_events(events)
    start, end = T0 + timedelta(minutes=1), T0 + timedelta(minutes=5)
    columns = await store.event_columns(start, end)
    assert columns.entity_id == ["light.a", "light.b", "light.a"]
    assert columns.new_state == ["on", "on", "on"]
    assert [round(t - T0.timestamp(), 3) for t in columns.time] == [60.0, 120.0, 180.0]
    empty = await store.event_columns(end + timedelta(days=1), end + timedelta(days=2))
    assert (empty.entity_id, len(empty.time)) == ([], 0)


async def test_entity_aggregates_and_a_read_of_chosen_entities(store: HomeStore) -> None:
    """The database counts changes per entity and per new state; the column read can take only some entities."""
    events = [_event("light.a", m, new="on" if m % 2 else "off") for m in (1, 2, 3, 4)]
    events += [_event("sensor.p", m, new=str(m)) for m in (1, 2, 3)] + [_event("light.b", 9)]
    await store.insert_events(events)
    start, end = T0, T0 + timedelta(minutes=5)
    assert await store.entity_event_counts(start, end) == {"light.a": 4, "sensor.p": 3}
    states = await store.entity_state_counts(start, end, ["light.a"])
    assert states == {"light.a": {"on": 2, "off": 2}}
    assert await store.entity_state_counts(start, end, []) == {}
    columns = await store.event_columns(start, end, ["sensor.p"])
    assert columns.entity_id == ["sensor.p"] * 3
    assert columns.new_state == ["1", "2", "3"]
    none = await store.event_columns(start, end, [])
    assert none.entity_id == []
