"""With k places left in a cell and many simultaneous submissions, exactly k are
accepted (close policy), or all accepted and exactly n - k flagged (soft)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from survey.extensions import db
from survey.models import QuotaCell, Response, Wave
from tests.resident import STANDARD_PAGES, channel_token, start, submit_page

CELL = {"district": "咸安区", "sex": "男", "age_group": "30-39岁"}
N_CLIENTS = 24
K = 5


def _prepare(app, wave_id, policy):
    with app.app_context():
        with db.write() as session:
            session.execute(update(Wave).where(Wave.id == wave_id).values(quota_policy=policy))
            session.execute(
                update(QuotaCell)
                .where(
                    QuotaCell.wave_id == wave_id,
                    *(getattr(QuotaCell, k) == v for k, v in CELL.items()),
                )
                .values(target=K + 3, achieved=3)
            )


def _race(app, token):
    """Every client answers up to the last page, then all submit at once."""
    barrier = threading.Barrier(N_CLIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def resident():
        client = app.test_client()
        response = start(client, token)
        for page in STANDARD_PAGES[:-1]:
            response = submit_page(client, token, response.get_data(as_text=True), page)
        html = response.get_data(as_text=True)
        barrier.wait()
        final = submit_page(client, token, html, STANDARD_PAGES[-1])
        text = final.get_data(as_text=True)
        outcome = (
            "stored"
            if final.status_code == 303
            else "full"
            if "名额已满" in text
            else f"?{final.status_code}"
        )
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=resident) for _ in range(N_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _cell(app, wave_id):
    with app.app_context():
        return db.session.scalar(
            select(QuotaCell).where(
                QuotaCell.wave_id == wave_id, *(getattr(QuotaCell, k) == v for k, v in CELL.items())
            )
        )


@pytest.mark.slow
def test_close_policy_accepts_exactly_k(app, demo_wave):
    _prepare(app, demo_wave, "close")
    token = channel_token(app)
    outcomes = _race(app, token)
    assert outcomes.count("stored") == K, outcomes
    assert outcomes.count("full") == N_CLIENTS - K, outcomes
    cell = _cell(app, demo_wave)
    assert cell.achieved == cell.target == K + 3
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == K


@pytest.mark.slow
def test_soft_policy_accepts_all_and_flags_the_rest(app, demo_wave):
    _prepare(app, demo_wave, "soft")
    token = channel_token(app)
    outcomes = _race(app, token)
    assert outcomes.count("stored") == N_CLIENTS, outcomes
    cell = _cell(app, demo_wave)
    assert cell.achieved == K + 3 and cell.over_quota == N_CLIENTS - K
    with app.app_context():
        flagged = db.session.scalar(select(func.count(Response.id)).filter_by(over_quota=True))
        assert flagged == N_CLIENTS - K


def test_full_cell_is_told_right_after_the_demographics(app, client, demo_wave):
    _prepare(app, demo_wave, "close")
    with app.app_context():
        with db.write() as session:
            session.execute(
                update(QuotaCell)
                .where(
                    QuotaCell.wave_id == demo_wave,
                    *(getattr(QuotaCell, k) == v for k, v in CELL.items()),
                )
                .values(achieved=K + 3)
            )
    token = channel_token(app)
    response = start(client, token)
    response = submit_page(client, token, response.get_data(as_text=True), STANDARD_PAGES[0])
    assert "名额已满" in response.get_data(as_text=True)
    other = start(client, token)
    page = {**STANDARD_PAGES[0], "sex": "女"}
    response = submit_page(client, token, other.get_data(as_text=True), page)
    assert "名额已满" not in response.get_data(as_text=True)
