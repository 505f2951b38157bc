"""Quota places for a batch of submissions (the submit writer's group commit):
``quota_gate.reserve_places`` gives each submission what ``reserve`` would have
given it one after the other, on both databases; on PostgreSQL, where most of a
batch's places are taken by one statement, also when another transaction takes
places in the same cell meanwhile."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from survey.extensions import db
from survey.models import QuotaCell, Wave
from survey.operations import quota_gate


def _cells(app, wave_id, n):
    with app.app_context():
        rows = db.session.execute(
            select(QuotaCell.district, QuotaCell.sex, QuotaCell.age_group)
            .where(QuotaCell.wave_id == wave_id)
            .order_by(QuotaCell.id)
            .limit(n)
        ).all()
    return [dict(district=d, sex=s, age_group=a) for d, s, a in rows]


def _set(app, wave_id, cell, target, achieved, policy="close"):
    with app.app_context(), db.write() as session:
        session.execute(update(Wave).where(Wave.id == wave_id).values(quota_policy=policy))
        session.execute(
            update(QuotaCell)
            .where(
                QuotaCell.wave_id == wave_id, *(getattr(QuotaCell, k) == v for k, v in cell.items())
            )
            .values(target=target, achieved=achieved, over_quota=0)
        )


def _sub(wave_id, policy, cells):
    return SimpleNamespace(
        cells=cells, channel=SimpleNamespace(wave=SimpleNamespace(id=wave_id, quota_policy=policy))
    )


def _state(app, wave_id, cell):
    with app.app_context():
        return db.session.execute(
            select(QuotaCell.achieved, QuotaCell.over_quota).where(
                QuotaCell.wave_id == wave_id, *(getattr(QuotaCell, k) == v for k, v in cell.items())
            )
        ).one()


def _reserve(app, subs):
    with app.app_context(), db.engine.connect() as conn, db.write_on(conn):
        return quota_gate.reserve_places(conn, subs)


@pytest.mark.parametrize("policy", ["close", "soft"])
def test_each_submission_gets_what_one_by_one_would_give(app, demo_wave, policy):
    roomy, tight, full = _cells(app, demo_wave, 3)
    _set(app, demo_wave, roomy, target=10, achieved=2, policy=policy)
    _set(app, demo_wave, tight, target=5, achieved=4, policy=policy)  # room for one of two
    _set(app, demo_wave, full, target=3, achieved=3, policy=policy)
    outside_plan = dict(district="不在计划中的区", sex="男", age_group="30-39岁")
    incomplete = dict(district=roomy["district"], sex=None, age_group=None)
    subs = [_sub(demo_wave, policy, c) for c in
            (roomy, roomy, roomy, tight, tight, full, outside_plan, incomplete)]  # fmt: skip

    outcomes = _reserve(app, subs)

    refused = "full" if policy == "close" else "over"
    assert outcomes == ["ok", "ok", "ok", "ok", refused, refused, "ok", "ok"]
    over = 1 if policy == "soft" else 0
    assert tuple(_state(app, demo_wave, roomy)) == (5, 0)
    assert tuple(_state(app, demo_wave, tight)) == (5, over)
    assert tuple(_state(app, demo_wave, full)) == (3, over)


def test_places_taken_by_another_transaction_meanwhile_are_counted(app, demo_wave):
    """A batch of two waits for a transaction that takes the cell's next-to-last
    place: one of the two gets the last place, the other is refused (PostgreSQL
    re-checks the room on the newest row; a stale count would accept both)."""
    (cell,) = _cells(app, demo_wave, 1)
    _set(app, demo_wave, cell, target=5, achieved=3)
    sub = _sub(demo_wave, "close", cell)
    outcomes = []
    with app.app_context(), db.engine.connect() as other, db.write_on(other):
        assert quota_gate.reserve_places(other, [sub]) == ["ok"]  # holds the cell's row lock
        batch = threading.Thread(target=lambda: outcomes.extend(_reserve(app, [sub, sub])))
        batch.start()
        batch.join(1.0)  # PostgreSQL: waiting for the lock; SQLite: for the write lock
        assert batch.is_alive()
    batch.join(30)
    assert sorted(outcomes) == ["full", "ok"]
    assert tuple(_state(app, demo_wave, cell)) == (5, 0)
