"""Rate limits shared by all app processes, stored in the database.

A fixed-window counter per key: simple, exact enough for abuse control, and
it needs no extra server (Redis) on a city's single machine. Keys carry no
IP address: clients are identified by the rotating salted hash.
"""

from __future__ import annotations

import random
import time

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.extensions import db
from survey.models import RateCounter


def hit(key: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
    """Count one request for *key*; False when the limit for this window is exceeded."""
    if limit <= 0:
        return True
    now = time.time() if now is None else now
    # The window's start time (seconds): comparable across window lengths.
    window = int(now // window_seconds) * window_seconds
    insert = sqlite_insert if db.is_sqlite else pg_insert
    with db.write() as session:
        stmt = insert(RateCounter).values(key=key[:100], window=window, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key", "window"], set_={"count": RateCounter.count + 1}
        )
        session.execute(stmt)
        count = session.scalar(
            select(RateCounter.count).where(
                RateCounter.key == key[:100], RateCounter.window == window
            )
        )
        if random.random() < 0.01:  # keep the table small
            session.execute(delete(RateCounter).where(RateCounter.window < now - 2 * 86400))
    return count <= limit
