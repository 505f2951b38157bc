"""Funnel counters that anyone can reach cannot be counted up at will: a receipt
is counted once, when its response is stored (not on every view of the
thank-you page), and shows only under its own channel's address; a device's
reloads of a landing page are one visit, and an address's visits are capped."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import Channel
from survey.respond import visits
from tests.app.test_funnel_counters import _stats
from tests.resident import (
    STANDARD_PAGES,
    channel_token,
    complete,
    receipt_cookie,
    receipt_of,
    start,
    submit_page,
)


def _channel_id(app, token: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Channel.id).where(Channel.token == token))


def test_a_receipt_shows_only_under_its_own_channel(app, client, demo_wave):
    from survey.respond.receipts import COOKIE

    token, other = channel_token(app), channel_token(app, "赤壁市")
    done = complete(client, token)
    code = receipt_of(done)
    assert code in client.get(f"/s/{token}/thanks").get_data(as_text=True)
    elsewhere = client.get(f"/s/{other}/thanks")  # the browser sends no cookie there
    assert elsewhere.status_code == 200 and code not in elsewhere.get_data(as_text=True)
    # and the cookie itself, sent to another channel's page, shows nothing either
    value = receipt_cookie(done)
    client.set_cookie(COOKIE, value, path=f"/s/{other}")
    assert code not in client.get(f"/s/{other}/thanks").get_data(as_text=True)


def test_links_given_before_receipts_named_their_channel_still_load_on_theirs(
    app, client, demo_wave
):
    from itsdangerous import URLSafeSerializer

    from survey.respond.state import signature

    token, other = channel_token(app), channel_token(app, "赤壁市")
    code = receipt_of(complete(client, token))
    with app.test_request_context():
        v2 = f"{code}.{signature(b'survey-receipt-v2', code.encode()).decode()}"
    v1 = URLSafeSerializer(app.config["SECRET_KEY"], salt="survey-receipt").dumps(code)
    for old in (v2, v1):
        fresh = app.test_client()
        page = fresh.get(f"/s/{token}/thanks/{old}", follow_redirects=True)
        assert page.status_code == 200 and code in page.get_data(as_text=True)
        assert fresh.get(f"/s/{other}/thanks/{old}").status_code == 404


def test_a_receipt_signed_for_another_channel_is_refused(app, client, demo_wave):
    from survey.respond import receipts

    token, other = channel_token(app), channel_token(app, "赤壁市")
    code = receipt_of(complete(client, token))
    with app.test_request_context():
        for_other = receipts.sign(code, _channel_id(app, other))
        own = receipts.sign(code, _channel_id(app, token))
        assert receipts.code_of(for_other) is None  # the withdrawal link's check
        assert receipts.code_of(own) == code
    fresh = app.test_client()
    assert fresh.get(f"/s/{token}/thanks/{for_other}").status_code == 404
    assert fresh.get(f"/s/{other}/thanks/{for_other}").status_code == 303  # its own


def test_a_receipt_is_counted_once_when_stored_not_per_view(app, client, demo_wave):
    token = channel_token(app)
    response = start(client, token)
    for page in STANDARD_PAGES[:-1]:
        response = submit_page(client, token, response.get_data(as_text=True), page)
    last = response.get_data(as_text=True)
    location = submit_page(client, token, last, STANDARD_PAGES[-1]).headers["Location"]
    assert location == f"/s/{token}/thanks"
    assert _stats(app, token).receipts == 1  # counted with the response stored
    for _ in range(3):
        assert client.get(location).status_code == 200  # reloads
    assert submit_page(client, token, last, STANDARD_PAGES[-1]).status_code == 303  # a retry
    stats = _stats(app, token)
    assert (stats.receipts, stats.completions) == (1, 1)


def test_a_devices_reloads_of_the_landing_page_are_one_visit(app, demo_wave):
    token, other = channel_token(app), channel_token(app, "赤壁市")
    resident = app.test_client()
    for _ in range(3):
        assert resident.get(f"/s/{token}").status_code == 200
    assert resident.get(f"/s/{other}").status_code == 200  # another channel: its own visit
    assert app.test_client().get(f"/s/{token}").status_code == 200  # another device
    assert (_stats(app, token).visits, _stats(app, other).visits) == (2, 1)


def test_one_address_counts_no_more_than_its_allowance_of_visits(app, demo_wave, monkeypatch):
    monkeypatch.setattr(visits, "PER_ADDRESS", 2)
    token = channel_token(app)
    # A script that leaves the device cookie out: a new device each time.
    for _ in range(4):
        assert app.test_client().get(f"/s/{token}").status_code == 200
    assert _stats(app, token).visits == 2


def test_visits_count_again_in_the_next_window(app):
    start_ = 100 * visits.WINDOW
    assert visits.is_new_visit(app, 1, "device-a", "address", now=start_)
    assert not visits.is_new_visit(app, 1, "device-a", "address", now=start_ + 1)
    assert visits.is_new_visit(app, 2, "device-a", "address", now=start_ + 2)
    assert visits.is_new_visit(app, 1, "device-a", "address", now=start_ + visits.WINDOW)
