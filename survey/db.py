"""Database engine and sessions (SQLAlchemy 2.0, no Flask-SQLAlchemy).

One engine per app; one session per application context, closed on teardown.
Operations that change data use :meth:`Database.write`, which commits or
rolls back and, on SQLite, starts the transaction with ``BEGIN IMMEDIATE`` so
that concurrent writers queue instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: the thread lock and SQLite's busy timeout only
    fcntl = None

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


class SQLiteWriteLock:
    """Writers of one SQLite database queue here instead of on SQLite's lock.

    SQLite lets one writer in at a time, and a writer that finds the lock taken
    polls with growing sleeps (up to 100 ms): with many threads and processes
    that convoy, not the work, sets throughput and the p99 latency. Threads of
    a process queue on an RLock; processes then queue on an ``flock`` of a file
    beside the database, which the kernel hands to the next waiter at once.
    (Where ``fcntl`` is missing, or the database is in memory, only the thread
    lock is used and SQLite's busy timeout does the rest.)
    """

    def __init__(self, database: str | None):
        self._threads = threading.RLock()
        self._path = f"{database}.write-lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0

    def _file(self) -> int | None:
        if self._path is None or fcntl is None:
            return None
        if self._pid != os.getpid():  # a forked worker needs its own open file
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self):
        self._threads.acquire()
        self._depth += 1
        if self._depth == 1:
            fd = self._file()
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    self._depth -= 1
                    self._threads.release()
                    raise
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class Database:
    """Holds the engine and hands out the current context's session."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["survey_db"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
            "write_lock": SQLiteWriteLock(engine.url.database)
            if engine.dialect.name == "sqlite"
            else None,
        }
        app.teardown_appcontext(self._close)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["survey_db"]["engine"]

    @property
    def session(self) -> Session:
        """The session of the current application context."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["survey_db"]["sessionmaker"]()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.close()
        except Exception:  # noqa: BLE001 - the connection died (e.g. server restart)
            # Rolling back on a dead connection fails: drop it from the pool instead
            # of turning an answered request into a server error.
            try:
                session.invalidate()
            except Exception:  # noqa: BLE001
                pass

    @staticmethod
    def end_read() -> None:
        """End the current context's read transaction, if any (a session is not
        made for it): a SQLite read snapshot kept open would hide what another
        transaction writes meanwhile."""
        session = g.get("db_session")
        if session is not None and session.in_transaction():
            session.commit()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commit on success, roll back on error.

        Any read-only transaction still open on the session is ended first, so
        that the write transaction starts fresh (and, on SQLite, takes the write
        lock up front).
        """
        self.end_read()
        session = self.session
        with self._write_lock(), session.begin():
            yield session

    @contextlib.contextmanager
    def write_on(self, conn: Connection) -> Iterator[Connection]:
        """A write transaction on a Core connection kept by its owner (the submit
        writer's): commit on success, roll back on error; the SQLite write lock
        and ``BEGIN IMMEDIATE`` as in :meth:`write`."""
        if conn.in_transaction():
            conn.rollback()  # a read before the write (nothing to keep)
        with self._write_lock(), conn.begin():
            yield conn

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """This database's write lock (SQLite), with ``BEGIN IMMEDIATE`` for the
        transaction begun inside."""
        lock = current_app.extensions["survey_db"]["write_lock"]
        token = _immediate.set(True)
        try:
            with lock or contextlib.nullcontext():
                yield
        finally:
            _immediate.reset(token)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"
