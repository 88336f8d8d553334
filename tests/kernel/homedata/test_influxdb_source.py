"""InfluxDbSource against a loopback HTTP server replaying recorded InfluxDB 2.x annotated CSV answers."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from homeiq_ai.kernel.homedata.influxdb_source import (
    InfluxDbSource,
    events_flux,
    flux_string,
    parse_annotated_csv,
)
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError
from homeiq_ai.settings import Secret
from kernel.homedata.test_data_api_source import Recorded, Reply, free_port, json_reply, replay_server

__all__ = ["replay_server"]  # the fixture, shared with the Data API tests

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "influxdb"
TOKEN = "influx-token-Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OQ=="
ORG = "homeiq"
BUCKET = "home_assistant_events"
DAY1 = datetime(2026, 1, 5, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY2 + timedelta(days=1)
NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
CSV_TYPE = "text/csv; charset=utf-8"


def recorded(name: str) -> bytes:
    """A recorded answer, byte for byte."""
    return (FIXTURES / name).read_bytes()


def flux_of(request: Recorded) -> str:
    """The Flux text of a query request."""
    return json.loads(request.body)["query"]


def only_entities(answer: bytes, wanted: set[str]) -> bytes:
    """The recorded answer with the data rows of other entities removed, as InfluxDB's filter would."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    column = None
    for row in csv.reader(io.StringIO(answer.decode(), newline="")):
        if row and row[0] == "" and "entity_id" in row and row[1] == "result":
            column = row.index("entity_id")
        elif row and row[0] == "" and column is not None and row[column] not in wanted:
            continue
        writer.writerow(row)
    return out.getvalue().encode()


class FakeInfluxDb:
    """Answers POST /api/v2/query like InfluxDB 2.x: the registry query, or one recorded day of events."""

    def __call__(self, request: Recorded) -> Reply:
        if request.path != "/api/v2/query" or request.method != "POST":
            return json_reply(404, {"code": "not found", "message": "path not found"})
        if request.headers.get("authorization") != f"Token {TOKEN}":
            return json_reply(401, json.loads(recorded("unauthorized.json")))
        flux = flux_of(request)
        if "last()" in flux:
            return 200, CSV_TYPE, recorded("registry.csv")
        day = re.search(r"range\(start: (\d{4}-\d\d-\d\d)T", flux)
        name = f"events_{day.group(1) if day else 'none'}.csv"
        if not (FIXTURES / name).exists():
            return 200, CSV_TYPE, b"\r\n"  # no table: InfluxDB answers an empty result this way
        answer = recorded(name)
        chosen = re.search(r"contains\(value: r\.entity_id, set: \[(.*?)\]\)", flux)
        if chosen:
            answer = only_entities(answer, set(re.findall(r'"([^"]+)"', chosen.group(1))))
        return 200, CSV_TYPE, answer


def source_for(server: Any, **kwargs: Any) -> InfluxDbSource:
    """A source pointed at the replay server, with a fixed clock."""
    kwargs.setdefault("tries", 3)
    kwargs.setdefault("timeout", 5.0)
    return InfluxDbSource(server.url, Secret(TOKEN), ORG, BUCKET, clock=lambda: NOW, **kwargs)


async def collect(source: InfluxDbSource, start: datetime, end: datetime, **kwargs: Any) -> list[Event]:
    """Every event of a fetch, batches concatenated."""
    out: list[Event] = []
    async for batch in source.events(start, end, **kwargs):
        out.extend(batch)
    return out


# --- the recorded format -----------------------------------------------------------------------------


def test_the_recorded_answers_are_annotated_csv_with_crlf_and_several_tables() -> None:
    """Every recorded CSV has the three annotation rows; the registry answer has 6 tables in 3 schemas."""
    for path in FIXTURES.glob("*.csv"):
        text = path.read_bytes().decode()
        assert text.startswith("#datatype,") and "\r\n#group," in text and "\r\n#default," in text, path.name
        assert "\n" not in text.replace("\r\n", ""), path.name
    registry = parse_annotated_csv(recorded("registry.csv"))
    assert sorted({row["table"] for row in registry}) == [0, 1, 2, 3, 4, 5]
    assert recorded("registry.csv").count(b"#datatype") == 3


def test_flux_strings_escape_quotes_backslashes_and_interpolation() -> None:
    """An entity id can never end the string literal it is put in."""
    assert flux_string('a"b\\c${d}') == '"a\\"b\\\\c\\${d}"'
    flux = events_flux(BUCKET, DAY1, DAY2, ['light."x'])
    assert 'set: ["light.\\"x"]' in flux


# --- registries --------------------------------------------------------------------------------------


