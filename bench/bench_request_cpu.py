#!/usr/bin/env python3
"""CPU per request of the resident's path, in one process, without a network.

    python bench/bench_request_cpu.py                  # SQLite, 2,000 submissions
    python bench/bench_request_cpu.py --submissions 500 --postgres

bench_load.py measures the real thing (gunicorn, 64 clients, two shared cores),
but its figures drift by ±15% with the machine. This script calls the WSGI
application directly, one request at a time, and measures the process's CPU
time (all threads, the submit writer's included) per request of each step of
the resident's path (landing → consent → page 1 → page 2 → submit), and, in
the same run as the baseline, of the bare endpoint /healthz. Their ratio
predicts bench_load's throughput ratio when the server is CPU-bound, without
the load generator's and the HTTP server's share (those are the same for both).
The garbage collector is set as wsgi.py sets it in production (before stop 21 it
was left at Python's defaults, which cost about 8% of the measured CPU).
Each step is checked (status, tokens found), every submission's 303 must give
its receipt in the cookie (not in the address), and every receipt must be stored
once: exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_load import (  # noqa: E402
    CHROME_ACCEPT_ENCODING,
    answers,
    decompress,
    drop_database,
    postgres_cpu_seconds,
    prepare,
    rate_limits,
    receipt_of,
    throwaway_database,
)

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
STATE = re.compile(rb'name="state" value="([^"]+)"')
STEPS = ("landing", "consent", "page 1", "page 2", "submit")


class Browser:
    """Calls the WSGI app as a server would, keeping cookies."""

    def __init__(self, app, accept_encoding: str = ""):
        self.app, self.cookies, self.accept_encoding = app, {}, accept_encoding

    def request(self, method: str, path: str, form: list | None = None):
        body = urlencode(form).encode() if form is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_USER_AGENT": "Mozilla/5.0 (Android; Mobile) bench",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if form is not None:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        if self.accept_encoding:
            environ["HTTP_ACCEPT_ENCODING"] = self.accept_encoding
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = int(status.split()[0]), headers

        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        encoding = None
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
            elif name.lower() == "content-encoding":
                encoding = value
        return answer["status"], data, encoding


class TimedBrowser(Browser):
    """A browser that notes the server's CPU time of each request (decoding a
    compressed page is the phone's work: not counted)."""

    def __init__(self, app, accept_encoding: str = ""):
        super().__init__(app, accept_encoding)
        self.timings: list[float] = []

    def request(self, *args, **kwargs):
        started = time.process_time()
        result = super().request(*args, **kwargs)
        self.timings.append(time.process_time() - started)
        return result


