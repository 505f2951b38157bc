"""Withdrawing an answer at /withdraw: the code typed is kept when it is not
found, the code withdrawn is shown as issued, nothing is erased before the
resident confirms, and the thank-you page's link fills the form in."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from tests.conftest import form_tokens
from tests.resident import channel_token, complete


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
    again = _post(client, {"receipt_code": code, "confirm": "1"})
    assert again.status_code == 404 and "没有找到" in _html(again)


def test_the_confirm_step_keeps_csrf_and_the_rate_limit(app, client, demo_wave):
    code, _ = _answered(app, client)
    no_token = client.post("/withdraw", data={"receipt_code": code, "confirm": "1"})
    assert no_token.status_code == 400 and not _withdrawn(app)
    app.config["RATE_LIMITS"] = {"withdraw_client": [1, 3600]}
    assert _post(client, {"receipt_code": code}).status_code == 200
    assert _post(client, {"receipt_code": code, "confirm": "1"}).status_code == 429
    assert not _withdrawn(app)


def test_the_thanks_page_link_fills_in_the_residents_own_code(app, client, demo_wave):
    code, thanks = _answered(app, client)
    link = re.search(r'href="(/withdraw\?receipt=[^"]+)"', thanks).group(1)
    assert _field_value(_html(client.get(link.replace("&amp;", "&")))) == code
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


def test_the_text_size_link_keeps_the_receipt_that_fills_in_the_code(app, client, demo_wave):
    """大字模式 on the withdraw page opened /withdraw?large=1: the code the thank-you
    page's link had filled in was gone."""
    code, thanks = _answered(app, client)
    link = re.search(r'href="(/withdraw\?receipt=[^"]+)"', thanks).group(1).replace("&amp;", "&")
    page = _html(client.get(link))
    large = re.search(r'href="(\?large=1[^"]*)"', page).group(1).replace("&amp;", "&")
    assert _field_value(_html(client.get("/withdraw" + large))) == code
