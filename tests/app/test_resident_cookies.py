"""Cookies cleared or blocked in the middle of the questionnaire: the resident is
told that this site's cookies must be allowed (starting again will not help until
they are), not that the page was open too long."""

from __future__ import annotations

from survey.respond.paradata import DEVICE_COOKIE
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, start, submit_page


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_a_page_posted_without_the_device_cookie_asks_to_allow_cookies(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    client.delete_cookie(DEVICE_COOKIE)  # cleared, or blocked, mid-questionnaire
    refused = submit_page(client, token, html, STANDARD_PAGES[0])
    text = _html(refused)
    assert refused.status_code == 400
    assert "Cookie" in text and "允许本网站使用 Cookie" in text
    assert "重新开始也无法继续" in text
    assert "页面停留时间过长" not in text
    assert f'href="/s/{token}"' in text  # the way back once they are allowed


def test_consent_without_any_cookie_asks_to_allow_cookies(app, client, demo_wave):
    token = channel_token(app)
    csrf = form_tokens(_html(client.get(f"/s/{token}")))["csrf_token"]
    client.delete_cookie(DEVICE_COOKIE)  # the browser never kept it
    refused = client.post(f"/s/{token}/start", data={"csrf_token": csrf})
    assert refused.status_code == 400 and "允许本网站使用 Cookie" in _html(refused)


def test_an_old_page_with_the_cookie_still_says_it_expired(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    forged = {**form_tokens(html), "csrf_token": "0.00"}
    refused = client.post(f"/s/{token}/page", data={**forged, **STANDARD_PAGES[0]})
    assert refused.status_code == 400
    assert "页面停留时间过长" in _html(refused) and "允许本网站使用 Cookie" not in _html(refused)
