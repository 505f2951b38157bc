"""The receipt code stays out of addresses: the phone's history kept
``/s/<token>/thanks/<code>.<signature>``, and on a shared phone the next person
opened it and could withdraw the first person's answer. The submission's 303
goes to ``/s/<token>/thanks``; the code travels in a short-lived cookie of that
channel's pages (survey/respond/receipts.py)."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

from sqlalchemy import select

from survey.extensions import db
from survey.models import Channel, Response
from survey.respond import receipts
from tests.conftest import form_tokens
from tests.resident import (
    STANDARD_PAGES,
    channel_token,
    complete,
    receipt_cookie,
    receipt_of,
    start,
    submit_page,
)

SUBMITTED = "问卷已提交"
ONLY_RIGHT_AFTER = "回执码只在提交后立即显示"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _stored_code(app) -> str:
    with app.app_context():
        (code,) = db.session.scalars(select(Response.receipt_code))
        return code


def _channel_id(app, token: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Channel.id).where(Channel.token == token))


def _addresses(html: str) -> list[str]:
    """Every address a page links or posts to."""
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


def test_no_address_of_the_path_carries_the_receipt(app, client, demo_wave):
    token = channel_token(app)
    seen = [f"/s/{token}"]
    response = start(client, token)
    for answers in STANDARD_PAGES:
        seen += _addresses(_html(response))
        response = submit_page(client, token, _html(response), answers)
    assert response.status_code == 303
    seen.append(response.headers["Location"])
    assert response.headers["Location"] == f"/s/{token}/thanks"
    thanks = client.get(response.headers["Location"])
    code = _stored_code(app)
    assert code in _html(thanks)  # shown on the page ...
    seen += _addresses(_html(thanks))
    assert not [a for a in seen if code in a or "receipt" in a]  # ... in no address
    assert "Location" not in thanks.headers


def test_the_receipt_cookie(app, client, demo_wave):
    """HttpOnly, SameSite=Lax, that channel's pages only, half an hour; signed for
    that channel; Secure as the device cookie is, and over HTTPS in any case."""
    token = channel_token(app)
    done = complete(client, token)
    (header,) = [h for h in done.headers.getlist("Set-Cookie") if h.startswith("sv_receipt=")]
    attributes = {part.strip().split("=")[0]: part.strip() for part in header.split(";")[1:]}
    assert attributes["HttpOnly"] and attributes["SameSite"] == "SameSite=Lax"
    assert attributes["Path"] == f"Path=/s/{token}"
    assert attributes["Max-Age"] == "Max-Age=1800" == f"Max-Age={receipts.COOKIE_SECONDS}"
    assert "Secure" not in attributes  # plain HTTP in development
    code, stamp, mac = receipt_cookie(done).split(".")
    assert code == _stored_code(app) and abs(int(stamp, 16) - time.time()) < 60
    assert len(mac) == 32
    channel = SimpleNamespace(id=_channel_id(app, token))
    from survey.respond.controllers import _to_receipt

    with app.test_request_context(f"/s/{token}/page", base_url="https://survey.example.cn"):
        assert "; Secure" in _to_receipt(token, code, channel).headers["Set-Cookie"]
    app.config["SESSION_COOKIE_SECURE"] = True  # production's setting, behind a proxy
    with app.test_request_context(f"/s/{token}/page"):
        assert "; Secure" in _to_receipt(token, code, channel).headers["Set-Cookie"]


def test_a_reload_shows_the_code_again_and_ends_the_questionnaire(app, client, demo_wave):
    token = channel_token(app)
    location = complete(client, token).headers["Location"]
    code = _stored_code(app)
    for _ in range(2):  # the page and a reload
        page = client.get(location)
        html = _html(page)
        assert page.status_code == 200 and f"<strong>{code}</strong>" in html
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Clear-Site-Data"] == '"cache"'
        assert f'data-clear="{token}"' in html  # app.js's end mark and local storage
        assert ONLY_RIGHT_AFTER not in html


def test_after_half_an_hour_the_page_says_submitted_without_the_code(
    app, client, demo_wave, monkeypatch
):
    token = channel_token(app)
    location = complete(client, token).headers["Location"]
    code = _stored_code(app)
    later = time.time() + receipts.COOKIE_SECONDS + 1
    monkeypatch.setattr(receipts, "time", SimpleNamespace(time=lambda: later))
    page = client.get(location)  # the browser would have dropped it: the server does too
    html = _html(page)
    assert page.status_code == 200 and code not in html
    assert SUBMITTED in html and ONLY_RIGHT_AFTER in html
    assert page.headers["Cache-Control"] == "no-store"


def test_a_cookie_given_more_than_half_an_hour_ago_is_refused(app, client, demo_wave):
    token = channel_token(app)
    complete(client, token)
    code, channel_id = _stored_code(app), _channel_id(app, token)
    with app.test_request_context():
        for age, shown in ((60, True), (receipts.COOKIE_SECONDS + 60, False), (-3600, False)):
            stamp = format(int(time.time()) - age, "x")
            value = f"{code}.{stamp}.{receipts._cookie_mac(code, channel_id, stamp)}"
            client.set_cookie(receipts.COOKIE, value, path=f"/s/{token}")
            assert (code in _html(client.get(f"/s/{token}/thanks"))) is shown, age


def test_without_the_cookie_or_with_a_bad_one_never_an_error_nor_a_code(app, client, demo_wave):
    token = channel_token(app)
    value = receipt_cookie(complete(client, token))
    code, stamp, mac = value.split(".")
    bad = ["", "x", "ABCD-2345", f"{code}.{stamp}", f"{code}.{stamp}.{mac[:-1]}",
           f"ZZZZ-ZZZZ.{stamp}.{mac}", f"{code}.{int(stamp, 16) + 1:x}.{mac}",
           f"{code}.zz.{mac}", f"{code}.{'f' * 40}.{mac}", "<script>alert(1)</script>",
           f"{code}.{stamp}.{mac}é", "..", "A" * 4000]  # fmt: skip
    for cookie in bad:
        client.set_cookie(receipts.COOKIE, cookie, path=f"/s/{token}")
        page = client.get(f"/s/{token}/thanks")
        html = _html(page)
        assert page.status_code == 200 and code not in html and SUBMITTED in html, cookie
        assert "<script>alert" not in html
    fresh = app.test_client().get(f"/s/{token}/thanks")
    assert fresh.status_code == 200 and SUBMITTED in _html(fresh) and code not in _html(fresh)
    assert app.test_client().get("/s/no-such-channel/thanks").status_code == 404


def test_another_channel_gets_nothing(app, client, demo_wave):
    token, other = channel_token(app), channel_token(app, "赤壁市")
    value = receipt_cookie(complete(client, token))
    code = value.split(".")[0]
    client.set_cookie(receipts.COOKIE, value, path=f"/s/{other}")  # sent there by hand
    page = client.get(f"/s/{other}/thanks")
    assert page.status_code == 200 and code not in _html(page)
    with app.test_request_context():
        signed = receipts.sign(code, _channel_id(app, token))
    assert client.get(f"/s/{other}/thanks/{signed}").status_code == 404  # an old address


def test_an_old_address_sets_the_cookie_and_leads_to_the_new_one(app, demo_wave):
    token = channel_token(app)
    complete(app.test_client(), token)
    code = _stored_code(app)
    with app.test_request_context():
        signed = receipts.sign(code, _channel_id(app, token))
    resident = app.test_client()  # a bookmark opened later, or a redirect in flight
    moved = resident.get(f"/s/{token}/thanks/{signed}")
    assert moved.status_code == 303 and moved.headers["Location"] == f"/s/{token}/thanks"
    assert receipt_of(moved) == code
    assert f"<strong>{code}</strong>" in _html(resident.get(moved.headers["Location"]))


def test_a_retry_gets_the_same_receipt_in_a_new_cookie(app, client, demo_wave):
    """A double tap, or the last page sent again after a lost connection (even
    once the first answer's cookie was lost): the same receipt, stored once."""
    token = channel_token(app)
    html = _html(start(client, token))
    for answers in STANDARD_PAGES[:-1]:
        html = _html(submit_page(client, token, html, answers))
    first = submit_page(client, token, html, STANDARD_PAGES[-1])
    client.delete_cookie(receipts.COOKIE, path=f"/s/{token}")
    again = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert again.status_code == 303 and again.headers["Location"] == f"/s/{token}/thanks"
    assert receipt_of(again) == receipt_of(first) == _stored_code(app)
    assert _stored_code(app) in _html(client.get(f"/s/{token}/thanks"))


def test_the_text_size_link_of_the_thanks_page_carries_no_code(app, client, demo_wave):
    """适老模式 on the thank-you page was ``?large=1`` added to its address, which
    held the signed receipt: the phone's history kept it a second time."""
    token = channel_token(app)
    location = complete(client, token).headers["Location"]
    code = _stored_code(app)
    html = _html(client.get(location))
    link = re.search(r'<a href="([^"]*large=1[^"]*)">', html).group(1)
    large = client.get(location + link)
    assert location + link == f"/s/{token}/thanks?large=1"
    assert 'class="large"' in _html(large) and f"<strong>{code}</strong>" in _html(large)


def test_a_new_questionnaire_on_the_phone_drops_the_previous_receipt(app, client, demo_wave):
    """A shared phone's next person opens the landing page (or consents from a
    landing page the phone kept): the previous person's thank-you page, opened
    from the history, no longer shows their code."""
    token = channel_token(app)
    location = complete(client, token).headers["Location"]
    code = _stored_code(app)
    landing = client.get(f"/s/{token}")
    assert receipt_cookie(landing) == ""  # dropped
    assert code not in _html(client.get(location))
    # consent drops it too (a landing page shown from the phone's cache sent nothing)
    csrf = form_tokens(_html(client.get(f"/s/{token}")))["csrf_token"]
    client.set_cookie(receipts.COOKIE, "x", path=f"/s/{token}")
    consent = client.post(f"/s/{token}/start", data={"csrf_token": csrf})
    assert consent.status_code == 200 and receipt_cookie(consent) == ""
    # without one, nothing is sent: the path sets no cookie but the device's
    fresh = app.test_client().get(f"/s/{token}")
    assert [h.split("=")[0] for h in fresh.headers.getlist("Set-Cookie")] == ["sv_device"]


def _withdraw_from_the_thanks_page(client, thanks_html: str):
    """撤回我的回答 on the thank-you page, then 确认撤回并删除: the last response."""
    form = re.search(r'<form method="post" action="/withdraw">(.*?)</form>', thanks_html, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    asked = client.post("/withdraw", data=fields)
    assert asked.status_code == 200 and "确认撤回" in _html(asked)
    return client.post("/withdraw", data={**form_tokens(_html(asked)), "confirm": "1",
                                          "receipt_code": fields["receipt_code"]})  # fmt: skip


def test_after_withdrawing_the_thanks_page_no_longer_shows_the_code_as_a_receipt(
    app, client, demo_wave
):
    """Reloading the thank-you page (or reaching it with Back) within the half hour
    after withdrawing showed the withdrawn code from its cookie, with 撤回我的回答
    again, as if the answer were still stored. The withdrawal replaces the cookie
    (the thank-you page's path: /withdraw is not sent it): the page says the
    answer was withdrawn."""
    token = channel_token(app)
    location = complete(client, token).headers["Location"]
    code = _stored_code(app)
    thanks = _html(client.get(location))
    assert f"<strong>{code}</strong>" in thanks
    done = _withdraw_from_the_thanks_page(client, thanks)
    assert done.status_code == 200 and "已撤回并删除" in _html(done)
    (header,) = [h for h in done.headers.getlist("Set-Cookie") if h.startswith("sv_receipt=")]
    assert f"Path=/s/{token}" in header and "HttpOnly" in header
    for _ in range(2):  # the page and a reload
        page = client.get(location)
        html = _html(page)
        assert page.status_code == 200 and "<strong>" not in html
        assert 'action="/withdraw"' not in html and SUBMITTED not in html
        assert "您的回答已撤回" in html and f"回执码 {code} 对应的回答已撤回并删除" in html
        assert f'data-clear="{token}"' in html and page.headers["Cache-Control"] == "no-store"
    # the withdrawal's cookie is no receipt: not for another channel, nor for long
    with app.test_request_context(headers={"Cookie": f"sv_receipt={receipt_cookie(done)}"}):
        channel_id = _channel_id(app, token)
        assert receipts.code_in_cookie(channel_id) is None
        assert receipts.withdrawn_in_cookie(channel_id) == code
        assert receipts.withdrawn_in_cookie(_channel_id(app, channel_token(app, "赤壁市"))) is None
        later = time.time() + receipts.COOKIE_SECONDS + 1
        assert receipts.withdrawn_in_cookie(channel_id, now=later) is None
    # the next person who opens the channel drops it, as a receipt's
    assert receipt_cookie(client.get(f"/s/{token}")) == ""
    assert "已撤回" not in _html(client.get(location))


def test_a_code_withdrawn_on_another_phone_sets_that_channels_cookie_path(app, demo_wave):
    """Typed on the withdraw page of another browser: the same cookie, harmless
    there (no thank-you page of it is open); a code not found sets nothing."""
    token = channel_token(app, "赤壁市")
    complete(app.test_client(), token)
    code = _stored_code(app)
    other = app.test_client()
    csrf = form_tokens(_html(other.get("/withdraw")))["csrf_token"]
    missing = other.post("/withdraw", data={"csrf_token": csrf, "receipt_code": "ZZZZ-ZZZZ",
                                            "confirm": "1"})  # fmt: skip
    assert missing.status_code == 404 and receipt_cookie(missing) is None
    typed = code.lower().replace("-", " ")
    done = other.post("/withdraw", data={"csrf_token": csrf, "receipt_code": typed,
                                         "confirm": "1"})  # fmt: skip
    assert done.status_code == 200 and receipt_cookie(done).startswith(f"{code}.")
    (header,) = [h for h in done.headers.getlist("Set-Cookie") if h.startswith("sv_receipt=")]
    assert f"Path=/s/{token}" in header
