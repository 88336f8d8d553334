"""What the project knows about a home, as plain msgspec records shared by every source."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["MAX_STATE_LENGTH", "Area", "Device", "Entity", "Event", "HomeInfo"]

# Home Assistant limits a state to 255 characters; longer values are rejected on ingest.
MAX_STATE_LENGTH = 255


class HomeInfo(msgspec.Struct, kw_only=True):
    """Where and in which time zone the home is (Home Assistant's /api/config, or settings)."""

    name: str = "Home"
    time_zone: str
    latitude: float | None = None
    longitude: float | None = None
    elevation: float | None = None
    source: str


class Area(msgspec.Struct, kw_only=True):
    """A room or zone."""

    area_id: str
    name: str
    aliases: list[str] = msgspec.field(default_factory=list)


class Device(msgspec.Struct, kw_only=True):
    """A physical or virtual device holding entities."""

    device_id: str
    name: str
    area_id: str | None = None
    manufacturer: str | None = None
    model: str | None = None


class Entity(msgspec.Struct, kw_only=True):
    """A Home Assistant entity.

    `area_id` is the entity's own area, or else its device's (resolved by the source).
    """

    entity_id: str
    domain: str
    friendly_name: str | None = None
    aliases: list[str] = msgspec.field(default_factory=list)
    device_class: str | None = None
    unit_of_measurement: str | None = None
    area_id: str | None = None
    device_id: str | None = None
    supported_features: int = 0
    entity_category: str | None = None


class Event(msgspec.Struct, kw_only=True, array_like=False):
    """One state change: `time` is timezone-aware UTC."""

    entity_id: str
    old_state: str | None
    new_state: str | None
    time: datetime
    attributes: dict[str, Any] | None = None
    context_id: str | None = None
