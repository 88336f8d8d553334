"""Home Assistant client, source and sync without a server: recorded HA JSON, mock transports, fakes."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from homeiq_ai.kernel.errors import BadRequestError, NotFoundError, ServiceUnavailableError, UpstreamError
from homeiq_ai.kernel.homeassistant import HISTORY_OPTIONS, HomeAssistantClient, history_entity_chunks
from homeiq_ai.kernel.homedata.homeassistant_source import (
    HomeAssistantSource,
    HomeRegistry,
    history_to_events,
    merge_entities,
)
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError
from homeiq_ai.kernel.homedata.sync import HomeAssistantSync
from homeiq_ai.settings import Secret, load_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "homeassistant"
TOKEN = "unit-test-token-0123456789abcdef"
BASE = "http://ha.test:8123"
UTC0 = datetime(2026, 1, 1, tzinfo=UTC)


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


META = _load("history_meta.json")
SENSOR, SWITCH, CLIMATE = META["entity_ids"]


def _by_entity(events: list[Event]) -> dict[str, list[tuple[str | None, str | None]]]:
    out: dict[str, list[tuple[str | None, str | None]]] = {}
    for event in events:
        out.setdefault(event.entity_id, []).append((event.old_state, event.new_state))
    return out


# --- history conversion (recorded from a real Home Assistant 2024.3.3) ---------------------------------


def test_full_history_gives_every_state_change_once_in_time_order() -> None:
    """Minimal rows, full climate rows and attribute-only updates become exactly the state changes."""
    span = META["full"]
    events = history_to_events(_load("history_full.json"), _t(span["start"]), _t(span["end"]))
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert _by_entity(events) == {
        SENSOR: [(None, "10"), ("10", "11"), ("11", "12")],  # the attribute-only update is no change
        SWITCH: [(None, "off"), ("off", "on"), ("on", "off")],  # "off" when Home Assistant started
        CLIMATE: [(None, "cool"), ("cool", "heat")],  # its full attribute-only row is no change either
    }
    changes = {(s["entity_id"], _t(s["time"])) for s in META["steps"] if s["change"]}
    non_changes = {(s["entity_id"], _t(s["time"])) for s in META["steps"] if not s["change"]}
    stamped = {(e.entity_id, e.time) for e in events}
    assert changes <= stamped
    assert not non_changes & stamped
    assert all(e.time.utcoffset() == timedelta(0) for e in events)


def test_a_window_takes_old_states_from_has_start_state_and_stops_before_its_end() -> None:
    """HA's state at the requested start (stamped with that start) is the old_state of the first change."""
    span = META["window"]
    start, end = _t(span["start"]), _t(span["end"])
    events = history_to_events(_load("history_window.json"), start, end, fetched_from=start)
    assert _by_entity(events) == {CLIMATE: [("cool", "heat")], SWITCH: [("on", "off")]}
    assert all(start <= e.time < end for e in events)
    # The sensor's last change (step 8) lies after the window's end.
    assert SENSOR not in _by_entity(events)


def test_start_states_read_as_changes_when_fetched_from_is_not_given() -> None:
    """Why the source asks HA from a second before the window: a start state stamped `start` looks new."""
    span = META["window"]
    start, end = _t(span["start"]), _t(span["end"])
    events = history_to_events(_load("history_window.json"), start, end)
    assert (SENSOR, None, "11", start) in [(e.entity_id, e.old_state, e.new_state, e.time) for e in events]


def test_windows_cut_anywhere_give_the_same_events() -> None:
    """Splitting the recorded history at every step gives the events of one pass, each once."""
    span = META["full"]
    history = _load("history_full.json")
    whole = history_to_events(history, _t(span["start"]), _t(span["end"]))
    cuts = [_t(span["start"]), *sorted(_t(s["time"]) for s in META["steps"]), _t(span["end"])]
    previous: dict[str, str | None] = {}
    pieces: list[Event] = []
    for lower, upper in itertools.pairwise(cuts):
        pieces.extend(history_to_events(history, lower, upper, previous))
    assert pieces == whole


