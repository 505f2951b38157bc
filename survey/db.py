"""Database engine and sessions (SQLAlchemy 2.0, no Flask-SQLAlchemy).

One engine per app; one session per application context, closed on teardown.
Operations that change data use :meth:`Database.write`, which commits or
rolls back and, on SQLite, starts the transaction with ``BEGIN IMMEDIATE`` so
that concurrent writers queue instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
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


class Database:
    """Holds the engine and hands out the current context's session."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["survey_db"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
            # SQLite has one writer at a time, and a writer that finds the lock
            # taken polls with growing sleeps (up to 100 ms): with many threads
            # per process that convoy, not the work, sets throughput and p99.
            # Threads of one process queue on this lock instead (woken at once);
            # only one writer per process then waits on SQLite's own lock.
            "write_lock": threading.RLock() if engine.dialect.name == "sqlite" else None,
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

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commit on success, roll back on error.

        Any read-only transaction still open on the session is ended first, so
        that the write transaction starts fresh (and, on SQLite, takes the write
        lock up front).
        """
        session = self.session
        if session.in_transaction():
            session.commit()
        lock = current_app.extensions["survey_db"]["write_lock"]
        token = _immediate.set(True)
        try:
            with lock or contextlib.nullcontext(), session.begin():
                yield session
        finally:
            _immediate.reset(token)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"
