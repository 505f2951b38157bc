"""Coarse paradata: device class and a rotating salted hash of the client.

No raw IP address and no device fingerprint is ever stored: the client hash
uses a salt derived from the secret key and the current date, so hashes can be
compared within a day (abuse checks) but not linked across days.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import date

from flask import current_app, request

from survey.respond.state import purpose_key


def device_class(user_agent: str) -> str:
    ua = user_agent.lower()
    if "ipad" in ua or "tablet" in ua:
        kind = "tablet"
    elif "mobi" in ua or "android" in ua or "iphone" in ua:
        kind = "mobile"
    elif ua:
        kind = "desktop"
    else:
        return "unknown"
    return f"{kind}-wechat" if "micromessenger" in ua else kind


def client_of(address: str) -> str:
    """What the per-client limits count for the request's *address*: an IPv4
    address as it is, an IPv6 one by its /64 network. Every IPv6 host (a phone on a
    mobile network too) holds a whole /64 and makes up addresses in it at will:
    counted by address, a client that took a new one for every request was never
    limited (guessing receipt codes, log-in attempts)."""
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
        return str(ip.ipv4_mapped)
    return f"{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"


def client_hash(today: date | None = None) -> str:
    day = today or date.today()
    app, req = current_app._get_current_object(), request._get_current_object()
    key = purpose_key(app.config["SECRET_KEY"], f"client-salt:{day}".encode())
    address = client_of(req.remote_addr or "")
    if "HTTP_X_FORWARDED_FOR" in req.environ and not app.config.get("PROXY_COUNT"):
        _warn_untrusted_proxy()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


DEVICE_COOKIE = "sv_device"


def device_cookie() -> str | None:
    # The request itself, not its proxy: on Python 3.11 each attribute read
    # through Werkzeug's LocalProxy first fails on the proxy's class, and the
    # AttributeError's message is formatted before the proxy's __getattr__ runs
    # (about 2 µs a read; a resident's request read ~45 attributes so). The
    # resident path's hottest reads take the objects once (``_get_current_object``).
    value = request._get_current_object().cookies.get(DEVICE_COOKIE, "")
    return (
        value
        if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()
        else None
    )


def device_hash() -> str:
    """HMAC of the anonymous device cookie: detects repeats, never stores the cookie."""
    cookie = device_cookie()
    if not cookie:
        return ""
    key = current_app._get_current_object().config["SECRET_KEY"].encode()
    return hmac.new(key, f"device:{cookie}".encode(), hashlib.sha256).hexdigest()[:32]


def set_device_cookie(response, value: str) -> None:
    """The anonymous device id *value* as a cookie (HttpOnly, SameSite=Lax, Secure
    in production and over HTTPS), for 400 days."""
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        # Over HTTPS always (also outside production mode), as the session cookie.
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
    )


def _warn_untrusted_proxy() -> None:
    """Once per process: requests come through a proxy the app was not told of."""
    extensions = current_app.extensions
    if not extensions.get("survey_proxy_warned"):
        extensions["survey_proxy_warned"] = True
        current_app.logger.warning(
            "请求带有 X-Forwarded-For（经过代理），但未设置 SURVEY_PROXY_COUNT：所有居民的地址"
            "都是代理的地址，按客户端的限流会把他们一起拒绝。请按代理层数设置 SURVEY_PROXY_COUNT"
            "（例如 nginx 一层：1）。"
        )