async def test_registries_come_from_the_newest_point_of_each_series(replay_server: Any) -> None:
    """Entities carry their newest tags (the light moved to the kitchen); areas and devices are named by id."""
    server = replay_server(FakeInfluxDb())
    async with source_for(server) as source:
        entities = await source.entities()
        areas = await source.areas()
        devices = await source.devices()
    by_id = {e.entity_id: e for e in entities}
    assert sorted(by_id) == [
        "binary_sensor.hallway_motion",
        "light.kitchen_ceiling",
        "sensor.hallway_motion_battery",
        "sensor.living_room_temperature",
        "switch.coffee_maker",
    ]
    assert by_id["light.kitchen_ceiling"] == Entity(
        entity_id="light.kitchen_ceiling",
        domain="light",
        area_id="kitchen",  # not the older series' dining_room
        device_id="0f1e6c2a9b8d4e7fa1c3b5d7e9f02468",
    )
    assert by_id["binary_sensor.hallway_motion"].device_class == "motion"
    assert by_id["switch.coffee_maker"].device_id is None and by_id["switch.coffee_maker"].device_class is None
    assert all(e.friendly_name is None for e in entities)  # InfluxDB keeps no names
    assert areas == [Area(area_id=a, name=a) for a in ("hallway", "kitchen", "living_room")]
    assert [d.device_id for d in devices] == sorted(
        ["0f1e6c2a9b8d4e7fa1c3b5d7e9f02468", "5c3b9e1d7a2f4c6b8e0d1f3a5c7e9b24", "9d2e4f6a8c0b1d3e5f7a9c1e3b5d7f80"]
    )
    assert isinstance(devices[0], Device) and devices[0].name == devices[0].device_id
    request = server.requests[0]
    assert request.path == "/api/v2/query" and request.param("org") == ORG
    assert request.headers["authorization"] == f"Token {TOKEN}"
    flux = flux_of(request)
    assert f'from(bucket: "{BUCKET}")' in flux
    assert "range(start: 2025-12-08T12:00:00Z, stop: 2026-01-07T12:00:00Z)" in flux  # 30 days back
    assert 'r._measurement == "home_assistant_events"' in flux
    body = json.loads(request.body)
    assert body["type"] == "flux" and body["dialect"]["annotations"] == ["datatype", "group", "default"]


async def test_home_info_comes_from_the_settings() -> None:
    """InfluxDB knows no time zone: HOME_* settings, with source influxdb."""
    source = InfluxDbSource("http://127.0.0.1:9", Secret(TOKEN), ORG, time_zone="Europe/Berlin")
    try:
        assert await source.home_info() == HomeInfo(time_zone="Europe/Berlin", source="influxdb")
    finally:
        await source.aclose()


# --- events ------------------------------------------------------------------------------------------


