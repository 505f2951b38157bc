"""Group commit: each process's writer thread stores the submissions waiting at
that moment in one transaction (survey/operations/responses.py). Each resident
still gets their own exact answer: stored (with their own receipt), the receipt
of their earlier tap, or "quota full"; a failure reaches every waiting request
as a retryable 503, and nothing is acknowledged before its commit."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from survey.extensions import db
from survey.models import QuotaCell, Response, Wave
from survey.operations import responses
from tests.conftest import form_tokens
from tests.resident import (
    STANDARD_PAGES,
    channel_token,
    complete,
    receipt_of,
    start,
    submit_page,
)

CELL = {"district": "咸安区", "sex": "男", "age_group": "30-39岁"}


def _last_page(app, token, client=None, **first_page):
    """A resident's client (new unless given) and the HTML of their last page."""
    client = client or app.test_client()
    page = start(client, token)
    for values in [{**STANDARD_PAGES[0], **first_page}, *STANDARD_PAGES[1:-1]]:
        page = submit_page(client, token, page.get_data(as_text=True), values)
    return client, page.get_data(as_text=True)


class HeldWriter:
    """Holds the writer's first batch until released, recording every batch's size."""

    def __init__(self, monkeypatch):
        self.release = threading.Event()
        self.entered = threading.Event()
        self.sizes: list[int] = []
        real = responses.store_batch

        def held(items, link):
            self.sizes.append(len(items))
            self.entered.set()
            self.release.wait(30)
            real(items, link)

        monkeypatch.setattr(responses, "store_batch", held)

    def waiting(self, app) -> int:
        return app.extensions["survey_submit_writer"].queue.qsize()


def _submit_all(app, token, forms):
    """Submit each (client, html) on its own thread; return the responses in order."""
    results = [None] * len(forms)

    def go(i, client, html):
        results[i] = submit_page(client, token, html, STANDARD_PAGES[-1])

    threads = [threading.Thread(target=go, args=(i, c, h)) for i, (c, h) in enumerate(forms)]
    for t in threads:
        t.start()
    return threads, results


def _wait_until(condition, seconds=20.0):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_waiting_submissions_share_one_transaction_and_each_gets_its_answer(
    app, demo_wave, monkeypatch
):
    with app.app_context():
        with db.write() as session:
            session.execute(update(Wave).values(quota_policy="close"))
            session.execute(
                update(QuotaCell)
                .where(*(getattr(QuotaCell, k) == v for k, v in CELL.items()))
                .values(target=2, achieved=0)
            )
    token = channel_token(app)
    held = HeldWriter(monkeypatch)
    first = [_last_page(app, token, sex="女")]
    in_full_cell = [_last_page(app, token) for _ in range(4)]  # 2 places for 4 residents
    others = [_last_page(app, token, sex="女", age_group="50-59岁") for _ in range(2)]
    phone = others[1][0]  # a second questionnaire from the same phone, same batch
    others.append(_last_page(app, token, client=phone, sex="女", age_group="50-59岁"))
    double_tap = others[0]  # the same form sent twice
    threads, results = _submit_all(app, token, first)
    held.entered.wait(20)  # the writer holds its first batch; the rest queue behind it
    forms = in_full_cell + others + [double_tap]
    more_threads, more = _submit_all(app, token, forms)
    _wait_until(lambda: held.waiting(app) == len(forms))
    held.release.set()
    for t in threads + more_threads:
        t.join(30)

    assert held.sizes == [1, len(forms)]  # the eight waiting submissions: one transaction
    assert results[0].status_code == 303
    cell_outcomes = [r.status_code for r in more[:4]]
    assert cell_outcomes.count(303) == 2, cell_outcomes
    assert sum("名额已满" in r.get_data(as_text=True) for r in more[:4]) == 2
    assert all(r.status_code == 303 for r in more[4:])
    assert receipt_of(more[4]) == receipt_of(more[-1]) is not None  # same receipt twice
    receipts = {receipt_of(r) for r in [results[0], *more] if r.status_code == 303}
    assert len(receipts) == 1 + 2 + 3
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 6
        same_phone = db.session.scalars(
            select(Response.flags).where(Response.age_group == "50-59岁").order_by(Response.id)
        ).all()
        assert ["repeated_device" in f for f in same_phone].count(True) == 1, same_phone
        cell = db.session.scalar(
            select(QuotaCell).where(*(getattr(QuotaCell, k) == v for k, v in CELL.items()))
        )
        assert (cell.achieved, cell.target) == (2, 2)


