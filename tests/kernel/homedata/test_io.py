"""Event files: JSON Lines with line-numbered errors, Home Assistant history JSON, registries, export."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from conftest import sqlite_url
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.io import (
    ImportProgress,
    IngestBatch,
    LineError,
    Registry,
    describe_validation_error,
    export_events,
    history_events,
    import_events,
    read_history,
    read_jsonl,
    read_registry,
    registry_records,
)
from homeiq_ai.kernel.homedata.model import Area, Event
from homeiq_ai.kernel.homedata.store import HomeStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
GOOD = '{"entity_id": "light.kitchen", "old_state": "off", "new_state": "on", "time": "2026-03-01T07:00:00+01:00"}'

FULL_HISTORY = [
    [
        {
            "entity_id": "light.kitchen",
            "state": "off",
            "attributes": {"friendly_name": "Kitchen", "supported_color_modes": ["brightness"]},
            "last_changed": "2026-03-01T00:00:00+00:00",
            "last_updated": "2026-03-01T00:00:00+00:00",
            "context": {"id": "01HQAAAA", "parent_id": None, "user_id": None},
        },
        {
            "entity_id": "light.kitchen",
            "state": "on",
            "attributes": {"friendly_name": "Kitchen", "brightness": 200},
            "last_changed": "2026-03-01T07:00:00.250000+00:00",
            "last_updated": "2026-03-01T07:00:00.250000+00:00",
            "last_reported": "2026-03-01T07:00:00.250000+00:00",
            "context": {"id": "01HQBBBB", "parent_id": None, "user_id": "u1"},
        },
        {
            "entity_id": "light.kitchen",
            "state": "on",
            "attributes": {"friendly_name": "Kitchen", "brightness": 90},
            "last_changed": "2026-03-01T07:00:00.250000+00:00",
            "last_updated": "2026-03-01T07:05:00+00:00",
        },
    ],
    [
        {
            "entity_id": "binary_sensor.hall_motion",
            "state": "off",
            "attributes": {"device_class": "motion"},
            "last_changed": "2026-03-01T00:00:00+00:00",
            "last_updated": "2026-03-01T00:00:00+00:00",
        },
        {
            "entity_id": "binary_sensor.hall_motion",
            "state": "on",
            "attributes": {"device_class": "motion"},
            "last_changed": "2026-03-01T06:59:00+00:00",
            "last_updated": "2026-03-01T06:59:00+00:00",
        },
    ],
]

MINIMAL_HISTORY = [
    [
        {
            "entity_id": "sensor.temp",
            "state": "20.5",
            "attributes": {"unit_of_measurement": "°C", "friendly_name": "Temperature"},
            "last_changed": "2026-03-01T00:00:00+00:00",
            "last_updated": "2026-03-01T00:00:00+00:00",
        },
        {"state": "21.0", "last_changed": "2026-03-01T01:00:00+00:00"},
        {"state": "unavailable", "last_changed": "2026-03-01T04:00:00+02:00"},
    ]
]


def _jsonl(lines: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def test_read_jsonl_yields_line_numbers_and_skips_blank_lines() -> None:
    """Each state change comes with its line number; blank lines are skipped; times keep their offset."""
    rows = list(read_jsonl(_jsonl([GOOD, "", "   ", GOOD.replace("07:00", "08:00")])))
    assert [n for n, _ in rows] == [1, 4]
    first = rows[0][1]
    assert first.entity_id == "light.kitchen" and first.time == datetime(2026, 3, 1, 6, tzinfo=UTC)
    assert first.attributes is None and first.context_id is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 3: JSON is malformed"),
        (GOOD[:-1] + ', "colour": "red"}', "line 3: Object contains unknown field `colour`"),
        (GOOD.replace("+01:00", ""), "line 3: time: Expected `datetime` with a timezone component"),
        (GOOD.replace("2026-03-01T07:00:00+01:00", "tomorrow"), "line 3: time: "),
        (GOOD.replace('"on"', '"' + "x" * 256 + '"'), "line 3: new_state: Expected `str` of length <= 255"),
        (GOOD.replace("light.kitchen", "Light.Kitchen"), "line 3: entity_id: Expected `str` matching regex"),
        (GOOD.replace('"old_state": "off", ', ""), "line 3: Object missing required field `old_state`"),
        ('["light.kitchen", "off", "on"]', "line 3: Expected `object`, got `array`"),
    ],
)
def test_read_jsonl_names_the_bad_line(bad: str, message: str) -> None:
    """The first bad line stops the reading with `line N: field: reason`."""
    reader = read_jsonl(_jsonl([GOOD, GOOD.replace("07:00", "07:01"), bad, GOOD]))
    assert next(reader)[0] == 1 and next(reader)[0] == 2
    with pytest.raises(LineError) as caught:
        next(reader)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.line == 3


def test_describe_validation_error_paths() -> None:
    """msgspec's `- at $...` suffix becomes a leading field path."""
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(b'{"events": [{"entity_id": 1}]}', type=IngestBatch)
    assert describe_validation_error(caught.value) == "events[0].entity_id: Expected `str`, got `int`"
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(b"[1]", type=list[str])
    assert describe_validation_error(caught.value, "history") == "history[0]: Expected `str`, got `int`"


