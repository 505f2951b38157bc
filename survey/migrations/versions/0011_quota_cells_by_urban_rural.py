"""quota cells: optionally by urban/rural (城乡)

Quota plans were district × sex × age group only, while provincial schemes
often set quotas by urban/rural too, and the frame and the standard
questionnaire carry 城乡 already. A cell now has ``urban_rural`` (城镇 / 农村,
or '' for a plan not by 城乡: every existing cell, by the server default) and
the cell's unique key includes it; the plan says which kind it is
(``by_urban_rural``, false for every existing plan). Targets and counts of
existing cells are kept as they are: they are still the cells of their plans.

``quota_cell`` is copied on SQLite (batch mode) to change its unique
constraint: it has no trigger (the counters' trigger is on ``response``, and
``response`` is not touched here).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD_KEY = "uq_quota_cell_wave_id_district_sex_age_group"
NEW_KEY = "uq_quota_cell_wave_id_district_sex_age_group_urban_rural"


def upgrade() -> None:
    with op.batch_alter_table("quota_cell", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urban_rural", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.drop_constraint(OLD_KEY, type_="unique")
        batch_op.create_unique_constraint(
            NEW_KEY, ["wave_id", "district", "sex", "age_group", "urban_rural"]
        )
    op.add_column(
        "quota_plan",
        sa.Column("by_urban_rural", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # A plan by 城乡 cannot go back to the narrower key: its cells would clash.
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM quota_cell WHERE urban_rural <> ''")).scalar():
        raise RuntimeError(
            "有按城乡制定的配额方案：降级前请按区县 × 性别 × 年龄组重新生成配额（或恢复备份）。"
        )
    with op.batch_alter_table("quota_plan", schema=None) as batch_op:
        batch_op.drop_column("by_urban_rural")
    with op.batch_alter_table("quota_cell", schema=None) as batch_op:
        batch_op.drop_constraint(NEW_KEY, type_="unique")
        batch_op.create_unique_constraint(OLD_KEY, ["wave_id", "district", "sex", "age_group"])
        batch_op.drop_column("urban_rural")
