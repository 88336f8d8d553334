"""A loopback stand-in for Home Assistant 2024.3 that serves a generated history, for the sync bench.

It speaks the REST and WebSocket shapes that `homeiq_ai.kernel.homeassistant.HomeAssistantClient` uses,
as recorded from a real Home Assistant in tests/fixtures/homeassistant/:

- GET /api/config, GET /api/states (Bearer token required, 401 otherwise);
- GET /api/history/period/<start>?filter_entity_id=..&end_time=..&significant_changes_only=0
  &minimal_response&no_attributes: one list per requested entity that has data, in the order asked;
  each starts with the entity's state at <start> stamped <start> (when it has one), then every change
  with start < time < end; only the first item is a full state (entity_id, attributes {}, context,
  last_changed, last_updated), the later ones are {state, last_changed}; entities without data are left
  out. Consecutive states always differ, so nothing is dropped as an attribute-only update;
- WebSocket /api/websocket: auth_required, auth -> auth_ok, then config/area_registry/list,
  config/device_registry/list and config/entity_registry/list.

The home: 100 entities (30 lights, 15 switches, 25 binary sensors, 30 sensors: power and temperature)
on 50 devices in 5 areas, and `--events` state changes spread over `--days` days from `--start`, drawn
with numpy from a fixed seed. History answers named in `--plan` (a JSON file: {"windows": [[start, end],
...], "chunks": [[entity_id, ...], ...]}) are built and encoded before the port opens, so the sync
measures its own cost; anything else is built when asked. GET /bench/stats (not Home Assistant's)
reports the server's CPU time and the time it spent answering, so the caller can tell them apart.

    python bench/fake_homeassistant.py --port 8123 --token TOKEN [--events 1000000] [--days 30]
        [--start 2026-01-01T00:00:00+00:00] [--plan plan.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import msgspec
import numpy as np

HA_VERSION = "2024.3.3"
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONTEXT = {"id": "01M7YACVGJZZFCAH16SHB5QY1B", "parent_id": None, "user_id": None}
_AREAS = {
    "living_room": "Living Room",
    "kitchen": "Kitchen",
    "bedroom": "Bedroom",
    "office": "Office",
    "garden": "Garden",
}
_encode = msgspec.json.Encoder().encode

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def entity_ids() -> list[str]:
    """The 100 entities, sorted as the sync asks for them."""
    kinds = [("light", 30), ("switch", 15), ("binary_sensor", 25), ("sensor", 30)]
    return sorted(f"{domain}.bench_{i:03d}" for domain, count in kinds for i in range(count))


def _micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _iso(micros: int) -> str:
    """Home Assistant's own format: datetime.isoformat() in UTC (no fraction when it is zero)."""
    return (_EPOCH + timedelta(microseconds=micros)).isoformat()


