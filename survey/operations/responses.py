"""Counting the resident's funnel and storing responses exactly once."""

from __future__ import annotations

import os
import queue
import re
import secrets
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from questionnaires import Questionnaire
from questionnaires.engine import score
from survey.extensions import db
from survey.models import Channel, ChannelStats, Response, utcnow
from survey.operations.process_local import PeriodicFlush, flush_if_made, of_this_process
from survey.operations.quality import devices_seen, quality_flags, wave_median_duration

COUNTERS = ("visits", "starts", "screen_outs", "quota_full", "completions", "receipts")

# No 0/O, 1/I/L: easy to read out over the phone.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def count_event(channel_id: int, counter: str) -> None:
    """Add one to a channel's funnel counter.

    With ``COUNTER_FLUSH_SECONDS`` > 0 the increment is added up in this process
    and written with the others at most that many seconds later (one
    transaction, not one per request: the write lock is the resident path's
    bottleneck). A crash loses at most that interval of funnel counts, never a
    response. With 0 each increment is written at once.
    """
    if counter not in COUNTERS:
        raise ValueError(counter)
    delay = current_app.config["COUNTER_FLUSH_SECONDS"]
    if not delay or delay <= 0:
        _write_counts({(channel_id, counter): 1})
        return
    _pending_counts(current_app._get_current_object(), delay).add(channel_id, counter)


_STATS = ChannelStats.__table__
# One Core statement for all of a channel's counters (atomic ``x = x + n``), built
# once and run for many channels at a time (executemany): the flush of each process
# every second was ~3% of a loaded server's CPU as one ORM UPDATE per counter.
_ADD_COUNTS = (
    update(_STATS)
    .where(_STATS.c.channel_id == bindparam("cid"))
    .values({name: _STATS.c[name] + bindparam(f"n_{name}") for name in COUNTERS})
)


def _write_counts(counts: dict[tuple[int, str], int]) -> None:
    """Add the counts to ``channel_stats`` in one transaction, rows in channel order
    (the order every writer locks them in)."""
    rows: dict[int, dict] = {}
    for (channel_id, counter), n in counts.items():
        row = rows.setdefault(channel_id, {"cid": channel_id, **{f"n_{c}": 0 for c in COUNTERS}})
        row[f"n_{counter}"] += n
    with db.write() as session:
        session.connection().execute(_ADD_COUNTS, [rows[cid] for cid in sorted(rows)])


class _PendingCounts(PeriodicFlush):
    """One process's funnel increments not yet written, and the thread that writes them."""

    what = "funnel counters"

    def __init__(self, app, delay: float):
        super().__init__(app, delay)
        self.counts: Counter = Counter()

    def add(self, channel_id: int, counter: str) -> None:
        with self.lock:
            self.counts[(channel_id, counter)] += 1
            self.start_once()

    def flush(self) -> None:
        """Write what has been counted (kept for the next try if writing fails)."""
        with self.lock:
            counts, self.counts = self.counts, Counter()
        if not counts:
            return
        try:
            with self.app.app_context():
                _write_counts(dict(counts))
        except BaseException:
            with self.lock:
                self.counts.update(counts)
            raise


def _pending_counts(app, delay: float) -> _PendingCounts:
    return of_this_process(app, "survey_pending_counts", lambda: _PendingCounts(app, delay))


def flush_counts() -> None:
    """Write this process's pending funnel counts now (tests, shutdown)."""
    flush_if_made("survey_pending_counts")


def new_receipt_code() -> str:
    """Eight characters of RECEIPT_ALPHABET, uniformly drawn: one draw from the
    system's random source (a choice per character was a system call each)."""
    n, base, chars = secrets.randbelow(len(RECEIPT_ALPHABET) ** 8), len(RECEIPT_ALPHABET), []
    for _ in range(8):
        n, digit = divmod(n, base)
        chars.append(RECEIPT_ALPHABET[digit])
    return f"{''.join(chars[:4])}-{''.join(chars[4:])}"


