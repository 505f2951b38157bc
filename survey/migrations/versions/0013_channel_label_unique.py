"""channels: one collection-point name per district and wave, enforced

``create_channel`` refuses a second channel of the same name in a district of a
wave (they could not be told apart on the dashboard, the posters or the audit
log), but it checked by reading first: two organizers creating the same name at
once on PostgreSQL could both pass the check. A unique index makes the database
refuse the second. Channels named alike before the check existed are renamed
first, keeping the earliest as it was: 社区海报 (2), 社区海报 (3), …

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEX = "uq_channel_wave_district_label"
LABEL_MAX = 200


def _renamed(label: str, n: int, taken: set[str]) -> str:
    """*label* with the first free suffix from (n) on, within the column's length."""
    while True:
        suffix = f" ({n})"
        candidate = label[: LABEL_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, wave_id, district_id, label FROM channel ORDER BY id")
    ).all()
    taken: dict[tuple[int, int], set[str]] = {}
    for row in rows:
        taken.setdefault((row.wave_id, row.district_id), set()).add(row.label)
    seen: dict[tuple[int, int, str], int] = {}
    for row in rows:
        key = (row.wave_id, row.district_id, row.label)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            continue
        names = taken[(row.wave_id, row.district_id)]
        new = _renamed(row.label, seen[key], names)
        names.add(new)
        conn.execute(sa.text("UPDATE channel SET label = :label WHERE id = :id"),
                     {"label": new, "id": row.id})  # fmt: skip
    op.create_index(INDEX, "channel", ["wave_id", "district_id", "label"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="channel")