def test_history_json_becomes_state_changes() -> None:
    """Consecutive differing states become old/new pairs at last_changed, merged in time order."""
    events = history_events(read_history(json.dumps(FULL_HISTORY).encode()))
    got = [(e.entity_id, e.old_state, e.new_state, e.time, e.context_id) for e in events]
    assert got == [
        ("light.kitchen", None, "off", T0, "01HQAAAA"),
        ("binary_sensor.hall_motion", None, "off", T0, None),
        ("binary_sensor.hall_motion", "off", "on", T0 + timedelta(hours=6, minutes=59), None),
        ("light.kitchen", "off", "on", T0 + timedelta(hours=7, microseconds=250_000), "01HQBBBB"),
    ]  # the attribute-only update of the light (same state) is no change
    assert events[3].attributes == {"friendly_name": "Kitchen", "brightness": 200}


def test_minimal_response_history_takes_entity_from_the_first_state() -> None:
    """With minimal_response later states carry only state and last_changed."""
    events = history_events(read_history(json.dumps(MINIMAL_HISTORY).encode()))
    assert [(e.entity_id, e.old_state, e.new_state, e.time) for e in events] == [
        ("sensor.temp", None, "20.5", T0),
        ("sensor.temp", "20.5", "21.0", T0 + timedelta(hours=1)),
        ("sensor.temp", "21.0", "unavailable", T0 + timedelta(hours=2)),
    ]
    assert events[1].attributes is None


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([[{"state": "on", "last_changed": "2026-03-01T00:00:00Z"}]], "history[0][0]: the first state"),
        ([[{"entity_id": "light.a", "state": "on"}]], "history[0][0]: a state needs last_changed or last_updated"),
        (
            [[], [{"entity_id": "light.a", "state": "on", "last_changed": "2026-03-01T00:00:00"}]],
            "history[1][0].last_changed: Expected `datetime` with a timezone",
        ),
        (
            [[{"entity_id": "light.a", "state": "x" * 300, "last_changed": "2026-03-01T00:00:00Z"}]],
            "history[0][0].state",
        ),
        ({"light.a": []}, "history: Expected `array`, got `object`"),
        (
            [
                [
                    {"entity_id": "light.a", "state": "on", "last_changed": "2026-03-01T00:00:00Z"},
                    {"entity_id": "light.b", "state": "on", "last_changed": "2026-03-01T00:01:00Z"},
                ]
            ],
            "history[0][1]: entity_id 'light.b' in the list of 'light.a'",
        ),
    ],
)
def test_bad_history_is_named(history: object, message: str) -> None:
    """A bad history document names the list and state at fault."""
    with pytest.raises(LineError) as caught:
        history_events(read_history(json.dumps(history).encode()))
    assert str(caught.value).startswith(message), str(caught.value)


def test_registry_records_resolve_areas_by_id_or_name() -> None:
    """`area` is an area_id or a name (any case); a new name creates an area with a snake_case id."""
    registry = read_registry(
        json.dumps(
            {
                "areas": [{"name": "Living Room", "aliases": ["Lounge"]}],
                "devices": [{"device_id": "d1", "name": "Hue", "area": "LIVING ROOM"}],
                "entities": [
                    {"entity_id": "light.sofa", "friendly_name": "Sofa", "area": "living_room"},
                    {"entity_id": "light.desk", "area": "Study Room", "device_class": None},
                    {"entity_id": "light.cellar", "area": "cellar"},
                    {"entity_id": "sensor.free"},
                ],
            }
        ).encode()
    )
    areas, devices, entities = registry_records(registry, [Area(area_id="cellar", name="Basement")])
    assert [(a.area_id, a.name, a.aliases) for a in areas] == [
        ("living_room", "Living Room", ["Lounge"]),
        ("study_room", "Study Room", []),
    ]
    assert devices[0].area_id == "living_room"
    assert [(e.entity_id, e.domain, e.area_id) for e in entities] == [
        ("light.sofa", "light", "living_room"),
        ("light.desk", "light", "study_room"),
        ("light.cellar", "light", "cellar"),
        ("sensor.free", "sensor", None),
    ]
    assert registry_records(Registry()) == ([], [], [])