class FakeHome:
    """The generated home: registries, current states and every state change, per entity in time order."""

    def __init__(self, count: int, days: float, start: datetime, seed: int = 42) -> None:
        rng = np.random.default_rng(seed)
        self.entity_ids = entity_ids()
        self.start_us = _micros(start)
        self.end_us = self.start_us + int(days * 86_400 * 1_000_000)
        step = (self.end_us - self.start_us) / count
        if step < 2:
            raise ValueError("too many events for the span: they need distinct microseconds")
        # Strictly increasing times, one in each step-long slot, never on the slot's edges.
        offsets = np.arange(count, dtype=np.float64) * step + rng.uniform(0.05, 0.95, count) * step
        times = self.start_us + offsets.astype(np.int64)
        owner = rng.integers(0, len(self.entity_ids), count)
        iso = np.char.add(np.datetime_as_string(times.astype("datetime64[us]"), unit="us"), "+00:00").astype(object)
        whole = np.flatnonzero(times % 1_000_000 == 0)
        iso[whole] = [_iso(int(t)) for t in times[whole]]
        self.count = count
        self.times: list[np.ndarray] = []
        self.values: list[list[str]] = []
        self.isos: list[list[str]] = []
        for number, entity_id in enumerate(self.entity_ids):
            idx = np.flatnonzero(owner == number)
            n = len(idx)
            if entity_id.startswith("sensor.") and number % 2 == 0:
                # power in W, tenths: each change moves it by 0.1 .. 299.9 W modulo 3000 W, never to itself
                values = np.cumsum(rng.integers(1, 3000, n)) % 30_000
                states = [f"{v / 10:.1f}" for v in values]
            elif entity_id.startswith("sensor."):
                # temperature in °C, hundredths: a random walk of ±0.01 .. ±0.05
                steps = rng.integers(1, 6, n) * rng.choice([-1, 1], n)
                values = 2100 + np.cumsum(steps)
                states = [f"{v / 100:.2f}" for v in values]
            else:
                first = int(rng.integers(0, 2))
                states = ["on" if (k + first) % 2 else "off" for k in range(n)]
            self.times.append(times[idx])
            self.values.append(states)
            self.isos.append(iso[idx].tolist())
        self.index = {entity_id: number for number, entity_id in enumerate(self.entity_ids)}

    # --- what the REST and WebSocket answers hold ---------------------------------------------------

    def _attributes(self, entity_id: str) -> dict[str, Any]:
        domain, name = entity_id.split(".", 1)
        attributes: dict[str, Any] = {"friendly_name": name.replace("_", " ").title()}
        number = self.index[entity_id]
        if domain == "sensor":
            if number % 2 == 0:
                attributes.update(device_class="power", state_class="measurement", unit_of_measurement="W")
            else:
                attributes.update(device_class="temperature", state_class="measurement", unit_of_measurement="°C")
        elif domain == "binary_sensor":
            attributes["device_class"] = "motion"
        elif domain == "light":
            attributes.update(color_mode="brightness", supported_color_modes=["brightness"], supported_features=0)
        return attributes

    def _device_id(self, number: int) -> str:
        return f"{number // 2:032x}"

    def config(self) -> dict[str, Any]:
        """GET /api/config, shaped like tests/fixtures/homeassistant/config.json."""
        return {
            "allowlist_external_dirs": ["/media", "/config/www"],
            "allowlist_external_urls": [],
            "components": ["api", "config", "history", "recorder", "websocket_api"],
            "config_dir": "/config",
            "config_source": "yaml",
            "country": None,
            "currency": "EUR",
            "elevation": 34,
            "external_url": None,
            "internal_url": None,
            "language": "en",
            "latitude": 52.52,
            "location_name": "HomeIQ Bench Home",
            "longitude": 13.405,
            "recovery_mode": False,
            "safe_mode": False,
            "state": "RUNNING",
            "time_zone": "Europe/Berlin",
            "unit_system": {
                "accumulated_precipitation": "mm",
                "length": "km",
                "mass": "g",
                "pressure": "Pa",
                "temperature": "°C",
                "volume": "L",
                "wind_speed": "m/s",
            },
            "version": HA_VERSION,
            "whitelist_external_dirs": ["/media", "/config/www"],
        }

    def states(self) -> list[dict[str, Any]]:
        """GET /api/states: every entity's last state, as in states.json."""
        out = []
        for number, entity_id in enumerate(self.entity_ids):
            if self.values[number]:
                state, moment = self.values[number][-1], self.isos[number][-1]
            else:
                state, moment = "unknown", _iso(self.start_us)
            out.append(
                {
                    "attributes": self._attributes(entity_id),
                    "context": _CONTEXT,
                    "entity_id": entity_id,
                    "last_changed": moment,
                    "last_updated": moment,
                    "state": state,
                }
            )
        return out

    def area_registry(self) -> list[dict[str, Any]]:
        """config/area_registry/list, as in area_registry.json."""
        return [
            {"aliases": [], "area_id": area_id, "icon": None, "name": name, "picture": None}
            for area_id, name in _AREAS.items()
        ]

    def device_registry(self) -> list[dict[str, Any]]:
        """config/device_registry/list, as in device_registry.json: one device per two entities."""
        areas = list(_AREAS)
        return [
            {
                "area_id": areas[device % len(areas)],
                "config_entries": ["64987d52646adb482235db2f63c254b9"],
                "configuration_url": None,
                "connections": [],
                "disabled_by": None,
                "entry_type": None,
                "hw_version": None,
                "id": self._device_id(device * 2),
                "identifiers": [["bench", f"device_{device:03d}"]],
                "manufacturer": "HomeIQ Bench",
                "model": "Generated",
                "name": f"Bench device {device:03d}",
                "name_by_user": None,
                "serial_number": None,
                "sw_version": None,
                "via_device_id": None,
            }
            for device in range((len(self.entity_ids) + 1) // 2)
        ]

    def entity_registry(self) -> list[dict[str, Any]]:
        """config/entity_registry/list, as in entity_registry.json."""
        return [
            {
                "area_id": "office" if number % 10 == 0 else None,
                "config_entry_id": "64987d52646adb482235db2f63c254b9",
                "device_id": self._device_id(number),
                "disabled_by": None,
                "entity_category": None,
                "entity_id": entity_id,
                "has_entity_name": False,
                "hidden_by": None,
                "icon": None,
                "id": f"{number + 1:032x}",
                "labels": [],
                "name": None,
                "options": {"conversation": {"should_expose": False}},
                "original_name": entity_id.split(".", 1)[1].replace("_", " ").title(),
                "platform": "bench",
                "translation_key": None,
                "unique_id": entity_id,
            }
            for number, entity_id in enumerate(self.entity_ids)
        ]

    def history(self, start_us: int, end_us: int, wanted: list[str]) -> list[list[dict[str, Any]]]:
        """GET /api/history/period/<start> with minimal_response and no_attributes, as HA 2024.3 answers it."""
        start_iso = _iso(start_us)
        out = []
        for entity_id in wanted:
            number = self.index.get(entity_id)
            if number is None:
                continue
            times, states, isos = self.times[number], self.values[number], self.isos[number]
            first = int(np.searchsorted(times, start_us, side="right"))
            stop = int(np.searchsorted(times, end_us, side="left"))
            rows: list[dict[str, Any]] = []
            if first > 0:
                state, stamp = states[first - 1], start_iso
            elif first < stop:
                state, stamp = states[first], isos[first]
                first += 1
            else:
                continue
            rows.append(
                {
                    "attributes": {},
                    "context": _CONTEXT,
                    "entity_id": entity_id,
                    "last_changed": stamp,
                    "last_updated": stamp,
                    "state": state,
                }
            )
            rows.extend({"state": states[i], "last_changed": isos[i]} for i in range(first, stop))
            out.append(rows)
        return out


class FakeHomeAssistant:
    """The ASGI app (run by uvicorn): answers from pre-encoded bodies where it can."""

    def __init__(self, home: FakeHome, token: str) -> None:
        self.home = home
        self.token = token
        self.bodies: dict[tuple[int, int, str], bytes] = {}
        self.prepared_seconds = 0.0
        self.stats: dict[str, float] = {
            "requests": 0,
            "history_requests": 0,
            "built_on_demand": 0,
            "answer_seconds": 0.0,
            "bytes": 0,
        }
        self._static = {
            "/api/config": _encode(home.config()),
            "/api/states": _encode(home.states()),
        }
        self._ws = {
            "config/area_registry/list": home.area_registry(),
            "config/device_registry/list": home.device_registry(),
            "config/entity_registry/list": home.entity_registry(),
        }

    @staticmethod
    def _parse(moment: str) -> int:
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return _micros(parsed)

    def _history_body(self, start_us: int, end_us: int, filter_ids: str) -> bytes:
        key = (start_us, end_us, filter_ids)
        body = self.bodies.get(key)
        if body is None:
            self.stats["built_on_demand"] += 1
            body = _encode(self.home.history(start_us, end_us, filter_ids.split(",")))
        return body

    def prepare(self, windows: list[tuple[str, str]], chunks: list[list[str]]) -> None:
        """Build and encode the history answers of these windows and entity chunks ahead of time."""
        started = time.perf_counter()
        for start, end in windows:
            for chunk in chunks:
                key = (self._parse(start), self._parse(end), ",".join(chunk))
                self.bodies[key] = _encode(self.home.history(key[0], key[1], chunk))
        self.prepared_seconds = time.perf_counter() - started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, send)
        elif scope["type"] == "websocket":
            await self._websocket(receive, send)

    async def _respond(self, send: Send, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _http(self, scope: Scope, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        if path == "/bench/stats":
            stats = {
                **self.stats,
                "cpu_seconds": time.process_time(),
                "prepared": len(self.bodies),
                "prepared_seconds": self.prepared_seconds,
                "prepared_bytes": sum(len(b) for b in self.bodies.values()),
                "events": self.home.count,
            }
            await self._respond(send, 200, _encode(stats))
            return
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != f"Bearer {self.token}".encode():
            await self._respond(send, 401, b'{"message":"401: Unauthorized"}')
            return
        if path in self._static:
            body = self._static[path]
        elif path.startswith("/api/history/period/"):
            query = parse_qs(scope["query_string"].decode(), keep_blank_values=True)
            filter_ids = query.get("filter_entity_id", [""])[0]
            if not filter_ids:
                await self._respond(send, 400, b'{"message":"filter_entity_id is missing"}')
                return
            start_us = self._parse(path.removeprefix("/api/history/period/"))
            end = query.get("end_time")
            end_us = self._parse(end[0]) if end else start_us + 86_400_000_000
            self.stats["history_requests"] += 1
            body = self._history_body(start_us, end_us, filter_ids)
        else:
            await self._respond(send, 404, b'{"message":"Not Found"}')
            return
        await self._respond(send, 200, body)
        self.stats["requests"] += 1
        self.stats["bytes"] += len(body)
        self.stats["answer_seconds"] += time.perf_counter() - started

    async def _websocket(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps({"type": "auth_required", "ha_version": HA_VERSION})})
        authed = False
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            started = time.perf_counter()
            data = json.loads(message.get("text") or message.get("bytes") or b"{}")
            if not authed:
                if data.get("type") == "auth" and data.get("access_token") == self.token:
                    authed = True
                    ok = {"type": "auth_ok", "ha_version": HA_VERSION}
                    await send({"type": "websocket.send", "text": json.dumps(ok)})
                    continue
                answer = {"type": "auth_invalid", "message": "Invalid access token or password"}
                await send({"type": "websocket.send", "text": json.dumps(answer)})
                await send({"type": "websocket.close", "code": 1000})
                return
            result = self._ws.get(data.get("type"))
            if result is None:
                reply = {
                    "id": data.get("id"),
                    "type": "result",
                    "success": False,
                    "error": {"code": "unknown_command", "message": "Unknown command."},
                }
            else:
                reply = {"id": data.get("id"), "type": "result", "success": True, "result": result}
            await send({"type": "websocket.send", "text": _encode(reply).decode()})
            self.stats["answer_seconds"] += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--start", type=datetime.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--plan", default=None, help="JSON file of the windows and entity chunks to pre-encode")
    args = parser.parse_args()

    import uvicorn

    started = time.perf_counter()
    home = FakeHome(args.events, args.days, args.start, args.seed)
    generated = time.perf_counter() - started
    app = FakeHomeAssistant(home, args.token)
    if args.plan:
        with open(args.plan, encoding="utf-8") as fh:
            plan = json.load(fh)
        app.prepare([tuple(w) for w in plan["windows"]], plan["chunks"])
    print(
        f"fake home assistant: {args.events:,} changes generated in {generated:.1f} s, "
        f"{len(app.bodies)} history answers encoded in {app.prepared_seconds:.1f} s",
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="off",
        ws="websockets",
        ws_max_size=64 * 1024 * 1024,
        access_log=False,
    )


if __name__ == "__main__":
    main()
