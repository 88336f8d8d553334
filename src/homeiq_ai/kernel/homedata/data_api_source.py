"""HomeDataSource over HomeIQ's Data API: registries from /api/areas|devices|entities, history from /api/v1/events.

HomeIQ's data-api (FastAPI, port 8006) answers:

- ``GET /api/devices?limit=`` (at most 1000) and ``GET /api/entities?limit=`` (at most 10000) with
  ``{"devices"|"entities": [...], "count", "limit"}`` read from its SQLite copy of HA's registries;
- ``GET /api/v1/events?start_time=&end_time=&entity_id=&limit=&offset=`` with a bare list of
  ``{id, timestamp, entity_id, event_type, old_state, new_state, attributes, tags}``, newest first.
  The versions published so far read only the ``context_id`` field from InfluxDB and answer
  ``old_state``/``new_state`` as null for every event, so their history cannot be mined: such events
  are counted, skipped and named in one warning per fetch (`last_fetch_missing_states`). For windows
  starting more than 10 days ago it reads HA's statistics measurements instead, which have no states
  either;
- ``GET /api/areas`` is not served by the published versions (HTTP 404): areas are then derived from
  the area ids of devices and entities, named by their id.

Events are read one time window per call. A window whose answer fills a whole page is split in two
until it does not, and only a window too short to split is paged on with ``offset``: the published
data-api appends ``|> offset(n:)`` to its Flux, but Flux has offset only as a parameter of
``limit()``, so there any offset > 0 fails and is answered with an empty list.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from homeiq_ai.kernel.errors import HomeIQError
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError, split_windows
from homeiq_ai.kernel.service_client import OwnsHttpClient, PeerError, ServiceClient

if TYPE_CHECKING:
    from homeiq_ai.settings import Secret, Settings

__all__ = ["DEFAULT_PAGE_SIZE", "DEFAULT_WINDOW", "DataApiSource", "event_from_data_api"]

log = logging.getLogger(__name__)

SERVICE_NAME = "data_api"
DEFAULT_WINDOW = timedelta(days=1)
DEFAULT_PAGE_SIZE = 5000
# The data-api's own upper bounds for ?limit= on the registry routes.
DEVICES_LIMIT = 1000
ENTITIES_LIMIT = 10_000
# Up to this many entity ids are asked for one by one (the route filters one entity_id); more are
# read unfiltered and filtered here.
MAX_ENTITY_QUERIES = 20
# A full page in a window shorter than this is paged on with offset instead of split again.
MIN_SPLIT = timedelta(seconds=1)
_MAX_OFFSET_PAGES = 1000
# Values the data-api answers where HA had none.
_PLACEHOLDERS = frozenset({"", "Unknown", "unknown"})


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not accepted: give a timezone-aware value")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _state(value: Any) -> str | None:
    """A state as text: the data-api answers a string, HA's state object, or {"raw"|"value": ...}."""
    if isinstance(value, Mapping):
        for key in ("state", "raw", "value"):
            if value.get(key) is not None:
                return str(value[key])
        return None
    if value is None:
        return None
    return str(value)


def _text(value: Any) -> str | None:
    return None if value is None or str(value) in _PLACEHOLDERS else str(value)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _items(body: Any, key: str) -> list[Mapping[str, Any]] | None:
    """The records of a list answer or of a ``{key: [...]}`` wrapper; None for any other shape."""
    if isinstance(body, Mapping):
        body = body.get(key)
    if not isinstance(body, list):
        return None
    return [item for item in body if isinstance(item, Mapping)]


def event_from_data_api(item: Mapping[str, Any]) -> Event | None:
    """One data-api event as an Event, or None when it has no entity, no time or no new state."""
    entity_id = item.get("entity_id")
    moment = _parse_time(item.get("timestamp") or item.get("time_fired") or item.get("_time"))
    new_state = _state(item.get("new_state", item.get("state_value")))
    if not isinstance(entity_id, str) or not entity_id or moment is None or new_state is None:
        return None
    attributes = item.get("attributes")
    event_id = item.get("context_id") or item.get("id")
    # The data-api makes up "event_<timestamp>_<entity>" ids for events without a context id.
    context_id = str(event_id) if event_id and not str(event_id).startswith("event_") else None
    return Event(
        entity_id=entity_id,
        old_state=_state(item.get("old_state", item.get("previous_state"))),
        new_state=new_state,
        time=moment,
        attributes=dict(attributes) if isinstance(attributes, Mapping) and attributes else None,
        context_id=context_id,
    )


