"""A replayed last page (a double tap, a retry, or the same body posted again
and again: the CSRF token lasts hours, the form state a day) stores nothing and
counts nothing against the submit limits: it cannot use up a channel's budget
nor get a community's residents flagged, and it still gets its receipt, even
once the channel is over its limit. A security review had 1,600 replays of one
answered questionnaire refuse the next genuine residents with 429."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from survey.operations import abuse
from survey.respond import receipts
from tests.resident import (
    STANDARD_PAGES,
    channel_token,
    complete,
    receipt_of,
    start,
    submit_page,
)


def _stored(app) -> list[Response]:
    with app.app_context():
        return list(db.session.scalars(select(Response).order_by(Response.id)))


def _answered_last_page(client, token: str) -> str:
    """Walk to the last page and return it, unsubmitted (its form is what a replay posts)."""
    response = start(client, token)
    for page in STANDARD_PAGES[:-1]:
        response = submit_page(client, token, response.get_data(as_text=True), page)
    return response.get_data(as_text=True)


@pytest.fixture(params=[0, 60], ids=["counted-at-once", "counted-in-memory"])
def sync(request, app, steady_rate_windows):
    """Both ways of counting: each request in the database at once (0), or in this
    process's memory, synced later (the production default's way)."""
    app.config["RATE_LIMIT_SYNC_SECONDS"] = request.param
    yield request.param
    with app.app_context():
        abuse.sync_counts()  # nothing left to write once this test's database is gone


def test_replays_do_not_use_up_the_channel_limit(app, demo_wave, sync):
    app.config["RATE_LIMITS"] = {"submit_channel": [2, 60]}
    token, attacker = channel_token(app), app.test_client()
    last = _answered_last_page(attacker, token)
    first = submit_page(attacker, token, last, STANDARD_PAGES[-1])
    replays = [submit_page(attacker, token, last, STANDARD_PAGES[-1]) for _ in range(5)]
    assert first.status_code == 303
    assert {r.status_code for r in replays} == {303}
    assert {receipt_of(r) for r in replays} == {receipt_of(first)} != {None}
    # A genuine resident still gets in; the limit counts stored responses only.
    assert complete(app.test_client(), token).status_code == 303
    assert complete(app.test_client(), token).status_code == 429
    assert len(_stored(app)) == 2


def test_a_replay_over_the_channel_limit_still_gets_its_receipt(app, demo_wave, sync):
    app.config["RATE_LIMITS"] = {"submit_channel": [1, 60]}
    token, resident = channel_token(app), app.test_client()
    last = _answered_last_page(resident, token)
    first = submit_page(resident, token, last, STANDARD_PAGES[-1])
    assert complete(app.test_client(), token).status_code == 429  # the channel is full now
    again = submit_page(resident, token, last, STANDARD_PAGES[-1])  # a retry: stored already
    assert again.status_code == 303 and receipt_of(again) == receipt_of(first) is not None
    assert len(_stored(app)) == 1


def test_replays_do_not_get_the_next_resident_of_an_address_flagged(app, demo_wave, sync):
    app.config["RATE_LIMITS"] = {"submit_client": [2, 3600]}
    token, attacker = channel_token(app), app.test_client()
    last = _answered_last_page(attacker, token)
    for _ in range(4):
        assert submit_page(attacker, token, last, STANDARD_PAGES[-1]).status_code == 303
    # The same address (the test clients share 127.0.0.1): a second response is within
    # the limit of two, a third is over it.
    assert complete(app.test_client(), token).status_code == 303
    assert complete(app.test_client(), token).status_code == 303
    flags = ["many_from_client" in r.flags for r in _stored(app)]
    assert flags == [False, False, True]


def test_allows_counts_nothing(app, sync):
    with app.test_request_context():
        assert abuse.allows("k", 2, 60, now=120.0)
        assert abuse.hit("k", 2, 60, now=121.0)
        assert abuse.allows("k", 2, 60, now=122.0)  # one counted, one more allowed
        assert abuse.hit("k", 2, 60, now=123.0)
        assert not abuse.allows("k", 2, 60, now=124.0)
        assert abuse.allows("k", 2, 60, now=180.0)  # a new window
        assert abuse.allows("k", 0, 60)  # no limit


def test_the_last_page_sent_again_with_other_answers_gets_no_receipt(client, app, demo_wave):
    """After the receipt, Back and "resubmit" brought back the last page (on a
    shared phone, for the next person); submitting it with other answers showed
    提交成功 with the first person's receipt code (enough to withdraw their
    answer), and the changes were silently not stored."""
    token = channel_token(app)
    html = _answered_last_page(client, token)
    first = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert first.status_code == 303
    (stored,) = _stored(app)
    same = submit_page(client, token, html, STANDARD_PAGES[-1])  # a double tap, a retry
    assert same.status_code == 303 and receipt_of(same) == stored.receipt_code
    other = submit_page(client, token, html, {**STANDARD_PAGES[-1], "activities": ["none"]})
    text = other.get_data(as_text=True)
    assert other.status_code == 409 and "已经提交过" in text and "刚才的修改没有保存" in text
    assert stored.receipt_code not in text and "/thanks" not in text
    assert receipt_of(other) is None and "Location" not in other.headers
    assert other.headers["Clear-Site-Data"] == '"cache"'
    assert [r.answers for r in _stored(app)] == [stored.answers]  # nothing changed


def test_the_last_page_of_a_withdrawn_response_sent_again_says_it_was_withdrawn(
    client, app, demo_wave
):
    """Resending the form after withdrawing showed 提交成功 with the withdrawn code."""
    from survey.operations.responses import withdraw_response

    token = channel_token(app)
    html = _answered_last_page(client, token)
    assert submit_page(client, token, html, STANDARD_PAGES[-1]).status_code == 303
    with app.app_context():
        withdraw_response(_stored(app)[0].receipt_code)
    again = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert again.status_code == 409 and "这份回答已撤回" in again.get_data(as_text=True)
    assert "/thanks" not in again.get_data(as_text=True) and receipt_of(again) is None
    (tombstone,) = _stored(app)
    assert tombstone.answers == {} and tombstone.withdrawn_at is not None


def test_a_retry_of_the_submission_that_filled_the_cell_gets_its_receipt(client, app, demo_wave):
    """Under the close policy, the retry of the submission that took a cell's last
    place (a lost connection, a double tap without JavaScript) read the cell full
    and got 名额已满, which also cleared the answers kept on the phone: the resident
    was told their answer was not needed, and never saw their receipt."""
    from sqlalchemy import update

    from survey.models import QuotaCell, Wave

    with app.app_context():
        db.session.execute(update(Wave).where(Wave.id == demo_wave).values(quota_policy="close"))
        db.session.execute(update(QuotaCell).values(target=1))
        db.session.commit()
    token = channel_token(app)
    html = _answered_last_page(client, token)
    first = submit_page(client, token, html, STANDARD_PAGES[-1])
    retry = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert first.status_code == retry.status_code == 303
    assert receipt_of(retry) == receipt_of(first) == _stored(app)[0].receipt_code
    assert len(_stored(app)) == 1


def test_a_retry_after_the_channel_closed_gets_its_receipt(client, app, demo_wave):
    """A last page stored just before the channel closed and sent again after the
    grace period: its receipt, not 本次调查已结束."""
    from survey.models import Channel
    from survey.operations.cities import set_channel_open

    token = channel_token(app)
    html = _answered_last_page(client, token)
    first = submit_page(client, token, html, STANDARD_PAGES[-1])
    app.config["FINISH_GRACE_SECONDS"] = 0
    with app.app_context():
        set_channel_open(db.session.scalar(select(Channel).filter_by(token=token)), False)
    retry = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert retry.status_code == 303 and receipt_of(retry) == receipt_of(first) is not None
    other = submit_page(client, token, html, {**STANDARD_PAGES[-1], "activities": ["none"]})
    assert other.status_code == 409 and receipt_of(other) is None


@pytest.mark.parametrize(
    ("age", "receipt_again"),
    [(receipts.COOKIE_SECONDS - 60, True), (receipts.COOKIE_SECONDS + 1, False)],
    ids=["within-the-half-hour", "after-it"],
)
def test_the_same_last_page_sent_again_later_gets_no_receipt(
    client, app, demo_wave, age, receipt_again
):
    """The last page sent again unchanged gave the stored receipt code at any time:
    on a shared phone, the next person resending it from the history (the form
    state lasts a day) got the first person's code, enough to withdraw their
    answer. A double tap or a retry comes within minutes: the receipt again only
    while the cookie given with it would last; later, 已经提交过 naming no code."""
    from datetime import timedelta

    from sqlalchemy import update

    token = channel_token(app)
    html = _answered_last_page(client, token)
    assert submit_page(client, token, html, STANDARD_PAGES[-1]).status_code == 303
    (stored,) = _stored(app)
    with app.app_context():
        earlier = stored.submitted_at - timedelta(seconds=age)
        db.session.execute(update(Response).values(submitted_at=earlier))
        db.session.commit()
    again = submit_page(client, token, html, STANDARD_PAGES[-1])
    text = again.get_data(as_text=True)
    if receipt_again:
        assert again.status_code == 303 and receipt_of(again) == stored.receipt_code
        return
    assert again.status_code == 409 and receipt_of(again) is None
    assert "已经提交" in text and "不再显示" in text and "刚才的修改没有保存" not in text
    assert stored.receipt_code not in text and "/thanks" not in text
    assert "Location" not in again.headers and again.headers["Clear-Site-Data"] == '"cache"'
    assert [r.answers for r in _stored(app)] == [stored.answers]  # nothing changed


@pytest.mark.parametrize("button", [{}, {"back": "1"}, {"text_size": "large"}])
def test_an_earlier_page_sent_again_after_the_receipt_shows_none_of_its_answers(
    client, app, demo_wave, button
):
    """After the receipt, Back and "resubmit" sent an earlier page's form again:
    the next page came back with the signed state of the questionnaire just
    submitted, and its 上一页 (or the page itself, from 上一页 or the text-size
    button) showed that person's answers to whoever held the phone next."""
    token = channel_token(app)
    first = start(client, token).get_data(as_text=True)
    second = submit_page(client, token, first, STANDARD_PAGES[0]).get_data(as_text=True)
    third = submit_page(client, token, second, STANDARD_PAGES[1]).get_data(as_text=True)
    assert submit_page(client, token, third, STANDARD_PAGES[2]).status_code == 303
    for html, answers in ((second, STANDARD_PAGES[1]), (third, {})):
        again = submit_page(client, token, html, {**answers, **button})
        text = again.get_data(as_text=True)
        assert again.status_code == 409 and "这份问卷已经提交过" in text
        assert 'name="state"' not in text and "checked" not in text
        assert again.headers["Clear-Site-Data"] == '"cache"'
    (stored,) = _stored(app)  # nothing changed, nothing added
    assert stored.answers["s_air"] == "5"
    # Another questionnaire on the same phone is not refused.
    assert "checked" not in start(client, token).get_data(as_text=True).replace(
        'value="咸安区" checked', ""
    )


def test_an_interviewers_tablet_keeps_refusing_the_pages_of_a_days_respondents(
    client, app, demo_wave
):
    """One device, one channel, many respondents (an interviewer's tablet): the
    first respondent's page sent again after the sixth has submitted is still
    refused (the cookie kept only the last 4)."""
    from survey.respond import ended

    token = channel_token(app)
    first = start(client, token).get_data(as_text=True)
    second = submit_page(client, token, first, STANDARD_PAGES[0]).get_data(as_text=True)
    html = second
    for answers in STANDARD_PAGES[1:]:
        html = submit_page(client, token, html, answers).get_data(as_text=True)
    for _ in range(5):
        assert complete(client, token).status_code == 303
    again = submit_page(client, token, second, STANDARD_PAGES[1])
    assert again.status_code == 409 and 'name="state"' not in again.get_data(as_text=True)
    assert len(client.get_cookie(ended.COOKIE, path=f"/s/{token}").value) < 300
