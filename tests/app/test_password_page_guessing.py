"""The password page's 当前密码 is checked within the log-in limits.

Whoever holds a staff member's session (a computer left unlocked, a copied
cookie) could try current passwords on /staff/password without any limit (each
answered 当前密码不正确 at once), and with the right one set their own: the
owner locked out, a password perhaps used elsewhere learnt. Guesses there now
count against the same limits as log-in attempts for that account name.
"""

from __future__ import annotations

from datetime import timedelta

from survey.models import utcnow
from survey.operations import users
from tests.conftest import form_tokens

PASSWORD = "Correct-horse-42"


def _log_in(client):
    page = client.get("/staff/login").get_data(as_text=True)
    assert client.post("/staff/login", data={
        "csrf_token": form_tokens(page)["csrf_token"], "username": "zhang",
        "password": PASSWORD}).status_code == 302  # fmt: skip


def _change(client, current: str):
    page = client.get("/staff/password").get_data(as_text=True)
    return client.post("/staff/password", data={
        "csrf_token": form_tokens(page)["csrf_token"], "current": current,
        "new": "Brand-new-pass-77", "confirm": "Brand-new-pass-77"})  # fmt: skip


def test_guessing_the_current_password_is_limited_as_log_ins_are(app, client, monkeypatch):
    clock = [utcnow()]
    monkeypatch.setattr(users, "now", lambda: clock[0])
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    _log_in(client)
    limit = app.config["LOGIN_MAX_ATTEMPTS"]
    answers = [_change(client, f"guess-{i}-Aa") for i in range(limit)]
    assert all("当前密码不正确" in a.get_data(as_text=True) for a in answers)
    refused = _change(client, PASSWORD)  # the right one too, from here, until the window ends
    assert refused.status_code == 422 and "尝试次数过多" in refused.get_data(as_text=True)
    with app.app_context():
        assert users.attempt_login("zhang", PASSWORD, "").user is not None  # unchanged
    clock[0] += timedelta(seconds=app.config["LOGIN_LOCK_SECONDS"] + 1)
    done = _change(client, PASSWORD)
    assert done.status_code == 302


def test_a_right_current_password_does_not_use_up_the_limit(app, client, monkeypatch):
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    app.config["LOGIN_MAX_ATTEMPTS"] = 2
    _log_in(client)
    assert _change(client, PASSWORD).status_code == 302
    for password in ("Brand-new-pass-77", PASSWORD):  # back and forth
        page = client.get("/staff/password").get_data(as_text=True)
        other = PASSWORD if password == "Brand-new-pass-77" else "Brand-new-pass-77"
        response = client.post("/staff/password", data={
            "csrf_token": form_tokens(page)["csrf_token"], "current": password,
            "new": other, "confirm": other})  # fmt: skip
        assert response.status_code == 302
