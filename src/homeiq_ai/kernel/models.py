"""ORM classes of the kernel's own tables (prefix `cache_`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from homeiq_ai.kernel.db import Base, UTCDateTime

__all__ = ["CorrelationCacheEntry"]


class CorrelationCacheEntry(Base):
    """One cached correlation between two entities; the DB tier of `CorrelationCache`.

    `entity_a` <= `entity_b` always, so a pair has one row whichever order it is asked in.
    """

    __tablename__ = "cache_correlation"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    entity_a: Mapped[str] = mapped_column(String(255), index=True)
    entity_b: Mapped[str] = mapped_column(String(255), index=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
