"""index of valid responses by cell (weights of large waves from one index scan)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_response_wave_valid_cell",
        "response",
        ["wave_id", "excluded", "district", "sex", "age_group", "urban_rural"],
    )


def downgrade() -> None:
    op.drop_index("ix_response_wave_valid_cell", table_name="response")
