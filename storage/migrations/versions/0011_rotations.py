"""on-call rotations: the handoff timers, one row per rotation and handoff moment

Revision ID: 0011
Revises: 0010_status_page
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010_status_page"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rotation_handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outgoing", sa.String(length=32), nullable=False),
        sa.Column("incoming", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_handoffs")),
        sa.UniqueConstraint("rotation", "due_at", name="uq_rotation_handoffs_rotation_due"),
    )
    op.create_index(
        op.f("ix_rotation_handoffs_due_at"), "rotation_handoffs", ["due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rotation_handoffs_due_at"), table_name="rotation_handoffs")
    op.drop_table("rotation_handoffs")
