"""Synthetic datasets a person can generate, list and download: weather, calendar, occupancy, whole homes.

Each is cut from a generated home (`training.synthetic.generate_home`), so it is deterministic by its
parameters and consistent with the homes the models train on. Files are JSON Lines under
`<data dir>/synthetic/datasets/<id>/` with a manifest.json beside them; the folder is the listing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from homeiq_ai.training.synthetic import generate_home

__all__ = ["DATASET_KINDS", "dataset_rows", "list_manifests", "write_dataset"]

DATASET_KINDS = ("weather", "calendar", "occupancy", "home")


def _weather(home: Any) -> Iterator[dict[str, Any]]:
    wanted = {"weather.home", "sensor.outdoor_temperature", "sensor.outdoor_humidity"}
    for event in home.events:
        if event.entity_id in wanted:
            row = {"time": event.time.isoformat(), "entity_id": event.entity_id, "state": event.new_state}
            if event.attributes and event.entity_id.startswith("weather."):
                row["attributes"] = event.attributes
            yield row


def _calendar(home: Any) -> Iterator[dict[str, Any]]:
    spec, truth = home.spec, home.truth
    holidays = set(truth.holidays)
    away = [(v.start, v.end) for v in truth.vacations]
    for i in range(spec.days):
        day: date = spec.start + timedelta(days=i)
        yield {
            "date": day.isoformat(),
            "weekday": day.weekday(),
            "weekend": day.weekday() >= 5,
            "holiday": day in holidays,
            "vacation": any(a <= day <= b for a, b in away),
            "country": spec.country,
        }


def _occupancy(home: Any) -> Iterator[dict[str, Any]]:
    persons = {r.person_entity_id: r for r in home.spec.residents}
    for event in home.events:
        if event.entity_id in persons:
            r = persons[event.entity_id]
            yield {
                "time": event.time.isoformat(), "resident_id": r.resident_id, "person": event.entity_id,
                "schedule": r.schedule, "state": event.new_state,
            }  # fmt: skip


def _home(home: Any) -> Iterator[dict[str, Any]]:
    for event in home.events:
        yield {"time": event.time.isoformat(), "entity_id": event.entity_id, "old_state": event.old_state,
               "new_state": event.new_state}  # fmt: skip


def dataset_rows(kind: str, home: Any) -> Iterator[dict[str, Any]]:
    """The rows of one kind of dataset, cut from a generated home."""
    return {"weather": _weather, "calendar": _calendar, "occupancy": _occupancy, "home": _home}[kind](home)


def write_dataset(root: Path, dataset_id: str, kind: str, generator_args: dict[str, Any]) -> dict[str, Any]:
    """Generate and write one dataset; returns its manifest.

    Raises:
        ValueError: the generator rejected the arguments.
    """
    home = generate_home(**generator_args)
    folder = root / dataset_id
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / f"{kind}.jsonl"
    digest = hashlib.sha256()
    rows = 0
    with path.open("w") as out:
        for row in dataset_rows(kind, home):
            line = json.dumps(row, sort_keys=True, default=str) + "\n"
            digest.update(line.encode())
            out.write(line)
            rows += 1
    spec = home.spec
    manifest = {
        "id": dataset_id, "kind": kind, "seed": spec.seed, "home_type": spec.home_type, "days": spec.days,
        "start": spec.start.isoformat(), "time_zone": spec.time_zone, "climate_zone": spec.climate_zone,
        "rows": rows, "sha256": digest.hexdigest(), "file": path.name,
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def list_manifests(root: Path) -> list[dict[str, Any]]:
    """Manifests of the stored datasets, newest first; unreadable folders are skipped."""
    out = []
    if not root.is_dir():
        return out
    for folder in root.iterdir():
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            manifest["created"] = (folder / "manifest.json").stat().st_mtime
            out.append(manifest)
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda m: (-m["created"], m["id"]))
