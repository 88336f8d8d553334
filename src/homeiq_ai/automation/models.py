"""ORM classes of the automation module; every table is named automation_*."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from homeiq_ai.kernel.db import Base, UTCDateTime, utcnow


class SuggestionRecord(Base):
    """A proposed automation; one per source item (pattern, synergy or query)."""

    __tablename__ = "automation_suggestion"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_automation_suggestion_source"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    source_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    entity_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeploymentRecord(Base):
    """One version of a suggestion's automation sent to Home Assistant; kept for rollback."""

    __tablename__ = "automation_deployment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    suggestion_id: Mapped[str] = mapped_column(
        ForeignKey("automation_suggestion.id", ondelete="RESTRICT"), index=True
    )
    ha_automation_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
