"""query: sessions, plans and answered questions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A query is a session: the open questions, the answers given, the entities named and the plans."""
    with op.batch_alter_table("query_query", schema=None) as batch_op:
        # `needs_clarification` does not fit the seed's 16 characters.
        batch_op.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=32))
        # Existing rows get neutral values; the defaults are dropped again below (the models set values).
        batch_op.add_column(sa.Column("questions", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("entities", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("plans", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("confidence", sa.Float(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(
            sa.Column("engine", sa.String(length=16), nullable=False, server_default=sa.text("'offline'"))
        )
        batch_op.add_column(sa.Column("catalog_version", sa.String(length=32), nullable=True))
    with op.batch_alter_table("query_query", schema=None) as batch_op:
        for column in ("questions", "answers", "entities", "plans", "confidence", "engine"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    """Drop the session columns."""
    with op.batch_alter_table("query_query", schema=None) as batch_op:
        for column in ("catalog_version", "engine", "confidence", "plans", "entities", "answers", "questions"):
            batch_op.drop_column(column)
        batch_op.alter_column("status", existing_type=sa.String(length=32), type_=sa.String(length=16))
