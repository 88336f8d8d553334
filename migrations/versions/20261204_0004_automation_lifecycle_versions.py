"""automation: suggestion lifecycle, automations and versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (no schema change yet)."""


def downgrade() -> None:
    """Revert this revision (no schema change yet)."""
