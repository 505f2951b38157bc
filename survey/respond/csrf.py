"""CSRF protection of the resident's forms without a server-side or cookie session.

Staff pages use Flask-WTF's tokens, kept in the signed session cookie. The
resident's path does not need a session at all: its form state travels in a
signed hidden field (``state.py``). Reading and re-signing a session cookie on
each of a resident's five requests, only to hold the CSRF secret, was a
measurable part of every request's cost.

So a resident's token is bound to the anonymous device cookie instead (the
"signed double-submit cookie" pattern): ``<time>.<HMAC(secret, device id,
time)>``. A POST is accepted only when its token was made for the device
cookie the browser sends, with this app's secret, less than
``WTF_CSRF_TIME_LIMIT`` seconds ago. Another site can neither read the cookie
(HttpOnly, SameSite=Lax) nor make a token for it without the secret; a token
lifted from one device is refused with another device's cookie.

A failed check raises Flask-WTF's ``CSRFError``, so residents get the same
"please start again" page as before.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from flask import current_app, g, request
from flask_wtf.csrf import CSRFError

from survey.respond.paradata import device_cookie
from survey.respond.state import CLOCK_SKEW, purpose_key


def device_id() -> str:
    """The browser's anonymous device id: its cookie, or a new one for this request
    (set on the response by :func:`survey.respond.paradata.set_device_cookie`)."""
    existing = device_cookie()
    if existing is not None:
        return existing
    if "survey_new_device" not in g:
        g.survey_new_device = secrets.token_urlsafe(18)
    return g.survey_new_device


def _mac(device: str, stamp: str) -> str:
    key = purpose_key(
        current_app._get_current_object().config["SECRET_KEY"], b"survey-resident-csrf"
    )
    return hmac.new(key, f"{device}|{stamp}".encode(), hashlib.sha256).hexdigest()[:40]


def token() -> str:
    """A token for this browser's device id, valid for ``WTF_CSRF_TIME_LIMIT`` seconds."""
    stamp = format(int(time.time()), "x")
    return f"{stamp}.{_mac(device_id(), stamp)}"


def check(form_token: str | None, device: str | None, now: float | None = None) -> str | None:
    """Why *form_token* is refused for *device* (a message for the log), or None."""
    if not device:
        return "缺少设备 Cookie（浏览器可能禁用了 Cookie）"
    if not form_token or len(form_token) > 64:
        return "缺少 CSRF 令牌"
    stamp, _, mac = form_token.partition(".")
    try:
        made = int(stamp, 16)
    except ValueError:
        return "CSRF 令牌格式不对"
    # As bytes: compare_digest refuses str with non-ASCII characters (a hostile token).
    if not hmac.compare_digest(mac.encode(), _mac(device, stamp).encode()):
        return "CSRF 令牌与本设备不符"
    now = time.time() if now is None else now
    limit = current_app._get_current_object().config.get("WTF_CSRF_TIME_LIMIT") or 3600
    if made > now + CLOCK_SKEW or now - made > limit:
        return EXPIRED
    return None


EXPIRED = "CSRF 令牌已过期"


def _made_before_now(form_token: str) -> bool:
    """Whether *form_token* (of a valid shape) was made in the past, not the future."""
    return int(form_token.partition(".")[0], 16) <= time.time()


def protect() -> None:
    """Before every request of the resident's blueprint: refuse a POST without a
    valid token (the same page as Flask-WTF's refusal: start again).

    A questionnaire page sent after a long pause (its token made for this
    device, but too long ago) is let through marked ``g.stale_form``: the view
    shows the same page again with what it holds and a fresh token, checking
    and keeping nothing (survey.respond.controllers.page). Starting again
    lost what the resident had entered there, and without JavaScript all of
    their answers. Another site can no more make such a token than a fresh one."""
    req = request._get_current_object()  # see survey.respond.paradata.device_cookie
    if req.method != "POST" or not current_app._get_current_object().config.get(
        "WTF_CSRF_ENABLED", True
    ):
        return
    form_token = req.form.get("csrf_token")
    reason = check(form_token, device_cookie())
    if reason == EXPIRED and req.endpoint == "respond.page" and _made_before_now(form_token):
        g.stale_form = True
        return
    if reason is not None:
        raise CSRFError(reason)