def resident(browser, token, district, rng) -> tuple[list[int], int, str | None]:
    """One resident's path; the statuses, how many pages came compressed, and the
    receipt code the submission's cookie gave (a new browser each: no cookie before)."""
    pages = answers(rng, district)
    statuses, compressed = [], 0

    def fetch(method, path, form=None) -> bytes:
        nonlocal compressed
        status, data, encoding = browser.request(method, path, form)
        statuses.append(status)
        compressed += bool(encoding)
        return decompress(data, encoding)

    html = fetch("GET", f"/s/{token}")
    html = fetch("POST", f"/s/{token}/start", [("csrf_token", CSRF.search(html).group(1).decode())])
    for page in pages:
        form = [("csrf_token", CSRF.search(html).group(1).decode()),
                ("state", STATE.search(html).group(1).decode()), *page.items()]  # fmt: skip
        html = fetch("POST", f"/s/{token}/page", form)
    return statuses, compressed, receipt_of(browser.cookies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--compressed", action="store_true",
                        help="ask for compressed pages, as a phone's browser does")  # fmt: skip
    args = parser.parse_args()
    encoding = CHROME_ACCEPT_ENCODING if args.compressed else ""

    tmp = tempfile.mkdtemp()
    url = throwaway_database("cpu", tmp, args.postgres)
    problems = []
    try:
        tokens, districts, _ = prepare(url)
        # The same settings as bench_load's server (the environment of a deployment).
        os.environ.update({"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": "k" * 48,
                           "SURVEY_RATE_LIMITS": rate_limits(True), "SURVEY_MIN_DURATION_SECONDS": "0"})  # fmt: skip
        from survey import create_app
        from survey.gc_settings import settle_garbage_collector

        app = create_app()
        settle_garbage_collector()  # as wsgi.py does: production's collector settings
        rng = random.Random(7)

        def bare_cpu() -> float:
            """CPU seconds per request of /healthz (as many requests as the resident run)."""
            bare = Browser(app, encoding)
            count = args.submissions * 5
            started = time.process_time()
            for _ in range(count):
                status, _, _ = bare.request("GET", "/healthz")
            if status != 200:
                problems.append(f"/healthz answered {status}")
            return (time.process_time() - started) / count

        for _ in range(500):  # warm up the bare endpoint too
            Browser(app).request("GET", "/healthz")
        bare_before = bare_cpu()
        per_step = dict.fromkeys(STEPS, 0.0)
        stored = compressed = 0
        receipts = []
        database_cpu = 0.0  # PostgreSQL's CPU over the timed submissions (all its processes)
        for n in range(args.warmup + args.submissions):
            i = rng.randrange(len(tokens))
            browser = TimedBrowser(app, encoding)
            statuses, encoded, receipt = resident(browser, tokens[i], districts[i], rng)
            if statuses != [200, 200, 200, 200, 303]:
                problems.append(f"submission {n}: statuses {statuses}")
                break
            if receipt is None:
                problems.append(f"submission {n}: no receipt cookie")
                break
            receipts.append(receipt)
            stored += 1
            compressed += encoded
            if n == args.warmup - 1 and args.postgres:
                database_cpu = -postgres_cpu_seconds()
            if n >= args.warmup:
                for step, seconds in zip(STEPS, browser.timings, strict=True):
                    per_step[step] += seconds
        per_submission = sum(per_step.values()) / args.submissions
        if args.postgres:
            database_cpu = (database_cpu + postgres_cpu_seconds()) / args.submissions
        bare_after = bare_cpu()
        per_bare = (bare_before + bare_after) / 2
        if args.compressed and compressed < 4 * stored:  # the redirect has no body to compress
            problems.append(f"only {compressed} pages came compressed for {stored} submissions")

        from sqlalchemy import func, select

        from survey.extensions import db
        from survey.models import Response
        from survey.operations.abuse import sync_counts
        from survey.operations.responses import flush_counts

        with app.app_context():
            flush_counts()  # the funnel counters kept in memory, before the database goes
            sync_counts()  # and the rate-limit counts
            in_db = db.session.scalar(select(func.count()).select_from(Response))
            codes = set(db.session.scalars(select(Response.receipt_code)))
        if in_db != stored:
            problems.append(f"stored {in_db} responses, expected {stored}")
        if len(set(receipts)) != len(receipts) or not codes.issuperset(receipts):
            problems.append("a receipt given twice, or not stored")
        app.extensions["survey_db"]["engine"].dispose()

        per_request = per_submission / 5
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, one process, {args.submissions} "
              f"submissions after {args.warmup} warm-up"
              + (f", Accept-Encoding: {encoding} ({compressed} pages compressed)" if encoding else ""))  # fmt: skip
        print(f"  resident path: {per_request * 1e6:.0f} µs CPU per request "
              f"({per_submission * 1e3:.2f} ms per submission of 5 requests)")  # fmt: skip
        for step in STEPS:
            print(f"    {step}: {per_step[step] / args.submissions * 1e6:.0f} µs")
        if args.postgres:
            print(f"    PostgreSQL (its processes, the whole machine's): "
                  f"{database_cpu * 1e6 / 5:.0f} µs per request "
                  f"({database_cpu * 1e3:.2f} ms per submission)")  # fmt: skip
        print(f"  bare endpoint /healthz: {per_bare * 1e6:.0f} µs CPU per request "
              f"(before {bare_before * 1e6:.0f}, after {bare_after * 1e6:.0f})")  # fmt: skip
        print(f"  bare / resident CPU per request: {per_bare / per_request:.2f} "
              f"(bench_load's throughput ratio, before HTTP server and client costs)")  # fmt: skip
    finally:
        drop_database(url, tmp)
    for problem in problems:
        print("INVARIANT BROKEN:", problem)
    print("invariants: all hold" if not problems else "invariants: broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
