"""Every kind of response carries the security headers (the page that sets the
withdrawn-receipt cookie, refusals 400/404/409/410/422/429, staff pages and
JSON), and no page relies on inline script, inline event handlers or inline
styles: the Content-Security-Policy blocks them silently (a dead button)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from survey.extensions import db
from survey.models import Channel
from survey.operations.cities import set_channel_open
from survey.security import CSP, SECURITY_HEADERS
from tests.conftest import form_tokens
from tests.resident import channel_token, complete, receipt_of
from tests.staff import log_in, make_user

ROOT = Path(__file__).resolve().parents[2]

#: Markup the CSP would block: a script element without src, an on… attribute, a
#: style attribute, a javascript: address (in a tag, not escaped text).
BLOCKED = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<[a-zA-Z][^>]*\s(on[a-z]+|style)\s*=|javascript:", re.I
)


def _check(response, label: str) -> str:
    for name, value in SECURITY_HEADERS:
        assert response.headers.getlist(name) == [value], (label, name)
    csp = response.headers["Content-Security-Policy"]
    assert csp == CSP and "unsafe-inline" not in csp and "unsafe-eval" not in csp, label
    body = response.get_data(as_text=True)
    response.close()
    if response.mimetype == "text/html":
        found = BLOCKED.search(body)
        assert found is None, (label, found and found.group(0))
    return body


def _withdraw_post(client, **data):
    csrf = form_tokens(client.get("/withdraw").get_data(as_text=True))["csrf_token"]
    return client.post("/withdraw", data={"csrf_token": csrf, **data})


def test_resident_responses_of_every_kind_carry_the_headers(app, demo_wave):
    token = channel_token(app)
    client = app.test_client()
    final = complete(client, token)
    thanks_url = final.headers["Location"]
    code = receipt_of(final)
    checked = {
        "landing": client.get(f"/s/{token}"),
        "withdraw form": client.get("/withdraw"),
        "withdraw missing 422": _withdraw_post(client, receipt_code=""),
        "withdraw malformed 422": _withdraw_post(client, receipt_code="abc"),
        "withdraw not found 404": _withdraw_post(client, receipt_code="ZZZZ-ZZZZ"),
        "withdraw confirm": _withdraw_post(client, receipt_code=code),
        "withdraw done": _withdraw_post(client, receipt_code=code, confirm="1"),
        "withdraw again": _withdraw_post(client, receipt_code=code, confirm="1"),
        "csrf 400": client.post("/withdraw", data={"receipt_code": code}),
        "unknown 404": client.get("/s/no-such-channel"),
    }
    assert "sv_receipt=" in checked["withdraw done"].headers["Set-Cookie"]
    checked["thanks, withdrawn"] = client.get(thanks_url)
    with app.app_context():
        set_channel_open(db.session.scalar(select(Channel).filter_by(token=token)), False)
    checked["closed 410"] = client.get(f"/s/{token}")
    app.config["RATE_LIMITS"] = {"withdraw_client": [1, 3600]}
    limited = app.test_client()
    _withdraw_post(limited, receipt_code="ZZZZ-ZZZZ")
    checked["limited 429"] = _withdraw_post(limited, receipt_code="ZZZZ-ZZZZ")
    statuses = {label: r.status_code for label, r in checked.items()}
    assert statuses == {
        "landing": 200, "withdraw form": 200, "withdraw missing 422": 422,
        "withdraw malformed 422": 422, "withdraw not found 404": 404, "withdraw confirm": 200,
        "withdraw done": 200, "withdraw again": 200, "csrf 400": 400, "unknown 404": 404,
        "thanks, withdrawn": 200, "closed 410": 410, "limited 429": 429,
    }  # fmt: skip
    for label, response in checked.items():
        _check(response, label)


def test_withdrawn_cookie_is_httponly_samesite_and_scoped_to_its_channel(app, demo_wave):
    token = channel_token(app)
    client = app.test_client()
    code = receipt_of(complete(client, token))
    done = _withdraw_post(client, receipt_code=code, confirm="1")
    (cookie,) = [c for c in done.headers.getlist("Set-Cookie") if c.startswith("sv_receipt=")]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in flags and flags["samesite"] == "SameSite=Lax"
    assert flags["path"] == f"Path=/s/{token}" and "Max-Age=1800" in cookie


def test_staff_responses_of_every_kind_carry_the_headers(app, demo_wave):
    client = app.test_client()
    log_in(client, make_user(app, "heads", "administrator", "organizer", "statistician"))
    base = f"/staff/waves/{demo_wave}"
    # A refusal of an export (409, no answer yet): the exports page again.
    csrf = form_tokens(client.get(f"{base}/exports").get_data(as_text=True))["csrf_token"]
    refused = client.post(f"{base}/exports/estimates.csv", data={"csrf_token": csrf})
    assert refused.status_code == 409
    _check(refused, "estimates export refused")
    no_report = client.get(f"{base}/report")
    assert no_report.status_code == 409
    _check(no_report, "report refused")
    complete(app.test_client(), channel_token(app))
    urls = ["/staff/", "/staff/waves/", f"{base}/dashboard", f"{base}/dashboard.json",
            f"{base}/quotas", f"{base}/channels", f"{base}/posters", f"{base}/frame",
            f"{base}/estimates", f"{base}/exports", f"{base}/report", f"{base}/comparison",
            "/staff/audit", "/staff/admin/users", "/staff/admin/waves", "/staff/password",
            f"{base}/responses/999999"]  # fmt: skip
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        _check(response, url)
        assert response.headers["Cache-Control"] == "no-store", url


def test_no_template_or_script_relies_on_what_the_csp_blocks():
    """A static look at every template and script, for what rendering a page in a
    test would miss (a branch not taken)."""
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        found = BLOCKED.search(text)
        assert found is None, (path.name, found and found.group(0))
    for path in sorted((ROOT / "survey" / "static").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                     "eval(", "new Function", "setAttribute(\"on", "javascript:"):  # fmt: skip
            assert sink not in text, (path.name, sink)


def test_every_post_form_of_every_template_carries_a_csrf_token():
    """A form added without the token would be refused (400) for everyone: the
    check is global, so a missing token is a broken form, found here first."""
    form = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for found in form.finditer(path.read_text(encoding="utf-8")):
            block = found.group(0)
            if re.search(r'method="post"', block[: block.index(">")], re.I):
                assert 'name="csrf_token"' in block, (path.name, block[:120])