def test_previous_state_carries_over_when_ha_sends_no_start_state() -> None:
    """A list without HA's start state uses the last state known from the previous window."""
    history = [[{"entity_id": "light.a", "state": "on", "last_changed": "2026-01-01T00:00:05+00:00"}]]
    previous: dict[str, str | None] = {"light.a": "off"}
    events = history_to_events(history, UTC0, UTC0 + timedelta(minutes=1), previous)
    assert [(e.old_state, e.new_state) for e in events] == [("off", "on")]
    assert previous == {"light.a": "on"}
    assert history_to_events(history, UTC0, UTC0 + timedelta(minutes=1), {"light.a": "on"}) == []


def test_times_in_other_offsets_become_utc_and_bad_rows_are_skipped() -> None:
    """Offsets are normalised to UTC; rows without a time or entity are ignored."""
    history = [
        [
            {"entity_id": "sensor.t", "state": "1", "last_changed": "2026-01-01T01:00:01+01:00"},
            {"state": "2", "last_changed": "not a time"},
            {"state": "3", "last_updated": "2026-01-01T00:00:03"},
        ],
        [{"state": "orphan", "last_changed": "2026-01-01T00:00:02+00:00"}],
        [],
    ]
    events = history_to_events(history, UTC0, UTC0 + timedelta(hours=1))
    assert [(e.old_state, e.new_state, e.time) for e in events] == [
        (None, "1", UTC0 + timedelta(seconds=1)),
        ("1", "3", UTC0 + timedelta(seconds=3)),
    ]
    assert events[0].time.tzinfo is UTC


def test_entity_id_chunks_stay_under_the_request_line_limit() -> None:
    """Thousands of entity ids are split so that each history call's query stays short."""
    ids = [f"sensor.entity_number_{i:05d}" for i in range(3000)]
    chunks = history_entity_chunks(ids)
    assert [i for chunk in chunks for i in chunk] == ids
    assert all(len(",".join(chunk)) <= 4000 for chunk in chunks)
    assert len(chunks) > 1
    assert history_entity_chunks([]) == []
    assert history_entity_chunks(["a" * 5000]) == [["a" * 5000]]


# --- registries ----------------------------------------------------------------------------------------


def test_entities_merge_registry_and_states_with_areas_resolved() -> None:
    """Recorded registries: the entity's own area wins, else its device's; names and units from states."""
    entities = {
        e.entity_id: e
        for e in merge_entities(_load("entity_registry.json"), _load("device_registry.json"), _load("states.json"))
    }
    assert entities["light.kitchen_lights"].area_id == "kitchen"
    assert entities["light.ceiling_lights"].area_id == "office"
    assert entities["sensor.outside_temperature"].area_id == "garden"
    assert entities["sensor.outside_temperature"].unit_of_measurement == "°C"
    assert entities["sensor.outside_temperature"].device_class == "temperature"
    assert entities["input_boolean.homeiq_test"].friendly_name == "HomeIQ test switch"
    assert entities["lock.front_door"].device_id is None  # states only: no registry entry
    assert entities["light.kitchen_lights"].supported_features == int(
        next(s for s in _load("states.json") if s["entity_id"] == "light.kitchen_lights")["attributes"].get(
            "supported_features", 0
        )
    )
    own = {
        e.entity_id: e
        for e in merge_entities(
            _load("entity_registry.json"),
            _load("device_registry.json"),
            _load("states.json"),
            resolve_areas=False,
        )
    }
    assert own["light.kitchen_lights"].area_id is None
    assert own["light.ceiling_lights"].area_id == "office"


def test_disabled_registry_entries_without_state_are_left_out() -> None:
    """A disabled entity has no state and produces no history: it is not listed."""
    registry = [
        {"entity_id": "light.off", "disabled_by": "user", "device_id": None, "area_id": None},
        {"entity_id": "light.on", "disabled_by": None, "device_id": None, "area_id": None, "name": "On"},
    ]
    assert [e.entity_id for e in merge_entities(registry, [], [])] == ["light.on"]


