"""Files of a synthetic home: JSON Lines events in Home Assistant's shape, registry, truth, round trips."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from homeiq_ai.training.synthetic import generate_home
from homeiq_ai.training.synthetic.io import (
    entities_of,
    read_events,
    read_home,
    read_registry,
    read_truth,
    write_events,
    write_home,
    write_registry,
    write_truth,
)

ENTITY_ID = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


def test_truth_round_trips(home, tmp_path) -> None:
    """Writing the ground truth and reading it back gives an equal truth."""
    path = tmp_path / "truth.json"
    write_truth(path, home.truth)
    assert read_truth(path) == home.truth


def test_home_round_trips(home, tmp_path) -> None:
    """write_home then read_home gives the same spec, events and truth."""
    paths = write_home(tmp_path / "home", home)
    assert {p.name for p in paths.values()} == {"events.jsonl", "registry.json", "home.json", "truth.json"}
    again = read_home(tmp_path / "home")
    assert again.spec == home.spec
    assert again.truth == home.truth
    assert again.events == home.events
    assert again == home


def test_event_lines_have_home_assistant_shape(home, tmp_path) -> None:
    """Each line is a state change: entity_id, old_state/new_state strings, ISO time with offset."""
    path = tmp_path / "events.jsonl"
    assert write_events(path, home.events) == len(home.events)
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(next(f)) for _ in range(5000)]
    with_attributes = 0
    for line in lines:
        assert set(line) <= {"entity_id", "old_state", "new_state", "time", "attributes"}
        assert ENTITY_ID.match(line["entity_id"])
        assert isinstance(line["new_state"], str)
        assert line["old_state"] is None or isinstance(line["old_state"], str)
        assert line["time"].endswith("+00:00")
        t = datetime.fromisoformat(line["time"])
        assert t.tzinfo is not None and t.utcoffset().total_seconds() == 0
        if "attributes" in line:
            assert isinstance(line["attributes"], dict)
            with_attributes += 1
    assert with_attributes > 0


def test_events_written_from_a_list_read_back_equal(tmp_path) -> None:
    """A list of Event records written and read back gives the same events."""
    small = generate_home(2, home_type="studio", days=1)
    events = small.events.to_events()
    path = tmp_path / "events.jsonl"
    write_events(path, events)
    back = read_events(path)
    assert back.to_events() == events
    assert back == small.events


def test_registry_lists_areas_devices_and_entities(home, tmp_path) -> None:
    """The registry file holds areas, devices and entities with names, areas and device classes."""
    path = tmp_path / "registry.json"
    write_registry(path, home.spec)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw) == {"areas", "devices", "entities"}
    registry = read_registry(path)
    assert [e.entity_id for e in registry.entities] == home.spec.entity_ids
    assert [a.area_id for a in registry.areas] == [a.area_id for a in home.spec.areas]
    door = next(e for e in registry.entities if e.entity_id == "binary_sensor.front_door")
    assert (door.device_class, door.area, door.friendly_name) == ("door", "hallway", "Front Door")
    assert [e.entity_id for e in entities_of(registry)] == home.spec.entity_ids


def test_files_load_with_the_home_data_import(home, tmp_path) -> None:
    """The kernel's home-data import reads the registry and event files as they are."""
    kernel_io = pytest.importorskip("homeiq_ai.kernel.homedata.io")
    paths = write_home(tmp_path / "home", home)
    registry = kernel_io.read_registry(paths["registry"].read_bytes())
    assert len(registry.entities) == len(home.spec.entities)
    assert {a.area_id for a in registry.areas} == {a.area_id for a in home.spec.areas}
    changes = []
    for _, change in kernel_io.read_jsonl(paths["events"]):
        changes.append(change)
        if len(changes) == 2000:
            break
    first = home.events.to_events()[:2000]
    assert [(c.entity_id, c.old_state, c.new_state, c.time) for c in changes] == [
        (e.entity_id, e.old_state, e.new_state, e.time) for e in first
    ]