def test_bad_registry_is_named() -> None:
    """A registry entry with a bad id or an unknown field is reported with its path."""
    with pytest.raises(LineError, match=r"^registry: entities\[1\]\.entity_id: Expected `str` matching"):
        read_registry(b'{"entities": [{"entity_id": "light.a"}, {"entity_id": "nope"}]}')
    with pytest.raises(LineError, match=r"^registry: areas\[0\]: Object contains unknown field `floor`"):
        read_registry(b'{"areas": [{"name": "Hall", "floor": 1}]}')


async def test_export_then_import_round_trips(
    database_url: str, migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """Events exported as JSON Lines and imported into another database come back identical."""
    source_db = Database(database_url)
    target_path = tmp_path / "target.db"
    shutil.copyfile(migrated_sqlite_template, target_path)
    target_db = Database(sqlite_url(target_path))
    try:
        events = [
            Event(
                entity_id=f"sensor.s{i % 4}",
                old_state=None if i < 4 else str(i - 4),
                new_state=str(i),
                time=T0 + timedelta(seconds=37 * i, microseconds=i),
                attributes={"unit_of_measurement": "W", "i": i} if i % 3 == 0 else None,
                context_id=f"ctx{i}" if i % 5 == 0 else None,
            )
            for i in range(60)
        ]
        await HomeStore(source_db).insert_events(events)
        out = io.BytesIO()
        assert await export_events(HomeStore(source_db), out) == 60
        assert b'"attributes":null' not in out.getvalue()  # absent optional fields are left out

        partial = io.BytesIO()
        count = await export_events(
            HomeStore(source_db), partial, start=T0 + timedelta(seconds=370), entity_ids=["sensor.s1"]
        )
        assert count == len([e for e in events if e.entity_id == "sensor.s1" and e.time >= T0 + timedelta(seconds=370)])

        path = tmp_path / "events.jsonl"
        path.write_bytes(out.getvalue())
        report = await import_events(HomeStore(target_db), path)
        assert (report.inserted, report.duplicates, report.done) == (60, 0, True)
        back: list[Event] = []
        async for batch in HomeStore(target_db).events(T0, T0 + timedelta(days=1)):
            back.extend(batch)
        assert back == sorted(events, key=lambda e: e.time)
    finally:
        await source_db.dispose()
        await target_db.dispose()


async def test_import_validates_everything_before_writing(database_url: str, tmp_path: Path) -> None:
    """A bad line after several write chunks' worth of good ones still leaves the store untouched."""
    lines = [GOOD.replace("light.kitchen", f"light.l{i}") for i in range(120)]
    lines.insert(99, GOOD.replace("+01:00", ""))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = Database(database_url)
    try:
        with pytest.raises(LineError) as caught:
            await import_events(HomeStore(db), path, chunk=10)
        assert caught.value.line == 100
        assert await HomeStore(db).count_events() == 0
        assert await HomeStore(db).entities() == []
    finally:
        await db.dispose()


async def test_import_reports_progress(database_url: str, tmp_path: Path) -> None:
    """Progress is reported every N lines while validating and importing, then once when done."""
    lines = [
        json.dumps(
            {"entity_id": "sensor.p", "old_state": None, "new_state": str(i), "time": f"2026-03-01T00:00:{i:02d}Z"}
        )
        for i in range(50)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines))
    reports: list[tuple[str, int, int, bool]] = []

    def seen(p: ImportProgress) -> None:
        reports.append((p.phase, p.lines, p.inserted, p.done))
        assert "lines" in p.line() and "events/s" in p.line()

    db = Database(database_url)
    try:
        final = await import_events(HomeStore(db), path, progress=seen, progress_every=20, chunk=15)
    finally:
        await db.dispose()
    assert reports[:2] == [("validating", 20, 0, False), ("validating", 40, 0, False)]
    assert ("importing", 20, 15, False) in reports
    assert reports[-1] == ("imported", 50, 50, True)
    assert (final.lines, final.inserted, final.duplicates) == (50, 50, 0)


async def test_import_history_file_with_registry(database_url: str, tmp_path: Path) -> None:
    """A Home Assistant history file is recognised by its first character; the registry is applied first."""
    history = tmp_path / "history.json"
    history.write_text("  \n" + json.dumps(FULL_HISTORY))
    registry = tmp_path / "registry.json"
    registry.write_text(
        json.dumps({"entities": [{"entity_id": "light.kitchen", "friendly_name": "Mine", "area": "Kitchen"}]})
    )
    db = Database(database_url)
    try:
        report = await import_events(HomeStore(db), history, registry_path=registry)
        assert (report.lines, report.inserted) == (5, 4)
        entities = {e.entity_id: e for e in await HomeStore(db).entities()}
        assert (entities["light.kitchen"].friendly_name, entities["light.kitchen"].area_id) == ("Mine", "kitchen")
        assert entities["binary_sensor.hall_motion"].device_class == "motion"
        again = await import_events(HomeStore(db), history, fmt="ha-history")
        assert (again.inserted, again.duplicates) == (0, 4)
    finally:
        await db.dispose()
