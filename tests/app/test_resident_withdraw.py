"""Withdrawing an answer at /withdraw: the code typed is kept when it is not
found, the code withdrawn is shown as issued, nothing is erased before the
resident confirms, and the thank-you page's link fills the form in."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from tests.conftest import form_tokens
from tests.resident import channel_token, complete, receipt_of


def _html(response) -> str:
    return response.get_data(as_text=True)


def _answered(app, client) -> tuple[str, str]:
    """Complete the questionnaire: (receipt code, thank-you page)."""
    final = complete(client, channel_token(app))
    thanks = _html(client.get(final.headers["Location"]))
    return re.search(r"<strong>([A-Z0-9-]{9})</strong>", thanks).group(1), thanks


def _post(client, data: dict):
    csrf = form_tokens(_html(client.get("/withdraw")))["csrf_token"]
    return client.post("/withdraw", data={"csrf_token": csrf, **data})


def _withdrawn(app) -> bool:
    with app.app_context():
        (response,) = db.session.scalars(select(Response))
        return response.withdrawn_at is not None


def _field_value(html: str) -> str | None:
    found = re.search(r'<input[^>]*id="receipt_code"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else None


def test_a_code_not_found_stays_in_the_field(app, client, demo_wave):
    response = _post(client, {"receipt_code": "zz99 zz99"})
    html = _html(response)
    assert response.status_code == 404 and "没有找到回执码 ZZ99-ZZ99" in html
    assert _field_value(html) == "zz99 zz99"  # as typed, to correct it


def test_withdrawal_asks_to_confirm_then_names_the_code_as_issued(app, client, demo_wave):
    code, _ = _answered(app, client)
    typed = code.lower().replace("-", " ")
    asked = _post(client, {"receipt_code": typed})
    html = _html(asked)
    assert asked.status_code == 200 and "确认撤回？此操作不可恢复" in html
    assert f'name="receipt_code" value="{code}"' in html
    assert re.search(r'<button[^>]*name="confirm"', html)
    assert not _withdrawn(app)  # nothing erased yet
    done = client.post("/withdraw", data={**form_tokens(html), "receipt_code": code,
                                          "confirm": "1"})  # fmt: skip
    assert done.status_code == 200 and f"回执码 {code} 对应的回答已撤回并删除" in _html(done)
    assert typed not in _html(done)
    assert _withdrawn(app)
    again = _post(client, {"receipt_code": code, "confirm": "1"})  # see the next test
    assert again.status_code == 200 and "已经撤回并删除，无需再次撤回" in _html(again)


def test_a_withdrawal_sent_again_says_the_answer_is_withdrawn(app, client, demo_wave):
    """The confirm button tapped again (its first answer lost on a weak network,
    or Back and resend) said 没有找到回执码 … in red, of a withdrawal that had
    succeeded; so did the thank-you page's button afterwards. Both say that the
    answer is withdrawn, and give this phone's thank-you page the withdrawal's
    cookie. A code never given is still not found."""
    code, thanks = _answered(app, client)
    asked = _html(client.post("/withdraw", data=_thanks_form(thanks)))
    confirm = {**form_tokens(asked), "receipt_code": code, "confirm": "1"}
    assert "已撤回并删除" in _html(client.post("/withdraw", data=confirm))
    assert _withdrawn(app)
    for data in (confirm, _thanks_form(thanks)):
        again = client.post("/withdraw", data=data)
        html = _html(again)
        assert again.status_code == 200, data
        assert f"回执码 {code} 对应的回答已经撤回并删除，无需再次撤回" in html
        assert "没有找到" not in html and 'class="error"' not in html
        assert receipt_of(again) == code  # the withdrawal's cookie, for the thank-you page
    never = _post(client, {"receipt_code": "ZZZZ-ZZZZ", "confirm": "1"})
    assert never.status_code == 404 and "没有找到回执码 ZZZZ-ZZZZ" in _html(never)
    assert receipt_of(never) is None


def test_the_confirm_step_keeps_csrf_and_the_rate_limit(app, client, demo_wave):
    code, _ = _answered(app, client)
    no_token = client.post("/withdraw", data={"receipt_code": code, "confirm": "1"})
    assert no_token.status_code == 400 and not _withdrawn(app)
    app.config["RATE_LIMITS"] = {"withdraw_client": [1, 3600]}
    assert _post(client, {"receipt_code": code}).status_code == 200
    assert _post(client, {"receipt_code": code, "confirm": "1"}).status_code == 429
    assert not _withdrawn(app)


def _thanks_form(html: str) -> dict:
    """The fields the thank-you page's 撤回我的回答 button posts to /withdraw."""
    form = re.search(r'<form method="post" action="/withdraw">(.*?)</form>', html, re.S).group(1)
    assert "撤回我的回答" in form
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_the_thanks_page_button_asks_to_confirm_the_residents_own_code(app, client, demo_wave):
    """The thank-you page's link put the signed receipt in the address
    (/withdraw?receipt=...), kept by the phone's history: its button posts it."""
    code, thanks = _answered(app, client)
    assert "/withdraw?" not in thanks and 'href="/withdraw"' not in thanks
    asked = client.post("/withdraw", data=_thanks_form(thanks))
    html = _html(asked)
    assert asked.status_code == 200 and "确认撤回？此操作不可恢复" in html
    assert f'name="receipt_code" value="{code}"' in html
    assert not _withdrawn(app)  # erased only once confirmed


