"""channels: when they were closed

Closing a collection point (or the end of fieldwork) cut off residents in the
middle of the questionnaire: their next page answered 410 and their answers
were lost. A resident who started before the channel closed may now finish
for a while (``FINISH_GRACE_SECONDS``), which needs the time it closed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("channel", sa.Column("closed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("channel", "closed_at")