# --- the client over a mock transport ------------------------------------------------------------------


class Recorder:
    """A MockTransport handler answering from a script and keeping every request."""

    def __init__(self, *answers: Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def _client(recorder: Recorder, tries: int = 3) -> HomeAssistantClient:
    return HomeAssistantClient(BASE, Secret(TOKEN), timeout=1, tries=tries, transport=httpx.MockTransport(recorder))


async def test_history_request_uses_the_options_that_return_every_change() -> None:
    """Start in the path (URL-encoded, UTC), end and entities in the query, every-change options set."""
    recorder = Recorder(httpx.Response(200, json=_load("history_window.json")))
    async with _client(recorder) as ha:
        start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC) + timedelta(hours=0)
        answer = await ha.history(start, start + timedelta(days=1), ["light.a", "sensor.b"])
    assert answer == _load("history_window.json")
    (request,) = recorder.requests
    assert request.url.raw_path.startswith(b"/api/history/period/2026-01-01T01%3A00%3A00%2B00%3A00?")
    params = dict(request.url.params)
    assert params["filter_entity_id"] == "light.a,sensor.b"
    assert _t(params["end_time"]) == start + timedelta(days=1)
    assert params["significant_changes_only"] == "0"
    assert {"minimal_response", "no_attributes"} <= set(params)
    assert set(HISTORY_OPTIONS) <= set(params)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_history_is_one_call_per_chunk_of_entities() -> None:
    """Many entities: several calls, their answers concatenated."""
    recorder = Recorder(lambda r: httpx.Response(200, json=[[{"entity_id": "x", "state": "1"}]]))
    ids = [f"sensor.entity_number_{i:05d}" for i in range(1000)]
    async with _client(recorder) as ha:
        answer = await ha.history(UTC0, UTC0 + timedelta(hours=1), ids)
    assert len(recorder.requests) == len(history_entity_chunks(ids)) == len(answer)
    assert await HomeAssistantClient(BASE, Secret(TOKEN)).history(UTC0, UTC0, []) == []


async def test_naive_times_are_refused() -> None:
    """A naive datetime would be read in HA's local time zone: refused."""
    async with _client(Recorder(httpx.Response(200, json=[]))) as ha:
        with pytest.raises(ValueError, match="naive"):
            await ha.history(datetime(2026, 1, 1), datetime(2026, 1, 2), ["light.a"])


async def test_400_is_a_bad_request_with_has_message_and_never_retried() -> None:
    """HA's message comes through; one try only."""
    message = "Message malformed: required key not provided @ data['trigger']"
    recorder = Recorder(httpx.Response(400, json={"message": message}))
    async with _client(recorder) as ha:
        with pytest.raises(BadRequestError) as caught:
            await ha.save_automation_config("a1", {"alias": "x"})
    assert message in caught.value.message
    assert caught.value.status_code == 400
    assert len(recorder.requests) == 1
    assert json.loads(recorder.requests[0].content)["id"] == "a1"  # the URL's id, so no duplicates pile up


async def test_401_says_to_check_the_token_and_404_reads_none() -> None:
    """A refused token is an UpstreamError naming HA_TOKEN; a missing automation reads None."""
    async with _client(Recorder(httpx.Response(401, text="401: Unauthorized"))) as ha:
        with pytest.raises(UpstreamError, match="HA_TOKEN") as caught:
            await ha.states()
    assert caught.value.code == "home_assistant_unauthorized"
    assert TOKEN not in str(caught.value)
    async with _client(Recorder(httpx.Response(404, json={"message": "Resource not found"}))) as ha:
        assert await ha.get_automation_config("nope") is None
        assert await ha.state("light.nope") is None
        with pytest.raises(NotFoundError):
            await ha.config()
    async with _client(Recorder(httpx.Response(400, json={"message": "Resource not found"}))) as ha:
        assert await ha.delete_automation_config("nope") is False


