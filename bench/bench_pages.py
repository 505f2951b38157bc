#!/usr/bin/env python3
"""Page weight of the resident's path: transferred (compressed) bytes and requests.

Serves the demo on a real local port, then fetches the landing page and the first
questionnaire page the way a phone with an empty cache would: the HTML and every
sub-resource it references (stylesheets, scripts, images; ``data:`` URLs cost no
request). Sizes are the bytes on the wire with ``Accept-Encoding: gzip`` (what
every phone browser accepts) and with brotli, as the app compresses itself.

Target (issue 2): the first questionnaire page, everything included, under
25 KB compressed and at most 3 requests. Exits 1 when a target is missed.

    python bench/bench_pages.py
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import urllib.parse
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server  # noqa: E402

from survey import create_app  # noqa: E402
from survey.migrate import upgrade  # noqa: E402

SUBRESOURCE = re.compile(
    r'<(?:link[^>]+rel="(?:stylesheet|icon)"[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"'
)
TARGET_BYTES = 25 * 1024
TARGET_REQUESTS = 3


class Fetcher:
    def __init__(self, port: int, encoding: str):
        self.port, self.encoding = port, encoding
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes, dict]:
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept-Encoding": self.encoding, "User-Agent": "Mozilla/5.0 (Android; Mobile)"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()  # compressed bytes as sent on the wire
        for value in resp.msg.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, raw, dict(resp.getheaders())

    def page_with_resources(self, method, path, body=None, decode=None):
        status, raw, headers = self.request(method, path, body)
        html = decode(raw, headers)
        total, requests = len(raw) + _header_bytes(headers), 1
        for ref in SUBRESOURCE.findall(html):
            if ref.startswith("data:"):
                continue
            _, sub_raw, sub_headers = self.request("GET", urllib.parse.urlsplit(ref).path)
            total += len(sub_raw) + _header_bytes(sub_headers)
            requests += 1
        return status, html, total, requests


def _header_bytes(headers: dict) -> int:
    return sum(len(k) + len(v) + 4 for k, v in headers.items())


def _decode(raw: bytes, headers: dict) -> str:
    enc = headers.get("Content-Encoding", "")
    if enc == "gzip":
        import gzip

        raw = gzip.decompress(raw)
    elif enc == "br":
        import brotli

        raw = brotli.decompress(raw)
    elif enc == "zstd":
        from compression import zstd  # type: ignore[import-not-found]

        raw = zstd.decompress(raw)
    return raw.decode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    upgrade(url)
    app = create_app({"SECRET_KEY": "bench-" + "k" * 40, "DATABASE_URL": url})
    with app.app_context():
        from survey.operations.demo import setup_demo

        wave = setup_demo()
        token = wave_channel_token(wave.id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed = False
    print(f"{'page':<34}{'encoding':<10}{'bytes':>8}{'requests':>10}")
    for encoding in ("gzip", "br"):
        fetch = Fetcher(server.server_port, encoding)
        status, html, size, reqs = fetch.page_with_resources("GET", f"/s/{token}", decode=_decode)
        print(f"{'landing (consent)':<34}{encoding:<10}{size:>8}{reqs:>10}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        # A new phone: cold cache, so the first questionnaire page pays for CSS and JS again.
        status, html, size, reqs = fetch.page_with_resources(
            "POST", f"/s/{token}/start", body=f"csrf_token={csrf}", decode=_decode
        )
        assert status == 200, status
        ok = size <= TARGET_BYTES and reqs <= TARGET_REQUESTS
        failed |= not ok
        mark = "ok" if ok else f"OVER TARGET ({TARGET_BYTES} B, {TARGET_REQUESTS} requests)"
        print(f"{'first questionnaire page':<34}{encoding:<10}{size:>8}{reqs:>10}  {mark}")
    server.shutdown()
    return 1 if failed else 0


def wave_channel_token(wave_id: int) -> str:
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Channel

    return db.session.scalar(select(Channel.token).filter_by(wave_id=wave_id).limit(1))


if __name__ == "__main__":
    sys.exit(main())
