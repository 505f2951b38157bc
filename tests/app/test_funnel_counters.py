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
