"""One wave name per city, also when two requests create it at the same moment
(a double click on 创建, or two administrators): the name was checked before the
write transaction, so each request found it free and both stored it.

The first creation is held after its insert, before its commit, until the second
waits for a lock (PostgreSQL) or a moment has passed (SQLite, whose writers
queue on a lock the test cannot see), so the interleaving is the same on every
run. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from survey.extensions import db
from survey.models import Wave
from survey.operations import audit
from survey.operations.errors import OperationError
from survey.operations.waves import create_wave_from_form

#: Seconds the first creation waits for the second before committing regardless.
PATIENCE = 3.0


def _someone_waits_for_a_lock(app) -> bool:
    if db.engine.dialect.name != "postgresql":
        return False
    with db.engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def test_a_wave_created_twice_at_once_is_stored_once(app, demo_wave, monkeypatch):
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        form = {"city_id": str(wave.city_id), "questionnaire_id": str(wave.questionnaire_id),
                "name": "2027年度"}  # fmt: skip
    first_inserted, second_started, second_done = (threading.Event() for _ in range(3))
    real_record = audit.record

    def record(session, action, *args, **kwargs):
        if action == "wave_create" and not first_inserted.is_set():
            first_inserted.set()
            second_started.wait(PATIENCE)
            deadline = time.monotonic() + PATIENCE
            while time.monotonic() < deadline and not second_done.is_set():
                if _someone_waits_for_a_lock(app):
                    break
                time.sleep(0.02)
        return real_record(session, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record)
    outcomes: list[object] = []

    def create(first: bool):
        try:
            if not first:
                first_inserted.wait(PATIENCE)
                second_started.set()
            with app.app_context():
                outcomes.append(create_wave_from_form(form).id)
        except OperationError as exc:
            outcomes.append(str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcomes.append(exc)
        finally:
            if not first:
                second_done.set()

    threads = [threading.Thread(target=create, args=(first,)) for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    with app.app_context():
        stored = db.session.scalar(select(func.count(Wave.id)).where(Wave.name == "2027年度"))
    assert stored == 1, outcomes
    assert sorted(map(type, outcomes), key=str) == sorted([int, str], key=str), outcomes
    assert "本市已有名为“2027年度”的调查轮次" in next(o for o in outcomes if isinstance(o, str))
