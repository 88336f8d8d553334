"""HomeDataSource over a real Home Assistant: registries over the WebSocket, states and history over REST."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from homeiq_ai.kernel.errors import HomeIQError
from homeiq_ai.kernel.homeassistant import HomeAssistantClient
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError, split_windows

__all__ = ["DEFAULT_WINDOW", "HomeAssistantSource", "HomeRegistry", "history_to_events", "merge_entities"]

log = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(days=1)
# HA answers rows strictly after the requested start; asking from a little earlier keeps a change made
# exactly at a window's start, and the rows before the start only set the old_state of the first change.
_LEAD = timedelta(seconds=1)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def history_to_events(
    history: Iterable[Sequence[Mapping[str, Any]]],
    start: datetime,
    end: datetime,
    previous: MutableMapping[str, str | None] | None = None,
    *,
    fetched_from: datetime | None = None,
) -> list[Event]:
    """Turn HA's per-entity state lists into state-change events with start <= time < end.

    Each list is one entity's states, oldest first; only its first item names the entity. A state
    equal to the one before it (an attribute-only update, a restart) is no change and yields nothing.
    States before `start` only give the old_state, and so does HA's state at the start it was asked
    for (`fetched_from`), which HA stamps with that start.

    Args:
        history: the answer of GET /api/history/period (one or more calls concatenated).
        start: first instant kept, timezone-aware.
        end: first instant no longer kept.
        previous: last known state per entity, used when a list starts without one; updated in place.
        fetched_from: the start the history was requested from, when it was not before `start`.

    Returns:
        The events in time order (then by entity id).
    """
    last: MutableMapping[str, str | None] = previous if previous is not None else {}
    events: list[Event] = []
    for states in history:
        if not states:
            continue
        entity_id = states[0].get("entity_id")
        if not isinstance(entity_id, str):
            continue
        prev = last.get(entity_id)
        known = entity_id in last
        for item in states:
            state = item.get("state")
            moment = _parse_time(item.get("last_changed")) or _parse_time(item.get("last_updated"))
            if moment is None or moment >= end:
                continue
            state = None if state is None else str(state)
            if moment < start or (fetched_from is not None and moment <= fetched_from):
                prev, known = state, True
                continue
            if known and state == prev:
                continue
            events.append(Event(entity_id=entity_id, old_state=prev, new_state=state, time=moment))
            prev, known = state, True
        if known:
            last[entity_id] = prev
    events.sort(key=lambda e: (e.time, e.entity_id))
    return events


def _area(item: Mapping[str, Any]) -> Area:
    return Area(
        area_id=str(item["area_id"]),
        name=str(item.get("name") or item["area_id"]),
        aliases=sorted(str(a) for a in item.get("aliases") or ()),
    )


def _device(item: Mapping[str, Any]) -> Device:
    return Device(
        device_id=str(item["id"]),
        name=str(item.get("name_by_user") or item.get("name") or item["id"]),
        area_id=item.get("area_id"),
        manufacturer=item.get("manufacturer"),
        model=item.get("model"),
    )


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def merge_entities(
    entity_registry: Iterable[Mapping[str, Any]],
    device_registry: Iterable[Mapping[str, Any]],
    states: Iterable[Mapping[str, Any]],
    *,
    resolve_areas: bool = True,
) -> list[Entity]:
    """Entities from the registry and the current states.

    An entity is listed when it has a state or an enabled registry entry. Names, device class, unit
    and supported features come from the state's attributes, else from the registry.

    Args:
        entity_registry: config/entity_registry/list.
        device_registry: config/device_registry/list.
        states: /api/states.
        resolve_areas: area = the entity's own, else its device's; False keeps the entity's own only
            (what the local store keeps, so that moving a device moves its entities).
    """
    device_area = {str(d["id"]): d.get("area_id") for d in device_registry}
    registry = {str(r["entity_id"]): r for r in entity_registry}
    state_by_id = {str(s["entity_id"]): s for s in states if "entity_id" in s}
    wanted = set(state_by_id) | {eid for eid, r in registry.items() if not r.get("disabled_by")}
    out: list[Entity] = []
    for entity_id in sorted(wanted):
        entry = registry.get(entity_id, {})
        attributes = (state_by_id.get(entity_id) or {}).get("attributes") or {}
        device_id = entry.get("device_id")
        area_id = entry.get("area_id")
        if area_id is None and resolve_areas and device_id:
            area_id = device_area.get(str(device_id))
        out.append(
            Entity(
                entity_id=entity_id,
                domain=entity_id.split(".", 1)[0],
                friendly_name=attributes.get("friendly_name") or entry.get("name") or entry.get("original_name"),
                aliases=sorted(str(a) for a in entry.get("aliases") or ()),
                device_class=attributes.get("device_class")
                or entry.get("device_class")
                or entry.get("original_device_class"),
                unit_of_measurement=attributes.get("unit_of_measurement") or entry.get("unit_of_measurement"),
                area_id=area_id,
                device_id=device_id,
                supported_features=_int(attributes.get("supported_features", entry.get("supported_features"))),
                entity_category=entry.get("entity_category"),
            )
        )
    return out


class HomeRegistry(msgspec.Struct, kw_only=True):
    """One reading of Home Assistant's registries; entities carry their own area only."""

    areas: list[Area]
    devices: list[Device]
    entities: list[Entity]