async def test_5xx_is_retried_with_backoff_then_an_upstream_error() -> None:
    """A read that keeps failing with 5xx is tried `tries` times; a recovering one succeeds."""
    recorder = Recorder(httpx.Response(500, text="boom"))
    async with _client(recorder, tries=3) as ha:
        with pytest.raises(UpstreamError):
            await ha.states()
    assert len(recorder.requests) == 3
    recovering = Recorder(httpx.Response(502), httpx.Response(200, json=[]))
    async with _client(recovering) as ha:
        assert await ha.states() == []
    assert len(recovering.requests) == 2


async def test_a_service_call_is_not_repeated_after_a_5xx() -> None:
    """A toggle may have happened: a 5xx answer to it is not retried."""
    recorder = Recorder(httpx.Response(500, text="boom"))
    async with _client(recorder) as ha:
        with pytest.raises(UpstreamError):
            await ha.call_service("light", "toggle", {"entity_id": "light.a"})
    assert len(recorder.requests) == 1


async def test_connect_errors_are_retried_then_unavailable_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unreachable: ServiceUnavailableError naming the URL; the token is in no message or log."""
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(httpx.ConnectError("connection refused"))
    async with _client(recorder, tries=2) as ha:
        with pytest.raises(ServiceUnavailableError) as caught:
            await ha.config()
    assert len(recorder.requests) == 2
    assert caught.value.message.startswith(f"Home Assistant is unreachable at {BASE} after 2 tries")
    assert TOKEN not in caplog.text + caught.value.message + repr(caught.value.details)


def test_client_from_settings_needs_url_and_token() -> None:
    """No client without HA_URL and HA_TOKEN; the repr shows the URL only."""
    assert HomeAssistantClient.from_settings(load_settings({"HA_URL": BASE})) is None
    client = HomeAssistantClient.from_settings(load_settings({"HA_URL": BASE, "HA_TOKEN": TOKEN}))
    assert client is not None
    assert repr(client) == f"HomeAssistantClient({BASE!r})"


async def test_source_turns_client_errors_into_home_data_unavailable() -> None:
    """The source's callers see the HomeDataSource error, with the client's message."""
    async with _client(Recorder(httpx.ConnectError("refused")), tries=1) as ha:
        with pytest.raises(HomeDataUnavailableError, match="unreachable"):
            await HomeAssistantSource(ha).home_info()


# --- the sync over fakes ---------------------------------------------------------------------------------


class FakeSource:
    """A HomeAssistantSource stand-in: one event per minute of sensor.s, windows as the real one."""

    name = "home_assistant"

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.calls: list[tuple[datetime, datetime]] = []

    windows = HomeAssistantSource.windows

    async def home_info(self) -> HomeInfo:
        return HomeInfo(name="Fake", time_zone="Europe/Berlin", latitude=52.5, longitude=13.4, source="home_assistant")

    async def registry(self) -> HomeRegistry:
        return HomeRegistry(
            areas=[Area(area_id="a", name="A")],
            devices=[Device(device_id="d", name="D", area_id="a")],
            entities=[Entity(entity_id="sensor.s", domain="sensor", device_id="d")],
        )

    async def window_events(
        self, start: datetime, end: datetime, entity_ids: Sequence[str], previous: Any = None
    ) -> list[Event]:
        self.calls.append((start, end))
        first = start.replace(second=0, microsecond=0)
        if first < start:
            first += timedelta(minutes=1)
        out = []
        while first < end:
            out.append(Event(entity_id="sensor.s", old_state=None, new_state=str(first.minute), time=first))
            first += timedelta(minutes=1)
        return out


class MemoryStore:
    """A HomeStore stand-in: events keyed by (entity_id, time), a sync-state row, a log of writes."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, datetime], Event] = {}
        self.cursor: datetime | None = None
        self.log: list[str] = []
        self.registry: dict[str, int] = {}
        self.home: HomeInfo | None = None

    async def save_home_info(self, info: HomeInfo) -> None:
        self.home = info

    async def upsert_areas(self, areas: Sequence[Area]) -> int:
        self.registry["areas"] = len(areas)
        return len(areas)

    async def upsert_devices(self, devices: Sequence[Device]) -> int:
        self.registry["devices"] = len(devices)
        return len(devices)

    async def upsert_entities(self, entities: Sequence[Entity]) -> int:
        self.registry["entities"] = len(entities)
        return len(entities)

    async def insert_events(self, events: Sequence[Event]) -> tuple[int, int]:
        new = [e for e in events if (e.entity_id, e.time) not in self.events]
        for event in new:
            self.events[(event.entity_id, event.time)] = event
        self.log.append(f"insert {len(events)}")
        return len(new), len(events) - len(new)

    async def get_sync_state(self, source: str) -> Any:
        return None if self.cursor is None else type("S", (), {"last_synced": self.cursor})()

    async def set_sync_state(self, source: str, last_synced: datetime | None, details: Any = None) -> None:
        self.log.append("cursor")
        self.cursor = last_synced


