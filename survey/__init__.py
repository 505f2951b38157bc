"""The eco-civilization survey platform (Flask application)."""

from __future__ import annotations

import io
import weakref
from inspect import iscoroutinefunction
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Request, current_app
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

_URLENCODED = "application/x-www-form-urlencoded"


#: Views that take a file upload (their body may reach ``MAX_UPLOAD_LENGTH``).
UPLOAD_ENDPOINTS = frozenset({"fieldwork.frame"})


class SurveyRequest(Request):
    """Flask's request, reading a URL-encoded form body straight from the server.

    Every POST of a resident is a small URL-encoded form. Werkzeug reads it
    through a form-parser object and a LimitedStream, about 40 µs per request;
    the result is the same as ``parse_qsl`` of the body read at once (Werkzeug's
    own urlencoded parser is exactly that call), which costs 7 µs. The same
    limits hold: a body over ``MAX_CONTENT_LENGTH`` is a 413 before it is read,
    a short body a 400. Anything else (multipart, no length, a body already read
    with ``get_data``, debug mode) goes through Werkzeug as before.
    """

    @property
    def max_content_length(self) -> int | None:
        """``MAX_CONTENT_LENGTH`` (64 KB: a resident's form), except for the staff's
        file uploads (a population frame as .xlsx), allowed ``MAX_UPLOAD_LENGTH``."""
        rule = self.url_rule
        if rule is not None and rule.endpoint in UPLOAD_ENDPOINTS and current_app:
            return current_app.config["MAX_UPLOAD_LENGTH"]
        return super().max_content_length

    def _load_form_data(self) -> None:
        environ = self.environ
        length = self.content_length
        if (
            "form" in self.__dict__
            or length is None
            or self.mimetype != _URLENCODED
            or getattr(self, "_cached_data", None) is not None
            or "stream" in self.__dict__
            or (limit := self.max_content_length) is None  # once: it reads current_app
            or current_app.debug
        ):
            return super()._load_form_data()
        if length > limit:
            raise RequestEntityTooLarge()
        body = environ["wsgi.input"].read(length) if length else b""
        if len(body) < length:
            raise ClientDisconnected()
        try:
            items = parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: an empty form, as Werkzeug's (silent) parser gives
            items = []
        d = self.__dict__
        d["stream"] = io.BytesIO()  # read to the end, as Werkzeug leaves it
        d["form"] = self.parameter_storage_class(items)
        d["files"] = self.parameter_storage_class()


class SurveyFlask(Flask):
    """Flask, remembering which functions are coroutines.

    Flask asks ``inspect.iscoroutinefunction`` about the view and every hook
    (about fifteen) on every request; the answer never changes for a function,
    and asking cost about 1.5% of a resident's request.
    """

    request_class = SurveyRequest

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._is_coroutine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def ensure_sync(self, func):
        target = getattr(func, "__func__", func)  # a bound method's function
        try:
            is_coroutine = self._is_coroutine[target]
        except KeyError:
            is_coroutine = self._is_coroutine[target] = iscoroutinefunction(func)
        except TypeError:  # not weakly referenceable (a builtin): ask each time
            is_coroutine = iscoroutinefunction(func)
        return self.async_to_sync(func) if is_coroutine else func


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: configure, wire extensions, register blueprints.

    Feature modules are imported here, as in Flask's tutorial, so that
    ``survey.models`` and ``survey.migrate`` import without the web stack.
    """
    from survey import cli, config, errors, extensions, i18n, security
    from survey.admin.blueprint import bp as admin_bp
    from survey.auth import access
    from survey.auth.blueprint import bp as auth_bp
    from survey.dashboard.blueprint import bp as dashboard_bp
    from survey.exports.blueprint import bp as exports_bp
    from survey.fieldwork.blueprint import bp as fieldwork_bp
    from survey.operations.cities import QUOTA_POLICY_LABELS
    from survey.paths import STATIC_DIR, TEMPLATES_DIR
    from survey.report.blueprint import bp as report_bp
    from survey.respond.blueprint import bp as respond_bp
    from survey.statdesk.blueprint import bp as statdesk_bp

    app = SurveyFlask(
        __name__,
        instance_relative_config=True,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
    )
    config.configure(app, test_config)
    extensions.init_app(app)
    access.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(respond_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(fieldwork_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(statdesk_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(report_bp)
    app.jinja_env.globals["view_endpoints"] = app.view_functions
    # One wording of a wave's quota policy for every page (waves list, settings).
    app.jinja_env.globals["quota_policy_labels"] = QUOTA_POLICY_LABELS
    app.add_url_rule("/healthz", "healthz", lambda: ("ok", 200, {"Content-Type": "text/plain"}))
    return app
