"""Small helpers shared by the views."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Response, abort, send_file
from werkzeug.wsgi import ClosingIterator

from survey.extensions import db


def get_or_404(model, ident):
    """The object with primary key *ident*, or a 404 page."""
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


class TemporaryDownload:
    """A file download written to a temporary file first (XLSX, SAV, DTA, DOCX)::

        with TemporaryDownload(".xlsx") as download:
            write(download.path)
            return download.send(mimetype=..., as_attachment=True, download_name=...)

    ``send`` hands the file to ``send_file`` (which opens it, and gives the response
    its length, Range support and the server's sendfile as for any file) and then
    removes its name at once: the open file is freed when the response is closed,
    even if the process is killed first, so no copy of the microdata stays behind in
    the temporary directory. (``send_file``'s responses bypass ``call_on_close``:
    Werkzeug hands their file straight to the server, so a file removed "on close"
    was never removed.) Where an open file cannot be removed (Windows), it is removed
    once the response is closed. A block left without sending (an error, a refused
    export) removes the file too. The descriptor ``tempfile.mkstemp`` opens is closed
    at once: one left open per download would, after about a thousand, leave the
    worker unable to open anything more (a database connection, a resident's
    request). Not for ``USE_X_SENDFILE`` (off), whose server reads the file later.
    """

    def __init__(self, suffix: str):
        fd, name = tempfile.mkstemp(suffix=suffix)
        os.close(fd)
        self.path = Path(name)
        self._sent = False

    def __enter__(self) -> TemporaryDownload:
        return self

    def send(self, **kwargs) -> Response:
        """``send_file`` of the file (``download_name`` and ``mimetype`` as for it)."""
        response = send_file(self.path, **kwargs)
        self._sent = True
        try:
            self.path.unlink()
        except OSError:  # an open file cannot be removed here: remove it once sent
            path = self.path
            response.response = ClosingIterator(
                response.response, lambda: path.unlink(missing_ok=True)
            )
        return response

    def __exit__(self, *exc_info) -> None:
        if not self._sent:
            self.path.unlink(missing_ok=True)


def attachment(response: Response, name: str, fallback: str) -> Response:
    """Mark *response* as a download named *name* (UTF-8, RFC 6266), with the
    plain ASCII *fallback* for old clients: Werkzeug's own fallback drops the
    Chinese and keeps the rest, so a wave called "2026<script>" became the file
    name "-2026<script>-microdata.xlsx"."""
    from urllib.parse import quote

    response.headers["Content-Disposition"] = (
        f"attachment; filename={fallback}; filename*=UTF-8''{quote(name)}"
    )
    return response
