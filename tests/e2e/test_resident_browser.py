"""End to end in headless Chromium at a phone viewport (360×740)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from tests.e2e.navigation import click_and_load
from tests.resident import channel_token

pytestmark = pytest.mark.browser


def _fill_first_page(page, sex: str = "女"):
    page.get_by_label("30-39岁").check()
    page.get_by_label("是", exact=True).first.check()  # lived here 6+ months
    page.locator("input[name=env_staff][value=no]").check()
    page.get_by_label(sex).check()
    page.get_by_label("农村").check()


def _fill_second_page(page):
    for qid in ("s_air", "s_water", "s_drinking", "s_green", "s_sanitation", "s_noise"):
        page.locator(f"input[name={qid}][value='4']").check()
    page.locator("input[name=s_government][value='5']").check()


def _answer_standard(page):
    _fill_first_page(page)
    page.get_by_role("button", name="下一页").click()
    _fill_second_page(page)
    page.get_by_role("button", name="下一页").click()
    page.get_by_label("垃圾分类").check()
    page.get_by_label("知道", exact=True).check()
    page.get_by_role("button", name="提交问卷").click()


def _stored(app):
    with app.app_context():
        return list(db.session.scalars(select(Response)))


def test_phone_answers_and_gets_receipt(app, live_server, phone, demo_wave):
    token = channel_token(app, "嘉鱼县")
    page = phone.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server}/s/{token}")
    assert "匿名" in page.content()
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    first_page_requests = [u for u in requests if "/s/" in u or "/static/" in u]
    assert len(page.locator("fieldset").all()) >= 6
    _answer_standard(page)
    receipt = page.locator(".receipt strong").inner_text()
    assert len(receipt) == 9
    (stored,) = _stored(app)
    assert stored.receipt_code == receipt
    assert stored.district == "嘉鱼县"  # pre-selected from the channel
    assert stored.sex == "女" and stored.urban_rural == "农村"
    assert stored.indicators["satisfied"] == 1.0
    assert stored.device_class == "mobile-wechat"
    assert first_page_requests  # the browser really fetched the pages
    page.screenshot(path=str(app.instance_path) + "/phone-receipt.png")


def test_without_javascript(app, live_server, phone_no_js, demo_wave):
    token = channel_token(app)
    page = phone_no_js.new_page()
    page.goto(f"{live_server}/s/{token}")
    page.get_by_role("button", name="同意并开始填写").click()
    _answer_standard(page)
    assert page.locator(".receipt strong").inner_text()
    assert len(_stored(app)) == 1


def test_exclusive_option_and_reload_keep_answers(app, live_server, phone, demo_wave):
    token = channel_token(app)
    page = phone.new_page()
    page.goto(f"{live_server}/s/{token}")
    page.get_by_role("button", name="同意并开始填写").click()
    page.get_by_label("30-39岁").check()
    page.get_by_label("女").check()
    # An accidental reload (re-POST of the start form is avoided: go back to landing
    # and start again): answers come back from local storage.
    page.goto(f"{live_server}/s/{token}")
    # Answers come back on DOMContentLoaded: wait for the page to load.
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    assert page.get_by_label("30-39岁").is_checked()
    assert page.get_by_label("女").is_checked()


def test_large_text_mode(app, live_server, phone, demo_wave):
    token = channel_token(app)
    page = phone.new_page()
    page.goto(f"{live_server}/s/{token}")
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    click_and_load(page, page.get_by_role("link", name="大字模式"))
    large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= normal * 1.25
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    assert page.evaluate("document.body.classList.contains('large')")


def test_first_page_uses_at_most_three_requests(app, live_server, phone, demo_wave):
    token = channel_token(app)
    page = phone.new_page()
    page.goto(f"{live_server}/s/{token}")
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    # A cold cache: clear it so the questionnaire page pays for everything.
    client = phone.new_cdp_session(page)
    client.send("Network.clearBrowserCache")
    client.send("Network.setCacheDisabled", {"cacheDisabled": True})
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    assert len(seen) <= 3, seen
    assert all(u.startswith(live_server) for u in seen)  # no third-party requests


def test_phone_back_button_shows_the_page_before(app, live_server, phone, demo_wave):
    """The phone's own Back button, not only 上一页: the page before comes back
    with what was entered, from the phone's cache (no "Confirm Form Resubmission",
    nothing sent again). Once the receipt is shown, the questionnaire's pages are
    gone from the cache: the next person on a shared phone cannot page back to them."""
    token = channel_token(app)
    page = phone.new_page()
    posts = []  # as the server saw them (Playwright also reports pages from the cache)
    inner = app.wsgi_app

    def counting(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            posts.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = counting
    page.goto(f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _fill_first_page(page, "男")
    click_and_load(page, page.get_by_role("button", name="下一页"))
    assert page.locator("input[name=s_air]").count()
    sent = len(posts)
    page.go_back(wait_until="load")  # raised net::ERR_CACHE_MISS while pages were no-store
    assert page.get_by_label("30-39岁").is_checked()
    assert len(posts) == sent  # shown from the cache, not posted again
    page.get_by_label("女").check()  # a changed answer, sent on from the page before
    click_and_load(page, page.get_by_role("button", name="下一页"))
    _fill_second_page(page)
    click_and_load(page, page.get_by_role("button", name="下一页"))
    page.get_by_label("垃圾分类").check()
    page.get_by_label("知道", exact=True).check()
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert page.locator(".receipt strong").inner_text()
    (stored,) = _stored(app)
    assert stored.sex == "女"
    sent = len(posts)
    with pytest.raises(PlaywrightError, match="ERR_CACHE_MISS"):
        page.go_back(wait_until="load")  # the last page is no longer kept
    page.wait_for_load_state("load")  # Chromium's own error page
    assert page.locator("input[name=activities]").count() == 0
    assert len(posts) == sent


LINES = """el => { const r = document.createRange(); r.selectNodeContents(el);
  return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; }"""


def test_large_text_at_320_px_breaks_no_word(app, live_server, browser, demo_wave):
    """适老模式 on a 320 px phone: the text-size link (标准字\\n号) and the buttons
    (提交问\\n卷) broke across lines, and the title left its last character alone."""
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}?large=1")
    assert page.locator(".top a").evaluate(LINES) == 1
    title = page.locator(".brand").evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return Array.from(r.getClientRects()).map(x => Math.round(x.width)); }"
    )
    assert len(title) == 1 or min(title) > max(title) / 2  # no lone last character
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    for button in page.locator(".nav button").all():
        assert button.evaluate(LINES) == 1, button.inner_text()
    context.close()


def _to_last_page(page):
    _fill_first_page(page)
    click_and_load(page, page.get_by_role("button", name="下一页"))
    _fill_second_page(page)
    click_and_load(page, page.get_by_role("button", name="下一页"))
    page.get_by_label("垃圾分类").check()
    page.get_by_label("知道", exact=True).check()


def _answer_to_the_receipt(page, landing: str) -> str:
    """From the channel's landing page to the thank-you page: the receipt code shown."""
    page.goto(landing)
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    return page.locator(".receipt strong").inner_text()