def _device(item: Mapping[str, Any]) -> Device | None:
    device_id = item.get("device_id") or item.get("id")
    if not device_id:
        return None
    return Device(
        device_id=str(device_id),
        name=str(item.get("name_by_user") or item.get("name") or device_id),
        area_id=_text(item.get("area_id")),
        manufacturer=_text(item.get("manufacturer")),
        model=_text(item.get("model")),
    )


def _entity(item: Mapping[str, Any], device_area: Mapping[str, str | None]) -> Entity | None:
    entity_id = item.get("entity_id")
    if not isinstance(entity_id, str) or "." not in entity_id:
        return None
    device_id = _text(item.get("device_id"))
    area_id = _text(item.get("area_id")) or (device_area.get(device_id) if device_id else None)
    return Entity(
        entity_id=entity_id,
        domain=_text(item.get("domain")) or entity_id.split(".", 1)[0],
        friendly_name=_text(
            item.get("friendly_name") or item.get("name_by_user") or item.get("name") or item.get("original_name")
        ),
        aliases=sorted(str(a) for a in item.get("aliases") or ()),
        device_class=_text(item.get("device_class")),
        unit_of_measurement=_text(item.get("unit_of_measurement")),
        area_id=area_id,
        device_id=device_id,
        supported_features=_int(item.get("supported_features")),
        entity_category=_text(item.get("entity_category")),
    )


class _NotFound(Exception):
    """Internal: the Data API has no such route."""


