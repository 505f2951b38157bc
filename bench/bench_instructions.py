#!/usr/bin/env python3
"""Instructions per request of the resident's path, counted by valgrind's callgrind.

    python bench/bench_instructions.py                  # SQLite, 40 submissions
    python bench/bench_instructions.py --compressed --submissions 100
    python bench/bench_instructions.py --postgres

Runs itself under ``valgrind --tool=callgrind --instr-atstart=no`` (valgrind must be
installed; nothing else in the project needs it). What it measures is what
bench_request_cpu.py measures, in instructions instead of CPU seconds: CPU time on
this shared two-core machine moves by 5-15% between runs with the other work on
it, so an A/B of a change worth 2-5% needs many alternated runs, while instruction
counts of the same code repeat to within about 0.1%. Instructions are not time
(cache misses, system calls and waits on the database are not in them), so a
saving found here is confirmed in CPU time or throughput before it is claimed.

The application is called in-process as a WSGI server would (bench_request_cpu's
Browser), with production's garbage-collector settings (wsgi.py). After the
warm-up (not instrumented: valgrind then runs about five times faster), the timed
residents advance together, one step at a time: every landing page, then every
consent, page 1, page 2 and the submission (the last page). Instrumentation is on
only while that step's requests run (callgrind_control), so each step's count is
the server's work for it (all threads, the submit writer's included) plus the
few thousand instructions of building each request's environ, not the client's
parsing or decompression. The caches and flushes that run on a clock (channel
cache, median duration, funnel counters, rate-limit counts) are held still so
that the count does not depend on how slow valgrind made the run, and Python's
hash seed is fixed (PYTHONHASHSEED=0 unless set). With
PostgreSQL, its server's work is not counted (another process).

Each step is checked (status, tokens found), each submission must give its
receipt in the cookie, and every receipt must be stored once: exits 1 otherwise
(and 2 when valgrind is missing).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_load import (  # noqa: E402
    CHROME_ACCEPT_ENCODING,
    answers,
    decompress,
    drop_database,
    prepare,
    rate_limits,
    receipt_of,
    throwaway_database,
)
from bench.bench_request_cpu import CSRF, STATE, STEPS, Browser  # noqa: E402

#: Set in the environment of the run under valgrind (how the script knows it is there).
UNDER_VALGRIND = "BENCH_INSTRUCTIONS_OUT"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40,
                        help="timed submissions (instructions repeat: a few dozen do)")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=20, help="submissions before them")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--compressed", action="store_true",
                        help="ask for compressed pages, as a phone's browser does")  # fmt: skip
    parser.add_argument("--keep", metavar="DIR",
                        help="keep callgrind's files (one per step) in DIR, for callgrind_annotate")  # fmt: skip
    args = parser.parse_args(argv)
    if args.submissions < 1 or args.warmup < 1:
        parser.error("--submissions and --warmup must be at least 1")
    return args


def under_valgrind(argv: list[str]) -> int:
    """Run this script again under callgrind, instrumentation off at the start."""
    args = parse_args(argv)
    valgrind = shutil.which("valgrind")
    if valgrind is None or shutil.which("callgrind_control") is None:
        print("valgrind (with callgrind_control) is needed: apt-get install valgrind")
        return 2
    out_dir = args.keep or tempfile.mkdtemp(prefix="bench-instructions-")
    os.makedirs(out_dir, exist_ok=True)
    command = [valgrind, "--quiet", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out_dir}/callgrind.out",
               sys.executable, __file__, *argv]  # fmt: skip
    try:
        # A fixed hash seed: with a random one, the same code's count moved by about 0.5%.
        env = {"PYTHONHASHSEED": "0", **os.environ, UNDER_VALGRIND: out_dir}
        run = subprocess.run(command, env=env)
    finally:
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
    return run.returncode


class Callgrind:
    """Switches the instrumentation of this process and reads each dump's count."""

    def __init__(self, out_dir: str):
        self.out = Path(out_dir) / "callgrind.out"
        self.dumps = 0

    def _control(self, *args: str) -> None:
        done = subprocess.run(["callgrind_control", *args, str(os.getpid())],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"callgrind_control {' '.join(args)}: {done.stdout}{done.stderr}")

    def count(self, step: str, run) -> int:
        """Instructions of *run()* (the counters start from zero: the last dump
        zeroed them, and nothing is counted with the instrumentation off)."""
        self._control("--instr=on")
        try:
            run()
        finally:
            self._control("--instr=off")
        self._control("--dump=" + step.replace(" ", "-"))
        self.dumps += 1
        for line in Path(f"{self.out}.{self.dumps}").read_text().splitlines():
            if line.startswith("totals:"):
                return int(line.split()[1])
        raise RuntimeError(f"no totals in callgrind's dump {self.out}.{self.dumps}")


