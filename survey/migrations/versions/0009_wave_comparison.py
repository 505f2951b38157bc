"""waves: what the report compares with (an earlier wave, or published figures)

The report compared with the city's latest earlier wave on the platform: a
city in its first year on the platform had no comparison at all, though last
year's figures were published, and a pilot wave created later became 上年.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wave", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_wave_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("previous_figures", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("previous_source", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            "fk_wave_previous_wave_id_wave", "wave", ["previous_wave_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("wave", schema=None) as batch_op:
        batch_op.drop_constraint("fk_wave_previous_wave_id_wave", type_="foreignkey")
        batch_op.drop_column("previous_source")
        batch_op.drop_column("previous_figures")
        batch_op.drop_column("previous_wave_id")
