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
    yaml: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    backtest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status_reason: Mapped[str | None] = mapped_column(Text)
    ha_automation_id: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeploymentRecord(Base):
    """One version of a suggestion's automation sent to Home Assistant; kept for rollback."""

    __tablename__ = "automation_deployment"
    # Two processes deploying the same suggestion at once both try to claim version N+1: one wins.
    __table_args__ = (UniqueConstraint("suggestion_id", "version", name="uq_automation_deployment_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    suggestion_id: Mapped[str] = mapped_column(ForeignKey("automation_suggestion.id", ondelete="RESTRICT"), index=True)
    ha_automation_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    yaml: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
