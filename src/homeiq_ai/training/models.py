"""ORM classes of the training module; every table is named training_*."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from homeiq_ai.kernel.db import Base, UTCDateTime, utcnow


class TrainingRunRecord(Base):
    """One training run and its outcome."""

    __tablename__ = "training_run"
    __table_args__ = (Index("ix_training_run_requested_at", "requested_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    training_type: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Holds training_type while the run is queued or running and NULL after: the unique constraint
    # lets only one active run per type exist even when two requests race (NULLs never collide).
    active_type: Mapped[str | None] = mapped_column(String(32), unique=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lease: which worker holds the run and until when; a lease that runs out means its process died.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Live progress of a running run (epoch, loss, metrics so far), written with each heartbeat.
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_version: Mapped[str | None] = mapped_column(String(64))


class TrainingModelRecord(Base):
    """A model produced by a training run; the newest active one of a type is the one in use."""

    __tablename__ = "training_model"
    __table_args__ = (
        Index("ix_training_model_type_created_at", "model_type", "created_at"),
        UniqueConstraint("model_type", "version", name="uq_training_model_type_version"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_type: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("training_run.id", ondelete="SET NULL"))
    artifact_path: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the model was trained with and on: its parameters, data seeds and a hash of the data.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
