"""The phone's Back button around the questionnaire, in Chromium with its
back-forward cache on (as on phones; Playwright turns it off by default).

Chromium keeps no page that answered a POST in its back-forward cache
(``HTTPMethodNotGET``): questionnaire pages come back from the HTTP cache
(``KEPT_FOR_BACK``) until the thank-you page drops it, and after that Back
reaches Chromium's "Confirm Form Resubmission" page, whose reload sends the
earlier page's form again. Safari and WeChat's browser cannot be run here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.navigation import click_and_load
from tests.e2e.test_resident_browser import (
    _fill_first_page,
    _fill_second_page,
    _stored,
    _to_last_page,
)
from tests.resident import channel_token

pytestmark = pytest.mark.browser


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def context(request, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  java_script_enabled=request.param)  # fmt: skip
    context.javascript = request.param
    yield context
    context.close()


@pytest.fixture
def posts(app):
    """The POSTs the server received (Playwright also reports pages from the cache)."""
    seen = []
    inner = app.wsgi_app

    def counting(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = counting
    yield seen
    app.wsgi_app = inner


def _submit(page, landing: str) -> str:
    page.goto(landing)
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    return page.locator(".receipt strong").inner_text()


def _settled(page, action) -> None:
    """Run *action* (Back, reload) once Chromium's error page has settled: until
    its process has taken the tab, the call fails before it does anything."""
    for _ in range(20):
        try:
            action()
        except PlaywrightError as exc:
            if "Not attached to an active page" not in str(exc):
                raise
            page.wait_for_timeout(100)
        else:
            return
    raise AssertionError("the tab never settled")


def _back(page) -> None:
    """The phone's Back button; Chromium's error page is a page too."""

    def back():
        try:
            page.go_back(wait_until="load")
        except PlaywrightError as exc:  # "Confirm Form Resubmission" (the cache was dropped)
            if "ERR_CACHE_MISS" not in str(exc):
                raise

    _settled(page, back)
    page.wait_for_load_state("load")


def _shows_no_answers(page) -> None:
    """Nothing of the questionnaire just submitted is on the screen."""
    assert page.locator("input:checked").count() == 0, page.url
    assert page.locator(".receipt").count() == 0, page.url
    assert page.locator("input[name=state]").count() == 0, page.url


def test_back_after_the_receipt_once_and_again_shows_no_answers_and_sends_nothing(
    app, live_server, context, demo_wave, posts
):
    """Back from the thank-you page, once and then again and again, to the
    landing page: no questionnaire page comes back (nor its answers), nothing
    is sent, and the response is stored once, as submitted."""
    token = channel_token(app)
    landing = f"{live_server}/s/{token}"
    page = context.new_page()
    code = _submit(page, landing)
    sent = len(posts)
    for _ in range(3):  # the last page, the second, the first
        _back(page)
        _shows_no_answers(page)
        assert code not in page.content()
    _back(page)
    assert page.url == landing
    _shows_no_answers(page)
    assert len(posts) == sent
    (stored,) = _stored(app)
    assert stored.receipt_code == code and stored.answers["activities"] == ["sorting"]


@pytest.mark.parametrize("backs", [1, 2, 3])
def test_a_page_sent_again_from_the_history_after_the_receipt_shows_no_answers(
    app, live_server, context, demo_wave, backs
):
    """Back after the receipt, then reload on Chromium's "Confirm Form
    Resubmission" page: the earlier page's form is sent again. The server
    answered it with the next page, whose 上一页 showed the answers of whoever
    had just submitted (a shared phone's next person: app.js left for the
    landing page, but not without JavaScript), and going on stored nothing.
    Now that questionnaire is said to be submitted. The consent form sent
    again (Back three times) starts a new, empty questionnaire, as before."""
    token = channel_token(app)
    landing = f"{live_server}/s/{token}"
    page = context.new_page()
    code = _submit(page, landing)
    for _ in range(backs):
        _back(page)
    # Headless Chromium sends the form again without asking.
    _settled(page, lambda: page.reload(wait_until="load"))
    if backs < 3:
        assert page.locator("h1").inner_text() == "这份问卷已经提交过"
        _shows_no_answers(page)
    elif context.javascript:  # the tab's questionnaire has ended: app.js leaves
        page.wait_for_url(landing, timeout=5000)
    else:
        assert page.locator("h1").inner_text() == "基本情况"
        # Nothing checked but the channel's own district, as for anyone.
        assert page.locator("input:checked:not([name=district])").count() == 0
    assert code not in page.content()
    (stored,) = _stored(app)
    assert stored.receipt_code == code


def test_back_from_page_two_keeps_page_one_and_a_changed_answer_is_stored(
    app, live_server, context, demo_wave, posts
):
    """Back from page 2 shows page 1 as left (from the cache, nothing sent), with
    or without JavaScript; an answer changed there and sent on is the one stored,
    once; Back again after that, and 下一页 from the page Back showed, lose nothing."""
    page = context.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _fill_first_page(page, "男")
    click_and_load(page, page.get_by_role("button", name="下一页"))
    _fill_second_page(page)
    sent = len(posts)
    page.go_back(wait_until="load")
    assert len(posts) == sent
    assert page.get_by_label("30-39岁").is_checked() and page.get_by_label("男").is_checked()
    page.get_by_label("女").check()
    click_and_load(page, page.get_by_role("button", name="下一页"))
    _fill_second_page(page)
    click_and_load(page, page.get_by_role("button", name="下一页"))
    page.get_by_label("垃圾分类").check()
    page.go_back(wait_until="load")  # to page 2 (as sent), and on again from it
    assert page.locator("input[name=s_air][value='4']").is_checked()
    click_and_load(page, page.get_by_role("button", name="下一页"))
    page.get_by_label("垃圾分类").check()
    page.get_by_label("知道", exact=True).check()
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert page.locator(".receipt strong").inner_text()
    (stored,) = _stored(app)
    assert stored.sex == "女" and stored.answers["s_air"] == "4"


def test_back_to_the_thanks_page_after_withdrawing_shows_no_live_receipt(
    app, live_server, context, demo_wave
):
    """The thank-you page is no-store, which Chromium may still keep in its
    back-forward cache while no HttpOnly cookie changes: after withdrawing,
    Back (past the confirm step) must not bring back the code with
    撤回我的回答 as a live receipt."""
    token = channel_token(app)
    page = context.new_page()
    code = _submit(page, f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="撤回我的回答"))
    click_and_load(page, page.get_by_role("button", name="确认撤回并删除"))
    assert "已撤回并删除" in page.locator("main").inner_text()
    for _ in range(2):  # the confirm step (a POST: Chromium's error page), the thank-you page
        _back(page)
    assert page.url == f"{live_server}/s/{token}/thanks"
    assert page.locator("h1").inner_text() == "您的回答已撤回"
    assert not page.locator(".receipt").count()
    assert not page.get_by_role("button", name="撤回我的回答").count()
    assert _stored(app)[0].withdrawn_at is not None and code


def test_after_too_many_submissions_back_and_submit_again_stores_the_answers(
    app, live_server, context, demo_wave, monkeypatch
):
    """The channel's submission limit (429) said only 请稍后再试: without
    JavaScript nothing else keeps the answers. The page says to go Back to the
    last page, which comes back with what was entered, and to submit again."""
    from survey.operations import abuse

    app.config["RATE_LIMITS"] = {"submit_channel": [1, 60]}
    token = channel_token(app)
    landing = f"{live_server}/s/{token}"
    _submit(context.new_page(), landing)  # the channel's one submission this minute
    page = context.new_page()
    page.goto(landing)
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    page.locator("textarea").fill("多种树")
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert "再点一次“提交问卷”" in page.locator("main").inner_text()
    page.go_back(wait_until="load")
    assert page.get_by_label("垃圾分类").is_checked()
    assert page.locator("textarea").input_value() == "多种树"
    monkeypatch.setattr(abuse, "allows", lambda *args: True)  # a minute later
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert page.locator(".receipt strong").inner_text()
    assert [r.answers.get("suggestion") for r in _stored(app)][1:] == ["多种树"]