def test_one_failing_submission_fails_alone(app, demo_wave, monkeypatch):
    """A batch that fails for one submission's sake is tried one by one."""
    token = channel_token(app)
    held = HeldWriter(monkeypatch)
    forms = [_last_page(app, token) for _ in range(3)] + [_last_page(app, token, sex="女")]
    real_flags = responses.quality_flags

    def flags(sub, *args):
        if sub.cells["sex"] == "女":
            raise ValueError("a bug that only this submission meets")
        return real_flags(sub, *args)

    monkeypatch.setattr(responses, "quality_flags", flags)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the failing one gets the 500 page
    threads, results = _submit_all(app, token, forms[:1])
    held.entered.wait(20)
    more_threads, more = _submit_all(app, token, forms[1:])
    _wait_until(lambda: held.waiting(app) == 3)
    held.release.set()
    for t in threads + more_threads:
        t.join(30)
    assert held.sizes[:2] == [1, 3]
    assert [r.status_code for r in [*results, *more]] == [303, 303, 303, 500]
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 3


def test_a_database_failure_reaches_every_waiting_request_as_503(app, demo_wave, monkeypatch):
    token = channel_token(app)
    forms = [_last_page(app, token) for _ in range(3)]

    def down(conn, items, facts):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(responses, "_write_batch", down)
    threads, results = _submit_all(app, token, forms)
    for t in threads:
        t.join(30)
    assert [r.status_code for r in results] == [503, 503, 503]
    assert all(r.headers["Retry-After"] == "2" for r in results)
    monkeypatch.undo()
    retried = [submit_page(c, token, h, STANDARD_PAGES[-1]) for c, h in forms]
    assert [r.status_code for r in retried] == [303, 303, 303]
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 3


def test_a_writer_that_does_not_answer_in_time_gives_503_and_the_retry_finds_it(
    app, demo_wave, monkeypatch
):
    token = channel_token(app)
    client, html = _last_page(app, token)
    held = HeldWriter(monkeypatch)
    app.config["SUBMIT_WAIT_SECONDS"] = 0.2
    late = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert late.status_code == 503 and late.headers["Retry-After"] == "2"
    held.release.set()  # the writer stores it after all ...
    app.config["SUBMIT_WAIT_SECONDS"] = 30
    _wait_until(lambda: len(held.sizes) == 1 and held.waiting(app) == 0)
    retried = submit_page(client, token, html, STANDARD_PAGES[-1])  # ... and the retry finds it
    assert retried.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_without_the_writer_each_request_stores_its_own(app, demo_wave):
    app.config["SUBMIT_WRITER"] = False
    token = channel_token(app)
    client, html = _last_page(app, token)
    first = submit_page(client, token, html, STANDARD_PAGES[-1])
    again = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert "survey_submit_writer" not in app.extensions
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_done_signal_is_handed_from_the_writer_to_the_waiting_request():
    done = responses._Done()
    assert done.wait(0.01) is False  # not set: the wait times out
    waiting = []
    thread = threading.Thread(target=lambda: waiting.append(done.wait(5)))
    thread.start()
    done.set()
    thread.join(5)
    assert waiting == [True]
    done.set()  # set twice: no error
    assert done.wait(0) is True and done.wait(0) is True  # stays set


def test_the_writer_keeps_its_connection_and_gets_over_losing_it(app, demo_wave, is_postgres):
    """PostgreSQL: the writer stores every batch on one kept connection (no pool
    checkout and ping per batch). When the server drops it (a restart, an idle
    timeout), the next batch is stored on a new one, not failed."""
    if not is_postgres:
        pytest.skip("SQLite gives its connection back after each batch")
    from sqlalchemy import text

    token = channel_token(app)
    assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        writer = app.extensions["survey_submit_writer"]
        assert writer.thread.is_alive()
        # Every other connection to this database goes, the writer's kept one too.
        killed = db.session.scalars(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).all()  # fmt: skip
    assert killed and all(killed)
    assert complete(app.test_client(), token).status_code == 303  # not a 503
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 2


def test_the_writer_prepares_its_statements_once_on_its_kept_connection(
    app, demo_wave, is_postgres, monkeypatch
):
    """PostgreSQL: the kept connection's statements are prepared on the server,
    so that each is planned once per connection, not once per batch."""
    if not is_postgres:
        pytest.skip("SQLite has no server-side prepared statements")
    links = []
    real = responses.store_batch

    def spy(items, link):
        links.append(link)
        real(items, link)

    monkeypatch.setattr(responses, "store_batch", spy)
    token = channel_token(app)
    for _ in range(2):
        assert complete(app.test_client(), token).status_code == 303
    assert len(links) == 2 and links[0] is links[1]
    conn = links[0].conn  # idle now: the writer waits for the next submission
    prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    conn.commit()  # (a rollback would make psycopg forget them)
    assert any(s.lstrip().startswith("INSERT INTO response") for s in prepared), prepared
    assert any("submission_id IN" in s for s in prepared), prepared


