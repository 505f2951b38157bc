"""The resident's pages in English (?lang=en): no Chinese left on the withdraw,
thank-you, too-many and 503 pages or in the validation messages; the English
catalogue translates every message id, none fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy.exc import OperationalError

from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete, start, submit_page

PO = Path(__file__).resolve().parents[2] / "survey/translations/en/LC_MESSAGES/messages.po"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _main(response) -> str:
    """The page's own text (the main element), without the questionnaire's texts."""
    html = response.get_data(as_text=True)
    return re.search(r"<main[^>]*>(.*)</main>", html, re.S).group(1)


def test_withdraw_and_thanks_pages_in_english(app, client, demo_wave):
    client.get("/withdraw?lang=en")
    assert not HAN.search(_main(client.get("/withdraw")))
    final = complete(client, channel_token(app))
    thanks = _main(client.get(final.headers["Location"]))
    assert "Keep the receipt code" in thanks and "Withdraw my answer" in thanks
    code = re.search(r"<strong>([A-Z0-9-]{9})</strong>", thanks).group(1)
    csrf = form_tokens(client.get("/withdraw").get_data(as_text=True))["csrf_token"]
    asked = client.post("/withdraw", data={"csrf_token": csrf, "receipt_code": code})
    assert "cannot be undone" in _main(asked) and not HAN.search(_main(asked))


def test_too_many_in_english(app, client, demo_wave):
    app.config["RATE_LIMITS"] = {"start_client": [1, 3600]}
    token = channel_token(app)
    client.get(f"/s/{token}?lang=en")
    start(client, token)
    refused = start(client, token)
    assert refused.status_code == 429 and not HAN.search(_main(refused))
    assert "minutes" in _main(refused)


def test_busy_database_page_in_english(app, client, demo_wave, monkeypatch):
    from survey.respond import controllers

    def unavailable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    token = channel_token(app)
    monkeypatch.setattr(controllers, "count_event", unavailable)
    busy = client.get(f"/s/{token}?lang=en")
    assert busy.status_code == 503 and not HAN.search(_main(busy))


def test_validation_messages_in_english(app, client, demo_wave):
    token = channel_token(app)
    client.get(f"/s/{token}?lang=en")
    html = start(client, token).get_data(as_text=True)
    refused = submit_page(client, token, html, {"residence": "yes"})
    assert refused.status_code == 422
    assert "Please choose one" in _main(refused) and "请选择一项" not in _main(refused)
    html = refused.get_data(as_text=True)
    html = submit_page(client, token, html, STANDARD_PAGES[0]).get_data(as_text=True)
    html = submit_page(client, token, html, STANDARD_PAGES[1]).get_data(as_text=True)
    wrong = submit_page(client, token, html, {**STANDARD_PAGES[2], "years_here": "500"})
    assert "Please enter a whole number from 0 to 100" in _main(wrong)
    # Letters: 只能填写数字。 first, then the same sentence, translated too.
    html = wrong.get_data(as_text=True)
    letters = submit_page(client, token, html, {**STANDARD_PAGES[2], "years_here": "abc"})
    assert "Please enter a whole number from 0 to 100" in _main(letters)
    assert "请输入" not in _main(letters)


def test_every_message_is_translated_and_none_is_fuzzy():
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    left = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert left == []


def test_the_exclusive_option_message_and_the_receipt_line_in_english(app, client, demo_wave):
    """“以上都没有”不能与其他选项同时选择 stayed Chinese (the engine's message was not
    translated), the summary said "1 answers need attention", and the receipt line
    had a full-width colon."""
    token = channel_token(app)
    client.get(f"/s/{token}?lang=en")
    html = start(client, token).get_data(as_text=True)
    html = submit_page(client, token, html, STANDARD_PAGES[0]).get_data(as_text=True)
    html = submit_page(client, token, html, STANDARD_PAGES[1]).get_data(as_text=True)
    both = submit_page(
        client, token, html, {**STANDARD_PAGES[2], "activities": ["sorting", "none"]}
    )
    main = _main(both)
    assert "cannot be chosen together with another option" in main
    assert "不能与其他选项同时选择" not in main and "1 answers" not in main
    final = complete(client, token)
    thanks = _main(client.get(final.headers["Location"]))
    assert "Receipt code: <strong>" in thanks and "：" not in thanks


def test_error_summary_has_no_double_punctuation(app, client, demo_wave):
    token = channel_token(app)
    refused = submit_page(client, token, start(client, token).get_data(as_text=True), {})
    html = refused.get_data(as_text=True)
    assert "？：" not in html and "您的年龄是：请选择一项" in html