class Resident:
    """One resident's browser, answers and latest page, advanced a step at a time."""

    def __init__(self, app, encoding: str, token: str, district: str, rng):
        self.browser = Browser(app, encoding)
        self.token, self.pages = token, answers(rng, district)
        self.html, self.statuses, self.compressed = b"", [], 0
        self.request: tuple = ("GET", f"/s/{token}", None)
        self.answer: tuple = ()

    def prepare(self, step: int) -> None:
        """The request of *step* (0 landing … 4 submit), from the page before."""
        if step == 1:
            csrf = CSRF.search(self.html).group(1).decode()
            self.request = ("POST", f"/s/{self.token}/start", [("csrf_token", csrf)])
        elif step >= 2:
            form = [("csrf_token", CSRF.search(self.html).group(1).decode()),
                    ("state", STATE.search(self.html).group(1).decode()),
                    *self.pages[step - 2].items()]  # fmt: skip
            self.request = ("POST", f"/s/{self.token}/page", form)

    def send(self) -> None:
        self.answer = self.browser.request(*self.request)

    def read(self) -> None:
        status, data, encoding = self.answer
        self.statuses.append(status)
        self.compressed += bool(encoding)
        self.html = decompress(data, encoding)


def hold_clocks_still() -> None:
    """Caches and flushes that run every few seconds run once per hour: under
    valgrind a step takes minutes, and their runs would depend on that."""
    os.environ.update({"SURVEY_COUNTER_FLUSH_SECONDS": "3600",
                       "SURVEY_RATE_LIMIT_SYNC_SECONDS": "3600"})  # fmt: skip
    from survey.operations import channel_cache, quality

    channel_cache.TTL = channel_cache.DISTRICTS_TTL = 3600.0
    quality.MEDIAN_TTL = 3600.0


def measure(args: argparse.Namespace, out_dir: str) -> int:
    encoding = CHROME_ACCEPT_ENCODING if args.compressed else ""
    callgrind = Callgrind(out_dir)
    tmp = tempfile.mkdtemp()
    url = throwaway_database("instr", tmp, args.postgres)
    problems: list[str] = []
    try:
        tokens, districts, _ = prepare(url)
        # The same settings as bench_load's server (the environment of a deployment).
        os.environ.update({"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": "k" * 48,
                           "SURVEY_RATE_LIMITS": rate_limits(True), "SURVEY_MIN_DURATION_SECONDS": "0"})  # fmt: skip
        hold_clocks_still()
        from survey import create_app
        from survey.gc_settings import settle_garbage_collector

        app = create_app()
        settle_garbage_collector()  # as wsgi.py does
        rng = random.Random(7)

        def residents(count: int) -> list[Resident]:
            chosen = [rng.randrange(len(tokens)) for _ in range(count)]
            return [Resident(app, encoding, tokens[i], districts[i], rng) for i in chosen]

        def walk(group: list[Resident], step: int, count: bool) -> int:
            for resident in group:
                resident.prepare(step)
            run = lambda: [resident.send() for resident in group]  # noqa: E731
            instructions = callgrind.count(STEPS[step], run) if count else run()
            for resident in group:
                resident.read()
            return instructions

        for _ in range(30):  # the bare endpoint, once warm
            Browser(app).request("GET", "/healthz")
        bare = Browser(app, encoding)
        per_bare = (
            callgrind.count(
                "healthz",
                lambda: [bare.request("GET", "/healthz") for _ in range(args.submissions)],
            )
            / args.submissions
        )

        warm = residents(args.warmup)
        for step in range(len(STEPS)):
            walk(warm, step, count=False)
        timed = residents(args.submissions)
        per_step = {STEPS[step]: walk(timed, step, count=True) / args.submissions
                    for step in range(len(STEPS))}  # fmt: skip

        receipts = []
        for n, resident in enumerate(warm + timed):
            if resident.statuses != [200, 200, 200, 200, 303]:
                problems.append(f"resident {n}: statuses {resident.statuses}")
            elif (receipt := receipt_of(resident.browser.cookies)) is None:
                problems.append(f"resident {n}: no receipt cookie")
            else:
                receipts.append(receipt)
        compressed = sum(resident.compressed for resident in warm + timed)
        if args.compressed and compressed < 4 * len(receipts):  # the redirect has no body
            problems.append(f"only {compressed} pages came compressed for {len(receipts)}")
        problems += stored_once(app, receipts)
        app.extensions["survey_db"]["engine"].dispose()
    finally:
        drop_database(url, tmp)

    per_submission = sum(per_step.values())
    print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, one process under callgrind, "
          f"{args.submissions} submissions after {args.warmup} warm-up"
          + (f", Accept-Encoding: {encoding}" if encoding else ""))  # fmt: skip
    if not problems:
        print(f"  resident path: {per_submission / 5:,.0f} instructions per request "
              f"({per_submission:,.0f} per submission of 5 requests)")  # fmt: skip
        for step in STEPS:
            print(f"    {step}: {per_step[step]:,.0f}")
        print(f"  bare endpoint /healthz: {per_bare:,.0f} instructions per request")
        print(f"  bare / resident instructions per request: {per_bare * 5 / per_submission:.2f}")
    for problem in problems:
        print("INVARIANT BROKEN:", problem)
    print("invariants: all hold" if not problems else "invariants: broken")
    return 1 if problems else 0


def stored_once(app, receipts: list[str]) -> list[str]:
    """What is wrong with the stored responses: one for each receipt given."""
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
    problems = []
    if in_db != len(receipts):
        problems.append(f"stored {in_db} responses, expected {len(receipts)}")
    if len(set(receipts)) != len(receipts) or not codes.issuperset(receipts):
        problems.append("a receipt given twice, or not stored")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = os.environ.get(UNDER_VALGRIND)
    if out_dir is None:
        return under_valgrind(argv)
    return measure(parse_args(argv), out_dir)


if __name__ == "__main__":
    sys.exit(main())
