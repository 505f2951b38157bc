"""counters of a stored response kept by the database (triggers)

A response's completion count, daily count and duration bucket used to be
three more statements in the submit transaction, each a round trip from
Python while SQLite's single write lock (or PostgreSQL's row locks on the hot
counter rows) was held. A trigger on INSERT INTO response does the same work
inside the database, in the same transaction, for every way a response is
stored. The day is the calendar day in China (UTC+8) of ``submitted_at``;
buckets are 10 seconds wide, the last one (3,600 s) open-ended, as in
``survey.operations.quality``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 11:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQLITE = """
CREATE TRIGGER response_counters AFTER INSERT ON response
BEGIN
    UPDATE channel_stats SET completions = completions + 1 WHERE channel_id = NEW.channel_id;
    INSERT INTO daily_count (channel_id, day, completions)
    VALUES (NEW.channel_id, date(NEW.submitted_at, '+8 hours'), 1)
    ON CONFLICT (channel_id, day) DO UPDATE SET completions = completions + 1;
    INSERT INTO duration_bucket (channel_id, bucket, count)
    VALUES (NEW.channel_id, min(CAST(NEW.duration_seconds / 10 AS INTEGER) * 10, 3600), 1)
    ON CONFLICT (channel_id, bucket) DO UPDATE SET count = count + 1;
END
"""

POSTGRES_FUNCTION = """
CREATE FUNCTION response_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE channel_stats SET completions = completions + 1 WHERE channel_id = NEW.channel_id;
    INSERT INTO daily_count (channel_id, day, completions)
    VALUES (NEW.channel_id, (NEW.submitted_at + interval '8 hours')::date, 1)
    ON CONFLICT (channel_id, day) DO UPDATE SET completions = daily_count.completions + 1;
    INSERT INTO duration_bucket (channel_id, bucket, count)
    VALUES (NEW.channel_id, LEAST(floor(NEW.duration_seconds / 10)::integer * 10, 3600), 1)
    ON CONFLICT (channel_id, bucket) DO UPDATE SET count = duration_bucket.count + 1;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER response_counters AFTER INSERT ON response
FOR EACH ROW EXECUTE FUNCTION response_counters()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS response_counters"
        + (" ON response" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS response_counters()")
