"""declare key: one incident per declaration, however often its request arrives

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declare_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_incidents_declare_key"), ["declare_key"])


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_incidents_declare_key"), type_="unique")
        batch_op.drop_column("declare_key")
