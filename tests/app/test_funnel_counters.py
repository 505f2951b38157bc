"""Funnel counters added up per process and written in one transaction, at most
COUNTER_FLUSH_SECONDS later; completions are written with the response."""

from __future__ import annotations

import time

from sqlalchemy import select

from survey.extensions import db
from survey.models import ChannelStats
from tests.resident import channel_token, complete


def _stats(app, token):
    from survey.models import Channel

    with app.app_context():
        db.session.expire_all()
        return db.session.scalar(
            select(ChannelStats).join(Channel, Channel.id == ChannelStats.channel_id)
            .where(Channel.token == token)
        )  # fmt: skip


def test_deferred_counts_arrive_and_completions_are_immediate(app, demo_wave):
    from survey.operations.responses import flush_counts

    app.config["COUNTER_FLUSH_SECONDS"] = 0.2
    token = channel_token(app)
    for _ in range(3):
        app.test_client().get(f"/s/{token}")
    assert complete(app.test_client(), token).status_code == 303
    stats = _stats(app, token)
    assert stats.completions == 1  # with the response, never deferred
    deadline = time.monotonic() + 10
    while (stats.visits, stats.starts) != (4, 1) and time.monotonic() < deadline:
        time.sleep(0.1)
        stats = _stats(app, token)
    assert (stats.visits, stats.starts) == (4, 1)  # written by the flushing thread
    app.test_client().get(f"/s/{token}")
    with app.app_context():
        flush_counts()  # what shutdown does
    assert _stats(app, token).visits == 5


def test_counts_survive_a_failed_write(app, demo_wave, monkeypatch):
    from survey.operations import responses

    app.config["COUNTER_FLUSH_SECONDS"] = 3600  # only explicit flushes here
    token = channel_token(app)
    app.test_client().get(f"/s/{token}")

    def broken(counts):
        raise RuntimeError("database away")

    monkeypatch.setattr(responses, "_write_counts", broken)
    with app.app_context():
        try:
            responses.flush_counts()
        except RuntimeError:
            pass
    monkeypatch.undo()
    with app.app_context():
        responses.flush_counts()
    assert _stats(app, token).visits == 1


def test_the_database_counts_every_stored_response(app, demo_wave):
    """Completions, the China-time day and the duration bucket of a response are
    counted by the database (trigger), for the app's path and any other insert."""
    from datetime import datetime, timedelta

    from sqlalchemy import func, insert

    from survey.models import Channel, DailyCount, DurationBucket, Response
    from survey.operations.quality import BUCKET, LAST_BUCKET, local_day

    token = channel_token(app)
    assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        channel = db.session.scalar(select(Channel).filter_by(token=token))
        stored = db.session.scalar(select(Response).filter_by(channel_id=channel.id))
        late = datetime(2026, 11, 24, 16, 30)  # 00:30 on the 25th in China
        with db.write() as session:
            for k, seconds in enumerate((5.0, 19.99, 20.0, 7200.0)):
                session.execute(insert(Response.__table__).values(
                    submission_id=f"direct-{k}", receipt_code=f"DRCT-000{k}", wave_id=demo_wave,
                    channel_id=channel.id, questionnaire_id=stored.questionnaire_id, answers={},
                    indicators={}, district="咸安区", started_at=late - timedelta(seconds=seconds),
                    submitted_at=late, duration_seconds=seconds))  # fmt: skip
        days = dict(
            db.session.execute(
                select(DailyCount.day, DailyCount.completions).filter_by(channel_id=channel.id)
            ).all()
        )
        buckets = dict(
            db.session.execute(
                select(DurationBucket.bucket, DurationBucket.count).filter_by(channel_id=channel.id)
            ).all()
        )
        stats = db.session.scalar(select(ChannelStats).filter_by(channel_id=channel.id))
        total = db.session.scalar(select(func.count(Response.id)).filter_by(channel_id=channel.id))
    assert stats.completions == total == 5
    assert days[local_day(late)] == 4 and str(local_day(late)) == "2026-11-25"
    assert (
        days[local_day(stored.submitted_at)]
        == 1 + (local_day(stored.submitted_at) == local_day(late)) * 4
    )
    expected = {}
    for seconds in (stored.duration_seconds, 5.0, 19.99, 20.0, 7200.0):
        b = min(int(seconds // BUCKET) * BUCKET, LAST_BUCKET)
        expected[b] = expected.get(b, 0) + 1
    assert buckets == expected


def test_a_database_outage_is_logged_once_with_its_traceback(app, demo_wave, monkeypatch, caplog):
    """The flushing thread tries every second: one traceback per outage, not one a second."""
    from sqlalchemy.exc import OperationalError

    from survey.operations import responses

    pending = responses._PendingCounts(app, delay=3600)
    pending.counts[(1, "visits")] = 2

    def down(counts):
        raise OperationalError("UPDATE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(responses, "_write_counts", down)
    with caplog.at_level("WARNING"):
        for _ in range(3):
            pending.tick()
    assert [r.exc_info is not None for r in caplog.records] == [True, False, False]
    assert pending.counts[(1, "visits")] == 2  # kept for the next try
    written = []
    monkeypatch.setattr(responses, "_write_counts", written.append)
    caplog.clear()
    with caplog.at_level("WARNING"):
        pending.tick()
    assert written == [{(1, "visits"): 2}]
    assert ["after 3 tries" in r.getMessage() for r in caplog.records] == [True]


def test_one_flush_adds_many_channels_and_counters_exactly(app, demo_wave):
    from survey.operations.responses import COUNTERS, _write_counts

    with app.app_context():
        ids = sorted(db.session.scalars(select(ChannelStats.channel_id)))[:3]
        before = {
            row.channel_id: {c: getattr(row, c) for c in COUNTERS}
            for row in db.session.scalars(select(ChannelStats))
        }
    counts = {(ids[2], "visits"): 5, (ids[0], "starts"): 2, (ids[0], "visits"): 1,
              (ids[1], "receipts"): 3, (ids[2], "quota_full"): 1}  # fmt: skip
    with app.app_context():
        _write_counts(counts)
        after = {
            row.channel_id: {c: getattr(row, c) for c in COUNTERS}
            for row in db.session.scalars(select(ChannelStats))
        }
    for cid, values in before.items():
        for counter, value in values.items():
            assert after[cid][counter] == value + counts.get((cid, counter), 0), (cid, counter)
