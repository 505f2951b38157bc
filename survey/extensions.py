"""Extension objects, created here and wired by :func:`init_app`."""

from __future__ import annotations

import threading

from flask import Flask, request
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect

from survey.db import Database

db = Database()
csrf = CSRFProtect()
# Compress HTML/CSS/JS/JSON: residents are often on weak mobile networks.
compress = Compress()

try:  # Flask-Compress's internals, used only to keep a zstd compressor per thread
    from flask_compress import flask_compress as _flask_compress
    from flask_compress.compat import compression
except ImportError:  # a later version laid out otherwise: its own compression is used
    _flask_compress = compression = None
#: Flask-Compress's own function (None if a later version has none of that name).
_library_compress_data = getattr(_flask_compress, "_compress_data", None)


class _ThreadZstd(threading.local):
    """Each thread's zstd compressor, with the level it was made for."""

    level: int | None = None
    compressor = None


_zstd = _ThreadZstd()


def compress_data(app: Flask, data: bytes, algorithm: str) -> bytes:
    """Flask-Compress's compression of a whole response, with zstd's compressor
    kept by each thread instead of made for every response.

    Phones ask for zstd first (Chrome's Accept-Encoding), and Flask-Compress
    called ``zstd.compress``, which sets up a new compression context (a few
    hundred KB of tables) each time: for a 5 KB questionnaire page that set-up
    cost several times the compression itself (72 against 8 µs measured on one
    page). The size announced first (``set_pledged_input_size``) makes the frame
    the same bytes as ``zstd.compress`` gives: its header names the page's size,
    so a phone sizes its window to the page. Other encodings go to Flask-Compress."""
    if algorithm != "zstd":
        return _library_compress_data(app, data, algorithm)
    level = app.config["COMPRESS_ZSTD_LEVEL"]
    if _zstd.compressor is None or _zstd.level != level:
        _zstd.compressor = compression.zstd.ZstdCompressor(level=level)
        _zstd.level = level
    try:
        _zstd.compressor.set_pledged_input_size(len(data))
        return _zstd.compressor.compress(data, mode=_zstd.compressor.FLUSH_FRAME)
    except BaseException:
        _zstd.compressor = None  # whatever state it was left in: the next call makes another
        raise


def init_app(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)
    if _library_compress_data is not None and getattr(compression, "zstd", None) is not None:
        # The function Flask-Compress's after_request looks up on each response.
        _flask_compress._compress_data = compress_data
    # Registered after Compress, so it runs before it: static files are small;
    # buffering them lets Compress gzip them too (it only streams br/zstd).
    app.after_request(_buffer_static_files)
    app.after_request(_compress_error_pages)


def _buffer_static_files(response):
    # direct_passthrough first: true of file responses only, and not a read of the
    # request through its proxy (about 8,000 instructions) on every other request.
    if response.direct_passthrough and request.endpoint == "static" and response.status_code == 200:
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
