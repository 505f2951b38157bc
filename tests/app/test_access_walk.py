"""Every staff route × every role (and anonymous) gets the right answer:
the page for allowed roles, a redirect to the login page (401 for JSON) for
anonymous visitors, and 403 for staff without the role. New staff routes are
covered automatically; a staff route without a role check fails this test."""

from __future__ import annotations

import pytest

from survey.models.staff import ROLES
from tests.app.route_samples import SAMPLES
from tests.conftest import form_tokens
from tests.resident import channel_token, complete
from tests.staff import log_in, make_user

PUBLIC = {"auth.login"}
ANY_STAFF = {"auth.logout"}
#: The routes outside /staff, open to anyone: residents' pages, static files, the
#: health check. Any other route outside /staff escapes the walk below.
OUTSIDE_STAFF = {"static", "healthz", "respond.landing", "respond.start", "respond.page",
                 "respond.reopened", "respond.thanks", "respond.thanks_link", "respond.withdraw"}  # fmt: skip


def staff_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, getattr(view, "_required_roles", None)


def _url(app, rule, wave_id):
    from flask import url_for

    with app.test_request_context():
        values = {arg: SAMPLES[arg](wave_id) for arg in rule.arguments}
        return url_for(rule.endpoint, **values)


def test_every_route_is_walked_or_known_to_be_public(app):
    """A route added outside /staff (an export at /exports/…) would not be walked:
    it must be one of the known public routes, or move under /staff."""
    outside = {r.endpoint for r in app.url_map.iter_rules() if not r.rule.startswith("/staff")}
    assert outside == OUTSIDE_STAFF, outside ^ OUTSIDE_STAFF


def test_every_staff_route_declares_roles(app):
    missing = [
        r.endpoint
        for r, _m, roles in staff_routes(app)
        if roles is None and r.endpoint not in ANY_STAFF
    ]
    assert missing == [], f"staff routes without role_required: {missing}"
    assert len(list(staff_routes(app))) >= 20


@pytest.mark.parametrize("who", ["anonymous", "none", *ROLES])
def test_route_role_walk(app, demo_wave, who):
    complete(app.test_client(), channel_token(app))  # a response for response_id routes
    make_user(app, "walk-sample", "organizer")  # so that user_id routes have a sample
    client = app.test_client()
    csrf = form_tokens(client.get("/staff/login").get_data(as_text=True))["csrf_token"]
    if who != "anonymous":
        user = make_user(app, f"walk-{who}", *([] if who == "none" else [who]))
        log_in(client, user)
    checked = 0
    with app.app_context():
        routes = [(rule, method, roles, _url(app, rule, demo_wave))
                  for rule, method, roles in staff_routes(app)]  # fmt: skip
    for rule, method, roles, url in routes:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf})
        status = response.status_code
        response.close()  # file downloads hold an open file until closed
        label = f"{who} {method} {url} ({rule.endpoint})"
        if who == "anonymous":
            if url.endswith(".json"):
                assert status == 401, label
            else:
                assert status == 302 and "/staff/login" in response.headers["Location"], label
        elif rule.endpoint in ANY_STAFF:
            assert status in (200, 302), label
        elif who == "none" or who not in roles:
            assert status == 403, label
        else:
            assert status not in (401, 403, 500), label
            if method == "GET":
                assert status == 200, label
        checked += 1
        if rule.endpoint == "auth.logout" and who != "anonymous":
            # Log-out begins a new session: its CSRF token went with the old one.
            csrf = form_tokens(client.get("/staff/login").get_data(as_text=True))["csrf_token"]
            log_in(client, user)
    assert checked >= 20