def test_without_clear_site_data_back_after_the_receipt_leaves_for_the_landing_page(
    app, live_server, phone, demo_wave, monkeypatch
):
    """Browsers that ignore Clear-Site-Data (older Safari, some in-app views) kept
    the answered pages for Back: app.js now leaves them for the landing page once
    the questionnaire has ended in the tab."""
    from flask import make_response

    from survey.respond import controllers

    monkeypatch.setattr(controllers, "forgetting_pages", make_response)  # as if ignored
    token = channel_token(app)
    page = phone.new_page()
    page.goto(f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert page.locator(".receipt strong").inner_text()
    page.go_back(wait_until="load")  # the last page, from the cache: app.js moves on
    page.wait_for_url(f"{live_server}/s/{token}", timeout=5000)
    assert page.locator("input[name=activities]").count() == 0
    # A new questionnaire in the same tab is not sent away.
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    page.wait_for_timeout(300)
    assert page.locator("input[name=age_group]").count() and "/start" in page.url


def test_a_page_restored_by_back_is_not_left_blocked_by_its_last_tap(
    app, live_server, phone, demo_wave
):
    """A page kept whole by the back-forward cache comes back as it was left: its
    submit button disabled and the form marked sent by the tap that left it, so
    下一页 did nothing for up to 8 seconds."""
    page = phone.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    button = page.get_by_role("button", name="下一页")
    page.evaluate("""() => { const f = document.getElementById('answers');
        f.setAttribute('data-sent', '1'); f.querySelector('[data-once]').disabled = true;
        window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true})); }""")
    assert button.is_enabled()
    assert page.evaluate("document.getElementById('answers').hasAttribute('data-sent')") is False


def test_back_still_works_after_the_text_size_button(app, live_server, phone, demo_wave):
    """The text-size button changes the session cookie; with "Vary: Cookie" every
    page kept before it stopped matching, and Back showed "Confirm Form
    Resubmission" again, for the residents who most need large text."""
    page = phone.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _fill_first_page(page)
    click_and_load(page, page.get_by_role("button", name="下一页"))
    click_and_load(page, page.get_by_role("button", name="大字模式"))
    assert page.evaluate("document.body.classList.contains('large')")
    click_and_load(page, page.get_by_role("button", name="标准字号"))
    page.go_back(wait_until="load")  # the page the button made (it changed the session)
    assert page.evaluate("document.body.classList.contains('large')")
    page.go_back(wait_until="load")  # page 2 as it was (ERR_CACHE_MISS before)
    assert page.locator("input[name=s_air]").count()
    page.go_back(wait_until="load")  # and page 1
    assert page.get_by_label("30-39岁").is_checked()


def test_enter_in_a_field_goes_on_instead_of_switching_the_text_size(
    app, live_server, phone, demo_wave
):
    """Enter (a phone keyboard's 前往) in the number field of the last page pressed
    the form's first submit button, the text-size button in the header: the page
    came back in large text and nothing was submitted."""
    page = phone.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    field = page.locator("input[name=years_here]")
    field.fill("20")
    with page.expect_navigation(wait_until="load"):
        field.press("Enter")
    assert page.locator(".receipt strong").inner_text()
    assert not page.evaluate("document.body.classList.contains('large')")
    (stored,) = _stored(app)
    assert stored.answers["years_here"] == 20


@pytest.mark.parametrize("typed", ["12年", "十二", "1e"])
def test_letters_in_a_number_reach_the_server_without_javascript(
    app, live_server, phone_no_js, demo_wave, typed
):
    """The optional 居住年数 was a type=number field: Chromium sent what was typed
    there with letters in it (12年, 十二, 1e) as empty, so the questionnaire was
    stored without that answer and no one was told. A text field with a number
    keypad sends it: the page comes back saying what is wrong, nothing stored."""
    page = phone_no_js.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    page.locator("input[name=years_here]").press_sequentially(typed)
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert not page.locator(".receipt").count() and _stored(app) == []
    assert (
        "只能填写数字。请输入 0 到 100 之间的整数" in page.locator("#err-years_here").inner_text()
    )
    assert page.locator("input[name=years_here]").input_value() == typed
    page.locator("input[name=years_here]").fill("12")
    click_and_load(page, page.get_by_role("button", name="提交问卷"))
    assert page.locator(".receipt strong").inner_text()
    assert _stored(app)[0].answers["years_here"] == 12


def test_resending_an_earlier_page_after_the_receipt_leaves_for_the_landing_page(
    app, live_server, phone, demo_wave
):
    """After the receipt, Back gives "Confirm Form Resubmission"; confirming sent
    the earlier page's form again and showed the questionnaire just submitted, and
    上一页 then the first person's answers (a shared phone's next person). A reload
    that sends a page's form again, once the questionnaire ended in this tab
    (the end pages mark the tab), now leaves for the landing page."""
    token = channel_token(app)
    page = phone.new_page()
    page.goto(f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    page.get_by_label("30-39岁").check()
    page.evaluate(f"sessionStorage.setItem('survey:ended:{token}', '1')")  # as the receipt does
    page.reload(wait_until="load")  # headless Chromium sends the form again without asking
    page.wait_for_url(f"{live_server}/s/{token}", timeout=5000)
    assert page.locator("input[name=age_group]").count() == 0
    # Started afresh, the questionnaire is not sent away.
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    page.reload(wait_until="load")
    assert page.locator("input[name=age_group]").count()


def _history(phone, page) -> list[str]:
    """The addresses in the tab's history (what the phone's Back and history keep)."""
    entries = phone.new_cdp_session(page).send("Page.getNavigationHistory")["entries"]
    return [entry["url"] for entry in entries]


def test_the_receipt_code_stays_out_of_the_phones_history(
    app, live_server, phone, demo_wave, monkeypatch
):
    """The thank-you page's address held the receipt code: the phone's history kept
    it, and a shared phone's next person could open it and withdraw the first
    person's answer. The code now comes in a short-lived cookie: no address of the
    path carries it, and once the next person opens the questionnaire (or half an
    hour has passed), the thank-you page from the history shows no code."""
    from survey.respond import receipts

    token = channel_token(app)
    page = phone.new_page()
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    code = _answer_to_the_receipt(page, f"{live_server}/s/{token}")
    (stored,) = _stored(app)
    assert code == stored.receipt_code
    assert page.url == f"{live_server}/s/{token}/thanks"
    navigations = page.evaluate("performance.getEntriesByType('navigation').map(e => e.name)")
    addresses = seen + navigations + _history(phone, page)
    assert not [a for a in addresses if code in a], addresses
    (cookie,) = [c for c in phone.cookies() if c["name"] == receipts.COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == f"/s/{token}"
    assert "sv_receipt" not in page.evaluate("document.cookie")  # no script reads it
    page.reload(wait_until="load")
    assert page.locator(".receipt strong").inner_text() == code  # a reload shows it again

    # Back from the thank-you page: the last page is gone from the cache, no code.
    try:
        page.go_back(wait_until="load")
    except PlaywrightError as exc:  # Chromium's error page (Clear-Site-Data dropped it)
        assert "ERR_CACHE_MISS" in str(exc)
    page.wait_for_load_state("load")
    assert page.locator(".receipt").count() == 0  # Chromium's error page (auto-waits)
    assert code not in page.locator("body").inner_text()
    # From the back-forward cache (no load event) or fetched again: the code either
    # way, within the half hour.
    page.go_forward(wait_until="commit")
    assert page.locator(".receipt strong").inner_text() == code

    # Half an hour later the server refuses the cookie, whatever the phone kept.
    later = time.time() + receipts.COOKIE_SECONDS + 1
    monkeypatch.setattr(receipts, "time", SimpleNamespace(time=lambda: later))
    page.reload(wait_until="load")
    assert "问卷已提交" in page.content() and code not in page.content()
    monkeypatch.undo()
    page.reload(wait_until="load")
    assert page.locator(".receipt strong").inner_text() == code

    # The next person on this phone opens the questionnaire; the history's thank-you
    # page no longer shows the first person's code.
    page.goto(f"{live_server}/s/{token}")
    page.go_back(wait_until="load")
    assert page.url == f"{live_server}/s/{token}/thanks"
    assert "问卷已提交" in page.content() and code not in page.content()
    assert not page.locator(".receipt").count()
    addresses = seen + _history(phone, page)
    assert not [a for a in addresses if code in a], addresses


def test_withdrawing_from_the_thanks_page_keeps_the_code_out_of_addresses(
    app, live_server, phone, demo_wave
):
    """撤回我的回答 and the withdraw page's 大字模式 were links carrying the signed
    receipt; they are buttons of forms now: the code is filled in as before, in
    large text too, and no address in the history holds it."""
    token = channel_token(app)
    page = phone.new_page()
    code = _answer_to_the_receipt(page, f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="撤回我的回答"))
    assert page.url == f"{live_server}/withdraw" and "确认撤回" in page.content()
    assert code in page.locator("main").inner_text()
    click_and_load(page, page.get_by_role("button", name="大字模式"))
    assert page.evaluate("document.body.classList.contains('large')")
    assert "确认撤回" in page.content() and code in page.locator("main").inner_text()
    click_and_load(page, page.get_by_role("link", name="不撤回，返回"))  # the thank-you page
    assert page.url == f"{live_server}/s/{token}/thanks"
    assert page.locator(".receipt strong").inner_text() == code
    page.goto(f"{live_server}/withdraw")
    page.locator("#receipt_code").fill(code)
    page.locator("#receipt_code").press("Enter")  # withdraws, not the size button
    page.wait_for_load_state("load")
    assert "确认撤回" in page.content()
    assert page.evaluate("document.body.classList.contains('large')")
    assert not [a for a in _history(phone, page) if code in a]
    assert _stored(app)[0].withdrawn_at is None  # nothing erased before confirming


def test_after_withdrawing_the_thanks_page_says_so_instead_of_showing_the_code(
    app, live_server, phone, demo_wave
):
    """Back (or a reload) to the thank-you page after withdrawing showed the
    withdrawn code as a live receipt, with 撤回我的回答 again, from its cookie."""
    from survey.respond import receipts

    token = channel_token(app)
    page = phone.new_page()
    code = _answer_to_the_receipt(page, f"{live_server}/s/{token}")
    thanks = page.url
    click_and_load(page, page.get_by_role("button", name="撤回我的回答"))
    click_and_load(page, page.get_by_role("button", name="确认撤回并删除"))
    assert "已撤回并删除" in page.content() and _stored(app)[0].withdrawn_at is not None
    (cookie,) = [c for c in phone.cookies() if c["name"] == receipts.COOKIE]
    assert cookie["path"] == f"/s/{token}"  # the thank-you page's, set from /withdraw
    page.goto(thanks)
    assert page.locator("h1").inner_text() == "您的回答已撤回"
    assert not page.locator(".receipt").count()
    assert not page.get_by_role("button", name="撤回我的回答").count()
    assert f"回执码 {code} 对应的回答已撤回并删除" in page.locator("main").inner_text()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_withdraw_steps_keep_the_resident_where_they_were(
    app, live_server, browser, demo_wave, javascript
):
    """After a wrong code the focus stayed on the page (now: the field, which
    names the error); 大字模式 on the done step was a link to /withdraw?large=1
    showing an empty form (now: the same step); 不撤回，返回 went to the empty
    form (now: the thank-you page the resident came from)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  java_script_enabled=javascript)  # fmt: skip
    page = context.new_page()
    token = channel_token(app)
    page.goto(f"{live_server}/withdraw")
    page.locator("#receipt_code").fill("zz")
    click_and_load(page, page.get_by_role("button", name="撤回并删除"))
    assert page.evaluate("document.activeElement.id") == "receipt_code"
    assert page.title().startswith("有错误：")
    code = _answer_to_the_receipt(page, f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="撤回我的回答"))
    click_and_load(page, page.get_by_role("link", name="不撤回，返回"))
    assert page.url == f"{live_server}/s/{token}/thanks"
    click_and_load(page, page.get_by_role("button", name="撤回我的回答"))
    click_and_load(page, page.get_by_role("button", name="确认撤回并删除"))
    said = f"回执码 {code} 对应的回答已撤回并删除。"
    assert said in page.locator("main").inner_text()
    click_and_load(page, page.get_by_role("button", name="大字模式"))
    assert page.evaluate("document.body.classList.contains('large')")
    assert said in page.locator("main").inner_text() and not page.locator("#receipt_code").count()
    assert not [a for a in _history(context, page) if code in a]
    context.close()


#: The size of every visible target meant to be tapped (a choice's target is its row).
TARGETS = """() => Array.from(document.querySelectorAll('a, button, input, textarea, label.opt-row'))
  .filter(el => el.offsetParent !== null && !el.closest('.hp') && !el.classList.contains('skip')
          && !['hidden', 'radio', 'checkbox'].includes(el.type))
  .map(el => { const r = el.getBoundingClientRect();
               return [(el.innerText || el.name || '').slice(0, 14), r.width, r.height]; })"""


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
def test_every_resident_target_is_at_least_44_px(app, live_server, phone, demo_wave, large):
    """The thank-you page's 撤回我的回答 was a link-styled button 23 px tall, the
    header's text-size link 24 px and button 35 px, the error summary's links 24
    px: at 360 px, in both text sizes, every target is at least 44×44 CSS px."""
    token = channel_token(app)
    page = phone.new_page()
    small = []

    def measure(name):
        page.wait_for_load_state("load")
        targets = page.evaluate(TARGETS)
        assert targets, name
        small.extend((name, *t) for t in targets if t[1] < 44 or t[2] < 44)

    page.goto(f"{live_server}/s/{token}?large={int(large)}")
    measure("landing")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    click_and_load(page, page.get_by_role("button", name="下一页"))
    measure("errors")
    code = _answer_to_the_receipt(page, f"{live_server}/s/{token}")
    measure("thanks")
    click_and_load(page, page.get_by_role("button", name="撤回我的回答"))
    measure("confirm")
    click_and_load(page, page.get_by_role("button", name="确认撤回并删除"))
    measure("done")
    page.goto(f"{live_server}/withdraw")
    page.locator("#receipt_code").fill(code[:3])
    click_and_load(page, page.get_by_role("button", name="撤回并删除"))
    measure("withdraw form")
    page.context.clear_cookies()
    page.goto(f"{live_server}/s/{token}/thanks?large={int(large)}")
    measure("thanks, no code")
    page.goto(f"{live_server}/s/{token}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    _to_last_page(page)
    measure("last page")
    assert small == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_restart_page_says_the_answers_are_kept_only_with_javascript(
    app, live_server, browser, demo_wave, javascript
):
    """ "您已填写的内容仍保存在本机" was said without JavaScript too, where nothing
    keeps the answers: app.js shows it, and hides 重新开始后需要重新填写."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  java_script_enabled=javascript)  # fmt: skip
    page = context.new_page()
    page.goto(f"{live_server}/s/{channel_token(app)}")
    click_and_load(page, page.get_by_role("button", name="同意并开始填写"))
    page.get_by_label("30-39岁").check()
    context.clear_cookies()  # the device cookie gone: the form is refused
    click_and_load(page, page.get_by_role("button", name="下一页"))
    text = page.locator("main").inner_text()
    assert "请允许本网站使用 Cookie" in text
    assert ("仍保存在本机" in text) is javascript
    assert ("重新开始后需要重新填写" in text) is not javascript
    context.close()