async def test_sync_stores_each_window_before_moving_the_cursor() -> None:
    """First sync: initial span, window by window, each stored then the cursor moved to its end."""
    source, store = FakeSource(timedelta(hours=1)), MemoryStore()
    now = UTC0 + timedelta(days=3)
    sync = HomeAssistantSync(source, store, initial_span=timedelta(hours=3), safety_lag=timedelta(0))  # type: ignore[arg-type]
    result = await sync.run(now=now)
    assert source.calls == [(now - timedelta(hours=3 - i), now - timedelta(hours=2 - i)) for i in range(3)]
    assert store.log == ["insert 60", "cursor"] * 3
    assert (result.inserted, result.duplicates, result.windows) == (180, 0, 3)
    assert store.cursor == now
    assert store.registry == {"areas": 1, "devices": 1, "entities": 1}
    assert store.home is not None and store.home.time_zone == "Europe/Berlin"

    again = await sync.run(now=now + timedelta(minutes=30))
    assert again.start == now - sync.overlap
    assert again.inserted == 30 and again.duplicates == 5  # the five minutes of overlap


async def test_sync_never_moves_the_cursor_back_and_skips_empty_spans() -> None:
    """A cursor ahead of now (another sync got further) stays; nothing is fetched."""
    source, store = FakeSource(timedelta(hours=1)), MemoryStore()
    store.cursor = UTC0 + timedelta(hours=10)
    result = await HomeAssistantSync(source, store).run(now=UTC0)  # type: ignore[arg-type]
    assert (result.windows, result.inserted, result.start, result.end) == (0, 0, None, None)
    assert store.cursor == UTC0 + timedelta(hours=10)
    assert "synced 0 new events" in result.summary() and "nothing new" in result.summary()


async def _events(source: HomeAssistantSource, *args: Any, **kwargs: Any) -> list[list[Event]]:
    batches = []
    async for batch in source.events(*args, **kwargs):
        batches.append(batch)
    return batches


async def test_source_events_are_fetched_one_window_per_call_and_batched() -> None:
    """Three windows, three calls (each from a second before the window); batches no larger than asked."""
    starts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        starts.append(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(200, json=_load("history_full.json"))

    span = META["full"]
    start = _t(span["start"])
    async with _client(Recorder(answer)) as ha:
        source = HomeAssistantSource(ha, window=(_t(span["end"]) - start) / 3)
        batches = await _events(source, start, _t(span["end"]), META["entity_ids"], batch_size=2)
        assert await _events(source, start, start, ["x"]) == []
        assert await _events(source, start, _t(span["end"]), []) == []
        with pytest.raises(ValueError):
            await _events(source, datetime(2026, 1, 1), datetime(2026, 1, 2), ["x"])
    assert len(starts) == 3
    assert _t(starts[0]) == start - timedelta(seconds=1)
    assert all(len(b) <= 2 for b in batches)
    flat = [e for b in batches for e in b]
    assert flat == history_to_events(_load("history_full.json"), start, _t(span["end"]))
