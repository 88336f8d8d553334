"""automation: suggestion lifecycle, automations and versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUGGESTION_COLUMNS = (
    ("yaml", sa.Text()),
    ("evidence", sa.JSON()),
    ("validation", sa.JSON()),
    ("backtest", sa.JSON()),
    ("status_reason", sa.Text()),
    ("ha_automation_id", sa.String(length=64)),
    ("entity_id", sa.String(length=255)),
)
_DEPLOYMENT_COLUMNS = (
    ("yaml", sa.Text()),
    ("diff", sa.Text()),
    ("actor", sa.String(length=64)),
    ("note", sa.Text()),
)


def upgrade() -> None:
    """Suggestions carry their automation, evidence, validation and backtest; deployments are versions."""
    with op.batch_alter_table("automation_suggestion", schema=None) as batch_op:
        for name, kind in _SUGGESTION_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("automation_deployment", schema=None) as batch_op:
        for name, kind in _DEPLOYMENT_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.create_unique_constraint("uq_automation_deployment_version", ["suggestion_id", "version"])


def downgrade() -> None:
    """Drop the lifecycle columns and the version guard."""
    with op.batch_alter_table("automation_deployment", schema=None) as batch_op:
        batch_op.drop_constraint("uq_automation_deployment_version", type_="unique")
        for name, _kind in reversed(_DEPLOYMENT_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("automation_suggestion", schema=None) as batch_op:
        for name, _kind in reversed(_SUGGESTION_COLUMNS):
            batch_op.drop_column(name)
