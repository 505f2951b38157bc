"""Rate limits shared by all app processes, stored in the database.

A fixed-window counter per key: simple, exact enough for abuse control, and
it needs no extra server (Redis) on a city's single machine. Keys carry no
IP address: clients are identified by the rotating salted hash.

With ``RATE_LIMIT_SYNC_SECONDS`` > 0 (the default) each process counts its own
requests in memory and adds them to the database's counters at most that many
seconds later, in one transaction, reading back the totals of all processes.
A request is refused when that total plus this process's requests not yet
written exceeds the limit. Counting each request in a write transaction of
its own took three per submission (start, submit per client, submit per
channel): on SQLite they queued for the write lock with the submissions
themselves, and under load they cost more than half again of a resident's
request. The price: within one sync interval, a process does not see the other
processes' requests of that interval, so a client hammering several processes
at once gets through up to that interval's worth of requests more before being
refused. Within one process (and so in the tests) the count is exact. With 0,
each request is counted in the database at once, exactly.

A process that had no request for a key for a while holds an old total for it,
but uses it for one interval at most: its first new request is pending, so its
next sync reads the total back. What gets through beyond a limit is therefore
about one interval's worth of requests, however long a process was idle (a
simulated burst of 160 a second over four processes: 80 to 140 more than the
limit; tests/app/test_resident_rate_limits.py), and reading back keys with
nothing pending would not shorten it.

A limit that should count only what was done, not every attempt (the resident's
submissions: a replayed last page stores nothing), is checked with
:func:`allows` before and counted with :func:`hit` after: then submissions
being stored at the same moment may each pass the check, so the limit can be
passed by as many as are in flight at once.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.extensions import db
from survey.models import RateCounter
from survey.operations.process_local import PeriodicFlush, flush_if_made, of_this_process


def _where(key: str, window_seconds: int, now: float | None) -> tuple[str, int, float, float]:
    """The stored key, the window's start time (seconds: comparable across window
    lengths), the moment, and the sync delay (0: counted in the database at once)."""
    now = time.time() if now is None else now
    window = int(now // window_seconds) * window_seconds
    delay = current_app._get_current_object().config.get("RATE_LIMIT_SYNC_SECONDS", 0) or 0
    return key[:100], window, now, delay


def hit(key: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
    """Count one request for *key*; False when the limit for this window is exceeded."""
    if limit <= 0:
        return True
    key, window, now, delay = _where(key, window_seconds, now)
    if delay <= 0:
        with db.write() as session:
            count = _add(session, [(key, window, 1)])[key]
            if random.random() < 0.01:  # keep the table small
                _purge(session, now)
        return count <= limit
    counts = _local(current_app._get_current_object(), delay)
    return counts.hit(key, window, window + window_seconds, limit)


def allows(key: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
    """Whether one more request for *key* would be within the limit, counting nothing
    (count it with :func:`hit` once it is done). No database read unless
    ``RATE_LIMIT_SYNC_SECONDS`` is 0."""
    if limit <= 0:
        return True
    key, window, now, delay = _where(key, window_seconds, now)
    if delay <= 0:
        table = RateCounter.__table__
        count = db.session.scalar(
            select(table.c.count).where(table.c.key == key, table.c.window == window)
        )
        return (count or 0) < limit
    return _local(current_app._get_current_object(), delay).allows(key, window, limit)


def forgive(key: str, window_seconds: int, now: float | None = None) -> None:
    """Take back one request that :func:`hit` counted for *key* in this window: it
    turned out not to be one the limit is for (a successful log-in is no guess)."""
    key, window, now, delay = _where(key, window_seconds, now)
    if delay <= 0:
        with db.write() as session:
            _add(session, [(key, window, -1)])
        return
    _local(current_app._get_current_object(), delay).forgive(key, window)


def seconds_left(window_seconds: int, now: float | None = None) -> int:
    """Seconds until the current window of that length ends (when a refused
    client's count starts again from nothing), at least 1."""
    now = time.time() if now is None else now
    window = int(now // window_seconds) * window_seconds
    return max(1, math.ceil(window + window_seconds - now))


def _add(session, todo: list[tuple[str, int, int]]) -> dict[str, int]:
    """Add each (key, window, n) of *todo* (keys in order, each once) to its counter
    and return the totals of all processes by key: two statements, whatever the
    number of keys (two a key held the write lock while waiting for the
    interpreter between statements: 50 ms a second per process)."""
    table = RateCounter.__table__
    stmt = (sqlite_insert if db.is_sqlite else pg_insert)(table)
    # Rows in key order: the order in which every process locks them.
    session.connection().execute(
        stmt.on_conflict_do_update(
            index_elements=["key", "window"], set_={"count": table.c.count + stmt.excluded.count}
        ),
        [{"key": key, "window": window, "count": n} for key, window, n in todo],
    )
    windows = {key: window for key, window, _ in todo}
    rows = session.connection().execute(
        select(table.c.key, table.c.window, table.c.count).where(table.c.key.in_(list(windows)))
    )
    return {key: count for key, window, count in rows if windows[key] == window}


def _purge(session, now: float) -> None:
    session.execute(delete(RateCounter).where(RateCounter.window < now - 2 * 86400))


@dataclass
class _Entry:
    window: int
    #: This process's requests not yet added to the database.
    pending: int = 0
    #: The total of all processes, as the database last said.
    known: int = 0
    #: When the window is over (then the entry is forgotten).
    ends: int = 0


class _LocalCounts(PeriodicFlush):
    """One process's rate-limit counts, and the thread that adds them to the database.

    An entry is kept until its window is over (a client's count must not start
    again from nothing in the middle of its window): about 200 bytes per client
    and window, e.g. 50 MB per process after an hour of 250 new residents a second.
    """

    what = "rate-limit counts"

    def __init__(self, app, delay: float):
        super().__init__(app, delay)
        self.entries: dict[str, _Entry] = {}

    def hit(self, key: str, window: int, ends: int, limit: int) -> bool:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry.window != window:
                # A new window. Requests still pending for the old one are
                # dropped with it: they no longer count against anything.
                entry = self.entries[key] = _Entry(window, ends=ends)
            entry.pending += 1
            self.start_once()
            return entry.known + entry.pending <= limit

    def forgive(self, key: str, window: int) -> None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry.window == window:
                entry.pending -= 1

    def allows(self, key: str, window: int, limit: int) -> bool:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry.window != window:
                return limit >= 1
            return entry.known + entry.pending < limit

    def flush(self, now: float | None = None) -> None:
        """Add the pending counts to the database and read back the totals."""
        now = time.time() if now is None else now
        with self.lock:
            for key in [k for k, e in self.entries.items() if e.ends < now and not e.pending]:
                del self.entries[key]  # its window is long over
            todo = sorted((k, e.window, e.pending) for k, e in self.entries.items() if e.pending)
        if not todo:
            return
        with self.app.app_context(), db.write() as session:
            totals = _add(session, todo)
            if random.random() < 0.05:  # keep the table small
                _purge(session, now)
        with self.lock:
            for key, window, n in todo:
                entry = self.entries.get(key)
                if entry is not None and entry.window == window:
                    entry.pending -= n
                    entry.known = totals[key]


def _local(app, delay: float) -> _LocalCounts:
    return of_this_process(app, "survey_rate_counts", lambda: _LocalCounts(app, delay))


def sync_counts() -> None:
    """Write this process's pending rate-limit counts now (tests, shutdown)."""
    flush_if_made("survey_rate_counts")
