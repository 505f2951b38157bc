"""Security headers on every response (CSP without inline script, etc.), the
signed session cookie, and the proxies in front of the app."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


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


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # Same-origin requests carry the Referer, which Flask-WTF requires of a staff
    # form posted over HTTPS ("no-referrer" made every staff log-in over HTTPS fail
    # its CSRF check); no other site ever gets it.
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


#: Over HTTPS only: browsers then use HTTPS for this host for a year (not its
#: subdomains: a city's other sites are not ours to bind).
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def _headers(response: Response) -> Response:
    """Add each security header the view has not set itself (one pass over the
    response's headers, not a search per header)."""
    present = {name.lower() for name in response.headers.keys()}
    response.headers.extend([(k, v) for k, v in SECURITY_HEADERS if k.lower() not in present])
    req = request._get_current_object()  # once through the proxy
    if req.is_secure and "strict-transport-security" not in present:
        response.headers.add(*HSTS)
    if req.path.startswith("/staff"):
        # Staff pages and downloads hold personal data: no browser or proxy keeps
        # a copy (send_file's default was "public, max-age=3600" on exports).
        response.headers["Cache-Control"] = "no-store"
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per set
    of keys instead of twice on every request (reading and writing the cookie), and
    a short way out of saving when there is nothing to save."""

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # a changed key replaces the old one
        return serializer

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure in production (``SESSION_COOKIE_SECURE``) and, whatever the
        settings, over HTTPS: an installation left in the default mode behind
        HTTPS sent the staff session without it, and a browser then sent it on
        any plain-HTTP request to the host too."""
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def save_session(self, app: Flask, session, response: Response) -> None:
        if not getattr(response, "vary_on_cookie", True):
            # A page kept by the phone for its Back button only (never reused for a
            # new request): with "Vary: Cookie", a session changed meanwhile (the
            # text-size button) made every page kept before it unusable, and Back
            # showed "Confirm Form Resubmission" again.
            if session.modified:
                super().save_session(app, session, response)
                # Werkzeug compares the header list with the name as given: lower case.
                response.vary.discard("cookie")
            return
        if session or session.modified:
            super().save_session(app, session, response)
        elif session.accessed:
            # Empty and unchanged (a resident's request, which only reads the
            # text size and language): Flask would only add "Vary: Cookie",
            # after looking up six cookie settings and parsing the Vary header.
            vary = response.headers.get("Vary")
            if not vary:
                response.headers["Vary"] = "Cookie"
            elif "cookie" not in {part.strip().lower() for part in vary.split(",")}:
                response.headers["Vary"] = f"{vary}, Cookie"


def trust_proxies(app: Flask) -> None:
    """Behind ``PROXY_COUNT`` proxies, take the client's address and scheme from
    the X-Forwarded-For / X-Forwarded-Proto headers they add (each proxy's own
    entry, counted from the right: a header the client forged is not believed)."""
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def init_app(app: Flask) -> None:
    trust_proxies(app)
    app.json = SafeJSONProvider(app)
    app.session_interface = SessionInterface()
    app.after_request(_headers)