@dataclass(frozen=True)
class Submission:
    """Everything the resident's path knows when the last page is submitted."""

    submission_id: str
    channel: Channel
    questionnaire: Questionnaire
    questionnaire_version_id: int
    answers: dict
    cells: dict[str, str | None]
    started_at: datetime
    device_class: str
    client_hash: str
    #: Review flags known before storing (honeypot, min_duration ...).
    flags: tuple[str, ...] = ()
    #: Salted hash of the anonymous device cookie ("" when unknown).
    device_hash: str = ""


@dataclass(frozen=True)
class SubmitResult:
    #: The stored response's receipt code (None when the quota was full).
    receipt_code: str | None
    created: bool
    quota_full: bool = False


class SubmitWaitTimeout(Exception):
    """The process's writer did not answer in time (the database is locked or
    away): a retryable error; the same submission id may be sent again."""


def find_by_submission(submission_id: str) -> Response | None:
    return db.session.scalar(select(Response).filter_by(submission_id=submission_id))


# Built once, on the table: the statements of every submission (Core, no ORM
# compilation per call).
_RESPONSES = Response.__table__
_ANY_STORED = select(_RESPONSES.c.submission_id).where(
    _RESPONSES.c.submission_id.in_(bindparam("sids", expanding=True))
)
# inline(): no RETURNING of the new id (nothing reads it; a batch of one had it).
_INSERT = insert(_RESPONSES).inline()
_QUOTA_FULL = (
    update(ChannelStats.__table__)
    .where(ChannelStats.__table__.c.channel_id == bindparam("c"))
    .values(quota_full=ChannelStats.__table__.c.quota_full + 1)
)

_DUPLICATE = ("duplicate",)
_FULL = ("full",)


class _Done:
    """Set once by the writer thread, waited for by one request thread: a lock
    handed from one to the other. (threading.Event's condition variable cost the
    writer, which every submission of the process waits for, 2.4% of the
    server's CPU under load.)"""

    __slots__ = ("_lock",)

    def __init__(self):
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:  # set already
            pass

    def wait(self, timeout: float) -> bool:
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()  # stays set
        return True


@dataclass(eq=False)
class _Pending:
    """A submission prepared outside the write transaction, waiting to be stored."""

    sub: Submission
    quota_hook: Callable | None
    indicators: dict
    submitted: datetime
    duration: float
    #: ("stored", values), _DUPLICATE or _FULL once stored; or the error.
    outcome: tuple | None = None
    error: BaseException | None = None
    done: _Done = field(default_factory=_Done)


def submit_response(sub: Submission, quota_hook=None) -> SubmitResult:
    """Store a completed questionnaire once, whatever the number of retries.

    A repeated submission id (double tap, retry after a dropped connection)
    returns the receipt code of the response stored the first time, with
    ``created=False`` (the store itself finds it: this request reads nothing before).
    *quota_hook(conn, submissions)* may reserve quota places inside the same
    transaction (*conn*: its Core connection) for the batch's submissions, given
    by cell; it returns for each ``"ok"``, ``"over"`` (soft policy: accept, flag)
    or ``"full"`` (close policy: store nothing).

    With ``SUBMIT_WRITER`` on, the submission is handed to this process's
    writer thread, which stores every submission waiting at that moment in one
    transaction (group commit) and answers each; the caller returns only after
    that transaction committed. Otherwise it is stored here, alone.
    """
    submitted = utcnow()
    duration = max(0.0, (submitted - sub.started_at).total_seconds())
    if duration < current_app.config["MIN_DURATION_SECONDS"]:
        sub = replace(sub, flags=(*sub.flags, "min_duration"))
    item = _Pending(sub, quota_hook, score(sub.questionnaire, sub.answers), submitted, duration)
    # The store happens in another transaction: this request's snapshot must not hide it.
    db.end_read()
    if current_app.config["SUBMIT_WRITER"]:
        _writer(current_app._get_current_object()).store(
            item, current_app.config["SUBMIT_WAIT_SECONDS"]
        )
    else:
        link = Link()
        try:
            store_batch([item], link)
        finally:
            link.close()
        if item.error is not None:
            raise item.error
    if item.outcome is _DUPLICATE:  # stored meanwhile by a simultaneous retry
        return SubmitResult(find_by_submission(sub.submission_id).receipt_code, created=False)
    if item.outcome is _FULL:
        return SubmitResult(None, created=False, quota_full=True)
    _, values = item.outcome
    return SubmitResult(values["receipt_code"], created=True)


