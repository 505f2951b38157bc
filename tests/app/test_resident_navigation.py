"""Getting about the resident's pages: the text-size toggle on every page (the
questionnaire's pages answer a POST, which a link cannot repeat), 上一页 keeping
what is entered on the page left, POST-only addresses opened directly, and
answers kept on a shared phone forgotten when the questionnaire ends early, and
the pages the phone may keep for its Back button."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update

from survey.extensions import db
from survey.models import QuotaCell, Response, Wave
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete, start, submit_page

LARGE_BODY = '<body class="large">'


def _html(response) -> str:
    return response.get_data(as_text=True)


def _toggle(client, token: str, page_html: str, size: str, answers: dict | None = None):
    """Press the text-size button of a questionnaire page after entering *answers*."""
    data = {**form_tokens(page_html), **(answers or {}), "text_size": size}
    return client.post(f"/s/{token}/page", data=data)


def _responses(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def test_questionnaire_pages_toggle_with_a_button_of_their_form(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    assert '<form id="answers" method="post"' in html
    button = re.search(r"<button[^>]*text_size[^>]*>([^<]*)</button>", html)
    assert button and button.group(1) == "大字模式"
    assert 'form="answers"' in button.group(0) and "formnovalidate" in button.group(0)
    assert 'value="large"' in button.group(0)
    assert "?large=" not in html  # no link to a POST-only address


def test_toggle_shows_the_same_page_with_what_was_entered(app, client, demo_wave):
    token = channel_token(app)
    first = _html(start(client, token))
    partial = {"age_group": "30-39岁", "sex": "女"}  # required questions left out
    large = _toggle(client, token, first, "large", partial)
    html = _html(large)
    assert large.status_code == 200
    assert LARGE_BODY in html
    assert "第 1 页" in html and 'name="age_group"' in html  # not advanced
    assert "has-error" not in html and "error-summary" not in html  # not validated
    assert 'value="30-39岁" checked' in html and 'value="女" checked' in html
    assert re.search(r'value="standard"[^>]*>标准字号<', html)
    # the setting sticks: the next page and a link-reached page are large too
    second = submit_page(client, token, html, STANDARD_PAGES[0])
    assert second.status_code == 200 and "s_air" in _html(second)
    assert LARGE_BODY in _html(second)
    assert LARGE_BODY in _html(client.get("/withdraw"))
    # and back to the standard size on page 2, answers kept
    standard = _toggle(client, token, _html(second), "standard", {"s_air": "5"})
    assert standard.status_code == 200 and "第 2 页" in _html(standard)
    assert LARGE_BODY not in _html(standard)
    assert re.search(r'name="s_air" value="5" checked', _html(standard))
    assert _responses(app) == 0


def test_answers_of_earlier_pages_survive_a_toggle(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    html = _html(submit_page(client, token, html, STANDARD_PAGES[0]))
    html = _html(_toggle(client, token, html, "large", STANDARD_PAGES[1]))
    assert "第 2 页" in html and 'name="s_air" value="5" checked' in html
    html = _html(submit_page(client, token, html, STANDARD_PAGES[1]))
    html = _html(_toggle(client, token, html, "standard"))
    assert "第 3 页" in html and LARGE_BODY not in html
    done = submit_page(client, token, html, STANDARD_PAGES[2])
    assert done.status_code == 303 and done.headers["Location"].endswith("/thanks")
    with app.app_context():
        (stored,) = db.session.scalars(select(Response))
        assert stored.sex == "男" and stored.district == "咸安区"


def test_toggle_on_the_last_page_does_not_submit(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    for answers in STANDARD_PAGES[:2]:
        html = _html(submit_page(client, token, html, answers))
    toggled = _toggle(client, token, html, "large", STANDARD_PAGES[2])
    assert toggled.status_code == 200 and "提交问卷" in _html(toggled)
    assert _responses(app) == 0


def test_toggle_after_going_back_shows_what_is_entered_now(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    html = _html(submit_page(client, token, html, STANDARD_PAGES[0]))
    back = client.post(f"/s/{token}/page", data={**form_tokens(html), "back": "1"})
    changed = {**STANDARD_PAGES[0], "sex": "女"}
    html = _html(_toggle(client, token, _html(back), "large", changed))
    assert 'value="女" checked' in html and 'value="男" checked' not in html


def test_toggle_checks_csrf_and_the_signed_state(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    tokens = form_tokens(html)
    no_csrf = client.post(f"/s/{token}/page", data={"state": tokens["state"], "text_size": "large"})
    assert no_csrf.status_code == 400 and LARGE_BODY not in _html(no_csrf)
    forged = {**tokens, "state": tokens["state"][:-2] + "xx", "text_size": "large"}
    refused = client.post(f"/s/{token}/page", data=forged)
    assert refused.status_code == 400 and "重新开始" in _html(refused)
    assert LARGE_BODY not in _html(client.get(f"/s/{token}"))  # not switched either time


def test_kept_pages_follow_the_toggled_size(app, demo_wave):
    token = channel_token(app)
    alice = app.test_client()
    # nothing entered: the large page comes from (and goes into) the page cache
    large = _html(_toggle(alice, token, _html(start(alice, token)), "large"))
    assert LARGE_BODY in large and "标准字号" in large
    bob = _html(start(app.test_client(), token))
    assert LARGE_BODY not in bob and "大字模式" in bob and "标准字号" not in bob
    assert form_tokens(bob)["csrf_token"] != form_tokens(large)["csrf_token"]
    again = _html(_toggle(alice, token, large, "standard"))
    assert LARGE_BODY not in again and "大字模式" in again


def test_a_post_only_address_opened_directly_leads_to_the_landing_page(app, client, demo_wave):
    token = channel_token(app)
    for path in ("page", "start"):
        response = client.get(f"/s/{token}/{path}")
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/s/{token}")
    assert client.get(f"/s/{token}/page", follow_redirects=True).status_code == 200
    assert client.get("/s/no-such-channel/page").status_code == 404
    assert client.get("/s/no-such-channel/start").status_code == 404


def test_the_link_toggle_on_a_page_answering_a_post_saves_the_size(app, client, demo_wave):
    """Pages that end the questionnaire early keep the link: it reaches the landing page."""
    token = channel_token(app)
    ended = submit_page(client, token, _html(start(client, token)),
                        {**STANDARD_PAGES[0], "age_group": "under18"})  # fmt: skip
    assert 'href="?large=1"' in _html(ended)
    response = client.get(f"/s/{token}/page?large=1")
    assert response.status_code == 303
    assert LARGE_BODY in _html(client.get(response.headers["Location"]))


def _clears_storage(html: str, token: str) -> bool:
    """The hook with which app.js forgets the channel's answers kept on the phone."""
    return f'data-clear="{token}"' in html


