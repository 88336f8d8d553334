"""HomeAssistantSource against a real Home Assistant: home info, registries, entities and windowed history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.homeassistant_source import HomeAssistantSource
from homeiq_ai.kernel.homedata.model import Event
from homeiq_ai.settings import Secret

from .conftest import HomeAssistantInstance
from .helpers import force_states, unique_entity, wait_recorded

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]


@pytest.fixture
async def client(home_assistant: HomeAssistantInstance) -> AsyncIterator[HomeAssistantClient]:
    """A client of the session's Home Assistant."""
    async with HomeAssistantClient(home_assistant.url, Secret(home_assistant.token), timeout=10) as ha:
        yield ha


async def _collect(source: HomeAssistantSource, start: datetime, end: datetime, ids: list[str] | None) -> list[Event]:
    out: list[Event] = []
    async for batch in source.events(start, end, ids, batch_size=3):
        assert len(batch) <= 3
        out.extend(batch)
    return out


async def test_home_info_comes_from_api_config(client: HomeAssistantClient) -> None:
    """Name, time zone and location are Home Assistant's own."""
    info = await HomeAssistantSource(client).home_info()
    assert info.name == "HomeIQ Test Home"
    assert info.time_zone == "Europe/Berlin"
    assert (info.latitude, info.longitude, info.elevation) == (52.52, 13.405, 34)
    assert info.source == "home_assistant"


async def test_areas_include_onboarding_and_created_ones(client: HomeAssistantClient) -> None:
    """Areas made by onboarding and over the WebSocket API are listed with their names."""
    areas = {a.area_id: a.name for a in await HomeAssistantSource(client).areas()}
    assert {"living_room", "kitchen", "bedroom", "office", "garden"} <= set(areas)
    assert areas["office"] == "Office"


async def test_devices_carry_the_areas_given_to_them(
    client: HomeAssistantClient, home_assistant: HomeAssistantInstance
) -> None:
    """A device's area is the one set through config/device_registry/update."""
    devices = {d.device_id: d for d in await HomeAssistantSource(client).devices()}
    kitchen_lights = devices[home_assistant.device_ids["light_3"]]
    assert kitchen_lights.name == "Kitchen Lights"
    assert kitchen_lights.area_id == "kitchen"
    assert devices[home_assistant.device_ids["switch1"]].area_id is None


async def test_entities_resolve_areas_and_take_attributes_from_states(client: HomeAssistantClient) -> None:
    """Entity area: its own, else its device's; names, units and classes from the state attributes."""
    entities = {e.entity_id: e for e in await HomeAssistantSource(client).entities()}
    assert entities["light.kitchen_lights"].area_id == "kitchen"  # inherited from its device
    assert entities["light.bed_light"].area_id == "bedroom"
    assert entities["light.ceiling_lights"].area_id == "office"  # its own wins over the device's
    assert entities["input_boolean.homeiq_test"].area_id == "office"  # no device at all
    assert entities["input_boolean.homeiq_test"].device_id is None
    assert entities["switch.decorative_lights"].area_id is None
    temperature = entities["sensor.outside_temperature"]
    assert temperature.area_id == "garden"
    assert temperature.friendly_name == "Outside Temperature"
    assert temperature.device_class == "temperature"
    assert temperature.unit_of_measurement == "°C"
    assert temperature.domain == "sensor"
    assert entities["light.kitchen_lights"].supported_features >= 0
    assert entities["sensor.sun_next_dawn"].entity_category == "diagnostic"
    # Entities without a registry entry (the demo's locks) still come from /api/states.
    assert "lock.front_door" in entities
    assert entities["lock.front_door"].area_id is None


async def test_registry_keeps_the_entities_own_area_only(client: HomeAssistantClient) -> None:
    """What the store keeps: the device's area is not copied into its entities."""
    registry = await HomeAssistantSource(client).registry()
    entities = {e.entity_id: e for e in registry.entities}
    assert entities["light.kitchen_lights"].area_id is None
    assert entities["light.ceiling_lights"].area_id == "office"
    assert {a.area_id for a in registry.areas} >= {"office", "garden"}
    assert any(d.area_id == "kitchen" for d in registry.devices)


