"""Residents' CSRF tokens: bound to the device cookie, no session (survey/respond/csrf.py)."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import ChannelStats, Response
from survey.respond import csrf as resident_csrf
from survey.respond.paradata import DEVICE_COOKIE
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete, start, submit_page


def _starts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.sum(ChannelStats.starts))) or 0


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def _landing_token(client, token: str) -> str:
    return form_tokens(client.get(f"/s/{token}").get_data(as_text=True))["csrf_token"]


def test_resident_path_sets_only_the_device_cookie(client, app, demo_wave):
    token = channel_token(app)
    landing = client.get(f"/s/{token}")
    cookies = landing.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith(f"{DEVICE_COOKIE}=")
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]
    assert complete(client, token).status_code == 303
    assert client.get_cookie("session") is None  # no session cookie read or written
    assert _stored(app) == 1


def test_token_made_for_another_device_is_refused(client, app, demo_wave):
    token = channel_token(app)
    stolen = _landing_token(app.test_client(), token)  # someone else's page
    _landing_token(client, token)  # this browser has its own device cookie
    response = client.post(f"/s/{token}/start", data={"csrf_token": stolen})
    assert response.status_code == 400
    assert "重新开始" in response.get_data(as_text=True)
    assert _starts(app) == 0


def test_token_without_the_device_cookie_is_refused(client, app, demo_wave):
    token = channel_token(app)
    csrf_token = _landing_token(client, token)
    client.delete_cookie(DEVICE_COOKIE)
    response = client.post(f"/s/{token}/start", data={"csrf_token": csrf_token})
    assert response.status_code == 400 and _starts(app) == 0


def test_forged_and_malformed_tokens_are_refused(client, app, demo_wave):
    token = channel_token(app)
    good = _landing_token(client, token)
    stamp, mac = good.split(".")
    for bad in (
        f"{stamp}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",  # one character changed
        f"{int(stamp, 16) + 1:x}.{mac}",  # another time, same MAC
        "zz." + mac,
        f"{stamp}.令牌{mac[2:]}",  # not ASCII
        mac,
        "",
        "x" * 500,
    ):
        response = client.post(f"/s/{token}/start", data={"csrf_token": bad})
        assert response.status_code == 400, bad
    assert _starts(app) == 0
    assert client.post(f"/s/{token}/start", data={"csrf_token": good}).status_code == 200
    assert _starts(app) == 1


def test_old_and_future_tokens_are_refused(app, demo_wave):
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    now = time.time()
    with app.test_request_context():
        good = resident_csrf.token()
        device = resident_csrf.device_id()
        assert resident_csrf.check(good, device, now=now) is None
        assert resident_csrf.check(good, device, now=now + limit - 5) is None
        assert resident_csrf.check(good, device, now=now + limit + 5) == "CSRF 令牌已过期"
        assert resident_csrf.check(good, device, now=now - 3600) == "CSRF 令牌已过期"
        assert (
            resident_csrf.check(good, "another-device-id-xyz", now=now) == "CSRF 令牌与本设备不符"
        )
        assert resident_csrf.check(good, None, now=now).startswith("缺少设备 Cookie")


def test_another_secret_makes_other_tokens(app, demo_wave):
    with app.test_request_context():
        good, device = resident_csrf.token(), resident_csrf.device_id()
        app.config["SECRET_KEY"] = "another-secret-" + "x" * 40
        assert resident_csrf.check(good, device) == "CSRF 令牌与本设备不符"


def test_withdraw_form_gets_a_device_cookie_and_a_token(client, app, demo_wave):
    page = client.get("/withdraw")
    assert any(c.startswith(f"{DEVICE_COOKIE}=") for c in page.headers.getlist("Set-Cookie"))
    tokens = form_tokens(page.get_data(as_text=True))
    response = client.post("/withdraw", data={**tokens, "receipt_code": "ZZZZ-ZZZZ"})
    assert response.status_code == 404  # checked, not refused as a forgery
    assert client.post("/withdraw", data={"receipt_code": "NOSUCHCODE"}).status_code == 400


def test_staff_forms_keep_flask_wtf_tokens(client, demo_wave):
    response = client.post("/staff/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400


def test_a_page_sent_after_a_long_pause_comes_back_with_what_was_entered(
    client, app, demo_wave, monkeypatch
):
    """A resident who put the phone down for longer than the token lasts (6 hours)
    and then tapped 下一页 got 页面已过期，请重新开始: what was entered on the
    page was lost, and without JavaScript every answer. The same page comes back
    with what it holds and a fresh token; nothing is checked or stored until the
    resident sends it again."""
    token = channel_token(app)
    first = start(client, token).get_data(as_text=True)
    second = submit_page(client, token, first, STANDARD_PAGES[0]).get_data(as_text=True)
    later = time.time() + app.config["WTF_CSRF_TIME_LIMIT"] + 60
    monkeypatch.setattr(resident_csrf, "time", SimpleNamespace(time=lambda: later))
    again = submit_page(client, token, second, STANDARD_PAGES[1])
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and "页面停留时间较长，您填写的内容都还在" in text
    assert 'id="stale-notice" tabindex="-1" autofocus' in text  # read out first
    assert re.search(r'name="s_air" value="5" checked', text)
    assert re.search(r'name="s_drinking" value="dk" checked', text)
    assert form_tokens(text)["csrf_token"] != form_tokens(second)["csrf_token"]
    third = submit_page(client, token, text, STANDARD_PAGES[1]).get_data(as_text=True)
    assert 'name="activities"' in third  # on to the last page with the fresh token
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 0
    done = submit_page(client, token, third, STANDARD_PAGES[2])
    assert done.status_code == 303
    with app.app_context():
        (stored,) = db.session.scalars(select(Response))
        assert stored.answers["s_air"] == "5" and stored.sex == "男"


def test_a_stale_token_is_still_refused_elsewhere_and_for_another_device(
    client, app, demo_wave, monkeypatch
):
    """Only a questionnaire page is shown again, and only for the device the
    token was made for: consent, withdrawal and a token of another device
    still get the refusal page."""
    token = channel_token(app)
    page = start(client, token).get_data(as_text=True)
    csrf_token = form_tokens(page)["csrf_token"]
    later = time.time() + app.config["WTF_CSRF_TIME_LIMIT"] + 60
    monkeypatch.setattr(resident_csrf, "time", SimpleNamespace(time=lambda: later))
    assert client.post(f"/s/{token}/start", data={"csrf_token": csrf_token}).status_code == 400
    withdraw = client.post(
        "/withdraw", data={"csrf_token": csrf_token, "receipt_code": "ABCD-EFGH"}
    )
    assert withdraw.status_code == 400
    other = app.test_client()
    start(other, token)
    sent = other.post(f"/s/{token}/page", data={**form_tokens(page), "csrf_token": csrf_token})
    assert sent.status_code == 400


def test_a_stale_last_page_of_a_questionnaire_submitted_since_is_not_shown_again(
    client, app, demo_wave, monkeypatch
):
    """The last page sent again hours after its questionnaire was submitted on
    this phone (its token stale) came back with the state of that
    questionnaire, whose 上一页 showed its answers."""
    token = channel_token(app)
    html = start(client, token).get_data(as_text=True)
    for answers in STANDARD_PAGES[:-1]:
        html = submit_page(client, token, html, answers).get_data(as_text=True)
    assert submit_page(client, token, html, STANDARD_PAGES[-1]).status_code == 303
    later = time.time() + app.config["WTF_CSRF_TIME_LIMIT"] + 60
    monkeypatch.setattr(resident_csrf, "time", SimpleNamespace(time=lambda: later))
    again = submit_page(client, token, html, STANDARD_PAGES[-1])
    text = again.get_data(as_text=True)
    assert again.status_code == 409 and "这份问卷已经提交过" in text
    assert 'name="state"' not in text