class HomeAssistantSource:
    """Reads a home from Home Assistant; long histories are fetched one window per call."""

    name = "home_assistant"

    def __init__(self, client: HomeAssistantClient, *, window: timedelta = DEFAULT_WINDOW) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self.client = client
        self.window = window

    async def _call(self, what: str, coro: Any) -> Any:
        try:
            return await coro
        except HomeIQError as exc:
            raise HomeDataUnavailableError(f"{what}: {exc.message}") from exc

    async def home_info(self) -> HomeInfo:
        """Name, time zone and location from /api/config."""
        config = await self._call("home info", self.client.config())
        return HomeInfo(
            name=config.get("location_name") or "Home",
            time_zone=config.get("time_zone") or "UTC",
            latitude=config.get("latitude"),
            longitude=config.get("longitude"),
            elevation=config.get("elevation"),
            source=self.name,
        )

    async def areas(self) -> list[Area]:
        """Every area of the area registry."""
        items = await self._call("areas", self.client.area_registry())
        return sorted((_area(a) for a in items), key=lambda a: a.area_id)

    async def devices(self) -> list[Device]:
        """Every device of the device registry."""
        items = await self._call("devices", self.client.device_registry())
        return sorted((_device(d) for d in items), key=lambda d: d.device_id)

    async def entities(self) -> list[Entity]:
        """Every entity with a state or an enabled registry entry, its area resolved."""
        devices, entities = await self._call(
            "entities",
            self.client.ws_commands([{"type": "config/device_registry/list"}, {"type": "config/entity_registry/list"}]),
        )
        states = await self._call("entities", self.client.states())
        return merge_entities(entities, devices, states)

    async def registry(self) -> HomeRegistry:
        """Areas, devices and entities (own areas only) over one WebSocket connection and /api/states."""
        areas, devices, entities = await self._call("registries", self.client.registries())
        states = await self._call("states", self.client.states())
        return HomeRegistry(
            areas=sorted((_area(a) for a in areas), key=lambda a: a.area_id),
            devices=sorted((_device(d) for d in devices), key=lambda d: d.device_id),
            entities=merge_entities(entities, devices, states, resolve_areas=False),
        )

    async def entity_ids(self) -> list[str]:
        """Every entity id worth asking history for (states and enabled registry entries)."""
        return [e.entity_id for e in await self.entities()]

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The [start, end) windows one call each covers."""
        return split_windows(start, end, self.window)

    async def window_events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str],
        previous: MutableMapping[str, str | None] | None = None,
    ) -> list[Event]:
        """The state changes of one window with start <= time < end, in time order."""
        fetched_from = start - _LEAD
        history = await self._call(
            f"history {start.isoformat()} .. {end.isoformat()}",
            self.client.history(fetched_from, end, entity_ids),
        )
        return history_to_events(history, start, end, previous, fetched_from=fetched_from)

    async def events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[Event]]:
        """State changes with start <= time < end, in time order, in batches; one HA call per window."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        ids = list(entity_ids) if entity_ids is not None else await self.entity_ids()
        if not ids or start >= end:
            return
        previous: dict[str, str | None] = {}
        for lower, upper in self.windows(start, end):
            events = await self.window_events(lower, upper, ids, previous)
            log.debug("home assistant history %s .. %s: %d events", lower, upper, len(events))
            for offset in range(0, len(events), batch_size):
                yield events[offset : offset + batch_size]
