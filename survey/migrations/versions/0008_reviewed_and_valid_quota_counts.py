"""responses: reviewed flag; quota counters count valid responses only

Excluding a response used to leave its quota place taken: under the close
policy a cell filled with speeders and bots stayed closed short of its valid
sample, and the dashboard counted them. From now on excluding gives the place
back and restoring takes one again (survey/operations/quality.py); this
migration brings the counters of existing waves to the same rule: the places
freed go to each cell's earliest valid responses counted over quota (soft
policy), then each cell counts its responses that are neither excluded nor
withdrawn.

``reviewed`` marks a flagged response an organizer has decided on (excluded,
kept or restored), so that 待核查 counts only those still waiting. Responses
already excluded, or restored (the audit log), count as reviewed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COUNT = """
(SELECT count(*) FROM response r
 WHERE r.wave_id = quota_cell.wave_id AND r.district = quota_cell.district
   AND r.sex = quota_cell.sex AND r.age_group = quota_cell.age_group
   AND r.excluded = {false} AND r.over_quota = {over})
"""


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): a batch operation would copy the table
    # and lose its trigger (migration 0006).
    op.add_column(
        "response", sa.Column("reviewed", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    false, true = ("false", "true") if op.get_bind().dialect.name == "postgresql" else ("0", "1")
    op.execute(f"UPDATE response SET reviewed = {true} WHERE excluded = {true}")
    # Restored ones were decided on too (the audit log says which).
    op.execute(
        f"UPDATE response SET reviewed = {true} WHERE CAST(id AS VARCHAR(20)) IN "
        "(SELECT object_id FROM audit_event WHERE action = 'response_restore')"
    )
    _promote_over_quota(op.get_bind(), false, true)
    op.execute(
        "UPDATE quota_cell SET achieved = "
        + _COUNT.format(false=false, over=false)
        + ", over_quota = "
        + _COUNT.format(false=false, over=true)
    )


def _promote_over_quota(conn, false: str, true: str) -> None:
    """Places freed by exclusions go to the cell's earliest valid responses that
    were counted over quota (soft policy), as excluding does from now on: a cell
    whose target is reached by valid responses shows as full."""
    cells = conn.execute(
        sa.text(
            "SELECT wave_id, district, sex, age_group, target FROM quota_cell WHERE "
            f"EXISTS (SELECT 1 FROM response r WHERE r.over_quota = {true} "
            f"AND r.excluded = {false} AND r.wave_id = quota_cell.wave_id "
            "AND r.district = quota_cell.district AND r.sex = quota_cell.sex "
            "AND r.age_group = quota_cell.age_group)"
        )
    ).all()
    cell = "wave_id = :w AND district = :d AND sex = :s AND age_group = :a AND excluded = " + false
    for wave_id, district, sex, age_group, target in cells:
        key = {"w": wave_id, "d": district, "s": sex, "a": age_group}
        within = conn.execute(
            sa.text(f"SELECT count(*) FROM response WHERE {cell} AND over_quota = {false}"), key
        ).scalar()
        free = target - within
        if free <= 0:
            continue
        waiting = conn.execute(
            sa.text(f"SELECT id FROM response WHERE {cell} AND over_quota = {true} "
                    "ORDER BY id LIMIT :n"),
            {**key, "n": free},
        ).scalars().all()  # fmt: skip
        for rid in waiting:
            conn.execute(
                sa.text(f"UPDATE response SET over_quota = {false} WHERE id = :i"), {"i": rid}
            )


def downgrade() -> None:
    op.drop_column("response", "reviewed")  # SQLite ≥ 3.35 drops a column in place
