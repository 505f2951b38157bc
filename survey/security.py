"""Security headers on every response (CSP without inline script, etc.)."""

from __future__ import annotations

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider


class SafeJSONProvider(DefaultJSONProvider):
    """JSON with <, > and & escaped: safe even if a response is ever sniffed as HTML
    or embedded in a page (values are unchanged for any JSON parser)."""

    def dumps(self, obj, **kwargs):
        text = super().dumps(obj, **kwargs)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    app.json = SafeJSONProvider(app)
    app.after_request(_headers)
