"""HomeDataSource over InfluxDB 2.x: Flux queries on the measurement HomeIQ writes, home_assistant_events.

HomeIQ's websocket-ingestion writes one point per Home Assistant event: tags ``entity_id``, ``domain``,
``device_class``, ``area_id``, ``device_id``, ``event_type`` (and a few more); string fields
``state_value``, ``previous_state``, ``attributes`` (JSON) and ``context_id``.

Queries go to ``POST /api/v2/query?org=`` (header ``Authorization: Token ...``) through the kernel's
ServiceClient: bounded retries on connection failures, timeouts and 5xx, the same as every peer.
The annotated CSV answer is read with influxdb-client's own ``FluxCsvParser``. (influxdb-client's
``InfluxDBClientAsync`` needs the ``async`` extra, aiohttp and aiocsv, which this project does not
install, and it does not retry queries.)

- Events: one query per day (`window`): range, measurement, the four fields, optionally
  ``contains(value: r.entity_id, set: [...])``, pivoted into one row per point, sorted by time.
- Registries: one query for the newest point of each series over `registry_lookback` (30 days);
  the tags of those rows give the entities (domain, device class, area, device), the areas and the
  devices. InfluxDB keeps no names: entities have no friendly name, and areas and devices are named
  by their ids. An entity with no event in the lookback is not listed.

The token is sent only in that header: it is in no log line, error message or repr.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from homeiq_ai.kernel.errors import HomeIQError
from homeiq_ai.kernel.homedata.model import Area, Device, Entity, Event, HomeInfo
from homeiq_ai.kernel.homedata.source import HomeDataUnavailableError, split_windows
from homeiq_ai.kernel.service_client import OwnsHttpClient, PeerError, ServiceClient

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeiq_ai.settings import Secret, Settings

__all__ = [
    "DEFAULT_REGISTRY_LOOKBACK",
    "DEFAULT_WINDOW",
    "MEASUREMENT",
    "AnnotatedCsvError",
    "InfluxDbSource",
    "events_flux",
    "flux_string",
    "flux_time",
    "parse_annotated_csv",
    "registry_flux",
]

log = logging.getLogger(__name__)

SERVICE_NAME = "InfluxDB"
MEASUREMENT = "home_assistant_events"
DEFAULT_WINDOW = timedelta(days=1)
DEFAULT_REGISTRY_LOOKBACK = timedelta(days=30)
EVENT_FIELDS = ("state_value", "previous_state", "attributes", "context_id")
REGISTRY_TAGS = ("entity_id", "domain", "device_class", "area_id", "device_id")
# What influxdb-client sends: annotated CSV with every annotation, RFC3339 times.
QUERY_DIALECT = {
    "header": True,
    "delimiter": ",",
    "annotations": ["datatype", "group", "default"],
    "commentPrefix": "#",
    "dateTimeFormat": "RFC3339",
}


def flux_string(value: str) -> str:
    """A Flux string literal for any text (backslash, double quote and ${ escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'


def flux_time(moment: datetime) -> str:
    """A Flux time literal (RFC3339, UTC) for a timezone-aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not accepted: give a timezone-aware value")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def events_flux(
    bucket: str, start: datetime, end: datetime, entity_ids: Sequence[str] | None, measurement: str = MEASUREMENT
) -> str:
    """The Flux query for the events with start <= _time < end, one row per point, in time order."""
    fields = " or ".join(f"r._field == {flux_string(f)}" for f in EVENT_FIELDS)
    lines = [
        f"from(bucket: {flux_string(bucket)})",
        f"  |> range(start: {flux_time(start)}, stop: {flux_time(end)})",
        f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})",
        f"  |> filter(fn: (r) => {fields})",
    ]
    if entity_ids is not None:
        wanted = ", ".join(flux_string(e) for e in sorted(set(entity_ids)))
        lines.append(f"  |> filter(fn: (r) => contains(value: r.entity_id, set: [{wanted}]))")
    columns = ", ".join(flux_string(c) for c in ("_time", "entity_id", *EVENT_FIELDS))
    lines += [
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
        "  |> group()",
        f"  |> keep(columns: [{columns}])",
        '  |> sort(columns: ["_time", "entity_id"])',
    ]
    return "\n".join(lines)


def registry_flux(bucket: str, start: datetime, end: datetime, measurement: str = MEASUREMENT) -> str:
    """The Flux query for the newest point of every series: one table per series, its tags as columns."""
    columns = ", ".join(flux_string(c) for c in ("_time", *REGISTRY_TAGS))
    return "\n".join(
        [
            f"from(bucket: {flux_string(bucket)})",
            f"  |> range(start: {flux_time(start)}, stop: {flux_time(end)})",
            f'  |> filter(fn: (r) => r._measurement == {flux_string(measurement)} and r._field == "state_value")',
            "  |> last()",
            f"  |> keep(columns: [{columns}])",
        ]
    )


class _Body:
    """What FluxCsvParser reads from: the bytes of an answer, line by line as an HTTP response iterates."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        # Line endings are kept, so the csv module joins a quoted value that spans lines.
        return iter(self._content.splitlines(keepends=True))

    def close(self) -> None:
        """Nothing to release: the answer is already read."""


class AnnotatedCsvError(Exception):
    """An answer is InfluxDB's in-band error table (`in_band`), or is not annotated CSV at all."""

    def __init__(self, message: str, *, in_band: bool) -> None:
        super().__init__(message)
        self.message = message
        self.in_band = in_band


def parse_annotated_csv(content: bytes) -> list[dict[str, Any]]:
    """The rows of an annotated CSV answer (every table), each as {column: typed value}.

    Read with influxdb-client's FluxCsvParser, imported here so that importing this module stays cheap
    (influxdb-client imports its whole generated API).

    Raises:
        AnnotatedCsvError: the answer is InfluxDB's in-band error table, or not annotated CSV.
    """
    from influxdb_client.client.flux_csv_parser import (
        FluxCsvParser,
        FluxCsvParserException,
        FluxQueryException,
        FluxSerializationMode,
    )

    if not content.strip():
        return []
    parser = FluxCsvParser(response=_Body(content), serialization_mode=FluxSerializationMode.stream)
    try:
        return [dict(record.values) for record in parser.generator()]
    except FluxQueryException as exc:
        raise AnnotatedCsvError(str(exc.message), in_band=True) from None
    except (FluxCsvParserException, csv.Error, ValueError, IndexError) as exc:
        raise AnnotatedCsvError(f"not annotated CSV ({type(exc).__name__}: {exc})", in_band=False) from exc


def _attributes(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        log.debug("influxdb: attributes that are not JSON are left out: %.80s", value)
        return None
    return parsed if isinstance(parsed, dict) and parsed else None


def _tag(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    return str(value) if value not in (None, "") else None


def event_from_row(row: Mapping[str, Any]) -> Event | None:
    """One pivoted row as an Event, or None when it has no entity, no time or no state value."""
    entity_id = _tag(row, "entity_id")
    moment = row.get("_time")
    state = row.get("state_value")
    if entity_id is None or not isinstance(moment, datetime) or state is None:
        return None
    previous = row.get("previous_state")
    return Event(
        entity_id=entity_id,
        old_state=None if previous is None else str(previous),
        new_state=str(state),
        time=moment.astimezone(UTC),
        attributes=_attributes(row.get("attributes")),
        context_id=_tag(row, "context_id"),
    )


class InfluxDbSource(OwnsHttpClient):
    """Reads a home from the InfluxDB bucket HomeIQ writes; see the module docstring for its limits.

    Close it with `aclose()` (or use it as an async context manager).
    """

    name = "influxdb"

    def __init__(
        self,
        url: str,
        token: Secret,
        org: str,
        bucket: str = MEASUREMENT,
        *,
        measurement: str = MEASUREMENT,
        time_zone: str = "UTC",
        latitude: float | None = None,
        longitude: float | None = None,
        elevation: float | None = None,
        timeout: float = 10.0,
        query_timeout: float = 60.0,
        tries: int = 3,
        window: timedelta = DEFAULT_WINDOW,
        registry_lookback: timedelta = DEFAULT_REGISTRY_LOOKBACK,
        clock: Callable[[], datetime] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if window <= timedelta(0) or registry_lookback <= timedelta(0):
            raise ValueError("window and registry_lookback must be positive")
        self.url = url.rstrip("/")
        self.org = org
        self.bucket = bucket
        self.measurement = measurement
        self.window = window
        self.registry_lookback = registry_lookback
        self._clock = clock or (lambda: datetime.now(UTC))
        self._query_timeout = max(timeout, query_timeout)
        self._info = HomeInfo(
            time_zone=time_zone, latitude=latitude, longitude=longitude, elevation=elevation, source=self.name
        )
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._client = ServiceClient(
            SERVICE_NAME,
            self.url,
            self._http,
            tries=max(1, tries),
            timeout=timeout,
            headers={"Authorization": f"Token {token.get()}", "Accept": "application/csv"},
        )
        self.last_fetch_missing_states = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> InfluxDbSource:
        """The source for INFLUXDB_URL, INFLUXDB_TOKEN, INFLUXDB_ORG, INFLUXDB_BUCKET and HOME_*.

        Raises:
            ValueError: INFLUXDB_URL, INFLUXDB_TOKEN or INFLUXDB_ORG is unset.
        """
        if not settings.influxdb_url or settings.influxdb_token is None or not settings.influxdb_org:
            raise ValueError("INFLUXDB_URL, INFLUXDB_TOKEN and INFLUXDB_ORG are required")
        return cls(
            settings.influxdb_url,
            settings.influxdb_token,
            settings.influxdb_org,
            settings.influxdb_bucket,
            time_zone=settings.home_time_zone,
            latitude=settings.home_latitude,
            longitude=settings.home_longitude,
            elevation=settings.home_elevation,
            timeout=settings.service_timeout_seconds,
            tries=settings.service_retries,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"InfluxDbSource({self.url!r}, org={self.org!r}, bucket={self.bucket!r})"

    # --- queries ------------------------------------------------------------------------------------

    async def query(self, what: str, flux: str) -> list[dict[str, Any]]:
        """Run one Flux query; its rows (every table) as dicts.

        Raises:
            HomeDataUnavailableError: InfluxDB is unreachable, kept failing, refused the token or the
                query, or answered something that is not annotated CSV.
        """
        body = {"query": flux, "type": "flux", "dialect": QUERY_DIALECT}
        where = f"InfluxDB at {self.url} (org {self.org!r}, bucket {self.bucket!r})"
        try:
            response = await self._client.request(
                "POST",
                "/api/v2/query",
                json=body,
                params={"org": self.org},
                idempotent=True,  # a query changes nothing
                timeout=self._query_timeout,
            )
        except PeerError as exc:
            if exc.status_code in (401, 403):
                message = f"{where} refused the token (HTTP {exc.status_code}): check INFLUXDB_TOKEN and INFLUXDB_ORG"
            else:
                message = f"{where} rejected the query (HTTP {exc.status_code}): {exc.message}"
            raise HomeDataUnavailableError(f"{what}: {message}") from None
        except HomeIQError as exc:
            raise HomeDataUnavailableError(f"{what}: {exc.message}") from exc
        try:
            return parse_annotated_csv(response.content)
        except AnnotatedCsvError as exc:
            if exc.in_band:
                raise HomeDataUnavailableError(f"{what}: the query failed in {where}: {exc.message}") from None
            raise HomeDataUnavailableError(f"{what}: {where} answered {exc.message}") from exc

    # --- registries ---------------------------------------------------------------------------------

    async def home_info(self) -> HomeInfo:
        """Time zone and location from HOME_TIME_ZONE, HOME_LATITUDE, HOME_LONGITUDE, HOME_ELEVATION."""
        return self._info

    async def _latest_tags(self) -> dict[str, dict[str, Any]]:
        """Per entity, the tags of its newest point in the lookback."""
        end = self._clock()
        flux = registry_flux(self.bucket, end - self.registry_lookback, end, self.measurement)
        latest: dict[str, dict[str, Any]] = {}
        for row in await self.query("registry", flux):
            entity_id = _tag(row, "entity_id")
            moment = row.get("_time")
            if entity_id is None or not isinstance(moment, datetime):
                continue
            known = latest.get(entity_id)
            if known is None or known["_time"] < moment:
                latest[entity_id] = row
        return latest

    async def entities(self) -> list[Entity]:
        """Every entity with an event in the lookback; tags give domain, device class, area and device."""
        return [
            Entity(
                entity_id=entity_id,
                domain=_tag(row, "domain") or entity_id.split(".", 1)[0],
                device_class=_tag(row, "device_class"),
                area_id=_tag(row, "area_id"),
                device_id=_tag(row, "device_id"),
            )
            for entity_id, row in sorted((await self._latest_tags()).items())
        ]

    async def areas(self) -> list[Area]:
        """Every area id tagged on an entity's newest point, named by its id."""
        ids = {_tag(row, "area_id") for row in (await self._latest_tags()).values()}
        return [Area(area_id=a, name=a) for a in sorted(i for i in ids if i)]

    async def devices(self) -> list[Device]:
        """Every device id tagged on an entity's newest point, named by its id."""
        ids = {_tag(row, "device_id") for row in (await self._latest_tags()).values()}
        return [Device(device_id=d, name=d) for d in sorted(i for i in ids if i)]

    # --- events -------------------------------------------------------------------------------------

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The [start, end) windows one query each covers."""
        return split_windows(start, end, self.window)

    async def window_events(
        self, start: datetime, end: datetime, entity_ids: Sequence[str] | None = None
    ) -> tuple[list[Event], int]:
        """The events of one window with start <= time < end, in time order, and how many rows had no state."""
        rows = await self.query(
            f"events {flux_time(start)} .. {flux_time(end)}",
            events_flux(self.bucket, start, end, entity_ids, self.measurement),
        )
        events: list[Event] = []
        missing = 0
        for row in rows:
            event = event_from_row(row)
            if event is None:
                missing += _tag(row, "entity_id") is not None
                continue
            if start <= event.time < end:
                events.append(event)
        events.sort(key=lambda e: (e.time, e.entity_id))
        return events, missing

    async def events(
        self,
        start: datetime,
        end: datetime,
        entity_ids: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[Event]]:
        """State changes with start <= time < end, in time order, in batches; one query per window.

        Points without a state_value are skipped and counted in `last_fetch_missing_states`.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.last_fetch_missing_states = 0
        if entity_ids is not None and not entity_ids:
            return
        try:
            for lower, upper in self.windows(start, end):
                events, missing = await self.window_events(lower, upper, entity_ids)
                self.last_fetch_missing_states += missing
                log.debug("influxdb events %s .. %s: %d events", lower, upper, len(events))
                for offset in range(0, len(events), batch_size):
                    yield events[offset : offset + batch_size]
        finally:
            if self.last_fetch_missing_states:
                log.warning(
                    "influxdb: %d points of %s between %s and %s had no state_value and were skipped",
                    self.last_fetch_missing_states,
                    self.measurement,
                    flux_time(start),
                    flux_time(end),
                )