def test_links_of_thanks_pages_shown_before_still_fill_in_the_code(app, client, demo_wave):
    from survey.respond import receipts

    code, _ = _answered(app, client)
    with app.test_request_context():
        signed = receipts.sign(code, receipts.channel_of(code))
    assert _field_value(_html(client.get(f"/withdraw?receipt={signed}"))) == code
    # only a signed receipt fills it in: a code put in the address by hand does not
    assert _field_value(_html(client.get(f"/withdraw?receipt={code}"))) == ""
    assert _field_value(_html(client.get(f"/withdraw?receipt={code}.forged"))) == ""
    assert not _withdrawn(app)  # opening the link erases nothing


def test_head_requests_do_not_use_up_the_withdraw_limit(app, client, demo_wave):
    """A HEAD request (a link checker, a preview bot) was treated as a withdrawal
    attempt: eleven of them used up the limit, and the resident then got a 429
    page speaking of questionnaires submitted."""
    code, _ = _answered(app, client)
    app.config["RATE_LIMITS"] = {"withdraw_client": [2, 3600]}
    assert {client.head("/withdraw").status_code for _ in range(5)} == {200}
    assert _post(client, {"receipt_code": code}).status_code == 200  # asked to confirm
    _post(client, {"receipt_code": code})
    refused = _post(client, {"receipt_code": code})
    assert refused.status_code == 429
    assert "尝试撤回的次数过多" in _html(refused) and "填写的内容" not in _html(refused)


def _text_size_button(html: str) -> tuple[str, str]:
    button = re.search(r'<button type="submit" form="withdraw" name="text_size" value="(\w+)"',
                       html)  # fmt: skip
    assert button, "no text-size button of the withdraw form"
    return "text_size", button.group(1)


