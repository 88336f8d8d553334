"""ORM classes of the pattern module; every table is named pattern_*."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeiq_ai.kernel.db import Base, UTCDateTime, utcnow


class PatternRecord(Base):
    """A detected routine; `id` is stable across runs for the same routine."""

    __tablename__ = "pattern_pattern"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pattern_type: Mapped[str] = mapped_column(String(32), index=True)
    area_id: Mapped[str | None] = mapped_column(String(255), index=True)
    description: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    quality: Mapped[float] = mapped_column(Float, default=0.0)
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # What makes two runs' findings the same pattern (type, entities, states, day set); time-of-day
    # routines also match on `minute_of_day` within a tolerance, so a drifting routine keeps its id.
    identity_key: Mapped[str] = mapped_column(String(1024), index=True, default="")
    minute_of_day: Mapped[int | None] = mapped_column(Integer)
    last_run_id: Mapped[str | None] = mapped_column(String(32))
    feedback: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[float | None] = mapped_column(Float)
    # The evidence when it was rejected: it comes back only if the evidence grows clearly beyond this.
    rejected_occurrences: Mapped[int | None] = mapped_column(Integer)
    rejected_confidence: Mapped[float | None] = mapped_column(Float)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    entities: Mapped[list[PatternEntity]] = relationship(
        back_populates="pattern",
        cascade="all, delete-orphan",
        order_by="PatternEntity.position",
        lazy="selectin",
    )


class PatternEntity(Base):
    """An entity taking part in a pattern, in order; indexed to filter patterns by entity."""

    __tablename__ = "pattern_pattern_entity"

    pattern_id: Mapped[str] = mapped_column(
        ForeignKey("pattern_pattern.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(255), index=True)

    pattern: Mapped[PatternRecord] = relationship(back_populates="entities")


class SynergyRecord(Base):
    """Entities that could be linked: a pair or a 3-/4-step chain in causal order."""

    __tablename__ = "pattern_synergy"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    synergy_type: Mapped[str] = mapped_column(String(32), index=True)
    depth: Mapped[int] = mapped_column(Integer, index=True)
    area_id: Mapped[str | None] = mapped_column(String(255), index=True)
    score: Mapped[float] = mapped_column(Float, index=True)
    explanation: Mapped[str] = mapped_column(Text)
    covered_by_automation: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    identity_key: Mapped[str] = mapped_column(String(1024), index=True, default="")
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_id: Mapped[str | None] = mapped_column(String(32))
    feedback: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[float | None] = mapped_column(Float)
    rejected_score: Mapped[float | None] = mapped_column(Float)

    entities: Mapped[list[SynergyEntity]] = relationship(
        back_populates="synergy",
        cascade="all, delete-orphan",
        order_by="SynergyEntity.position",
        lazy="selectin",
    )


class SynergyEntity(Base):
    """An entity of a synergy at its step in the chain."""

    __tablename__ = "pattern_synergy_entity"

    synergy_id: Mapped[str] = mapped_column(
        ForeignKey("pattern_synergy.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(255), index=True)

    synergy: Mapped[SynergyRecord] = relationship(back_populates="entities")


class AnalysisRunRecord(Base):
    """One analysis of the event history and what it found."""

    __tablename__ = "pattern_analysis_run"
    __table_args__ = (Index("ix_pattern_analysis_run_requested_at", "requested_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_days: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    patterns_detected: Mapped[int] = mapped_column(Integer, default=0)
    synergies_detected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedbackRecord(Base):
    """One piece of feedback a person gave on a pattern or a synergy."""

    __tablename__ = "pattern_feedback"
    __table_args__ = (Index("ix_pattern_feedback_target", "target_kind", "target_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeaseRecord(Base):
    """A named lease: whoever holds an unexpired one may run (one analysis at a time, across processes)."""

    __tablename__ = "pattern_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
