"""after the all-clear: post-mortems, action items done, the close checklist, stats charts

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postmortem_due_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("postmortem_owner", sa.String(length=32)))
        batch_op.add_column(sa.Column("postmortem_held_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("postmortem_held_by", sa.String(length=32)))
        batch_op.add_column(sa.Column("postmortem_link", sa.Text()))
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True)))
    op.create_table(
        "checklist_ticks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("ticked_by", sa.String(length=32), nullable=True),
        sa.Column("ticked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_checklist_ticks_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_ticks")),
        sa.UniqueConstraint("incident_id", "item", name="uq_checklist_ticks_item"),
    )
    op.create_table(
        "stats_charts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("permalink", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_charts")),
    )
    with op.batch_alter_table("stats_charts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stats_charts_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("stats_charts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_charts_created_at"))
    op.drop_table("stats_charts")
    op.drop_table("checklist_ticks")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_column("done_at")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("postmortem_link")
        batch_op.drop_column("postmortem_held_by")
        batch_op.drop_column("postmortem_held_at")
        batch_op.drop_column("postmortem_owner")
        batch_op.drop_column("postmortem_due_at")