def test_the_text_size_button_keeps_the_code_out_of_the_address(app, client, demo_wave):
    """大字模式 on the withdraw page was a link that carried the signed receipt
    (/withdraw?large=1&receipt=...), into the phone's history: it is a button of
    the form now, posting what is in the field; nothing checked, counted or erased."""
    code, thanks = _answered(app, client)
    app.config["RATE_LIMITS"] = {"withdraw_client": [1, 3600]}
    confirm = _html(client.post("/withdraw", data=_thanks_form(thanks)))  # counts the one
    assert 'href="?large' not in confirm and "receipt=" not in confirm
    name, value = _text_size_button(confirm)
    large = client.post("/withdraw", data={**form_tokens(confirm), "receipt_code": code,
                                           name: value})  # fmt: skip
    assert large.status_code == 200 and 'class="large"' in _html(large)
    assert _field_value(_html(large)) == code
    # from the form, with a code typed: kept as typed, in the other size again
    name, value = _text_size_button(_html(large))
    back = client.post("/withdraw", data={**form_tokens(_html(large)), "receipt_code": "ab cd",
                                          name: value})  # fmt: skip
    assert back.status_code == 200 and 'class="large"' not in _html(back)
    assert _field_value(_html(back)) == "ab cd"
    assert not _withdrawn(app)
    # Enter in the field sends the form's first button: the hidden 撤回并删除, not the size
    first = re.search(r'<button type="submit" form="withdraw"([^>]*)>', _html(back)).group(1)
    assert "text_size" not in first and 'class="hp"' in first
    # the size button needs the form's CSRF token as every resident form does
    refused = client.post("/withdraw", data={"receipt_code": code, name: value})
    assert refused.status_code == 400


def test_a_code_typed_on_a_chinese_keyboard_is_found(app, client, demo_wave):
    """A Chinese keyboard in full-width mode types ＡＢＣＤ－２３４５, and its dash key
    often gives "—": such a code was "not found" (normalised, only spaces were
    dropped), and the resident was told to check a code that was right."""
    code, _ = _answered(app, client)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code.lower().replace("-", ""))
    for typed in (f"{wide[:4]}－{wide[4:]}", f"{code[:4]}—{code[4:]}", f" {code[:4]}\u3000{code[4:]} ",
                  f"{code[:4]} – {code[4:]}".lower()):  # fmt: skip
        asked = _post(client, {"receipt_code": typed})
        assert asked.status_code == 200 and "确认撤回？此操作不可恢复" in _html(asked), typed
        assert f'name="receipt_code" value="{code}"' in _html(asked)
    assert not _withdrawn(app)


def test_a_code_of_the_wrong_shape_says_what_a_code_looks_like(app, client, demo_wave):
    """ "没有找到回执码 ABC" for three characters typed: say what a code is."""
    for typed in ("abc", "ABCD-23456", "回执码"):
        response = _post(client, {"receipt_code": typed})
        html = _html(response)
        assert response.status_code == 422 and "没有找到" not in html, typed
        assert "回执码由 8 个字母和数字组成，例如 ABCD-2345" in html
        assert _field_value(html) == typed  # as typed, to correct it


def test_the_error_is_the_fields_description(app, client, demo_wave):
    """A screen reader on the field read no error: the field names it now."""
    for typed, status in (("", 422), ("zzzz-zzzz", 404), ("ab", 422)):
        response = _post(client, {"receipt_code": typed})
        html = _html(response)
        assert response.status_code == status, typed
        field = re.search(r'<input[^>]*id="receipt_code"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field and 'aria-describedby="receipt-error"' in field
        assert re.search(r'<p class="error" id="receipt-error" role="alert">', html)
    field = re.search(r'<input[^>]*id="receipt_code"[^>]*>', _html(client.get("/withdraw")))
    assert "aria-invalid" not in field.group(0) and 'autocapitalize="characters"' in field.group(0)


def test_the_text_size_button_of_the_confirm_step_stays_on_it(app, client, demo_wave):
    """大字模式 on the confirm step went back to the form: the resident, often
    elderly, had to send the code again to be asked again. It stays on the
    confirm step (nothing checked, counted or erased: confirming checks)."""
    code, thanks = _answered(app, client)
    confirm = _html(client.post("/withdraw", data=_thanks_form(thanks)))
    name, value = _text_size_button(confirm)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm))
    large = client.post("/withdraw", data={**fields, name: value})
    html = _html(large)
    assert large.status_code == 200 and 'class="large"' in html
    assert "确认撤回？此操作不可恢复" in html and _field_value(html) is None
    assert f'name="receipt_code" value="{code}"' in html and not _withdrawn(app)
    # a code of no shape the site gives: the form, as typed
    forged = client.post("/withdraw", data={**fields, "receipt_code": "<b>", name: value})
    assert "确认撤回" not in _html(forged) and _field_value(_html(forged)) == "&lt;b&gt;"


