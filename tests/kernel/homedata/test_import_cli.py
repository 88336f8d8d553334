"""`homeiq-ai import` and `homeiq-ai export`: counts, progress, line-numbered errors, nothing written on error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_coro, sqlite_url
from homeiq_ai.cli import main
from homeiq_ai.kernel.db import Database
from homeiq_ai.kernel.homedata.store import HomeStore


def _line(i: int, entity_id: str = "light.kitchen", **overrides: Any) -> str:
    item: dict[str, Any] = {
        "entity_id": entity_id,
        "old_state": "off" if i % 2 else "on",
        "new_state": "on" if i % 2 else "off",
        "time": f"2026-03-01T{i // 60:02d}:{i % 60:02d}:00+00:00",
    }
    item.update(overrides)
    return json.dumps(item)


def _on(url: str, method: str, *args: Any) -> Any:
    async def _go() -> Any:
        db = Database(url)
        try:
            return await getattr(HomeStore(db), method)(*args)
        finally:
            await db.dispose()

    return run_coro(_go)


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The command's environment points at this test's database; returns its URL."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HOMEIQ_DATA_DIR", str(tmp_path))
    return database_url


def test_import_prints_counts_and_is_idempotent(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An import stores every line and prints lines, inserted, duplicates and events/s; again: all duplicates."""
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_line(i) for i in range(120)) + "\n")
    registry = tmp_path / "registry.json"
    registry.write_text(
        json.dumps({"entities": [{"entity_id": "light.kitchen", "friendly_name": "Kitchen", "area": "Kitchen"}]})
    )
    assert main(["import", str(path), "--entities", str(registry)]) == 0
    err = capsys.readouterr().err
    assert "imported: 120 lines, 120 inserted, 0 duplicates" in err and "events/s" in err
    assert main(["import", str(path), "--format", "jsonl"]) == 0
    assert "imported: 120 lines, 0 inserted, 120 duplicates" in capsys.readouterr().err
    assert _on(env, "count_events") == 120
    [entity] = _on(env, "entities")
    assert (entity.entity_id, entity.friendly_name, entity.area_id) == ("light.kitchen", "Kitchen", "kitchen")


def test_a_bad_line_is_reported_with_its_number_and_nothing_is_written(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Line 57 has a naive time: exit 1, `line 57: time: ...`, and not one event or entity is stored."""
    lines = [_line(i) for i in range(80)]
    lines[56] = _line(56, time="2026-03-01T00:56:00")
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: line 57: time: Expected `datetime` with a timezone component; nothing was imported" in err
    assert _on(env, "count_events") == 0
    assert _on(env, "entities") == []


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("{oops", "line 4: JSON is malformed"),
        (_line(3, room="kitchen"), "line 4: Object contains unknown field `room`"),
        (_line(3, new_state="z" * 256), "line 4: new_state: Expected `str` of length <= 255"),
        (_line(3, entity_id="kitchen light"), "line 4: entity_id: Expected `str` matching regex"),
        (_line(3, time="not a time"), "line 4: time: "),
    ],
)
def test_each_kind_of_bad_line(
    bad: str, reason: str, env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each kind of bad line is named with its number and reason."""
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([_line(0), _line(1), _line(2), bad, _line(4)]))
    assert main(["import", str(path)]) == 1
    assert reason in capsys.readouterr().err
    assert _on(env, "count_events") == 0


def test_bad_registry_stops_the_import(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad registry entry is named with the registry file; no event is stored."""
    path = tmp_path / "events.jsonl"
    path.write_text(_line(0))
    registry = tmp_path / "registry.json"
    registry.write_text('{"entities": [{"entity_id": "light.ok"}, {"entity_id": "LIGHT"}]}')
    assert main(["import", str(path), "--entities", str(registry)]) == 1
    err = capsys.readouterr().err
    assert f"{registry}: entities[1].entity_id: Expected `str` matching regex" in err
    assert _on(env, "count_events") == 0


def test_history_json_import(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Home Assistant's history JSON is imported as state changes (recognised without --format)."""
    history = [
        [
            {
                "entity_id": "switch.fan",
                "state": "off",
                "attributes": {"friendly_name": "Fan"},
                "last_changed": "2026-03-01T00:00:00+00:00",
                "last_updated": "2026-03-01T00:00:00+00:00",
            },
            {"state": "on", "last_changed": "2026-03-01T08:00:00+00:00"},
            {"state": "off", "last_changed": "2026-03-01T09:00:00+00:00"},
        ]
    ]
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history))
    assert main(["import", str(path)]) == 0
    assert "imported: 3 lines, 3 inserted" in capsys.readouterr().err
    [entity] = _on(env, "entities")
    assert (entity.entity_id, entity.friendly_name) == ("switch.fan", "Fan")


def test_export_round_trip_through_the_command(
    env: str,
    migrated_sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`export` writes what `import` reads; filters by entity and time; naive times are refused."""
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join([_line(i, f"light.l{i % 2}") for i in range(40)]))
    assert main(["import", str(source)]) == 0
    out = tmp_path / "out.jsonl"
    assert main(["export", str(out)]) == 0
    assert "40 events written" in capsys.readouterr().err
    some = tmp_path / "some.jsonl"
    assert main(["export", str(some), "--entity", "light.l1", "--start", "2026-03-01T00:10:00Z"]) == 0
    assert len(some.read_text().splitlines()) == 15

    other = tmp_path / "other.db"
    other.write_bytes(migrated_sqlite_template.read_bytes())
    monkeypatch.setenv("DATABASE_URL", sqlite_url(other))
    assert main(["import", str(out)]) == 0
    assert _on(sqlite_url(other), "count_events") == 40
    again = tmp_path / "again.jsonl"
    assert main(["export", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()

    with pytest.raises(SystemExit):
        main(["export", str(out), "--start", "2026-03-01T00:00:00"])
    assert "no UTC offset" in capsys.readouterr().err


def test_missing_file_and_missing_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file, or a database without the schema, is one clear line and exit 1."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "empty.db"))
    assert main(["import", str(tmp_path / "nope.jsonl")]) == 1
    assert "nope.jsonl: No such file or directory" in capsys.readouterr().err
    path = tmp_path / "events.jsonl"
    path.write_text(_line(0))
    assert main(["import", str(path)]) == 1
    assert "run `homeiq-ai db upgrade` first" in capsys.readouterr().err
