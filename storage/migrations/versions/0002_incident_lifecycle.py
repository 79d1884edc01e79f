"""incident lifecycle: latest summary, updates, resolution, closing; several experts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("update_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("root_cause", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("closed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("incident_roles", schema=None) as batch_op:
        batch_op.drop_constraint("uq_incident_roles_role", type_="unique")
        batch_op.create_unique_constraint(
            "uq_incident_roles_holder", ["incident_id", "role", "user_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_roles", schema=None) as batch_op:
        batch_op.drop_constraint("uq_incident_roles_holder", type_="unique")
        batch_op.create_unique_constraint("uq_incident_roles_role", ["incident_id", "role"])
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for column in (
            "closed_at",
            "closed_by",
            "root_cause",
            "resolution",
            "last_update_at",
            "update_count",
            "summary",
        ):
            batch_op.drop_column(column)
