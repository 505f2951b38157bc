"""Shared fixtures: an app on a fresh database per test (SQLite or PostgreSQL).

Set ``SURVEY_TEST_DATABASE_URL`` to a PostgreSQL server URL (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) to run the suite on
PostgreSQL: a throw-away database is created for the run and dropped after.
Otherwise every test gets a copy of a migrated SQLite file.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey import create_app
from survey.migrate import upgrade
from survey.models import Base
from survey.operations.process_local import stop_flushing
from survey.operations.responses import stop_writer

TEST_SECRET = "test-secret-key-" + "x" * 32


def _postgres_admin_url() -> str | None:
    return os.environ.get("SURVEY_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated database: a SQLite template file, or a fresh PostgreSQL database."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        upgrade(f"sqlite:///{path}")
        yield ("sqlite", path)
        return
    name = f"survey_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield ("postgresql", url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(database_template, tmp_path):
    kind, where = database_template
    if kind == "sqlite":
        path = tmp_path / "survey.sqlite3"
        shutil.copy(where, path)
        yield f"sqlite:///{path}"
        return
    yield where
    engine = create_engine(where)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def app_config(database_url: str, tmp_path) -> dict:
    """The settings of the ``app`` fixture (a test that needs a second app with
    other settings starts from these)."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "QR_OUTPUT_DIR": str(tmp_path / "qrcodes"),
        # Rate limits off unless a test switches them on.
        "RATE_LIMITS": {},
        # Funnel counters written at once, so tests can read them back; the
        # deferred writing has its own test (test_funnel_counters.py).
        "COUNTER_FLUSH_SECONDS": 0,
        # Rate limits counted in the database at once (the deferred counting
        # has its own tests in test_abuse_privacy.py).
        "RATE_LIMIT_SYNC_SECONDS": 0,
    }


def close_app(app) -> None:
    """Stop what an app made by a test keeps open."""
    stop_writer(app)  # it keeps a connection (PostgreSQL)
    stop_flushing(app)  # counts written now, not at exit into a database dropped by then
    app.extensions["survey_db"]["engine"].dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path))
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def steady_rate_windows(monkeypatch):
    """The rate limits' clock held one second into an hour-long window: a test
    that fills a one-minute limit and then expects a refusal failed now and then
    when its requests straddled the turn of a minute (its counts began again).
    Only ``time.time`` is held; calls that pass ``now`` are unaffected."""
    import time as real_time
    from types import SimpleNamespace

    from survey.operations import abuse

    held = real_time.time() // 3600 * 3600 + 1
    monkeypatch.setattr(abuse, "time", SimpleNamespace(
        time=lambda: held, monotonic=real_time.monotonic, sleep=real_time.sleep))  # fmt: skip


@pytest.fixture
def is_postgres(database_template) -> bool:
    return database_template[0] == "postgresql"


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
STATE_RE = re.compile(r'name="state" value="([^"]+)"')


def form_tokens(html: str) -> dict[str, str]:
    """The hidden csrf_token and state fields of a rendered page."""
    found = {"csrf_token": CSRF_RE.search(html).group(1)}
    state = STATE_RE.search(html)
    if state:
        found["state"] = state.group(1)
    return found


@pytest.fixture
def demo_wave(app):
    """The demo city with the standard questionnaire and one channel per district."""
    from survey.operations.demo import setup_demo

    with app.app_context():
        wave = setup_demo()
        return wave.id


DATA = Path(__file__).parent
