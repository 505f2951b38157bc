""" "您填写的内容仍保存在本机" is true only where app.js runs (it keeps the answers
in local storage): the restart, 429 and 500 pages said it to every resident,
also to those without JavaScript, whose answers were kept nowhere. The
sentence is in the page hidden, for app.js to show (and to hide the sentence
for the others: 重新开始后需要重新填写)."""

from __future__ import annotations

import re

from tests.resident import channel_token, start

KEPT = "仍保存在本机"


def _sentences(html: str) -> tuple[list[str], list[str]]:
    """(what is said of the answers kept: in elements shown by app.js only, elsewhere)."""
    hidden = re.findall(r"<span data-if-saved hidden>([^<]*)</span>", html)
    shown = re.sub(r"<span data-if-saved hidden>[^<]*</span>", "", html)
    return [t for t in hidden if KEPT in t], [line for line in shown.splitlines() if KEPT in line]


def test_the_restart_page_says_the_answers_are_kept_only_where_they_are(app, client, demo_wave):
    token = channel_token(app)
    start(client, token)
    for html in (
        client.post(f"/s/{token}/page", data={"state": "x"}).get_data(as_text=True),  # form
        app.test_client().post(f"/s/{token}/page", data={}).get_data(as_text=True),  # cookie
    ):
        hidden, shown = _sentences(html)
        assert hidden and not shown, shown
        assert "<span data-unless-saved>重新开始后需要重新填写。</span>" in html


def test_the_429_and_500_pages_say_it_only_where_app_js_runs(app, client, demo_wave, monkeypatch):
    from survey.respond import controllers

    app.config["RATE_LIMITS"] = {"start_client": [1, 3600]}
    token = channel_token(app)
    start(client, token)
    refused = start(client, token)
    assert refused.status_code == 429
    hidden, shown = _sentences(refused.get_data(as_text=True))
    assert hidden and not shown, shown

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(controllers, "count_event", broken)
    failed = app.test_client().get(f"/s/{token}")  # a first visit: counted
    assert failed.status_code == 500 and "请稍后重试" in failed.get_data(as_text=True)
    hidden, shown = _sentences(failed.get_data(as_text=True))
    assert hidden and not shown, shown
    missing = client.get("/s/no-such-channel").get_data(as_text=True)
    assert KEPT not in missing  # a 404 has nothing to keep
