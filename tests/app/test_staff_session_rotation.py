"""The staff session begins afresh at log-in and ends wholly at log-out.

The session is a signed cookie holding Flask-WTF's CSRF token. Its token outlived
the log-in: whoever had planted a session cookie of their own in a staff member's
browser before they logged in (a cookie set for the parent domain by a sibling
site, a shared computer) knew the CSRF token of the logged-in session, and the
token of a logged-out session stayed the next user's.
"""

from __future__ import annotations

from survey.operations import users
from tests.conftest import form_tokens

PASSWORD = "Correct-horse-42"


def _session(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess)


def _log_in(client, username="zhang"):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post("/staff/login", data={
        "csrf_token": form_tokens(page)["csrf_token"], "username": username, "password": PASSWORD})  # fmt: skip


def test_log_in_replaces_the_csrf_token_of_the_session_before_it(app, client):
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    client.get("/staff/login?lang=en")  # a language chosen before logging in is kept
    planted = _session(client)["csrf_token"]
    assert _log_in(client).status_code == 302
    after = _session(client)
    assert after.get("csrf_token") != planted and after.get("lang") == "en"
    # A staff form sent with the token known before the log-in is refused.
    refused = client.post("/staff/logout", data={"csrf_token": planted})
    assert refused.status_code == 400
    assert client.get("/staff/").status_code == 200  # still logged in


def test_log_out_leaves_no_token_of_the_session_behind(app, client):
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    _log_in(client)
    home = client.get("/staff/").get_data(as_text=True)
    token = form_tokens(home)["csrf_token"]
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert _session(client).get("csrf_token") is None
    assert "_id" not in _session(client)
