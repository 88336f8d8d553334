"""DataApiSource against a loopback HTTP server replaying recorded HomeIQ data-api answers (tests/fixtures/data_api)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from homeiq_ai.kernel.homedata.data_api_source import DataApiSource, event_from_data_api
from homeiq_ai.kernel.homedata.model import Area, Device, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError
from homeiq_ai.settings import Secret

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data_api"
API_KEY = "data-api-key-0123456789abcdef"
DAY1 = datetime(2026, 1, 5, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY2 + timedelta(days=1)


# --- a loopback HTTP server that replays answers and records requests ------------------------------


@dataclass
class Recorded:
    """One request the replay server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None


Reply = tuple[int, str, bytes]


@dataclass
class ReplayServer:
    """A real HTTP server on 127.0.0.1 in a thread; `handler(request)` gives (status, content type, body)."""

    handler: Callable[[Recorded], Reply]
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0  # 0: any free port; a fixed one brings a peer "back" at the address a process already has

    def __post_init__(self) -> None:
        replay = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                replay.requests.append(request)
                status, content_type, body = replay.handler(request)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def replay_server() -> Iterator[Callable[[Callable[[Recorded], Reply]], ReplayServer]]:
    """Start replay servers for a test; all are stopped at its end."""
    servers: list[ReplayServer] = []

    def _start(handler: Callable[[Recorded], Reply]) -> ReplayServer:
        server = ReplayServer(handler)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.close()


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def json_reply(status: int, body: Any) -> Reply:
    """A JSON answer."""
    return status, "application/json", json.dumps(body).encode()


# --- the recorded data-api ------------------------------------------------------------------------


def load(name: str) -> Any:
    """A recorded answer."""
    return json.loads((FIXTURES / name).read_text())


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeDataApi:
    """Serves the recorded answers the way the data-api does: events in [start_time, end_time), newest first."""

    def __init__(self, events: list[dict[str, Any]], *, areas: Any = None) -> None:
        self.events = events
        self.areas = areas

    def __call__(self, request: Recorded) -> Reply:
        if request.path == "/api/devices":
            return json_reply(200, load("devices.json"))
        if request.path == "/api/entities":
            return json_reply(200, load("entities.json"))
        if request.path == "/api/areas":
            return json_reply(404, load("not_found.json")) if self.areas is None else json_reply(200, self.areas)
        if request.path == "/api/v1/events":
            start, end = _time(request.param("start_time") or ""), _time(request.param("end_time") or "")
            entity_id = request.param("entity_id")
            limit, offset = int(request.param("limit") or 100), int(request.param("offset") or 0)
            chosen = [
                e
                for e in self.events
                if start <= _time(e["timestamp"]) < end and (entity_id is None or e["entity_id"] == entity_id)
            ]
            chosen.sort(key=lambda e: e["timestamp"], reverse=True)
            return json_reply(200, chosen[offset : offset + limit])
        return json_reply(404, load("not_found.json"))


def recorded_events() -> list[dict[str, Any]]:
    """Both recorded days of events with states."""
    return load("events_with_states_2026-01-05.json") + load("events_with_states_2026-01-06.json")


def source_for(server: ReplayServer, **kwargs: Any) -> DataApiSource:
    """A source pointed at the replay server, fast retries."""
    kwargs.setdefault("tries", 3)
    kwargs.setdefault("timeout", 5.0)
    return DataApiSource(server.url, **kwargs)


async def collect(source: DataApiSource, start: datetime, end: datetime, **kwargs: Any) -> list[Event]:
    """Every event of a fetch, batches concatenated."""
    out: list[Event] = []
    async for batch in source.events(start, end, **kwargs):
        out.extend(batch)
    return out


# --- registries --------------------------------------------------------------------------------------


