"""training: run leases, progress and models

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: run leases, live progress, cancellation; model metadata and checksums."""
    with op.batch_alter_table("training_run", schema=None) as batch_op:
        # Existing rows get neutral values; the defaults are dropped again below (the models set values).
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("progress", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("model_version", sa.String(length=64), nullable=True))
    with op.batch_alter_table("training_model", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("artifact_sha256", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_training_model_type_version", ["model_type", "version"])

    with op.batch_alter_table("training_run", schema=None) as batch_op:
        batch_op.alter_column("attempts", server_default=None)
        batch_op.alter_column("cancel_requested", server_default=None)
        batch_op.alter_column("progress", server_default=None)
    with op.batch_alter_table("training_model", schema=None) as batch_op:
        batch_op.alter_column("params", server_default=None)
        batch_op.alter_column("data", server_default=None)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("training_model", schema=None) as batch_op:
        batch_op.drop_constraint("uq_training_model_type_version", type_="unique")
        batch_op.drop_column("artifact_sha256")
        batch_op.drop_column("data")
        batch_op.drop_column("params")
    with op.batch_alter_table("training_run", schema=None) as batch_op:
        batch_op.drop_column("model_version")
        batch_op.drop_column("progress")
        batch_op.drop_column("cancel_requested")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("attempts")
