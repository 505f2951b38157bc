"""Rendered resident pages kept per process (survey/respond/page_cache.py): every
resident still gets their own CSRF token and form state, and what a page shows
follows the channel, the language, the text size and the resident's answers."""

from __future__ import annotations

import re

from sqlalchemy import update

from survey.extensions import db
from survey.models import Channel, Wave
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, start, submit_page


def _without_tokens(html: str) -> str:
    return re.sub(r'name="(csrf_token|state)" value="[^"]*"', "", html)


def test_each_resident_gets_own_tokens_in_the_same_page(app, demo_wave):
    token = channel_token(app)
    pages = [start(app.test_client(), token) for _ in range(2)]  # the second from the cache
    htmls = [p.get_data(as_text=True) for p in pages]
    tokens = [form_tokens(h) for h in htmls]
    assert tokens[0]["csrf_token"] != tokens[1]["csrf_token"]
    assert tokens[0]["state"] != tokens[1]["state"]
    assert _without_tokens(htmls[0]) == _without_tokens(htmls[1])
    assert "csrf-" not in htmls[0] and "state-" not in htmls[0]  # no marker left behind
    # and the tokens written into the kept page work: on to page 2
    client = app.test_client()
    first = start(client, token)
    second = submit_page(client, token, first.get_data(as_text=True), STANDARD_PAGES[0])
    assert second.status_code == 200 and "s_air" in second.get_data(as_text=True)


def test_a_kept_page_follows_a_renamed_city_organizer(app, client, demo_wave):
    from survey.operations.waves import update_wave

    token = channel_token(app)
    assert "市生态环境局" not in client.get(f"/s/{token}").get_data(as_text=True)
    with app.app_context():
        update_wave(db.session.get(Wave, demo_wave), {"organizer": "市生态环境局"})
    assert "市生态环境局" in client.get(f"/s/{token}").get_data(as_text=True)


def test_language_and_large_text_are_kept_apart(app, client, demo_wave):
    token = channel_token(app)
    chinese = client.get(f"/s/{token}").get_data(as_text=True)
    english = client.get(f"/s/{token}?lang=en").get_data(as_text=True)
    assert 'lang="zh-CN"' in chinese and 'lang="en"' in english
    large = client.get(f"/s/{token}?large=1").get_data(as_text=True)
    assert 'class="large"' in large
    assert 'class="large"' not in app.test_client().get(f"/s/{token}").get_data(as_text=True)


def test_answers_and_errors_are_never_served_to_someone_else(app, demo_wave):
    token = channel_token(app)
    alice = app.test_client()
    page1 = start(alice, token)
    # an error page carries Alice's own input: it must not be kept for Bob
    bad = submit_page(alice, token, page1.get_data(as_text=True), {"age_group": "30-39岁"})
    assert bad.status_code == 422
    page2 = submit_page(alice, token, bad.get_data(as_text=True), STANDARD_PAGES[0])
    back = alice.post(f"/s/{token}/page", data={**form_tokens(page2.get_data(as_text=True)),
                                                 "back": "1"})  # fmt: skip
    assert re.search(r'value="男" checked', back.get_data(as_text=True))
    bob = start(app.test_client(), token).get_data(as_text=True)
    assert "has-error" not in bob
    assert not re.search(r'value="男" checked', bob)


def test_a_closed_channel_is_not_served_from_the_cache(app, client, demo_wave, monkeypatch):
    from survey.operations import channel_cache

    token = channel_token(app)
    assert client.get(f"/s/{token}").status_code == 200
    with app.app_context():
        with db.write() as session:
            session.execute(update(Channel).where(Channel.token == token).values(is_open=False))
    monkeypatch.setattr(channel_cache, "TTL", 0.0)
    assert client.get(f"/s/{token}").status_code == 410


def test_fresh_channel_objects_with_the_same_data_reuse_the_kept_page(app, client, demo_wave):
    from flask import template_rendered

    from survey.models import District
    from survey.operations.channel_cache import forget_channels

    token = channel_token(app)
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        client.get(f"/s/{token}")
        assert rendered == ["respond/landing.html"]
        with app.app_context():
            forget_channels()  # what the channel cache's time limit does every few seconds
        assert client.get(f"/s/{token}").status_code == 200
        assert rendered == ["respond/landing.html"]  # same data: the kept page
        with app.app_context():
            with db.write() as session:  # a change the cache cannot know of
                session.execute(update(District).values(name=District.name + "新"))
            forget_channels()
        html = client.get(f"/s/{token}").get_data(as_text=True)
        assert rendered == ["respond/landing.html"] * 2 and "区新" in html
    finally:
        template_rendered.disconnect(record, app)