async def test_devices_and_entities_come_from_the_registry_routes_with_areas_resolved(replay_server: Any) -> None:
    """Entities without an own area take their device's; disabled ones are left out; "Unknown" means none."""
    server = replay_server(FakeDataApi([]))
    async with source_for(server, api_key=Secret(API_KEY)) as source:
        devices = await source.devices()
        entities = await source.entities()
    assert [d.device_id for d in devices] == sorted(d["device_id"] for d in load("devices.json")["devices"])
    thermometer = next(d for d in devices if d.name == "Living Room Thermometer")
    assert thermometer == Device(device_id=thermometer.device_id, name="Living Room Thermometer", area_id="living_room")
    by_id = {e.entity_id: e for e in entities}
    assert sorted(by_id) == [
        "binary_sensor.hallway_motion",
        "light.kitchen_ceiling",
        "sensor.living_room_temperature",
        "switch.coffee_maker",
    ]
    assert by_id["light.kitchen_ceiling"].area_id == "kitchen"  # its device's
    assert by_id["binary_sensor.hallway_motion"].area_id == "hallway"
    assert by_id["binary_sensor.hallway_motion"].device_class == "motion"
    assert by_id["binary_sensor.hallway_motion"].friendly_name == "Hallway Motion"
    assert by_id["sensor.living_room_temperature"].unit_of_measurement == "°C"
    assert by_id["switch.coffee_maker"].area_id == "kitchen" and by_id["switch.coffee_maker"].device_id is None
    assert by_id["light.kitchen_ceiling"].supported_features == 40
    paths = [(r.method, r.path, r.param("limit")) for r in server.requests]
    assert ("GET", "/api/devices", "1000") in paths and ("GET", "/api/entities", "10000") in paths
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in server.requests)


async def test_areas_are_derived_from_devices_and_entities_where_the_route_is_missing(replay_server: Any) -> None:
    """The published data-api answers 404 to /api/areas: the areas in use, named by their ids."""
    server = replay_server(FakeDataApi([]))
    async with source_for(server) as source:
        areas = await source.areas()
    assert areas == [Area(area_id=a, name=a) for a in ("hallway", "kitchen", "living_room")]
    assert server.requests[0].path == "/api/areas"
    assert "authorization" not in server.requests[0].headers  # no API key configured


async def test_areas_are_read_from_the_route_where_it_exists(replay_server: Any) -> None:
    """A list answer of /api/areas gives names and aliases; the {"areas": [...]} wrapper is accepted too."""
    for body in (load("areas.json"), {"areas": load("areas.json"), "count": 3}):
        server = replay_server(FakeDataApi([], areas=body))
        async with source_for(server) as source:
            areas = await source.areas()
        assert [a.name for a in areas] == ["Hallway", "Kitchen", "Living Room"]
        assert areas[1].aliases == ["Cooking area"]


async def test_home_info_comes_from_the_settings() -> None:
    """The Data API knows no time zone: HOME_* settings, with source data_api."""
    source = DataApiSource("http://127.0.0.1:9", time_zone="Europe/Berlin", latitude=52.5)
    try:
        assert await source.home_info() == HomeInfo(time_zone="Europe/Berlin", latitude=52.5, source="data_api")
    finally:
        await source.aclose()


# --- events ------------------------------------------------------------------------------------------