class DataApiSource(OwnsHttpClient):
    """Reads a home from HomeIQ's Data API; see the module docstring for what it can and cannot give.

    Close it with `aclose()` (or use it as an async context manager).
    """

    name = "data_api"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: Secret | None = None,
        time_zone: str = "UTC",
        latitude: float | None = None,
        longitude: float | None = None,
        elevation: float | None = None,
        timeout: float = 10.0,
        events_timeout: float = 60.0,
        tries: int = 3,
        window: timedelta = DEFAULT_WINDOW,
        page_size: int = DEFAULT_PAGE_SIZE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.window = window
        self.page_size = page_size
        self._events_timeout = max(timeout, events_timeout)
        self._info = HomeInfo(
            time_zone=time_zone, latitude=latitude, longitude=longitude, elevation=elevation, source=self.name
        )
        # The data-api's own clients send its API key as a bearer token.
        headers = {"Authorization": f"Bearer {api_key.get()}"} if api_key is not None else {}
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._client = ServiceClient(
            SERVICE_NAME, self.base_url, self._http, tries=max(1, tries), timeout=timeout, headers=headers
        )
        self.last_fetch_missing_states = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> DataApiSource:
        """The source for DATA_API_URL, API_KEY (sent as bearer token), HOME_* and SERVICE_TIMEOUT/RETRIES."""
        return cls(
            settings.service_urls["data_api"],
            api_key=settings.api_key,
            time_zone=settings.home_time_zone,
            latitude=settings.home_latitude,
            longitude=settings.home_longitude,
            elevation=settings.home_elevation,
            timeout=settings.service_timeout_seconds,
            tries=settings.service_retries,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"DataApiSource({self.base_url!r})"

    # --- HTTP ---------------------------------------------------------------------------------------

    async def _get(
        self, what: str, path: str, params: Mapping[str, Any] | None = None, timeout: float | None = None
    ) -> Any:
        try:
            response = await self._client.request("GET", path, params=params, timeout=timeout)
        except PeerError as exc:
            if exc.status_code == 404:
                raise _NotFound(path) from None
            raise HomeDataUnavailableError(f"{what}: {self._peer_message(path, exc)}") from None
        except HomeIQError as exc:
            raise HomeDataUnavailableError(f"{what}: Data API at {self.base_url}: {exc.message}") from exc
        try:
            return response.json()
        except ValueError:
            raise HomeDataUnavailableError(
                f"{what}: the Data API at {self.base_url} answered GET {path} with a body that is not JSON"
            ) from None

    def _peer_message(self, path: str, exc: PeerError) -> str:
        if exc.status_code in (401, 403):
            return (
                f"the Data API at {self.base_url} refused the request (HTTP {exc.status_code}) on GET {path}: "
                "check API_KEY, which is sent to it as a bearer token"
            )
        detail = (exc.body.get("detail") or exc.body.get("error")) if isinstance(exc.body, Mapping) else None
        return f"the Data API at {self.base_url} answered HTTP {exc.status_code} to GET {path}: {detail or exc.message}"

    async def _list(self, what: str, path: str, key: str, limit: int) -> list[Mapping[str, Any]]:
        try:
            body = await self._get(what, path, {"limit": limit})
        except _NotFound:
            raise HomeDataUnavailableError(f"{what}: the Data API at {self.base_url} has no route GET {path}") from None
        items = _items(body, key)
        if items is None:
            raise HomeDataUnavailableError(
                f"{what}: the Data API at {self.base_url} answered GET {path} with {type(body).__name__}, "
                f"not a list or {{{key!r}: [...]}}"
            )
        if len(items) >= limit:
            log.warning("data_api: GET %s answered its limit of %d %s; the list may be cut short", path, limit, key)
        return items

    # --- registries ---------------------------------------------------------------------------------

    async def home_info(self) -> HomeInfo:
        """Time zone and location from HOME_TIME_ZONE, HOME_LATITUDE, HOME_LONGITUDE, HOME_ELEVATION."""
        return self._info

    async def devices(self) -> list[Device]:
        """Every device of GET /api/devices, by id."""
        items = await self._list("devices", "/api/devices", "devices", DEVICES_LIMIT)
        devices = {d.device_id: d for d in (_device(i) for i in items) if d is not None}
        return [devices[k] for k in sorted(devices)]

    async def entities(self) -> list[Entity]:
        """Every enabled entity of GET /api/entities, its area resolved (own, else its device's)."""
        return await self._entities(None)

    async def _entities(self, devices: list[Device] | None) -> list[Entity]:
        items = await self._list("entities", "/api/entities", "entities", ENTITIES_LIMIT)
        if devices is None:
            devices = await self.devices()
        device_area = {d.device_id: d.area_id for d in devices}
        entities = {
            e.entity_id: e for e in (_entity(i, device_area) for i in items if not i.get("disabled")) if e is not None
        }
        return [entities[k] for k in sorted(entities)]

    async def areas(self) -> list[Area]:
        """Every area of GET /api/areas; where the Data API has no such route, the areas in use, named by id."""
        try:
            body = await self._get("areas", "/api/areas")
        except _NotFound:
            log.info("data_api: GET /api/areas is not served; areas are derived from devices and entities")
            return await self._areas_in_use()
        items = _items(body, "areas")
        if items is None:
            raise HomeDataUnavailableError(
                f"areas: the Data API at {self.base_url} answered GET /api/areas with {type(body).__name__}, "
                "not a list or {'areas': [...]}"
            )
        areas = {}
        for item in items:
            area_id = item.get("area_id") or item.get("id")
            if area_id:
                areas[str(area_id)] = Area(
                    area_id=str(area_id),
                    name=str(item.get("name") or area_id),
                    aliases=sorted(str(a) for a in item.get("aliases") or ()),
                )
        return [areas[k] for k in sorted(areas)]

    async def _areas_in_use(self) -> list[Area]:
        devices = await self.devices()
        ids = {d.area_id for d in devices} | {e.area_id for e in await self._entities(devices)}
        return [Area(area_id=a, name=a) for a in sorted(i for i in ids if i)]

    # --- events -------------------------------------------------------------------------------------

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The [start, end) windows one fetch covers, `window` long each."""
        return split_windows(start, end, self.window)

    async def _page(self, lower: datetime, upper: datetime, entity_id: str | None, offset: int) -> list[Any]:
        params = {
            "start_time": _iso(lower),
            "end_time": _iso(upper),
            "entity_id": entity_id,
            "limit": self.page_size,
            "offset": offset,
        }
        what = f"events {_iso(lower)} .. {_iso(upper)}"
        try:
            body = await self._get(what, "/api/v1/events", params, timeout=self._events_timeout)
        except _NotFound:
            raise HomeDataUnavailableError(
                f"{what}: the Data API at {self.base_url} has no route GET /api/v1/events"
            ) from None
        items = _items(body, "events")
        if items is None:
            raise HomeDataUnavailableError(
                f"{what}: the Data API at {self.base_url} answered GET /api/v1/events with {type(body).__name__}"
            )
        return items

    async def _window_items(self, lower: datetime, upper: datetime, entity_id: str | None) -> list[Any]:
        items = await self._page(lower, upper, entity_id, 0)
        if len(items) < self.page_size:
            return items
        if upper - lower > MIN_SPLIT:
            middle = lower + (upper - lower) / 2
            return await self._window_items(lower, middle, entity_id) + await self._window_items(
                middle, upper, entity_id
            )
        seen = {(i.get("entity_id"), i.get("timestamp")) for i in items}
        for _ in range(_MAX_OFFSET_PAGES):
            more = await self._page(lower, upper, entity_id, len(items))
            new = [i for i in more if (i.get("entity_id"), i.get("timestamp")) not in seen]
            items.extend(new)
            seen.update((i.get("entity_id"), i.get("timestamp")) for i in new)
            if len(more) < self.page_size or not new:
                break
        return items

    async def window_events(
        self, start: datetime, end: datetime, entity_ids: Sequence[str] | None = None
    ) -> tuple[list[Event], int, int]:
        """The events of one window with start <= time < end, in time order.

        Returns:
            (events, how many events came without a state value, how many events came in all).
        """
        wanted = set(entity_ids) if entity_ids is not None else None
        if wanted is not None and len(wanted) <= MAX_ENTITY_QUERIES:
            raw: list[Any] = []
            for entity_id in sorted(wanted):
                raw.extend(await self._window_items(start, end, entity_id))
        else:
            raw = await self._window_items(start, end, None)
        events: dict[tuple[str, datetime], Event] = {}
        missing = total = 0
        for item in raw:
            entity_id = item.get("entity_id")
            if wanted is not None and entity_id not in wanted:
                continue
            total += 1
            event = event_from_data_api(item)
            if event is None:
                if isinstance(entity_id, str) and _parse_time(item.get("timestamp")) is not None:
                    missing += 1
                continue
            if start <= event.time < end:
                events[(event.entity_id, event.time)] = event
        ordered = sorted(events.values(), key=lambda e: (e.time, e.entity_id))
        return ordered, missing, total

    async def events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[Event]]:
        """State changes with start <= time < end, in time order, in batches; one window after another.

        Events without a state value are skipped and counted in `last_fetch_missing_states`; when there
        are any, one warning per fetch says how many.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.last_fetch_missing_states = 0
        total = 0
        try:
            for lower, upper in self.windows(start, end):
                events, missing, seen = await self.window_events(lower, upper, entity_ids)
                self.last_fetch_missing_states += missing
                total += seen
                log.debug("data_api events %s .. %s: %d events, %d without state", lower, upper, len(events), missing)
                for offset in range(0, len(events), batch_size):
                    yield events[offset : offset + batch_size]
        finally:
            if self.last_fetch_missing_states:
                hint = (
                    " This Data API returns no states with its events; DATA_SOURCE=influxdb or home_assistant "
                    "reads them."
                    if self.last_fetch_missing_states == total
                    else ""
                )
                log.warning(
                    "data_api: %d of %d events from %s between %s and %s came without a state value "
                    "(new_state is null) and were skipped: mining patterns from empty states would be wrong.%s",
                    self.last_fetch_missing_states,
                    total,
                    self.base_url,
                    _iso(start),
                    _iso(end),
                    hint,
                )