def test_screen_outs_clear_the_answers_kept_on_the_phone(app, demo_wave):
    token = channel_token(app)
    for screened in ({"age_group": "under18"}, {"residence": "no"}, {"env_staff": "yes"}):
        client = app.test_client()
        response = submit_page(client, token, _html(start(client, token)),
                               {**STANDARD_PAGES[0], **screened})  # fmt: skip
        html = _html(response)
        assert response.status_code == 200 and "感谢您的关注" in html, screened
        assert _clears_storage(html, token), screened


def test_quota_full_pages_clear_the_answers_kept_on_the_phone(app, client, demo_wave, monkeypatch):
    from survey.operations import quota_gate

    token = channel_token(app)
    monkeypatch.setattr(quota_gate, "is_full_before_submit", lambda channel, cells: True)
    response = submit_page(client, token, _html(start(client, token)), STANDARD_PAGES[0])
    html = _html(response)
    assert "名额已满" in html and _clears_storage(html, token)


def test_the_thanks_page_clears_them_with_the_same_hook(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    for answers in STANDARD_PAGES:
        response = submit_page(client, token, html, answers)
        html = _html(response)
    assert _clears_storage(_html(client.get(response.headers["Location"])), token)


def _back(client, token: str, page_html: str, answers: dict | None = None):
    """Press 上一页 after entering *answers* (the browser sends the whole form)."""
    data = {**form_tokens(page_html), **(answers or {}), "back": "1"}
    return client.post(f"/s/{token}/page", data=data)


def _to_last_page(client, token: str) -> str:
    html = _html(start(client, token))
    for answers in STANDARD_PAGES[:2]:
        html = _html(submit_page(client, token, html, answers))
    assert "第 3 页" in html
    return html


def test_back_keeps_what_was_entered_on_the_page_left(app, client, demo_wave):
    token = channel_token(app)
    html = _to_last_page(client, token)
    entered = {"activities": ["sorting", "planting"], "awareness": "heard",
               "years_here": "12", "suggestion": "多种树"}  # fmt: skip
    back = _back(client, token, html, entered)
    assert back.status_code == 200 and "第 2 页" in _html(back)
    again = _html(submit_page(client, token, _html(back), STANDARD_PAGES[1]))
    assert "第 3 页" in again
    assert 'value="sorting" checked' in again and 'value="planting" checked' in again
    assert 'value="green_travel" checked' not in again
    assert 'value="heard" checked' in again
    assert 'value="12"' in again and ">多种树</textarea>" in again
    assert _responses(app) == 0


def test_back_does_not_check_the_page_left_and_its_answers_are_checked_later(
    app, client, demo_wave
):
    token = channel_token(app)
    html = _to_last_page(client, token)
    back = _back(client, token, html, {"awareness": "heard", "years_here": "十二"})
    assert back.status_code == 200
    assert "has-error" not in _html(back) and "error-summary" not in _html(back)
    again = _html(submit_page(client, token, _html(back), STANDARD_PAGES[1]))
    assert 'value="十二"' in again  # shown as typed, still not checked
    refused = submit_page(client, token, again, {"awareness": "heard", "years_here": "十二"})
    assert refused.status_code == 422 and _responses(app) == 0
    done = submit_page(client, token, _html(refused), STANDARD_PAGES[2])
    assert done.status_code == 303
    with app.app_context():
        (stored,) = db.session.scalars(select(Response))
        assert stored.answers["years_here"] == 12


def test_back_twice_keeps_both_pages_and_a_field_emptied_stays_empty(app, client, demo_wave):
    token = channel_token(app)
    html = _to_last_page(client, token)
    html = _html(_back(client, token, html, {"awareness": "heard"}))
    # page 2 had s_air answered; it is left with s_air unanswered and s_water changed
    page_two = {k: v for k, v in STANDARD_PAGES[1].items() if k != "s_air"} | {"s_water": "1"}
    html = _html(_back(client, token, html, page_two))
    assert "第 1 页" in html and 'value="30-39岁" checked' in html
    html = _html(submit_page(client, token, html, STANDARD_PAGES[0]))
    assert "第 2 页" in html
    assert 'name="s_air" value="5" checked' not in html and 's_air" value=' in html
    assert 'name="s_water" value="1" checked' in html
    html = _html(submit_page(client, token, html, STANDARD_PAGES[1]))
    assert "第 3 页" in html and 'value="heard" checked' in html


def test_a_page_kept_after_back_is_not_shown_to_anyone_else(app, demo_wave):
    token = channel_token(app)
    alice = app.test_client()
    html = _to_last_page(alice, token)
    html = _html(_back(alice, token, html, {"awareness": "heard", "suggestion": "多种树"}))
    _html(submit_page(alice, token, html, STANDARD_PAGES[1]))
    bob = _to_last_page(app.test_client(), token)
    assert "多种树" not in bob and 'value="heard" checked' not in bob


def test_resident_pages_kept_only_for_back_and_forgotten_at_the_end(client, app, demo_wave):
    """Questionnaire pages may stay in the phone's own cache for its Back button
    (never a proxy's, never reused for a new request); every other page is never
    kept, and the pages that end the questionnaire make the browser drop them."""
    token = channel_token(app)
    landing = client.get(f"/s/{token}")
    assert landing.headers["Cache-Control"] == "no-store"
    first = start(client, token)
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Clear-Site-Data" not in first.headers
    invalid = submit_page(client, token, first.get_data(as_text=True), {})
    assert invalid.status_code == 422 and invalid.headers["Cache-Control"] == "private, no-cache"
    done = complete(client, token)
    assert done.status_code == 303 and done.headers["Cache-Control"] == "no-store"
    thanks = client.get(done.headers["Location"])
    assert thanks.status_code == 200 and thanks.headers["Cache-Control"] == "no-store"
    assert thanks.headers["Clear-Site-Data"] == '"cache"'
    assert client.get("/withdraw").headers["Cache-Control"] == "no-store"
    assert "Clear-Site-Data" not in client.get("/withdraw").headers


def test_screen_out_and_full_quota_forget_the_pages_kept_for_back(client, app, demo_wave):
    token = channel_token(app)
    first = start(client, token)
    page = {**STANDARD_PAGES[0], "age_group": "under18"}
    out = submit_page(client, token, first.get_data(as_text=True), page)
    assert "18 岁及以上" in out.get_data(as_text=True)
    assert out.headers["Cache-Control"] == "no-store"
    assert out.headers["Clear-Site-Data"] == '"cache"'
    with app.app_context(), db.write() as session:
        session.execute(update(QuotaCell).where(QuotaCell.wave_id == demo_wave).values(target=0))
        session.execute(update(Wave).where(Wave.id == demo_wave).values(quota_policy="close"))
    first = start(client, token)
    full = submit_page(client, token, first.get_data(as_text=True), STANDARD_PAGES[0])
    assert "名额已满" in full.get_data(as_text=True)
    assert full.headers["Cache-Control"] == "no-store"
    assert full.headers["Clear-Site-Data"] == '"cache"'


def test_pages_that_end_a_questionnaire_otherwise_forget_the_pages_kept_too(client, app, demo_wave):
    """A form to start again (tampered or expired) and a closed channel end the
    questionnaire as well: the pages kept for Back are dropped there too."""
    from survey.models import Channel
    from survey.operations.cities import set_channel_open

    token = channel_token(app)
    first = start(client, token)
    data = {**form_tokens(first.get_data(as_text=True)), "state": "2.forged.0.x"}
    restart = client.post(f"/s/{token}/page", data=data)
    assert restart.status_code == 400 and restart.headers["Clear-Site-Data"] == '"cache"'
    with app.app_context():
        set_channel_open(db.session.scalar(select(Channel).filter_by(token=token)), False)
    closed = client.get(f"/s/{token}")
    assert closed.status_code == 410 and closed.headers["Clear-Site-Data"] == '"cache"'


def test_a_screen_out_by_a_mis_tap_can_start_again(app, client, demo_wave):
    """18岁以下 is the age question's first option: a mis-tap there (or on 否/是)
    ended the questionnaire on a page with no way on. It links to the landing
    page, where the resident consents and answers again."""
    token = channel_token(app)
    response = submit_page(client, token, _html(start(client, token)),
                           {**STANDARD_PAGES[0], "age_group": "under18"})  # fmt: skip
    html = _html(response)
    link = re.search(r'<a class="button[^"]*" href="([^"]+)">重新填写</a>', html)
    assert link and link.group(1) == f"/s/{token}" and "如果刚才选错了" in html
    again = client.get(link.group(1))
    assert again.status_code == 200 and "同意并开始填写" in _html(again)