def _hidden_fields(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_the_text_size_button_of_the_done_step_stays_on_it(app, client, demo_wave):
    """大字模式 on the page saying the answer was withdrawn was a link to
    /withdraw?large=1: the resident was shown an empty form instead of what
    they were reading. It is a button posting the code as the server signed it
    there (not in the address): the same step, in the other size."""
    code, thanks = _answered(app, client)
    confirm = _html(client.post("/withdraw", data=_thanks_form(thanks)))
    done = _html(client.post("/withdraw", data={**_hidden_fields(confirm), "confirm": "1"}))
    assert "已撤回并删除" in done and 'href="?large' not in done and "receipt=" not in done
    name, value = _text_size_button(done)
    large = client.post("/withdraw", data={**_hidden_fields(done), name: value})
    html = _html(large)
    assert large.status_code == 200 and 'class="large"' in html
    assert f"回执码 {code} 对应的回答已撤回并删除。" in html and _field_value(html) is None
    assert receipt_of(large) is None  # nothing done again
    # The answer withdrawn before: the same wording again.
    already = _html(client.post("/withdraw", data={**_hidden_fields(confirm), "confirm": "1"}))
    name, value = _text_size_button(already)
    again = _html(client.post("/withdraw", data={**_hidden_fields(already), name: value}))
    assert "无需再次撤回" in again and 'class="large"' not in again
    # A code the server did not sign there is not said to be withdrawn: the form.
    forged = {**_hidden_fields(done), "receipt_code": "ZZZZ-ZZZZ", name: value}
    html = _html(client.post("/withdraw", data=forged))
    assert "已撤回" not in html and _field_value(html) == "ZZZZ-ZZZZ"


def _back_link(html: str) -> str:
    return re.search(r'<a [^>]*href="([^"]*)"[^>]*>不撤回，返回</a>', html).group(1)


def test_not_withdrawing_goes_back_to_the_thanks_page_it_came_from(app, client, demo_wave):
    """不撤回，返回 on the confirm step led to the empty withdraw form, also for a
    resident who came from the thank-you page: it leads back there (its address
    names the channel, never the code), in the other text size too."""
    code, thanks = _answered(app, client)
    token = channel_token(app)
    confirm = _html(client.post("/withdraw", data=_thanks_form(thanks)))
    assert _back_link(confirm) == f"/s/{token}/thanks"
    name, value = _text_size_button(confirm)
    large = _html(client.post("/withdraw", data={**_hidden_fields(confirm), name: value}))
    assert _back_link(large) == f"/s/{token}/thanks"
    back = _html(client.get(_back_link(confirm)))
    assert f"<strong>{code}</strong>" in back  # the thank-you page, its code from the cookie
    # A code typed into the form: back to the form. A channel that is none: the same.
    assert _back_link(_html(_post(client, {"receipt_code": code}))) == "/withdraw"
    made_up = _html(_post(client, {"receipt_code": code, "from_channel": "no-such-channel"}))
    assert _back_link(made_up) == "/withdraw"
    assert not _withdrawn(app)


def test_a_wrong_code_puts_the_focus_on_the_field(app, client, demo_wave):
    """After a wrong code the focus stayed on the page: a screen reader said
    nothing of the error, and the resident had to find the field. The field
    takes the focus (it names the error), and the title says 有错误： first."""
    for typed in ("", "ab", "zzzz-zzzz"):
        html = _html(_post(client, {"receipt_code": typed}))
        field = re.search(r'<input[^>]*id="receipt_code"[^>]*>', html).group(0)
        assert "autofocus" in field, typed
        assert re.search(r"<title>有错误：撤回我的回答</title>", html), typed
    html = _html(client.get("/withdraw"))
    assert "autofocus" not in html and "<title>撤回我的回答</title>" in html
