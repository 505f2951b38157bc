"""A quota plan remade while an organizer excludes or restores a response, or
a resident withdraws one (PostgreSQL, two real connections).

Remaking recounts the stored responses into new cells; excluding, restoring and
withdrawing move one place. Done at the same moment they used to take their
locks in opposite orders (the response, then its cell; the cells, then the
responses whose over-quota flag the recount changes): one of them aborted with
a deadlock, or the exclusion gave its place back to a cell that the remake had
just deleted, and the new cell kept counting an excluded response.

Each test holds the moment of the race open: the second operation waits until
the first holds its locks (or waits for a lock itself), so the interleaving is
the same on every run."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from survey.extensions import db
from survey.models import QuotaCell, Response, Wave
from survey.operations import quality, quotas
from survey.operations.quality import set_excluded
from survey.operations.quotas import make_plan, set_target
from survey.operations.responses import withdraw_response
from tests.app.test_quota_urban_rural import CELL, _ids, _set, counters_match_stored
from tests.resident import channel_token, complete

pytestmark = pytest.mark.slow

#: Seconds either side waits for the other before going on regardless.
PATIENCE = 10.0


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite runs one write transaction at a time: nothing to race")


def _someone_waits_for_a_lock(app) -> bool:
    """Whether a session of the test database is waiting for a row lock."""
    with app.app_context(), db.engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def _wait_until(app, done: threading.Event) -> None:
    """Until *done* is set or a session waits for a lock (at most PATIENCE)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if done.is_set() or _someone_waits_for_a_lock(app):
            return
        time.sleep(0.02)


def _race(app, monkeypatch, wave_id, stop_at, act, plan_kw) -> list[BaseException]:
    """*act* (excluding, restoring, withdrawing or editing a target, in its own
    thread) stops before it moves a place (at *stop_at*: module, function) until
    the remake holds the cells or waits for a lock; the remake's recount stops
    until someone waits for a lock or *act* is done. Returns the errors raised."""
    holds_response, remake_locked, act_done = (threading.Event() for _ in range(3))
    module, name = stop_at
    real_step = getattr(module, name)
    real_recount = quotas._recount

    def step(*args, **kwargs):
        holds_response.set()
        _wait_until(app, remake_locked)
        return real_step(*args, **kwargs)

    def recount(*args, **kwargs):
        remake_locked.set()
        _wait_until(app, act_done)
        return real_recount(*args, **kwargs)

    monkeypatch.setattr(module, name, step)
    monkeypatch.setattr(quotas, "_recount", recount)
    errors: list[BaseException] = []

    def acting():
        try:
            with app.app_context():
                act()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            holds_response.set()
            act_done.set()

    def remaking():
        try:
            holds_response.wait(PATIENCE)
            with app.app_context():
                make_plan(db.session.get(Wave, wave_id), **plan_kw)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            remake_locked.set()

    threads = [threading.Thread(target=acting), threading.Thread(target=remaking)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def _stored(app, token, n: int) -> list[int]:
    for _ in range(n):
        assert complete(app.test_client(), token).status_code == 303
    return _ids(app)


def _valid_in_cells(app, wave_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(Response.id)).where(
                Response.wave_id == wave_id, Response.excluded.is_(False)
            )
        )


# 咸安区 sized so that the standard cell's target comes out at 1 (smaller: the
# recount flags the responses after the first over quota), or kept large.
SMALLER = {"per_district": {"咸安区": 10, "赤壁市": 10}}
LARGER = {"per_district": {"咸安区": 300}}


@pytest.mark.parametrize("plan_kw", [LARGER, SMALLER], ids=["same-flags", "flags-change"])
def test_excluding_while_the_plan_is_remade(app, monkeypatch, demo_wave, plan_kw):
    _set(app, demo_wave, "soft", {"": 10})
    first, second, third = _stored(app, channel_token(app), 3)
    # The last one: under the smaller plan the recount flags it over quota.
    errors = _race(
        app,
        monkeypatch,
        demo_wave,
        (quality, "give_back_place"),
        lambda: set_excluded(third, True, "核查", wave_id=demo_wave),
        plan_kw,
    )
    assert errors == []
    counters_match_stored(app, demo_wave)
    assert _valid_in_cells(app, demo_wave) == 2


def test_restoring_while_the_plan_is_remade(app, monkeypatch, demo_wave):
    _set(app, demo_wave, "soft", {"": 10})
    first, second, third = _stored(app, channel_token(app), 3)
    with app.app_context():
        set_excluded(second, True, "核查", wave_id=demo_wave)
    counters_match_stored(app, demo_wave)
    errors = _race(
        app,
        monkeypatch,
        demo_wave,
        (quality, "_take_place"),
        lambda: set_excluded(second, False, wave_id=demo_wave),
        LARGER,
    )
    assert errors == []
    counters_match_stored(app, demo_wave)
    assert _valid_in_cells(app, demo_wave) == 3
    with app.app_context():  # the new cell has room: it holds a place, not over quota
        assert not db.session.get(Response, second).over_quota


@pytest.mark.parametrize("plan_kw", [LARGER, SMALLER], ids=["same-flags", "flags-change"])
def test_withdrawing_while_the_plan_is_remade(app, monkeypatch, demo_wave, plan_kw):
    _set(app, demo_wave, "soft", {"": 10})
    first, second, third = _stored(app, channel_token(app), 3)
    with app.app_context():
        code = db.session.get(Response, third).receipt_code
    errors = _race(
        app,
        monkeypatch,
        demo_wave,
        (quality, "give_back_place"),
        lambda: withdraw_response(code),
        plan_kw,
    )
    assert errors == []
    counters_match_stored(app, demo_wave)
    assert _valid_in_cells(app, demo_wave) == 2


def test_editing_a_target_while_the_plan_is_remade(app, monkeypatch, demo_wave):
    """The edit waited for the remake's lock on its cell, found the row deleted,
    and failed (a 500 on the quotas page); now it is done first, then replaced
    by the new plan."""
    _set(app, demo_wave, "soft", {"": 10})
    _stored(app, channel_token(app), 2)
    with app.app_context():
        cell_id = db.session.scalar(select(QuotaCell.id).filter_by(wave_id=demo_wave, **CELL))
    errors = _race(
        app,
        monkeypatch,
        demo_wave,
        (quotas, "record"),
        lambda: set_target(cell_id, 12, wave_id=demo_wave),
        LARGER,
    )
    assert errors == []
    counters_match_stored(app, demo_wave)
