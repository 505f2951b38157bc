"""The resident path's channel cache (short TTL, cleared by the operations that
change channels and waves) and the SQLite write lock shared by threads and
processes."""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest
from sqlalchemy import select, update

from survey.extensions import db
from survey.models import Channel, Wave
from tests.resident import channel_token

fcntl = pytest.importorskip("fcntl")


def test_changes_from_another_process_show_within_the_ttl(app, client, demo_wave, monkeypatch):
    from survey.operations import channel_cache

    token = channel_token(app)
    assert client.get(f"/s/{token}").status_code == 200  # cached now
    with app.app_context():  # as another app process would: straight to the database
        with db.write() as session:
            session.execute(update(Channel).where(Channel.token == token).values(is_open=False))
    assert client.get(f"/s/{token}").status_code == 200  # still within the TTL here
    monkeypatch.setattr(channel_cache, "TTL", 0.0)
    assert client.get(f"/s/{token}").status_code == 410  # TTL over: the change shows


def test_editing_the_wave_clears_the_cache_at_once(app, client, demo_wave):
    from survey.operations.waves import update_wave

    token = channel_token(app)
    client.get(f"/s/{token}")
    with app.app_context():
        from survey.operations.channel_cache import channel_by_token

        assert channel_by_token(token).wave.quota_policy == "close"
        update_wave(
            db.session.get(Wave, demo_wave), {"quota_policy": "soft", "organizer": "市生态环境局"}
        )
        assert channel_by_token(token).wave.quota_policy == "soft"
        assert channel_by_token(token).wave.organizer == "市生态环境局"


def _try_lock(lock, queue):
    """In a forked child: can this process take the write lock without waiting?"""
    try:
        fcntl.flock(lock._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        queue.put("blocked")
    else:
        queue.put("acquired")


def test_sqlite_write_lock_excludes_other_processes(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    lock = app.extensions["survey_db"]["write_lock"]
    ctx = mp.get_context("fork")
    with app.app_context():
        with db.write() as session:  # holds the lock for the whole transaction
            session.execute(select(1))
            assert os.path.exists(lock._path)
            queue = ctx.Queue()
            child = ctx.Process(target=_try_lock, args=(lock, queue))
            child.start()
            assert queue.get(timeout=30) == "blocked"  # a forked worker opens its own file
            child.join()
    queue = ctx.Queue()
    child = ctx.Process(target=_try_lock, args=(lock, queue))
    child.start()
    assert queue.get(timeout=30) == "acquired"
    child.join()
