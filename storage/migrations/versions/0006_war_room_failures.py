"""a war room that failed to open says why, so it can be shown and retried

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Incidents left without a war room by earlier versions, which recorded no reason: open, no
# channel, and no setup in progress (a setup holds a "war_room" timer until it ends).
_BACKFILL = """
UPDATE incidents SET war_room_error = 'the setup ended without a channel (before this version)'
WHERE channel_id IS NULL
  AND status NOT IN ('resolved', 'closed')
  AND id NOT IN (SELECT incident_id FROM timers WHERE kind = 'war_room_setup')
"""


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("war_room_error", sa.Text(), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("war_room_error")
