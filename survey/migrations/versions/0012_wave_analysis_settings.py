"""waves: the analysis settings saved for publication (发布口径)

The estimates page took its weighting from the request, and only its own
buttons passed it on: the exports page, the CLI export and the report used the
defaults (raking on sex × age), so a wave's microdata weights differed by where
they were downloaded, and the method of the published figures was recorded
nowhere. A statistician now saves the page's settings as the wave's; existing
waves keep none (NULL: the defaults, as before).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wave", sa.Column("analysis_settings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wave", schema=None) as batch_op:
        batch_op.drop_column("analysis_settings")
