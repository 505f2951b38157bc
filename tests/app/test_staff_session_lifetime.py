"""A staff session ends 12 hours after it last changed, not 31 days.

Flask accepts a signed session cookie for ``PERMANENT_SESSION_LIFETIME`` after it
was last written, 31 days by default: a staff cookie copied from a computer
left logged in (browsers restore "session" cookies with their tabs) opened the
wave's answers and exports for a month. Working staff do not notice: their
forms and messages write the session again.
"""

from __future__ import annotations

import time

import pytest

from survey.operations import users
from tests.conftest import form_tokens

PASSWORD = "Correct-horse-42"


@pytest.fixture
def later(monkeypatch):
    """Move the clock that checks signed cookies forward by some hours."""
    import itsdangerous.timed

    real = time.time

    def move(hours: float) -> None:
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + hours * 3600)

    return move


def _logged_in(app):
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    client.post("/staff/login", data={"csrf_token": form_tokens(page)["csrf_token"],
                                      "username": "zhang", "password": PASSWORD})  # fmt: skip
    assert client.get("/staff/").status_code == 200
    return client


def test_a_staff_cookie_is_refused_twelve_hours_after_it_was_written(app, later):
    client = _logged_in(app)
    later(11.9)
    assert client.get("/staff/").status_code == 200
    later(12.1)
    assert client.get("/staff/").status_code == 302  # to the log-in page


def test_the_lifetime_is_a_setting(app, later):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == 12 * 3600
    app.config["PERMANENT_SESSION_LIFETIME"] = 24 * 3600
    client = _logged_in(app)
    later(20)
    assert client.get("/staff/").status_code == 200
