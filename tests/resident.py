"""Helpers that walk the resident's path with Flask's test client."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import form_tokens

#: A complete, eligible answer set for the standard questionnaire, by page.
STANDARD_PAGES = [
    {
        "age_group": "30-39岁",
        "residence": "yes",
        "env_staff": "no",
        "district": "咸安区",
        "sex": "男",
        "urban_rural": "城镇",
    },
    {
        "s_air": "5",
        "s_water": "4",
        "s_drinking": "dk",
        "s_green": "2",
        "s_sanitation": "3",
        "s_noise": "5",
        "s_government": "1",
    },
    {"activities": ["sorting", "green_travel"], "awareness": "heard", "years_here": "12"},
]


def channel_token(app, district: str = "咸安区") -> str:
    from survey.extensions import db
    from survey.models import Channel, District

    with app.app_context():
        return db.session.scalar(
            select(Channel.token).join(District).where(District.name == district)
        )


def start(client, token: str):
    landing = client.get(f"/s/{token}")
    assert landing.status_code == 200, landing.status_code
    tokens = form_tokens(landing.get_data(as_text=True))
    return client.post(f"/s/{token}/start", data={"csrf_token": tokens["csrf_token"]})


def submit_page(client, token: str, page_html: str, answers: dict):
    data = {**form_tokens(page_html), **answers}
    return client.post(f"/s/{token}/page", data=data)


def receipt_cookie(response) -> str | None:
    """The value of the receipt cookie *response* sets (None when it sets none;
    "" when it drops it)."""
    from survey.respond.receipts import COOKIE

    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    return None


def receipt_of(response) -> str | None:
    """The receipt code a submission's 303 gives (in its cookie), or None."""
    value = receipt_cookie(response)
    return value.split(".", 1)[0] if value else None


def complete(client, token: str, pages=None, **overrides):
    """Walk every page; return the final response (303 to the thank-you page, the
    receipt in a cookie, on success)."""
    pages = [dict(p) for p in (pages or STANDARD_PAGES)]
    for page in pages:
        for key in list(overrides):
            if key in page:
                page[key] = overrides.pop(key)
    response = start(client, token)
    for page in pages:
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        response = submit_page(client, token, response.get_data(as_text=True), page)
    return response
