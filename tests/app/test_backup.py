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


def _table_db(path, rows=(), wal=False):
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("CREATE TABLE response (id INTEGER PRIMARY KEY, note TEXT)")
    con.executemany("INSERT INTO response (note) VALUES (?)", [(r,) for r in rows])
    con.commit()
    return con


def test_restore_keeps_the_old_database_with_what_its_log_held(tmp_path):
    """The old database was kept as a copy of its main file only, and its
    write-ahead log then deleted: a killed server's last transactions were in
    neither (they live in the log until a checkpoint)."""
    import shutil

    from survey.operations.backup import restore_sqlite

    live = tmp_path / "live.sqlite3"
    con = _table_db(live, ["kept"], wal=True)
    con.execute("INSERT INTO response (note) VALUES ('only in the log')")
    con.commit()
    crashed = tmp_path / "crashed" / "survey.sqlite3"  # as a killed server leaves it
    crashed.parent.mkdir()
    shutil.copy(live, crashed)
    shutil.copy(f"{live}-wal", f"{crashed}-wal")
    con.close()
    backup = tmp_path / "backup.sqlite3"
    _table_db(backup, ["from the backup"]).close()

    restore_sqlite(f"sqlite:///{crashed}", backup)

    kept = sqlite3.connect(crashed.with_name("survey.sqlite3.before-restore"))
    assert [r[0] for r in kept.execute("SELECT note FROM response ORDER BY id")] == [
        "kept",
        "only in the log",
    ]
    kept.close()
    now = sqlite3.connect(crashed)
    assert [r[0] for r in now.execute("SELECT note FROM response")] == ["from the backup"]
    now.close()


def test_restore_shows_progress_and_says_an_older_backup_needs_db_upgrade(
    app, runner, demo_wave, tmp_path, sqlite_only
):
    target = tmp_path / "backup.sqlite3"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    con = sqlite3.connect(target)
    con.execute("UPDATE alembic_version SET version_num = '0012'")
    con.commit()
    con.close()
    app.extensions["survey_db"]["engine"].dispose()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "写入恢复的数据库" in result.output and "保存当前数据库为" in result.output
    assert "版本 0012" in result.output and "survey db-upgrade" in result.output


def test_restore_refuses_a_backup_from_a_newer_version(app, runner, demo_wave, tmp_path,
                                                       sqlite_only):  # fmt: skip
    """A backup whose tables this code does not know replaced the database all
    the same; the app then failed on its first request."""
    target = tmp_path / "backup.sqlite3"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    con = sqlite3.connect(target)
    con.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    con.commit()
    con.close()
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    before = os.stat(database).st_mtime_ns, os.path.getsize(database)
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code != 0 and "更新版本的程序" in result.output
    assert (os.stat(database).st_mtime_ns, os.path.getsize(database)) == before
    assert not os.path.exists(database + ".before-restore")


def test_a_restore_is_undone_by_restoring_the_before_restore_file(tmp_path):
    """Restoring <name>.before-restore (the way back from a wrong restore, as the
    README names it) overwrote that file with the current database before
    reading it: the database from before the first restore was lost for good."""
    from survey.operations.backup import restore_sqlite

    live = tmp_path / "survey.sqlite3"
    _table_db(live, ["today's answers"]).close()
    old = tmp_path / "last-week.sqlite3"
    _table_db(old, ["last week's answers"]).close()
    url = f"sqlite:///{live}"

    restore_sqlite(url, old)  # the wrong backup
    restore_sqlite(url, live.with_name("survey.sqlite3.before-restore"))  # undone

    def notes(path):
        con = sqlite3.connect(path)
        try:
            return [r[0] for r in con.execute("SELECT note FROM response")]
        finally:
            con.close()

    assert notes(live) == ["today's answers"]
    assert notes(live.with_name("survey.sqlite3.before-restore")) == ["last week's answers"]


def test_restore_refuses_the_database_itself(tmp_path):
    from survey.operations.backup import restore_sqlite
    from survey.operations.errors import OperationError

    live = tmp_path / "survey.sqlite3"
    _table_db(live, ["kept"]).close()
    with pytest.raises(OperationError, match="就是当前数据库本身"):
        restore_sqlite(f"sqlite:///{tmp_path}/./survey.sqlite3", live)
    assert not live.with_name("survey.sqlite3.before-restore").exists()


def test_backup_refuses_to_write_over_the_database(app, runner, demo_wave, sqlite_only):
    """`survey backup <the database's own path>` renamed the snapshot over the
    live file: a running server went on writing into the replaced one."""
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    before = os.stat(database).st_ino
    result = runner.invoke(args=["backup", database])
    assert result.exit_code != 0 and "就是当前数据库本身" in result.output
    assert os.stat(database).st_ino == before