async def test_events_are_fetched_one_window_per_call_and_come_in_time_order(
    replay_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Two days are two calls with UTC bounds; the newest-first answers become old/new states in time order."""
    caplog.set_level(logging.WARNING, logger="homeiq_ai.kernel.homedata.data_api_source")
    server = replay_server(FakeDataApi(recorded_events()))
    async with source_for(server) as source:
        events = await collect(source, DAY1, DAY3)
        assert source.last_fetch_missing_states == 2
    calls = [r for r in server.requests if r.path == "/api/v1/events"]
    assert [(r.param("start_time"), r.param("end_time")) for r in calls] == [
        ("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"),
        ("2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z"),
    ]
    assert all(r.param("offset") == "0" and r.param("limit") == "5000" for r in calls)
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len(events) == 11  # 13 recorded, 2 without a new state
    first = events[0]
    assert first == Event(
        entity_id="light.kitchen_ceiling",
        old_state="off",
        new_state="on",
        time=datetime(2026, 1, 5, 6, 58, 1, 250000, tzinfo=UTC),
        context_id="01KE6W1Q0A2B3C4D5E6F7G8H9J",
    )
    assert all(e.time.utcoffset() == timedelta(0) for e in events)
    coffee = [(e.old_state, e.new_state) for e in events if e.entity_id == "switch.coffee_maker"]
    assert coffee == [("off", "on"), ("on", "off"), ("off", "on")]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "2 of 13 events" in warning and "returns no states" not in warning


async def test_events_without_states_are_skipped_counted_and_named_in_one_warning(
    replay_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The published data-api answers every event with null states: nothing is mined, one warning says why."""
    published = load("events_published_2026-01-05.json")
    server = replay_server(FakeDataApi(published))
    caplog.set_level(logging.WARNING, logger="homeiq_ai.kernel.homedata.data_api_source")
    async with source_for(server, api_key=Secret(API_KEY), window=timedelta(hours=6)) as source:
        events = await collect(source, DAY1, DAY2)
        assert events == []
        assert source.last_fetch_missing_states == len(published) == 7
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # one per fetch, not one per window (4 windows) or per event
    message = warnings[0].getMessage()
    assert "7 of 7 events" in message and "empty states" in message and "returns no states" in message
    assert API_KEY not in caplog.text


async def test_a_full_page_splits_the_window_so_that_nothing_is_cut_off(replay_server: Any) -> None:
    """With 3 events a page, a day of 7 is read in halves until each answer is short; every event comes once."""
    server = replay_server(FakeDataApi(recorded_events()))
    async with source_for(server, page_size=3) as source:
        small = await collect(source, DAY1, DAY2)
    server_all = replay_server(FakeDataApi(recorded_events()))
    async with source_for(server_all) as source:
        whole = await collect(source, DAY1, DAY2)
    assert small == whole and len(whole) == 6
    spans = {(r.param("start_time"), r.param("end_time")) for r in server.requests}
    assert len(spans) > 2  # the day was split
    assert all(r.param("offset") == "0" for r in server.requests)


async def test_a_full_page_in_a_window_too_short_to_split_is_paged_with_offset(replay_server: Any) -> None:
    """Three events in one millisecond with 2 a page: the window cannot be split, so offset pages it."""
    moment = "2026-01-05T07:00:00.001000Z"
    recorded = next(e for e in load("events_with_states_2026-01-05.json") if e["new_state"] is not None)
    burst = [{**recorded, "entity_id": f"light.l{i}", "timestamp": moment} for i in range(3)]
    server = replay_server(FakeDataApi(burst))
    start = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    async with source_for(server, page_size=2, window=timedelta(milliseconds=500)) as source:
        events = await collect(source, start, start + timedelta(milliseconds=500))
    assert sorted(e.entity_id for e in events) == ["light.l0", "light.l1", "light.l2"]
    assert [r.param("offset") for r in server.requests] == ["0", "2"]


async def test_chosen_entities_are_asked_for_one_by_one(replay_server: Any) -> None:
    """The route filters one entity_id: each chosen entity is its own call per window; others never come back."""
    server = replay_server(FakeDataApi(recorded_events()))
    async with source_for(server) as source:
        events = await collect(source, DAY1, DAY2, entity_ids=["switch.coffee_maker", "light.kitchen_ceiling"])
    assert sorted(r.param("entity_id") or "" for r in server.requests) == [
        "light.kitchen_ceiling",
        "switch.coffee_maker",
    ]
    assert {e.entity_id for e in events} == {"switch.coffee_maker", "light.kitchen_ceiling"}
    assert [e.time for e in events] == sorted(e.time for e in events)


async def test_batches_are_at_most_batch_size(replay_server: Any) -> None:
    """batch_size bounds each yielded list."""
    server = replay_server(FakeDataApi(recorded_events()))
    async with source_for(server) as source:
        sizes = [len(b) async for b in source.events(DAY1, DAY3, batch_size=4)]
    assert sizes == [4, 2, 4, 1]


def test_state_shapes_the_data_api_may_answer_are_read() -> None:
    """HA state objects, {"raw"} wrappers and plain strings all give the state; null gives no event."""
    base = {"entity_id": "light.a", "timestamp": "2026-01-05T06:00:00Z", "id": "event_1767592800.0_light_a"}
    assert event_from_data_api({**base, "new_state": {"state": "on", "attributes": {}}}).new_state == "on"  # type: ignore[union-attr]
    assert event_from_data_api({**base, "new_state": "off", "old_state": {"raw": "on"}}).old_state == "on"  # type: ignore[union-attr]
    assert event_from_data_api({**base, "new_state": {"value": 21.5}}).new_state == "21.5"  # type: ignore[union-attr]
    assert event_from_data_api({**base, "new_state": None}) is None
    assert event_from_data_api({**base, "new_state": "on"}).context_id is None  # type: ignore[union-attr]


# --- failures ----------------------------------------------------------------------------------------


async def test_5xx_is_retried_then_raised_as_a_clear_error(replay_server: Any) -> None:
    """Every try answered 503: three tries, then HomeDataUnavailableError naming the route and the status."""
    server = replay_server(lambda request: json_reply(503, load("events_error.json")))
    async with source_for(server, tries=3) as source:
        with pytest.raises(HomeDataUnavailableError) as caught:
            await collect(source, DAY1, DAY2)
    assert len(server.requests) == 3
    message = str(caught.value)
    assert "HTTP 503" in message and "/api/v1/events" in message and "3 tries" in message


async def test_one_5xx_is_retried_and_the_fetch_succeeds(replay_server: Any) -> None:
    """A single 500 is repeated and the next answer is used."""
    api = FakeDataApi(recorded_events())
    answers: list[int] = []

    def flaky(request: Recorded) -> Reply:
        answers.append(1)
        return json_reply(500, {"detail": "Failed to get recent events"}) if len(answers) == 1 else api(request)

    server = replay_server(flaky)
    async with source_for(server) as source:
        events = await collect(source, DAY1, DAY2)
    assert len(events) == 6 and len(server.requests) == 2


async def test_an_unreachable_data_api_fails_quickly_with_a_clear_error() -> None:
    """Nothing listens: HomeDataUnavailableError naming the URL within seconds."""
    url = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    async with DataApiSource(url, tries=3, timeout=2.0) as source:
        with pytest.raises(HomeDataUnavailableError) as caught:
            await source.entities()
    assert time.monotonic() - began < 5
    assert url in str(caught.value) and "unreachable" in str(caught.value)


async def test_a_refused_api_key_is_named_without_the_key(replay_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    """401 is not retried; the error points at API_KEY and shows neither the key nor it in the log."""
    caplog.set_level(logging.DEBUG)
    server = replay_server(lambda request: json_reply(401, load("unauthorized.json")))
    async with source_for(server, api_key=Secret(API_KEY)) as source:
        with pytest.raises(HomeDataUnavailableError) as caught:
            await source.devices()
    assert len(server.requests) == 1
    assert "API_KEY" in str(caught.value) and "HTTP 401" in str(caught.value)
    assert API_KEY not in str(caught.value) and API_KEY not in caplog.text
    assert API_KEY not in repr(source)


async def test_an_answer_of_the_wrong_shape_is_a_clear_error(replay_server: Any) -> None:
    """A body that is not JSON, or JSON of another shape, names the route."""
    server = replay_server(lambda request: (200, "text/html", b"<html>proxy login</html>"))
    async with source_for(server) as source:
        with pytest.raises(HomeDataUnavailableError, match="not JSON"):
            await source.devices()
    server = replay_server(lambda request: json_reply(200, {"unexpected": True}))
    async with source_for(server) as source:
        with pytest.raises(HomeDataUnavailableError, match="/api/entities"):
            await source.entities()
