"""Rendered resident pages, kept per process.

Everyone who opens a channel's landing page, or reaches a questionnaire page
with nothing on it answered yet, gets the same HTML except for two fields: the
CSRF token and the signed form state. Rendering it (Jinja, about a hundred
escaped values per page) was the largest cost of a resident's request. So the
page is rendered once with two markers in place of those fields, kept (as
UTF-8 bytes: encoding the page's str anew for every response was about 2% of a
resident request's instructions), and each request only writes its own tokens
into a copy.

A kept page is used only for the questionnaire object it was rendered from and
for channel data equal to what it was rendered from: the channel cache hands
out new objects every few seconds, and a new object is compared column by
column (channel, district, wave, city) with the one the page was rendered
from. So a renamed channel or an edited wave shows within that time, as
everywhere else on the resident's path, and unchanged data does not cost a new
rendering of every page every few seconds. Pages that show a resident's own
answers or errors are never kept.
"""

from __future__ import annotations

import secrets

from flask import current_app, render_template, session
from markupsafe import escape
from sqlalchemy import inspect as sa_inspect

from survey.i18n import select_locale
from survey.respond import csrf as resident_csrf

_KEY = "survey_page_cache"
#: Pages kept per process before the cache starts afresh (a page is 5–10 KB).
MAX_PAGES = 2_000

# Random per process: no questionnaire text or answer can contain them.
_MARK = secrets.token_hex(16)
CSRF_MARK = f"csrf-{_MARK}"
STATE_MARK = f"state-{_MARK}"
_CSRF_MARK_BYTES = CSRF_MARK.encode()
_STATE_MARK_BYTES = STATE_MARK.encode()


def render_page(
    template: str, key: tuple, *, channel, q, state_token: str = "", context=dict
) -> bytes:
    """*template* rendered for *channel* and *q* (UTF-8), from this process's cache
    when it holds the page for the same *key*, language and text size.

    *context()* gives the template's other values; it is called only when the
    page must be rendered. *key* must name everything in it that changes the page.
    """
    # The Locale object itself (one per language and process): str() of it built a string.
    # Asked of the app's own selector, as Flask-Babel's get_locale() does (with the same
    # answer): get_locale()'s lookups of its per-request context cost about 15 µs, a
    # twentieth of what the app does for a resident's page.
    large = bool(session._get_current_object().get("large"))  # not via the proxies
    full_key = (template, select_locale(), large, channel.token, key)
    cache = current_app._get_current_object().extensions.setdefault(_KEY, {})
    hit = cache.get(full_key)
    if hit is not None and hit[1] is q and hit[0] is not channel:
        # The channel cache handed out fresh objects: the page still holds if
        # the data it was rendered from is the same.
        if _fingerprint(channel) == hit[3]:
            hit = cache[full_key] = (channel, q, hit[2], hit[3])
        else:
            hit = None
    if hit is not None and hit[1] is q:
        html = hit[2]
    else:
        html = render_template(
            template,
            channel=channel,
            q=q,
            state_token=STATE_MARK,
            csrf_token=lambda: CSRF_MARK,
            **context(),
        ).encode()
        if len(cache) >= MAX_PAGES:
            cache.clear()
        cache[full_key] = (channel, q, html, _fingerprint(channel))
    return html.replace(_CSRF_MARK_BYTES, escape(resident_csrf.token()).encode()).replace(
        _STATE_MARK_BYTES, escape(state_token).encode()
    )


def _fingerprint(channel) -> tuple:
    """Every loaded column of the rows a resident page is rendered from."""
    rows = (channel, channel.district, channel.wave, channel.wave.city)
    return tuple(
        tuple(state.dict.get(attr.key) for attr in state.mapper.column_attrs)
        for state in map(sa_inspect, rows)
    )