async def test_events_are_read_one_day_per_query_in_time_order(
    replay_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Two days are two Flux queries with their own range; pivoted rows become events with parsed attributes."""
    caplog.set_level(logging.WARNING, logger="homeiq_ai.kernel.homedata.influxdb_source")
    server = replay_server(FakeInfluxDb())
    async with source_for(server) as source:
        events = await collect(source, DAY1, DAY3)
        assert source.last_fetch_missing_states == 1  # the battery sensor's removal has no state_value
    fluxes = [flux_of(r) for r in server.requests]
    assert len(fluxes) == 2
    assert "range(start: 2026-01-05T00:00:00Z, stop: 2026-01-06T00:00:00Z)" in fluxes[0]
    assert "range(start: 2026-01-06T00:00:00Z, stop: 2026-01-07T00:00:00Z)" in fluxes[1]
    for flux in fluxes:
        assert 'r._measurement == "home_assistant_events"' in flux
        assert 'pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")' in flux
        assert 'r._field == "state_value"' in flux and 'r._field == "previous_state"' in flux
        assert "contains(" not in flux
    assert len(events) == 13
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert events[0] == Event(
        entity_id="light.kitchen_ceiling",
        old_state="off",
        new_state="on",
        time=datetime(2026, 1, 5, 6, 58, 1, 250000, tzinfo=UTC),
        attributes={
            "brightness": 180,
            "color_mode": "color_temp",
            "color_temp_kelvin": 2732,
            "friendly_name": "Kitchen Ceiling",
            "supported_color_modes": ["color_temp"],
            "supported_features": 40,
        },
        context_id="01KE6W1Q0A2B3C4D5E6F7G8H9J",
    )
    temperature = [e for e in events if e.entity_id == "sensor.living_room_temperature"]
    assert [(e.old_state, e.new_state) for e in temperature] == [(None, "21.5"), ("21.5", "21.8")]
    assert temperature[0].attributes and temperature[0].attributes["unit_of_measurement"] == "°C"
    assert all(e.time.utcoffset() == timedelta(0) for e in events)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


async def test_chosen_entities_are_filtered_in_the_query(replay_server: Any) -> None:
    """entity_ids become one contains() filter; the answer holds only them."""
    server = replay_server(FakeInfluxDb())
    async with source_for(server) as source:
        events = await collect(source, DAY1, DAY2, entity_ids=["switch.coffee_maker", "light.kitchen_ceiling"])
    flux = flux_of(server.requests[0])
    assert 'contains(value: r.entity_id, set: ["light.kitchen_ceiling", "switch.coffee_maker"])' in flux
    assert {e.entity_id for e in events} == {"switch.coffee_maker", "light.kitchen_ceiling"}
    assert len(events) == 4


async def test_a_window_inside_a_day_keeps_only_its_events(replay_server: Any) -> None:
    """Rows outside [start, end) are dropped even if an answer carried them; an empty answer gives nothing."""
    server = replay_server(FakeInfluxDb())
    start = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    async with source_for(server) as source:
        events = await collect(source, start, start + timedelta(hours=1))
        later = await collect(source, DAY3, DAY3 + timedelta(days=1))
    assert [e.time.hour for e in events] == [7, 7, 7, 7, 7]
    assert later == []


# --- failures ----------------------------------------------------------------------------------------


async def test_an_error_table_in_the_answer_is_raised_with_its_message(replay_server: Any) -> None:
    """InfluxDB reports a query failing mid-stream as a 200 with an error table; it is not retried."""
    server = replay_server(lambda request: (200, CSV_TYPE, recorded("query_error.csv")))
    async with source_for(server) as source:
        with pytest.raises(HomeDataUnavailableError, match="schema collision"):
            await collect(source, DAY1, DAY2)
    assert len(server.requests) == 1


async def test_5xx_is_retried_then_raised_as_a_clear_error(replay_server: Any) -> None:
    """Every try answered 500: three tries, then an error naming InfluxDB and the status."""
    server = replay_server(lambda request: json_reply(500, json.loads(recorded("internal_error.json"))))
    async with source_for(server, tries=3) as source:
        with pytest.raises(HomeDataUnavailableError) as caught:
            await source.entities()
    assert len(server.requests) == 3
    assert "InfluxDB" in str(caught.value) and "HTTP 500" in str(caught.value)


async def test_one_5xx_is_retried_and_the_query_succeeds(replay_server: Any) -> None:
    """A single 503 is repeated; the query is read-only, so repeating it is safe."""
    influx = FakeInfluxDb()
    answers: list[int] = []

    def flaky(request: Recorded) -> Reply:
        answers.append(1)
        return (
            json_reply(503, {"code": "unavailable", "message": "too many requests"})
            if len(answers) == 1
            else influx(request)
        )

    server = replay_server(flaky)
    async with source_for(server) as source:
        assert len(await collect(source, DAY1, DAY2)) == 7
    assert len(server.requests) == 2


async def test_a_missing_bucket_is_named(replay_server: Any) -> None:
    """404 from the query route carries InfluxDB's message and is not retried."""
    server = replay_server(lambda request: json_reply(404, json.loads(recorded("bucket_not_found.json"))))
    async with source_for(server) as source:
        with pytest.raises(HomeDataUnavailableError, match="could not find bucket"):
            await source.areas()
    assert len(server.requests) == 1


async def test_an_unreachable_influxdb_fails_quickly_with_a_clear_error() -> None:
    """Nothing listens: HomeDataUnavailableError naming InfluxDB and its URL within seconds."""
    url = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    async with InfluxDbSource(url, Secret(TOKEN), ORG, tries=3, timeout=2.0) as source:
        with pytest.raises(HomeDataUnavailableError) as caught:
            await collect(source, DAY1, DAY2)
    assert time.monotonic() - began < 5
    assert url in str(caught.value) and "unreachable" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_the_token_is_in_no_error_log_or_repr(replay_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A refused token names INFLUXDB_TOKEN; the token itself is sent only in its header."""
    caplog.set_level(logging.DEBUG)
    server = replay_server(lambda request: json_reply(401, json.loads(recorded("unauthorized.json"))))
    async with source_for(server) as source:
        with pytest.raises(HomeDataUnavailableError) as caught:
            await collect(source, DAY1, DAY2)
        shown = repr(source)
    assert "INFLUXDB_TOKEN" in str(caught.value) and "HTTP 401" in str(caught.value)
    assert len(server.requests) == 1
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text and TOKEN not in shown
    assert server.requests[0].headers["authorization"] == f"Token {TOKEN}"


async def test_an_answer_that_is_not_annotated_csv_is_a_clear_error(replay_server: Any) -> None:
    """A proxy's HTML page where the CSV should be names the problem instead of failing somewhere later."""
    server = replay_server(lambda request: (200, "text/html", b"<html>\r\n<body>login</body>\r\n</html>\r\n"))
    async with source_for(server) as source:
        with pytest.raises(HomeDataUnavailableError, match="not annotated CSV"):
            await source.entities()