def test_a_schema_change_while_the_app_runs_does_not_fail_a_submission(app, demo_wave, is_postgres):
    """A migration that changes a column's type while the writer holds statements
    prepared before it: PostgreSQL refuses them ("cached plan must not change
    result type"); the batch is stored on a new connection instead."""
    if not is_postgres:
        pytest.skip("SQLite has no server-side prepared statements")
    token = channel_token(app)
    assert complete(app.test_client(), token).status_code == 303
    engine = app.extensions["survey_db"]["engine"]
    alter = "ALTER TABLE response ALTER COLUMN submission_id TYPE {}"
    with engine.begin() as conn:
        conn.exec_driver_sql(alter.format("text"))
    try:
        assert complete(app.test_client(), token).status_code == 303
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(alter.format("varchar(40)"))
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 2


def test_too_fast_is_judged_against_the_median_each_process_read_lately(
    app, demo_wave, monkeypatch
):
    """The wave's median duration is read at most every MEDIAN_TTL seconds per process."""
    from datetime import timedelta

    from sqlalchemy import insert

    from survey.models import Channel, utcnow
    from survey.operations import quality

    token = channel_token(app)
    app.config["MIN_DURATION_SECONDS"] = 0
    assert complete(app.test_client(), token).status_code == 303  # the median is read: 1 response
    with app.app_context():
        first = db.session.scalar(select(Response))
        channel = db.session.scalar(select(Channel).filter_by(token=token))
        now = utcnow()
        with db.write() as session:
            session.execute(insert(Response.__table__), [dict(
                submission_id=f"slow-{k}", receipt_code=f"SLOW-{k:04d}", wave_id=demo_wave,
                channel_id=channel.id, questionnaire_id=first.questionnaire_id, answers={},
                indicators={}, district="咸安区", started_at=now - timedelta(seconds=300),
                submitted_at=now, duration_seconds=300.0) for k in range(20)])  # fmt: skip

    def flags_of_next() -> list[str]:
        assert complete(app.test_client(), token).status_code == 303
        with app.app_context():
            return db.session.scalars(select(Response.flags).order_by(Response.id.desc())).first()

    assert "too_fast" not in flags_of_next()  # within MEDIAN_TTL: the median of 1 response
    monkeypatch.setattr(quality, "MEDIAN_TTL", 0.0)
    assert "too_fast" in flags_of_next()  # read again: 300 s, and this one took < 1 s
    assert "too_fast" not in first.flags


def test_a_retry_stored_by_another_process_meanwhile_is_found_not_stored_twice(
    app, demo_wave, monkeypatch
):
    """Another process stores the same submission id after this batch read what was
    stored (a double tap that reached two processes): the unique key stops the
    insert, and the batch tried again finds it stored and answers with its receipt."""
    from sqlalchemy import create_engine, insert

    from survey.models import Channel, utcnow

    token = channel_token(app)
    client, html = _last_page(app, token)
    state = form_tokens(html)["state"]
    real, calls = responses._wave_facts, []
    other = create_engine(app.config["DATABASE_URL"])

    def meanwhile(conn, items, *args, **kwargs):
        facts = real(conn, items, *args, **kwargs)
        calls.append(len(items))
        if len(calls) == 1:  # the other process commits between this read and the insert
            with app.app_context():
                channel = db.session.scalar(select(Channel).filter_by(token=token))
                values = dict(
                    submission_id=items[0].sub.submission_id, receipt_code="OTHR-2345",
                    wave_id=demo_wave, channel_id=channel.id,
                    questionnaire_id=channel.wave.questionnaire_id, answers=items[0].sub.answers,
                    indicators={},
                    district="咸安区", started_at=utcnow(), submitted_at=utcnow(),
                    duration_seconds=60.0,
                )  # fmt: skip
                db.session.rollback()
            with other.begin() as conn2:
                conn2.execute(insert(Response.__table__).values(**values))
        return facts

    monkeypatch.setattr(responses, "_wave_facts", meanwhile)
    try:
        final = submit_page(client, token, html, STANDARD_PAGES[-1])
    finally:
        other.dispose()
    assert final.status_code == 303 and state
    thanks = client.get(final.headers["Location"]).get_data(as_text=True)
    assert "OTHR-2345" in thanks
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
