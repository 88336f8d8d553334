"""ORM classes of the local home store: areas, devices, entities, events and sync state (prefix `home_`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from homeiq_ai.kernel.db import Base, UTCDateTime, utcnow

__all__ = ["HomeArea", "HomeDevice", "HomeEntity", "HomeEvent", "HomeInfoRecord", "HomeSyncState"]

# SQLite gives autoincrement only to a column typed exactly INTEGER (the rowid alias).
EVENT_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class HomeArea(Base):
    """A room or zone."""

    __tablename__ = "home_area"

    area_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HomeDevice(Base):
    """A device holding entities; its area is inherited by entities that have none of their own."""

    __tablename__ = "home_device"

    device_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    area_id: Mapped[str | None] = mapped_column(String(255), index=True)
    manufacturer: Mapped[str | None] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HomeEntity(Base):
    """A Home Assistant entity.

    `area_id` is the entity's own area only; readers resolve the effective area as the entity's own, else
    its device's, so that moving a device moves its entities.
    """

    __tablename__ = "home_entity"

    entity_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64), index=True)
    friendly_name: Mapped[str | None] = mapped_column(String(255))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_class: Mapped[str | None] = mapped_column(String(64))
    unit_of_measurement: Mapped[str | None] = mapped_column(String(64))
    area_id: Mapped[str | None] = mapped_column(String(255), index=True)
    device_id: Mapped[str | None] = mapped_column(String(255), index=True)
    supported_features: Mapped[int] = mapped_column(Integer, default=0)
    entity_category: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HomeEvent(Base):
    """One state change.

    Home Assistant records at most one state per entity and instant, so (entity_id, time) identifies a
    change: re-imports and overlapping syncs store no duplicates. The unique constraint's index also
    serves "events of these entities between t0 and t1"; `ix_home_event_time` serves all-entity windows.
    """

    __tablename__ = "home_event"
    __table_args__ = (
        UniqueConstraint("entity_id", "time", name="uq_home_event_entity_id_time"),
        Index("ix_home_event_time", "time"),
    )

    id: Mapped[int] = mapped_column(EVENT_ID_TYPE, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(String(255))
    old_state: Mapped[str | None] = mapped_column(String(255))
    new_state: Mapped[str | None] = mapped_column(String(255))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    context_id: Mapped[str | None] = mapped_column(String(64))


class HomeSyncState(Base):
    """How far a source has been synced into the local store (e.g. `home_assistant`)."""

    __tablename__ = "home_sync_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_synced: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HomeInfoRecord(Base):
    """The home's name, time zone and location as a source reported it (Home Assistant's /api/config)."""

    __tablename__ = "home_info"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    time_zone: Mapped[str] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    elevation: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
