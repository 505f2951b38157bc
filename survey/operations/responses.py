"""Counting the resident's funnel and storing responses exactly once."""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from questionnaires import Questionnaire
from questionnaires.engine import score
from survey.extensions import db
from survey.models import Channel, ChannelStats, Response, utcnow
from survey.operations.quality import quality_flags, wave_median_duration

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


def _write_counts(counts: dict[tuple[int, str], int]) -> None:
    """Add the counts to ``channel_stats`` in one transaction (atomic ``x = x + n``)."""
    with db.write() as session:
        for (channel_id, counter), n in sorted(counts.items()):
            column = getattr(ChannelStats, counter)
            session.execute(
                update(ChannelStats)
                .where(ChannelStats.channel_id == channel_id)
                .values({column: column + n})
            )


class _PendingCounts:
    """One process's funnel increments not yet written, and the thread that writes them."""

    def __init__(self, app, delay: float):
        self.app, self.delay = app, delay
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None

    def add(self, channel_id: int, counter: str) -> None:
        with self.lock:
            self.counts[(channel_id, counter)] += 1
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, daemon=True,
                                               name="survey-counter-flush")  # fmt: skip
                self.thread.start()
                atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self.delay)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - database away: keep the counts, try again
                self.app.logger.warning("funnel counters not written yet", exc_info=True)

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
    pending = app.extensions.get("survey_pending_counts")
    if pending is None or pending.pid != os.getpid():  # a forked worker starts afresh
        pending = app.extensions["survey_pending_counts"] = _PendingCounts(app, delay)
    return pending


def flush_counts() -> None:
    """Write this process's pending funnel counts now (tests, shutdown)."""
    pending = current_app.extensions.get("survey_pending_counts")
    if pending is not None and pending.pid == os.getpid():
        pending.flush()


def new_receipt_code() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


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
    response: Response | None
    created: bool
    quota_full: bool = False


def find_by_submission(submission_id: str) -> Response | None:
    return db.session.scalar(select(Response).filter_by(submission_id=submission_id))


# Built once: the statements of every submission (no per-call construction).
_STORED = select(Response.id).where(Response.submission_id == bindparam("sid"))
_INSERT = insert(Response.__table__)


def submit_response(sub: Submission, quota_hook=None) -> SubmitResult:
    """Store a completed questionnaire once, whatever the number of retries.

    A repeated submission id (double tap, retry after a dropped connection)
    returns the response stored the first time, with ``created=False``.
    *quota_hook(session, sub)* may reserve a quota place inside the same
    transaction; it returns ``"ok"``, ``"over"`` (soft policy: accept, flag) or
    ``"full"`` (close policy: store nothing).
    """
    if db.session.execute(_STORED, {"sid": sub.submission_id}).first() is not None:
        return SubmitResult(find_by_submission(sub.submission_id), created=False)
    indicators = score(sub.questionnaire, sub.answers)
    submitted = utcnow()
    duration = max(0.0, (submitted - sub.started_at).total_seconds())
    flags = list(sub.flags)
    if duration < current_app.config["MIN_DURATION_SECONDS"]:
        flags.append("min_duration")
    sub = replace(sub, flags=tuple(flags))
    # Read before the write transaction, which holds SQLite's single write lock:
    # the wave's median duration (for "too fast") need not be exact to the instant.
    median = wave_median_duration(db.session, sub.channel.wave_id)
    try:
        with db.write() as session:
            # Two simultaneous retries of one submission: the unique submission id
            # makes the second INSERT fail (IntegrityError below), which rolls back
            # its quota reservation too, and it returns the stored response.
            outcome = quota_hook(session, sub) if quota_hook else "ok"
            flags = sorted(set(sub.flags) | set(quality_flags(session, sub, duration, median)))
            if outcome == "full":
                session.execute(
                    update(ChannelStats)
                    .where(ChannelStats.channel_id == sub.channel.id)
                    .values(quota_full=ChannelStats.quota_full + 1)
                )
                return SubmitResult(None, created=False, quota_full=True)
            values = dict(
                submission_id=sub.submission_id,
                receipt_code=new_receipt_code(),
                wave_id=sub.channel.wave_id,
                channel_id=sub.channel.id,
                questionnaire_id=sub.questionnaire_version_id,
                answers=sub.answers,
                indicators=indicators,
                district=sub.cells.get("district") or sub.channel.district.name,
                sex=sub.cells.get("sex"),
                age_group=sub.cells.get("age_group"),
                urban_rural=sub.cells.get("urban_rural"),
                started_at=sub.started_at,
                submitted_at=submitted,
                duration_seconds=duration,
                device_class=sub.device_class,
                client_hash=sub.client_hash,
                over_quota=outcome == "over",
                excluded=False,
                flags=flags,
                is_flagged=bool(flags),
                device_hash=sub.device_hash,
            )
            # Core insert (no unit of work): the write lock is held meanwhile.
            # The database counts it (completions, day, duration bucket): trigger
            # response_counters, migration 0006, in this same transaction.
            stored_id = session.execute(_INSERT, values).inserted_primary_key[0]
    except IntegrityError:
        # A concurrent request with the same submission id won the race (or, very
        # rarely, the receipt code collided): return what is stored, or retry once.
        db.session.rollback()
        existing = find_by_submission(sub.submission_id)
        if existing is not None:
            return SubmitResult(existing, created=False)
        return submit_response(sub, quota_hook)
    return SubmitResult(Response(id=stored_id, **values), created=True)


def withdraw_response(receipt_code: str) -> bool:
    """Erase a respondent's answers at their request (PIPL), keeping a tombstone.

    The quota place is given back. Returns False when no such receipt exists
    or it was already withdrawn.
    """
    from survey.models import QuotaCell

    code = receipt_code.strip().upper().replace(" ", "")
    if len(code) == 8:
        code = f"{code[:4]}-{code[4:]}"
    with db.write() as session:
        response = session.scalar(
            select(Response).where(Response.receipt_code == code, Response.withdrawn_at.is_(None))
        )
        if response is None:
            return False
        if not response.over_quota:
            session.execute(
                update(QuotaCell)
                .where(
                    QuotaCell.wave_id == response.wave_id,
                    QuotaCell.district == response.district,
                    QuotaCell.sex == response.sex,
                    QuotaCell.age_group == response.age_group,
                    QuotaCell.achieved > 0,
                )
                .values(achieved=QuotaCell.achieved - 1)
            )
        response.answers = {}
        response.indicators = {}
        response.client_hash = ""
        response.device_hash = ""
        response.device_class = "withdrawn"
        response.excluded = True
        response.withdrawn_at = utcnow()
    return True


def purge_paradata(older_than_days: int) -> int:
    """Erase the client and device hashes of responses older than N days."""
    from datetime import timedelta

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
    return result.rowcount
