"""Accessibility of the questionnaire pages: an error summary that takes the focus
and links to each question, a focus outline visible on the page and in the
header, choice inputs that grow with 适老模式, a named progress bar, and number
and text questions named once."""

from __future__ import annotations

import re
from pathlib import Path

from tests.resident import STANDARD_PAGES, channel_token, start, submit_page

STATIC = Path(__file__).resolve().parents[2] / "survey" / "static"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _page_three(client, token: str) -> str:
    html = _html(start(client, token))
    for answers in STANDARD_PAGES[:2]:
        html = _html(submit_page(client, token, html, answers))
    return html


def test_errors_are_summarised_with_links_to_each_question_and_focused(app, client, demo_wave):
    token = channel_token(app)
    html = _html(start(client, token))
    partial = {k: v for k, v in STANDARD_PAGES[0].items() if k not in ("age_group", "sex")}
    response = submit_page(client, token, html, partial)
    html = _html(response)
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summary, "no error summary"
    tag = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in tag and "autofocus" in tag and 'id="error-summary"' in tag
    links = re.findall(r'<a href="#(in-[a-z_]+)">([^<]*)</a>', summary.group(1))
    assert [target for target, _ in links] == ["in-age_group", "in-sex"]
    assert all("请选择一项" in text for _, text in links)
    for target, _ in links:  # each link reaches a field of its question
        assert re.search(rf'<input[^>]*id="{target}"', html)
    # and app.js focuses the summary where autofocus is not supported
    assert 'getElementById("error-summary")' in (STATIC / "app.js").read_text()


def test_number_and_text_questions_are_named_once(app, client, demo_wave):
    token = channel_token(app)
    html = _page_three(client, token)
    for qid in ("years_here", "suggestion"):
        block = re.search(rf'<(div|fieldset) class="q[^"]*" id="q-{qid}".*?</\1>', html, re.S)
        assert block and block.group(1) == "div", qid
        assert "<legend" not in block.group(0) and "sr-only" not in block.group(0)
        assert len(re.findall(rf'<label[^>]*for="in-{qid}"', block.group(0))) == 1
    # choice questions keep their fieldset and legend
    assert re.search(r'<fieldset class="q" id="q-awareness"[^>]*>\s*<legend>', html)


def test_the_progress_bar_has_a_name(app, client, demo_wave):
    html = _html(start(client, channel_token(app)))
    assert re.search(r'<progress[^>]*aria-label="进度"', html)


def test_choice_inputs_grow_with_the_page_text():
    css = (STATIC / "app.css").read_text()
    rule = re.search(r"input\[type=radio\],input\[type=checkbox\]\{([^}]*)\}", css).group(1)
    assert "font:inherit" in rule and "width:1.3em" in rule and "height:1.3em" in rule


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_focus_outlines_have_3_to_1_contrast_where_they_are_drawn():
    css = (STATIC / "app.css").read_text()
    page = re.search(r"a:focus-visible[^{]*\{outline:3px solid (#[0-9a-f]{6})", css).group(1)
    header = re.search(r"\.top a:focus-visible[^{]*\{outline-color:(#[0-9a-f]{6})", css).group(1)
    green = re.search(r"\.top\{[^}]*background:(#[0-9a-f]{6})", css).group(1)
    assert _contrast(page, "#ffffff") >= 3 and _contrast(page, "#f4f6f4") >= 3
    assert _contrast(header, green) >= 3
    assert _contrast("#e08a00", "#ffffff") < 3  # the colour it replaces (reference check)


def _title_and_heading(html: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()
    return title, heading


def test_every_page_is_titled_by_what_it_says(app, client, demo_wave, monkeypatch):
    """A screen reader reads the page's title first, and the phone's tabs and
    history show it: every page that ends the questionnaire or refuses it was
    titled 公众对生态文明建设满意度与参与度调查, whatever it said; a page back
    with errors had the same title as before."""
    from sqlalchemy import update

    from survey.extensions import db
    from survey.models import Channel
    from survey.operations import quota_gate
    from survey.operations.channel_cache import forget_channels
    from tests.resident import complete

    token = channel_token(app)
    first = _html(start(client, token))
    title, _ = _title_and_heading(first)
    assert title == "基本情况 · 公众对生态文明建设满意度与参与度调查问卷"
    errors = _html(submit_page(client, token, first, {}))
    assert _title_and_heading(errors)[0] == "有错误：" + title
    pages = {
        "screened out": submit_page(
            client, token, first, {**STANDARD_PAGES[0], "age_group": "under18"}
        ),  # fmt: skip
        "restart": client.post(f"/s/{token}/page", data={"state": "x"}),
        "thanks": client.get(complete(client, token).headers["Location"]),
        "thanks later": app.test_client().get(f"/s/{token}/thanks"),
        "not found": client.get("/s/no-such-channel"),
    }
    monkeypatch.setattr(quota_gate, "is_full_before_submit", lambda channel, cells: True)
    pages["quota full"] = submit_page(client, token, _html(start(client, token)), STANDARD_PAGES[0])
    with app.app_context():
        with db.write() as session:
            session.execute(update(Channel).where(Channel.token == token).values(is_open=False))
        forget_channels()
    pages["closed"] = client.get(f"/s/{token}")
    for name, response in pages.items():
        title, heading = _title_and_heading(_html(response))
        assert title == heading, name
