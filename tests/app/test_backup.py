"""Online SQLite backup while submissions arrive, and restore."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from tests.resident import channel_token, complete


@pytest.fixture
def sqlite_only(is_postgres):
    if is_postgres:
        pytest.skip("SQLite backup; PostgreSQL uses pg_dump")


def test_backup_during_submissions_is_consistent(app, runner, demo_wave, tmp_path, sqlite_only):
    token = channel_token(app)
    stop = threading.Event()
    done = []

    def resident_traffic():
        client = app.test_client()
        while not stop.is_set() and len(done) < 200:
            if complete(client, token).status_code == 303:
                done.append(1)

    worker = threading.Thread(target=resident_traffic)
    worker.start()
    try:
        while len(done) < 5:
            stop.wait(0.05)
        target = tmp_path / "backup.sqlite3"
        old_umask = os.umask(0o022)
        try:
            result = runner.invoke(args=["backup", str(target)])
        finally:
            os.umask(old_umask)
        assert target.stat().st_mode & 0o077 == 0  # owner only: hashes, answers, receipts
        assert result.exit_code == 0, result.output
        assert "已校验" in result.output
    finally:
        stop.set()
        worker.join()
    con = sqlite3.connect(target)
    stored = con.execute("SELECT count(*) FROM response").fetchone()[0]
    counted = con.execute("SELECT sum(completions) FROM channel_stats").fetchone()[0]
    con.close()
    assert stored >= 5
    assert stored == counted  # a snapshot between transactions, never half a submission
    assert len(done) >= stored

    app.extensions["survey_db"]["engine"].dispose()  # "stop the server" first
    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    from sqlalchemy import func, select

    from survey.extensions import db
    from survey.models import Response

    app.extensions["survey_db"]["engine"].dispose()
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == stored


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path, sqlite_only):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database")
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0
    assert "不是" in result.output


def test_backup_command_explains_postgres(app, runner, tmp_path, is_postgres):
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    result = runner.invoke(args=["backup", str(tmp_path / "x")])
    assert result.exit_code != 0 and "pg_dump" in result.output
