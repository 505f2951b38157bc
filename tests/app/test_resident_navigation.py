"""Getting about the resident's pages: POST-only addresses opened directly, and
answers kept on a shared phone forgotten when the questionnaire ends early."""

from __future__ import annotations

from tests.resident import STANDARD_PAGES, channel_token, start, submit_page

LARGE_BODY = '<body class="large">'


def _html(response) -> str:
    return response.get_data(as_text=True)


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