class Link:
    """The Core connection that stores batches (no ORM session per batch).

    With *keep* (the writer thread, on PostgreSQL) it is kept from one batch to
    the next: no pool checkout, with its ping, per batch, and the batch's
    statements are prepared on the server once (see :func:`_prepare_threshold`).
    It is dropped after a failure (the next batch checks out a new one, pinged)
    and given back to the pool when the writer is idle. A SQLite connection is
    given back after each batch (see :meth:`done`): its checkout costs no round
    trip, and an open connection would keep the file's locks through a restore."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.conn: Connection | None = None
        self._threshold = None  # the driver's own, given back with the connection

    def done(self) -> None:
        """After a batch: give the connection back unless it is kept."""
        if not self.keep:
            self.close()

    def get(self) -> Connection:
        if self.conn is None:
            self.conn = db.engine.connect()
            if self.keep:
                self._threshold = _prepare_threshold(self.conn, 0)
        return self.conn

    def close(self) -> None:
        """Give a healthy connection back to the pool."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                if self.keep:
                    _prepare_threshold(conn, self._threshold)
                conn.close()
            except Exception:  # noqa: BLE001 - it died meanwhile: the pool discards it
                pass

    def drop(self) -> None:
        """Throw the connection away (it failed, or it may be in any state)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001
                pass


def _prepare_threshold(conn: Connection, value: int | None) -> int | None:
    """Set psycopg's ``prepare_threshold`` on *conn* (0: prepare each statement on
    the server at its first execution; None: never); returns the one it had
    (None on SQLite).

    The kept connection prepares every statement at once: PostgreSQL then plans
    each of the batch's statements once per connection, not once per batch
    (pg_stat_statements over a bench_load run had planning at 2.8 s of 11.2 s
    of PostgreSQL's statement time, the quota statement alone 0.37 ms a call).
    Measured, runs alternated: bench_load --postgres --submissions 8000,
    PostgreSQL 0.15-0.17 against 0.23-0.26 ms CPU per request, throughput
    +3-6%; bench_request_cpu --postgres 1.43 against 1.81 ms per submission.
    Only this connection gains: psycopg forgets its prepared statements at each
    rollback, and a pooled connection is rolled back whenever it goes back to
    the pool, while the writer's batches end in COMMIT. (Stop 13 had measured
    them costing more, with psycopg's default, a statement prepared at its 6th
    execution, in bench_request_cpu; prepared at once, they cost less in both
    benches, run side by side in stop 15.)
    A schema change made while the app runs can make PostgreSQL refuse a
    prepared statement ("cached plan must not change result type"): the batch
    is then tried again on a new connection (:func:`_stale_plan`)."""
    driver = conn.connection.driver_connection
    if not hasattr(driver, "prepare_threshold"):  # sqlite3
        return None
    old, driver.prepare_threshold = driver.prepare_threshold, value
    return old


def _stale_plan(exc: DBAPIError) -> bool:
    """PostgreSQL refused a statement prepared before a schema change (SQLSTATE
    0A000, "cached plan must not change result type"): a new connection
    prepares it afresh."""
    return getattr(exc.orig, "sqlstate", None) == "0A000"


def store_batch(items: list[_Pending], link: Link) -> None:
    """Store prepared submissions in one write transaction on *link*'s
    connection; sets each one's outcome.

    A unique-key clash (a simultaneous retry stored by another process, or a
    receipt code drawn twice) rolls the whole transaction back and it is tried
    again: the retry sees the stored submission as a duplicate and draws new
    codes. So is a connection found dead (a kept connection after a database
    restart): the retry checks out a new one, and finds the batch stored if
    the commit had gone through after all; and a statement prepared on the
    kept connection before a schema change. If a batch of several fails
    otherwise, each submission is tried on its own, so that one bad submission
    fails alone.
    """
    facts = None
    for attempt in range(3):
        try:
            conn = link.get()
            if facts is None and db.is_sqlite:  # before BEGIN IMMEDIATE takes the lock
                facts = _wave_facts(conn, items)
            with db.write_on(conn):
                if facts is None:  # PostgreSQL: in the transaction, before any row lock
                    facts = _wave_facts(conn, items)
                outcomes = _write_batch(conn, items, facts)
        except IntegrityError as exc:  # rolled back; the connection is sound
            if attempt < 2:
                continue
            error: BaseException = exc
        except DBAPIError as exc:
            link.drop()
            if (exc.connection_invalidated or _stale_plan(exc)) and attempt < 2:
                continue
            error = exc
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
            link.drop()
            error = exc
        else:
            for item, outcome in zip(items, outcomes, strict=True):
                item.outcome = outcome
            return
        if len(items) == 1 or isinstance(error, OperationalError | InterfaceError):
            for item in items:  # the database is away or locked: all wait for a retry
                item.error = error
            return
        for item in items:
            store_batch([item], link)
        return


def _wave_facts(conn, items: list[_Pending]) -> dict[int, tuple]:
    """For each wave of the batch: the median duration (with its count) and which
    of the batch's devices have answered before.

    Read before the write lock (SQLite) or before the first row lock
    (PostgreSQL, in the same transaction), not while holding it, where every
    statement also waits for the interpreter lock. The price on SQLite: two
    submissions from one device stored by two processes within the same few
    milliseconds are not flagged as a repeated device (on PostgreSQL they
    never could be: neither transaction sees the other's row); within a batch
    they still are. The median comes from this process's copy, at most
    ``quality.MEDIAN_TTL`` seconds old.
    """
    hashes: dict[int, list[str]] = {}
    for item in items:
        hashes.setdefault(item.sub.channel.wave_id, []).append(item.sub.device_hash)
    return {
        wave_id: (wave_median_duration(conn, wave_id), frozenset(devices_seen(conn, wave_id, hs)))
        for wave_id, hs in hashes.items()
    }


def _write_batch(conn, items: list[_Pending], facts: dict[int, tuple]) -> list[tuple]:
    outcomes: list[tuple | None] = [None] * len(items)
    sids = sorted({item.sub.submission_id for item in items})
    seen = set(conn.execute(_ANY_STORED, {"sids": sids}).scalars())
    fresh = []
    for i, item in enumerate(items):
        if item.sub.submission_id in seen:
            outcomes[i] = _DUPLICATE  # stored before, or earlier in this batch
        else:
            seen.add(item.sub.submission_id)
            fresh.append(i)
    # Every batch takes row locks in one order (PostgreSQL runs the batches of
    # several processes at once): quota cells first (PostgreSQL: all of the
    # batch's cells at once, by id: quota_gate.reserve_places) ...
    reserved = dict.fromkeys(fresh, "ok")
    by_hook: dict[Callable, list[int]] = {}
    for i in sorted(fresh, key=lambda i: _cell_key(items[i].sub)):
        if items[i].quota_hook is not None:
            by_hook.setdefault(items[i].quota_hook, []).append(i)
    for hook, indexes in by_hook.items():  # one hook (the resident's path) in practice
        outcomes_of_hook = hook(conn, [items[i].sub for i in indexes])
        reserved.update(zip(indexes, outcomes_of_hook, strict=True))
    # ... then the channels' counters (trigger response_counters), by channel.
    order = sorted(fresh, key=lambda i: items[i].sub.channel.id)
    # Wave id: (median and count, devices already seen): a copy for each try.
    waves = {wave_id: (median, set(seen)) for wave_id, (median, seen) in facts.items()}
    rows = []
    for i in order:
        item, sub = items[i], items[i].sub
        if reserved[i] == "full":
            conn.execute(_QUOTA_FULL, {"c": sub.channel.id})
            outcomes[i] = _FULL
            continue
        wave_id = sub.channel.wave_id
        median, seen = waves[wave_id]
        flags = set(sub.flags) | set(
            quality_flags(sub, item.duration, median, sub.device_hash in seen)
        )
        if sub.device_hash:
            seen.add(sub.device_hash)  # a second answer from it in this batch is flagged
        values = dict(
            submission_id=sub.submission_id,
            receipt_code=new_receipt_code(),
            wave_id=wave_id,
            channel_id=sub.channel.id,
            questionnaire_id=sub.questionnaire_version_id,
            answers=sub.answers,
            indicators=item.indicators,
            district=sub.cells.get("district") or sub.channel.district.name,
            sex=sub.cells.get("sex"),
            age_group=sub.cells.get("age_group"),
            urban_rural=sub.cells.get("urban_rural"),
            started_at=sub.started_at,
            submitted_at=item.submitted,
            duration_seconds=item.duration,
            device_class=sub.device_class,
            client_hash=sub.client_hash,
            over_quota=reserved[i] == "over",
            excluded=False,
            flags=sorted(flags),
            is_flagged=bool(flags),
            device_hash=sub.device_hash,
        )
        rows.append(values)
        outcomes[i] = ("stored", values)
    if rows:
        # One Core statement for all rows (compiled once), rows in channel order.
        # The database counts them (completions, day, duration bucket): trigger
        # response_counters, migration 0006, in this same transaction.
        conn.execute(_INSERT, rows)
    return outcomes


def _cell_key(sub: Submission) -> tuple:
    return tuple(sub.cells.get(k) or "" for k in ("district", "sex", "age_group", "urban_rural"))


class _Writer:
    """One process's writer thread: stores, in one transaction, every submission
    that is waiting when it looks (at most ``MAX_BATCH``), then answers each.

    SQLite lets one writer in at a time: one transaction for many submissions
    holds the write lock once instead of once per submission, and the request
    threads no longer queue on it. PostgreSQL gets fewer transactions on the
    same hot counter rows. Nothing is acknowledged before its commit.
    """

    MAX_BATCH = 64
    #: Seconds without a submission after which the writer gives its connection back.
    IDLE_SECONDS = 10.0

    def __init__(self, app):
        self.app = app
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True, name="survey-submit-writer")
        self.thread.start()

    def store(self, item: _Pending, timeout: float) -> None:
        self.queue.put(item)
        if not item.done.wait(timeout):
            # It may still be stored later: the resident's retry (same id) finds it.
            raise SubmitWaitTimeout(f"no answer from the writer in {timeout} s")
        if item.error is not None:
            raise item.error

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is waiting, give the connection back and end the thread."""
        self.queue.put(None)
        self.thread.join(timeout)

    def _run(self) -> None:
        link = None
        while True:
            try:
                first = self.queue.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:  # idle: the connection goes back to the pool meanwhile
                if link is not None:
                    link.close()
                first = self.queue.get()
            stopping = first is None  # stop(): nothing waits behind it
            batch = [] if stopping else [first]
            while not stopping and len(batch) < self.MAX_BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # stop() behind waiting submissions: store them first
                    stopping = True
                else:
                    batch.append(item)
            if batch:
                link = self._store(batch, link)
            if stopping:
                if link is not None:
                    link.close()
                return

    def _store(self, batch: list[_Pending], link: Link | None) -> Link | None:
        """Store *batch* and answer each of its requests; the link to keep."""
        try:
            with self.app.app_context():
                link = link or Link(keep=not db.is_sqlite)
                store_batch(batch, link)
                link.done()
        except BaseException as exc:  # noqa: BLE001 - never leave a request waiting
            for item in batch:
                if item.outcome is None and item.error is None:
                    item.error = exc
        finally:
            for item in batch:
                item.done.set()
        return link


_writer_lock = threading.Lock()


def _writer(app) -> _Writer:
    with _writer_lock:  # one writer thread per process, even when requests race to start it
        return of_this_process(app, "survey_submit_writer", lambda: _Writer(app))


def stop_writer(app) -> None:
    """End this process's writer thread, if it has one, after what is waiting
    (before the app's engine is disposed: the writer keeps a connection)."""
    with _writer_lock:
        writer = app.extensions.get("survey_submit_writer")
        if writer is not None and writer.pid == os.getpid():
            del app.extensions["survey_submit_writer"]
            writer.stop()


#: What a phone's keyboard may type between or around the code's halves: spaces,
#: and dashes other than "-" (a Chinese keyboard's "—"; "－" is "-" after NFKC).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_]+")


def normal_receipt_code(typed: str) -> str:
    """A receipt code as typed, written as issued: any case, full-width letters and
    digits (a Chinese keyboard in full-width mode), spaces and any dash, or none
    (``q538 ufwd``, ``ｑ５３８—ｕｆｗｄ`` → ``Q538-UFWD``); "" when nothing was typed."""
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", typed)).upper()
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def withdraw_response(receipt_code: str) -> bool:
    """Erase a respondent's answers at their request (PIPL), keeping a tombstone.

    The quota place is given back. Returns False when no such receipt exists
    or it was already withdrawn.
    """
    from flask import has_request_context
    from flask_login import current_user

    from survey.operations.audit import record
    from survey.operations.quality import give_back_place, lock_wave_places

    code = normal_receipt_code(receipt_code)
    with db.write() as session:
        wave_id = session.scalar(
            select(Response.wave_id).where(
                Response.receipt_code == code, Response.withdrawn_at.is_(None)
            )
        )
        if wave_id is None:
            return False
        # Before the response's lock, as a plan being remade takes them.
        lock_wave_places(session, wave_id)
        response = session.scalar(
            select(Response)
            .where(Response.receipt_code == code, Response.withdrawn_at.is_(None))
            # Locked and read afresh: an organizer excluding it at the same moment
            # must not give its quota place back a second time (PostgreSQL).
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if response is None:
            return False
        if not response.excluded:  # an excluded response holds no place already
            give_back_place(session, response)
        # What stays is a tombstone: the submission id (a retry finds it), the wave
        # and channel, the day. Page-1 answers (district, sex, age …) and exact times
        # are the respondent's too, and go with the rest.
        day = response.submitted_at.replace(hour=0, minute=0, second=0, microsecond=0)
        response.answers = {}
        response.indicators = {}
        response.district = ""
        response.sex = response.age_group = response.urban_rural = None
        response.started_at = response.submitted_at = day
        response.duration_seconds = 0.0
        response.flags, response.is_flagged = [], False
        response.client_hash = ""
        response.device_hash = ""
        response.device_class = "withdrawn"
        response.excluded = True
        response.withdrawn_at = utcnow()
        # Traceable, naming no one (the form is public): a staff member signed in
        # in the same browser is recorded as the actor.
        staff = has_request_context() and current_user.is_authenticated
        record(session, "response_withdraw", "response", response.id,
               {"wave_id": response.wave_id}, actor_name=None if staff else "respondent")  # fmt: skip
    return True


def purge_paradata(older_than_days: int, actor_name: str | None = None) -> int:
    """Erase the client and device hashes of responses older than N days (the
    device class, phone or computer, is kept: it identifies no one). Audited."""
    from datetime import timedelta

    from survey.operations.audit import record
    from survey.operations.errors import OperationError

    if not 0 <= older_than_days <= 36_500:
        raise OperationError(f"保留天数应在 0–36500 之间（收到 {older_than_days}）。")
    cutoff = utcnow() - timedelta(days=older_than_days)
    with db.write() as session:
        result = session.execute(
            update(Response)
            .where(
                Response.submitted_at < cutoff,
                or_(Response.client_hash != "", Response.device_hash != ""),
            )
            .values(client_hash="", device_hash="")
        )
        record(session, "paradata_purge", "", "", {"days": older_than_days,
               "rows": result.rowcount}, actor_name=actor_name or "cli")  # fmt: skip
    return result.rowcount