async def test_history_in_windows_has_every_change_once_and_in_order(client: HomeAssistantClient) -> None:
    """Changes fetched over many small windows equal one big window: each once, in time order, UTC."""
    sensor = unique_entity()
    switch = "input_boolean.homeiq_test"
    start = datetime.now(UTC)
    values = ["1", "2", "2", "3", "unavailable", "3", "4", "5"]  # the repeated "2" is no change
    times = await force_states(client, sensor, values, gap=0.12)
    before = (await client.state(switch) or {})["state"]
    for _ in range(3):
        await client.call_service("input_boolean", "toggle", {"entity_id": switch})
    await wait_recorded(client, sensor, start - timedelta(seconds=1), 7)
    await wait_recorded(client, switch, start, 4)  # its state at `start`, then three flips
    end = datetime.now(UTC) + timedelta(seconds=1)

    windowed = HomeAssistantSource(client, window=timedelta(milliseconds=150))
    whole = HomeAssistantSource(client, window=timedelta(hours=1))
    assert len(windowed.windows(start, end)) >= 8
    ids = [sensor, switch]
    events = await _collect(windowed, start, end, ids)
    assert events == await _collect(whole, start, end, ids)

    assert [e.time for e in events] == sorted(e.time for e in events)
    assert all(e.time.tzinfo is not None and e.time.utcoffset() == timedelta(0) for e in events)
    sensor_events = [(e.old_state, e.new_state) for e in events if e.entity_id == sensor]
    assert sensor_events == [
        (None, "1"),
        ("1", "2"),
        ("2", "3"),
        ("3", "unavailable"),
        ("unavailable", "3"),
        ("3", "4"),
        ("4", "5"),
    ]
    expected_times = [times[i] for i in (0, 1, 3, 4, 5, 6, 7)]
    assert [e.time for e in events if e.entity_id == sensor] == expected_times
    flips = [(e.old_state, e.new_state) for e in events if e.entity_id == switch]
    other = "off" if before == "on" else "on"
    assert flips == [(before, other), (other, before), (before, other)]
    assert len({(e.entity_id, e.time) for e in events}) == len(events)


async def test_a_window_starting_mid_history_gets_the_old_state_from_before_it(
    client: HomeAssistantClient,
) -> None:
    """The first change inside a window has the state before the window as its old_state."""
    sensor = unique_entity()
    times = await force_states(client, sensor, ["a", "b", "c"], gap=0.2)
    await wait_recorded(client, sensor, times[0] - timedelta(seconds=1), 3)
    middle = times[1] + (times[2] - times[1]) / 2
    events = await _collect(HomeAssistantSource(client), middle, datetime.now(UTC) + timedelta(seconds=1), [sensor])
    assert [(e.old_state, e.new_state, e.time) for e in events] == [("b", "c", times[2])]
    # A window starting exactly at a change includes it (HA itself answers only rows after its start).
    exact = await _collect(HomeAssistantSource(client), times[1], middle, [sensor])
    assert [(e.old_state, e.new_state) for e in exact] == [("a", "b")]


async def test_events_of_every_entity_when_none_are_named(client: HomeAssistantClient) -> None:
    """Without entity_ids the source asks for every entity it knows, in chunks HA accepts."""
    sensor = unique_entity()
    times = await force_states(client, sensor, ["x", "y"])
    await wait_recorded(client, sensor, times[0] - timedelta(seconds=1), 2)
    events = await _collect(HomeAssistantSource(client), times[0] - timedelta(minutes=30), datetime.now(UTC), None)
    assert [(e.old_state, e.new_state) for e in events if e.entity_id == sensor] == [(None, "x"), ("x", "y")]
    assert len({e.entity_id for e in events}) > 20
