"""Number questions take what the resident typed to the server, which says what is
wrong with it. A ``type=number`` field sends letters typed into it as empty (the
form is ``novalidate``): an optional answer such as 12年 was silently dropped."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from tests.resident import STANDARD_PAGES, channel_token, start, submit_page


def _page_three(client, token: str) -> str:
    html = start(client, token).get_data(as_text=True)
    for answers in STANDARD_PAGES[:2]:
        html = submit_page(client, token, html, answers).get_data(as_text=True)
    return html


def test_the_number_field_is_text_with_a_number_keypad(app, client, demo_wave):
    """As GOV.UK's design system asks: a text field, ``inputmode="numeric"`` for
    the phone's number keypad, and the server checks what comes."""
    html = _page_three(client, channel_token(app))
    (field,) = re.findall(r'<input[^>]*name="years_here"[^>]*>', html)
    assert 'type="text"' in field and 'type="number"' not in field
    assert 'inputmode="numeric"' in field and 'pattern="[0-9]*"' in field


def test_letters_in_an_optional_number_are_refused_with_what_to_do(app, client, demo_wave):
    token = channel_token(app)
    html = _page_three(client, token)
    refused = submit_page(client, token, html, {**STANDARD_PAGES[2], "years_here": "12年"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="err-years_here"' in text and "只能填写数字。请输入 0 到 100 之间的整数" in text
    assert re.search(r'<input[^>]*name="years_here" value="12年"', text)  # kept to correct
    with app.app_context():
        assert db.session.scalars(select(Response)).all() == []
    corrected = submit_page(client, token, text, STANDARD_PAGES[2])
    assert corrected.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Response)).one().answers["years_here"] == 12
