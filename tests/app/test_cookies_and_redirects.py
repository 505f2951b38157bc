"""Cookies over HTTPS are Secure whatever the settings say; a log-in's ``next``
with control characters is no server error.

Production mode makes every cookie Secure, but an installation left in the
default mode behind HTTPS (SURVEY_ENV unset) sent the staff session and the
residents' device cookie without it, so a browser sent them on a plain-HTTP
request too (any http:// link to the host), where a network on the way reads
them. The receipt cookie was already Secure over HTTPS.
"""

from __future__ import annotations

import pytest

from survey.operations import users
from tests.conftest import form_tokens
from tests.resident import channel_token

PASSWORD = "Correct-horse-42"
SITE = "https://survey.example.cn"


def _cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def test_cookies_given_over_https_are_secure_outside_production_too(app, demo_wave):
    assert not app.config["SESSION_COOKIE_SECURE"]  # the default mode
    resident = app.test_client()
    landing = resident.get(f"/s/{channel_token(app)}", base_url=SITE)
    assert "; Secure" in _cookies(landing)["sv_device"]
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    staff = app.test_client()
    page = staff.get("/staff/login", base_url=SITE)
    assert "; Secure" in _cookies(page)["session"]
    logged_in = staff.post(
        "/staff/login", base_url=SITE, headers={"Referer": f"{SITE}/staff/login"},
        data={"csrf_token": form_tokens(page.get_data(as_text=True))["csrf_token"],
              "username": "zhang", "password": PASSWORD},
    )  # fmt: skip
    assert logged_in.status_code == 302 and "; Secure" in _cookies(logged_in)["session"]


def test_cookies_over_plain_http_in_development_stay_usable(app, demo_wave):
    """Over http:// (a developer's machine) a Secure cookie would never come back."""
    landing = app.test_client().get(f"/s/{channel_token(app)}")
    assert "Secure" not in _cookies(landing)["sv_device"]
    assert "Secure" not in _cookies(app.test_client().get("/staff/login"))["session"]


@pytest.mark.parametrize(
    "target", ["/staff/\r\nSet-Cookie: a=b", "/staff/\n", "/staff/\x7f", "/staff/\x00"]
)
def test_a_next_with_control_characters_goes_to_the_staff_home(app, client, target):
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
    page = client.get("/staff/login").get_data(as_text=True)
    response = client.post("/staff/login", data={
        "csrf_token": form_tokens(page)["csrf_token"], "username": "zhang",
        "password": PASSWORD, "next": target})  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
