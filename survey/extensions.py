"""Extension objects, created here and wired by :func:`init_app`."""

from __future__ import annotations

from flask import Flask, request
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect

from survey.db import Database

db = Database()
csrf = CSRFProtect()
# Compress HTML/CSS/JS/JSON: residents are often on weak mobile networks.
compress = Compress()


def init_app(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)
    # Registered after Compress, so it runs before it: static files are small;
    # buffering them lets Compress gzip them too (it only streams br/zstd).
    app.after_request(_buffer_static_files)
    app.after_request(_compress_error_pages)


def _buffer_static_files(response):
    if request.endpoint == "static" and response.status_code == 200:
        response.direct_passthrough = False
        response.make_sequence()
    return response


def _compress_error_pages(response):
    """Compress pages sent with an error status too. Flask-Compress leaves every
    non-2xx response alone, but residents see some often, on weak networks: a
    questionnaire page with a question missed (422, 5.6 KB uncompressed), a
    closed channel (410), a limit (429). Registered after Compress, so it runs
    before it: Compress then finds the response encoded and leaves it."""
    if response.status_code >= 400 and not response.is_streamed:
        status = response.status
        response.status_code = 200  # what Compress's after_request asks
        response = compress.after_request(response)
        response.status = status
    return response
