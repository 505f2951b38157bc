"""The deployment's gunicorn settings (gunicorn.conf.py): what gunicorn itself reads
from the project directory, and the worker's exit hook, which stores what the
process's submit writer holds before the process ends."""

from __future__ import annotations

import runpy
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Response
from tests.app.test_submit_writer import HeldWriter, _last_page, _submit_all, _wait_until
from tests.resident import channel_token, start

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_reads_threaded_workers_from_the_project_directory():
    """Plain ``gunicorn`` in the project directory: threaded workers, one process per
    core (at least 2), the app and the exit hook, with no option given."""
    out = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    settings = dict(
        (part.strip() for part in line.split("=", 1)) for line in out.splitlines() if "=" in line
    )
    assert settings["worker_class"] == "gthread"
    assert int(settings["workers"]) >= 2
    assert int(settings["threads"]) == 16
    assert settings["wsgi_app"] == "wsgi:app"
    assert settings["worker_exit"] == "<worker_exit()>"


def test_worker_exit_stores_what_the_writer_holds_and_ends_it(app, demo_wave, monkeypatch):
    """A worker stopping while its writer stores one batch and another waits: both
    are stored and answered, then the writer thread ends."""
    worker_exit = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_exit"]
    token = channel_token(app)
    held = HeldWriter(monkeypatch)
    forms = [_last_page(app, token) for _ in range(3)]
    threads, results = _submit_all(app, token, forms[:1])
    held.entered.wait(20)
    more_threads, more = _submit_all(app, token, forms[1:])
    _wait_until(lambda: held.waiting(app) == 2)
    writer = app.extensions["survey_submit_writer"]

    stopping = SimpleNamespace(wsgi=app)
    exiting = threading.Thread(target=worker_exit, args=(None, stopping))
    exiting.start()
    held.release.set()
    exiting.join(30)
    for t in threads + more_threads:
        t.join(30)

    assert not writer.thread.is_alive()
    assert "survey_submit_writer" not in app.extensions
    assert [r.status_code for r in results + more] == [303, 303, 303]
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 3


def test_worker_exit_without_a_writer_does_nothing(app):
    worker_exit = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_exit"]
    worker_exit(None, SimpleNamespace(wsgi=app))  # no submission yet: no writer
    worker_exit(None, SimpleNamespace())  # gunicorn had not loaded the app
    assert "survey_submit_writer" not in app.extensions


def test_worker_exit_writes_the_counts_and_leaves_no_exit_hook(app, demo_wave, monkeypatch):
    """The funnel and rate-limit counts are written when the worker (or a test's
    app) stops, their threads end, and no exit hook is left: a test app's hook
    had written its last rate-limit counts after pytest's summary, into the
    PostgreSQL database the run had dropped ("database survey_test_... does not
    exist")."""
    from survey.models import ChannelStats, RateCounter
    from survey.operations import process_local

    hooks = []
    monkeypatch.setattr(process_local, "atexit",
                        SimpleNamespace(register=hooks.append, unregister=hooks.remove))  # fmt: skip
    worker_exit = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_exit"]
    app.config.update(COUNTER_FLUSH_SECONDS=3600, RATE_LIMIT_SYNC_SECONDS=3600,
                      RATE_LIMITS={"start_client": [100, 3600]})  # fmt: skip
    token = channel_token(app)
    client = app.test_client()
    client.get(f"/s/{token}")
    start(client, token)
    counters = [app.extensions[n] for n in ("survey_pending_counts", "survey_rate_counts")]
    assert len(hooks) == 2

    worker_exit(None, SimpleNamespace(wsgi=app))

    assert hooks == []
    assert not any(c.thread.is_alive() for c in counters)
    assert "survey_rate_counts" not in app.extensions
    with app.app_context():
        assert db.session.scalar(select(func.sum(ChannelStats.starts))) == 1
        assert db.session.scalar(select(func.sum(RateCounter.count))) >= 1
