#!/usr/bin/env python3
"""Load and fault benchmark through the real HTTP path under gunicorn.

    python bench/bench_load.py                       # SQLite, 20,000 submissions, 64 clients
    python bench/bench_load.py --postgres            # the same on PostgreSQL (throw-away database)
    python bench/bench_load.py --kill 3              # SIGKILL the server 3 times during the run
    python bench/bench_load.py --postgres --restart-postgres 2   # restart PostgreSQL during the run

Clients (64, each in a process of its own) each repeat the resident's path:
landing → consent (CSRF) → page 1 → page 2 → page 3 (submit), keeping cookies, over
all channels and many quota cells; one more client polls the dashboard JSON every
second as an organizer. A request that fails to connect, or gets 503, is retried
with the same form (the submission id makes that safe). Afterwards it checks:
every acknowledged receipt (in the cookie of the submission's 303, whose address
carries no code) is stored, no response beyond those, no half-stored
response, counters equal to stored counts, and zero 500s. It runs the resident
path in parts (``--parts``, 5) and measures a bare endpoint (/healthz) with the same
clients before, between and after them (``--bare-requests`` each): this machine's
speed drifts within a run, and each part is compared with the bare runs on either
side of it; the ratio reported is of all parts against all bare runs. Each run is
timed from the moment every client process is up to the last one's last answer.
It prints throughput and p50/p99 per step, and the CPU per request of the server,
the load clients and PostgreSQL. ``--think-ms`` adds
a pause before each request, as residents reading pages; latencies are then compared
with the bare endpoint at the same pace. Every start and submission is counted against production's rate limits, as in
a deployment (the limits raised out of reach: all clients share one address;
``--no-rate-limits`` switches the counting off). ``--compressed`` makes the clients ask for
compressed pages as a phone's browser does (Accept-Encoding of Chrome: the server
then compresses every page, with zstd), a cost the default run leaves out.
Targets: the submit path reaches at least half of the bare endpoint's request
throughput; p99 under 100 ms. Exits 1 when an invariant breaks (targets are reported).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection, RemoteDisconnected
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STATE = re.compile(r'name="state" value="([^"]+)"')
SEXES = ["男", "女"]
AGES = ["18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ORGANIZER_PASSWORD = "Bench-organizer-2026!"


class CookieJar:
    """A browser's cookies: each sent only to its path and below (the receipt
    cookie belongs to one channel's pages), dropped when the server expires it."""

    def __init__(self):
        self.kept: dict[tuple[str, str], str] = {}  # (name, path) -> value

    def header(self, path: str) -> str:
        return "; ".join(f"{name}={value}" for (name, where), value in self.kept.items()
                         if where == "/" or path == where or path.startswith(where + "/"))  # fmt: skip

    def take(self, set_cookies: list[str]) -> dict[str, str]:
        """Keep what a response's Set-Cookie headers set; return it ({name: value})."""
        given = {}
        for value in set_cookies:
            name, _, rest = value.partition("=")
            value, *attributes = rest.split(";")
            path = "/"
            for attribute in attributes:
                key, _, setting = attribute.strip().partition("=")
                if key.lower() == "path":
                    path = setting or "/"
            if "max-age=0" in rest.lower():
                self.kept.pop((name, path), None)
            else:
                self.kept[(name, path)] = given[name] = value
        return given

    def clear(self) -> None:
        self.kept.clear()


class Client:
    """One resident's browser: keep-alive connection, cookies, retries."""

    def __init__(self, port: int, latencies: list, codes: dict, think: float = 0.0, seed=None):
        self.port, self.conn, self.cookies = port, None, CookieJar()
        #: The cookies the last response set ({name: value}): the receipt's, after a submission.
        self.given: dict[str, str] = {}
        self.latencies, self.codes = latencies, codes
        #: The resident's step of the next request, and latencies by step.
        self.step, self.by_step = "", {}
        #: Mean pause before each request in seconds (0: none, a stress test).
        self.think, self.rng = think, random.Random(seed)
        self.accept_encoding = os.environ.get("BENCH_ACCEPT_ENCODING", "")

    def request(self, method: str, path: str, form: list | None = None, tries: int = 60):
        body = urlencode(form).encode() if form is not None else None
        if self.think:  # reading the page, tapping answers: not part of the latency
            time.sleep(self.rng.expovariate(1 / self.think))
        for _ in range(tries):
            headers = {"User-Agent": "Mozilla/5.0 (Android; Mobile) bench"}
            if self.accept_encoding:
                headers["Accept-Encoding"] = self.accept_encoding
            cookies = self.cookies.header(path)
            if cookies:
                headers["Cookie"] = cookies
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            start = time.perf_counter()
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (OSError, ConnectionError, Exception) as exc:  # noqa: BLE001 - retry
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if reused and isinstance(exc, (RemoteDisconnected, BrokenPipeError,
                                               ConnectionResetError)):  # fmt: skip
                    # The server closed the idle kept-alive connection (after its
                    # keep-alive timeout) as the request went out: reconnect at
                    # once, as browsers do. Not counted as a latency.
                    self.codes["reconnect"] = self.codes.get("reconnect", 0) + 1
                    continue
                self.codes["conn_error"] = self.codes.get("conn_error", 0) + 1
                time.sleep(0.3)  # server killed or restarting
                continue
            elapsed = time.perf_counter() - start
            self.latencies.append(elapsed)
            self.by_step.setdefault(self.step, []).append(elapsed)
            self.codes[resp.status] = self.codes.get(resp.status, 0) + 1
            self.given = self.cookies.take(resp.msg.get_all("Set-Cookie") or [])
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            if resp.status == 503:
                time.sleep(0.5)
                continue
            encoding = resp.getheader("Content-Encoding")
            if encoding:  # counted like "reconnect": shows the pages came compressed
                self.codes[encoding] = self.codes.get(encoding, 0) + 1
                data = decompress(data, encoding)
            return resp.status, data.decode("utf-8", "replace"), resp.getheader("Location")
        raise RuntimeError(f"gave up on {method} {path}")


#: ``--compressed``: the clients send this (through the environment, to every client process).
CHROME_ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def decompress(data: bytes, encoding: str | None) -> bytes:
    if not encoding:
        return data
    if encoding == "zstd":
        try:
            from compression import zstd  # Python 3.14
        except ImportError:
            from backports import zstd  # installed with Flask-Compress
        return zstd.decompress(data)
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    import zlib

    return zlib.decompress(data, 47)  # gzip or zlib header


#: The cookie in which a submission's 303 gives the receipt (survey/respond/receipts.py).
RECEIPT_COOKIE = "sv_receipt"


#: Counted with the status codes: a 303 to the thank-you page without the receipt
#: cookie, or to another address (the code must be in no address).
NO_RECEIPT = "303 without the receipt cookie"


def receipt_of(given: dict[str, str]) -> str | None:
    """The receipt code in the cookies a response set (``<code>.<time>.<signature>``),
    or None: the thank-you page's address carries none."""
    value = given.get(RECEIPT_COOKIE)
    return value.split(".", 1)[0] if value else None


def answers(rng, district: str) -> list[dict]:
    """A resident's answers to the standard questionnaire's three pages (random cells)."""
    return [
        {"age_group": rng.choice(AGES), "residence": "yes", "env_staff": "no",
         "district": district, "sex": rng.choice(SEXES), "urban_rural": "城镇"},
        {q: rng.choice("54321") for q in ("s_air", "s_water", "s_drinking", "s_green",
                                           "s_sanitation", "s_noise", "s_government")},
        {"activities": "sorting", "awareness": "know"},
    ]  # fmt: skip


def resident_worker(port, tokens, districts, remaining, out, seed, think=0.0):
    rng = random.Random(seed)
    latencies, codes, receipts, abandoned = [], {}, [], 0
    client = Client(port, latencies, codes, think, seed)
    while True:
        with remaining.get_lock():
            if remaining.value <= 0:
                break
            remaining.value -= 1
        i = rng.randrange(len(tokens))
        token, district = tokens[i], districts[i]
        pages = answers(rng, district)
        try:
            client.step = "landing (GET)"
            status, html, _ = client.request("GET", f"/s/{token}")
            client.step = "consent (POST)"
            status, html, _ = client.request("POST", f"/s/{token}/start",
                                             [("csrf_token", CSRF.search(html).group(1))])  # fmt: skip
            for n, page in enumerate(pages):
                client.step = "submit (last page)" if n == len(pages) - 1 else "next page"
                form = [("csrf_token", CSRF.search(html).group(1)),
                        ("state", STATE.search(html).group(1)), *page.items()]  # fmt: skip
                status, html, location = client.request("POST", f"/s/{token}/page", form)
            if status == 303:
                receipt = receipt_of(client.given)
                if receipt is None or not location.endswith(f"/s/{token}/thanks"):
                    codes[NO_RECEIPT] = codes.get(NO_RECEIPT, 0) + 1  # an invariant broken
                    abandoned += 1
                else:
                    receipts.append(receipt)
            else:
                abandoned += 1
        except (RuntimeError, AttributeError):
            abandoned += 1
            client.cookies.clear()
    out.put({"latencies": latencies, "codes": codes, "receipts": receipts, "abandoned": abandoned,
             "by_step": client.by_step})  # fmt: skip


def bare_worker(port, remaining, out, think=0.0, seed=None):
    latencies, codes = [], {}
    client = Client(port, latencies, codes, think, seed)
    while True:
        with remaining.get_lock():
            if remaining.value <= 0:
                break
            remaining.value -= 1
        client.request("GET", "/healthz")
    out.put({"latencies": latencies, "codes": codes, "receipts": [], "abandoned": 0})


def process_main(kind, port, tokens, districts, remaining, threads, out, seed, ready, think=0.0):
    collected = []
    lock = threading.Lock()

    class Sink:
        def put(self, item):
            with lock:
                collected.append(item)

    sink = Sink()
    workers = [
        threading.Thread(
            target=resident_worker if kind == "submit" else bare_worker,
            args=(port, tokens, districts, remaining, sink, seed * 1000 + t, think)
            if kind == "submit"
            else (port, remaining, sink, think, seed * 1000 + t),
        )
        for t in range(threads)
    ]
    ready.wait(120)  # every client process is up: they start together
    cpu = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    finished = time.perf_counter()  # before the results travel back to the parent
    result = merge(collected)
    result["cpu"] = time.process_time() - cpu
    result["finished"] = finished
    out.put(result)


def merge(results: list[dict]) -> dict:
    """Add up the latencies, status counts, receipts and abandoned submissions (of
    client processes, or of runs: then their times and CPU too)."""
    merged = {
        "latencies": [],
        "codes": {},
        "receipts": [],
        "abandoned": 0,
        "by_step": {},
        "cpu": 0.0,
        "elapsed": sum(item.get("elapsed", 0.0) for item in results),
        "server_cpu": sum(item.get("server_cpu", 0.0) for item in results),
    }
    if results and all("database_cpu" in item for item in results):
        merged["database_cpu"] = sum(item["database_cpu"] for item in results)
    for item in results:
        merged["cpu"] += item.get("cpu", 0.0)
        merged["latencies"] += item["latencies"]
        for step, values in item.get("by_step", {}).items():
            merged["by_step"].setdefault(step, []).extend(values)
        merged["receipts"] += item["receipts"]
        merged["abandoned"] += item["abandoned"]
        for k, v in item["codes"].items():
            merged["codes"][k] = merged["codes"].get(k, 0) + v
    return merged


def run_clients(kind, port, tokens, districts, total, clients, procs, server=None, think=0.0):
    """Run *total* resident submissions (kind "submit") or bare requests from
    *clients* clients in *procs* processes; their latencies, statuses, receipts,
    CPU, and the elapsed time from the moment every client process is up to the
    moment the last one finished its requests. (Starting 64 processes and sending
    their results back took a few tenths of a second: counted in a 10-second run
    of the bare endpoint, it made the bare endpoint look slower and the ratio
    better than they were.)"""
    remaining = mp.Value("i", total)
    out = mp.Queue()
    per = clients // procs
    ready = mp.Barrier(procs + 1)
    ps = [mp.Process(target=process_main,
                     args=(kind, port, tokens, districts, remaining, per, out, p, ready, think))
          for p in range(procs)]  # fmt: skip
    for p in ps:
        p.start()
    server_cpu = server.cpu_seconds() if server else 0.0
    database_cpu = postgres_cpu_seconds() if server and server.postgres else 0.0
    ready.wait(120)
    started = time.perf_counter()
    results = [out.get() for _ in ps]
    for p in ps:
        p.join()
    merged = merge(results)
    merged["elapsed"] = max(r["finished"] for r in results) - started
    merged["server_cpu"] = server.cpu_seconds() - server_cpu if server else 0.0
    if server and server.postgres and not server.restarts_postgres:
        # (a restarted PostgreSQL's processes are new: their CPU cannot be compared)
        merged["database_cpu"] = postgres_cpu_seconds() - database_cpu
    return merged


def rate(run: dict) -> float:
    """Requests per second of one run of :func:`run_clients`."""
    return len(run["latencies"]) / run["elapsed"]


def compare_parts(resident_runs: list[dict], bare_runs: list[dict]) -> str:
    """Each part of the resident run against the mean of the bare runs just before
    and just after it: a line with their throughputs and ratios."""
    ratios = [rate(r) / ((rate(before) + rate(after)) / 2)
              for r, before, after in zip(resident_runs, bare_runs[:-1], bare_runs[1:], strict=True)]  # fmt: skip
    return (f"by part: resident {' / '.join(f'{rate(r):.0f}' for r in resident_runs)} req/s; "
            f"bare endpoint {' / '.join(f'{rate(b):.0f}' for b in bare_runs)} req/s; "
            f"ratios {' / '.join(f'{x:.2f}' for x in ratios)} "
            f"(lowest {min(ratios):.2f}, highest {max(ratios):.2f})")  # fmt: skip


def dashboard_poller(port: int, wave_id: int, stop: threading.Event, out: dict) -> None:
    """An organizer watching the dashboard: log in, then fetch its JSON every second."""
    latencies, codes = [], {}
    client = Client(port, latencies, codes)
    try:
        _, html, _ = client.request("GET", "/staff/login")
        client.request("POST", "/staff/login", [("csrf_token", CSRF.search(html).group(1)),
                                                ("username", "bench-organizer"),
                                                ("password", ORGANIZER_PASSWORD)])  # fmt: skip
        while not stop.wait(1.0):
            status, body, _ = client.request("GET", f"/staff/waves/{wave_id}/dashboard.json")
            if status != 200:
                raise RuntimeError(f"dashboard.json answered {status}")
            json.loads(body)
    except (RuntimeError, AttributeError, ValueError) as exc:
        codes[f"poller failed: {exc}"] = 1
    out.update(latencies=latencies, codes=codes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu_seconds(wanted) -> float:
    """CPU seconds (user + system) of the live processes for which
    ``wanted(name, process group)`` is true, with their children that ended
    (PostgreSQL's backends, reaped by the postmaster: a connection closed during
    the run keeps its CPU in the sum); 0 where there is no /proc."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    if not Path("/proc").is_dir():  # not Linux: not reported
        return 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, _, rest = (entry / "stat").read_text().partition(" (")[2].rpartition(")")
            fields = rest.split()
        except (OSError, IndexError):
            continue
        if wanted(name, int(fields[2])):
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / tick


def postgres_cpu_seconds() -> float:
    """CPU seconds of the PostgreSQL server's processes (all of this machine's)."""
    return process_cpu_seconds(lambda name, group: name == "postgres")


class Server:
    def __init__(self, env, port, workers, threads, extra=(), postgres=False):
        self.env, self.port, self.workers, self.proc = env, port, workers, None
        self.postgres = postgres
        self.threads, self.extra = threads, list(extra)
        #: Set when the run restarts PostgreSQL (its CPU figure is then left out).
        self.restarts_postgres = False

    def start(self):
        # The project's gunicorn.conf.py (read from cwd) sets the worker class, the
        # processes and threads of a deployment; --workers/--threads override them.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers),
             "--threads", str(self.threads), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", *self.extra,
             "--error-logfile", str(Path(tempfile.gettempdir()) / "bench_load_gunicorn.log")],
            cwd=ROOT, env=self.env, start_new_session=True,
        )  # fmt: skip
        for _ in range(100):
            try:
                conn = HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the live gunicorn processes."""
        return process_cpu_seconds(lambda name, group: group == self.proc.pid)

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def gunicorn_settings() -> dict:
    """The settings of the project's gunicorn.conf.py, as a deployment gets them."""
    import runpy

    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def rate_limits(counted: bool) -> str:
    """SURVEY_RATE_LIMITS for the server: production's limits, counted as usual but
    too high to reach (every client here has one address); or none."""
    if not counted:
        return "{}"
    from survey.config import DEFAULTS

    return json.dumps(
        {name: [10**9, window] for name, (_, window) in DEFAULTS["RATE_LIMITS"].items()}
    )


def throwaway_database(prefix: str, tmp: str, postgres: bool) -> str:
    """The URL of a new, empty database for one run: a PostgreSQL database named
    *prefix*_<random>, or a SQLite file in the directory *tmp*."""
    if not postgres:
        return f"sqlite:///{tmp}/{prefix}.sqlite3"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, tmp: str) -> None:
    """Remove what :func:`throwaway_database` made (and the directory *tmp*)."""
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        # A new engine: connections made before a PostgreSQL restart are dead.
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()
    shutil.rmtree(tmp, ignore_errors=True)  # the SQLite database and its lock file


def prepare(url: str):
    """Demo wave, soft quotas with room for everyone, an organizer for polling."""
    from sqlalchemy import select, update

    from survey import create_app
    from survey.extensions import db
    from survey.migrate import upgrade
    from survey.models import Channel, District, QuotaCell, Wave

    upgrade(url)
    app = create_app({"SECRET_KEY": "k" * 48, "DATABASE_URL": url})
    with app.app_context():
        from survey.operations.demo import setup_demo

        wave = setup_demo()
        with db.write() as session:
            session.execute(update(Wave).values(quota_policy="soft"))
            session.execute(update(QuotaCell).values(target=1_000_000))
        rows = db.session.execute(
            select(Channel.token, District.name).join(District).where(Channel.wave_id == wave.id)
        ).all()
        from survey.operations.users import create_user

        create_user("bench-organizer", ORGANIZER_PASSWORD, ["organizer"])
        wave_id = wave.id
    app.extensions["survey_db"]["engine"].dispose()
    return [r[0] for r in rows], [r[1] for r in rows], wave_id


def verify(url: str, receipts: list[str], abandoned: int) -> list[str]:
    from sqlalchemy import create_engine, text

    problems = []
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM response")).scalar()
        codes = {r[0] for r in conn.execute(text("SELECT receipt_code FROM response"))}
        half = conn.execute(text(
            "SELECT count(*) FROM response WHERE answers IS NULL OR indicators IS NULL "
            "OR district IS NULL")).scalar()  # fmt: skip
        completions = conn.execute(text("SELECT sum(completions) FROM channel_stats")).scalar()
        quota = conn.execute(
            text("SELECT sum(achieved) + sum(over_quota) FROM quota_cell")
        ).scalar()
        daily = conn.execute(text("SELECT sum(completions) FROM daily_count")).scalar()
    engine.dispose()
    missing = [r for r in receipts if r not in codes]
    if missing:
        problems.append(f"{len(missing)} acknowledged receipts not stored")
    if len(set(receipts)) != len(receipts):
        problems.append("a receipt was acknowledged twice")
    if stored > len(receipts) + abandoned:
        problems.append(f"{stored - len(receipts)} responses stored beyond those acknowledged")
    if half:
        problems.append(f"{half} half-stored responses")
    for name, value in (("channel completions", completions), ("quota counters", quota),
                        ("daily counts", daily)):  # fmt: skip
        if value != stored:
            problems.append(f"{name} {value} != stored responses {stored}")
    print(f"  stored {stored}, acknowledged {len(receipts)}, abandoned {abandoned}; counters: "
          f"channels {completions}, quotas {quota}, daily {daily}")  # fmt: skip
    return problems


def summarize(label, result, requests_per_unit=1):
    lat = sorted(result["latencies"])
    p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else float("nan")
    rps = rate(result)
    print(f"{label}: {len(lat)} requests in {result['elapsed']:.1f} s = {rps:.0f} req/s; "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; status {dict(sorted(result['codes'].items(), key=str))}")  # fmt: skip
    for step, values in result.get("by_step", {}).items():
        if step:
            values = sorted(values)
            print(f"    {step}: {len(values)} requests, p50 {values[len(values) // 2] * 1000:.1f} ms, "
                  f"p99 {values[int(len(values) * 0.99) - 1] * 1000:.1f} ms")  # fmt: skip
    if result.get("server_cpu"):
        n = len(lat) or 1
        database = (f", PostgreSQL {result['database_cpu'] / n * 1000:.2f} ms"
                    if "database_cpu" in result else "")  # fmt: skip
        print(f"    CPU per request: server {result['server_cpu'] / n * 1000:.2f} ms, "
              f"load clients {result['cpu'] / n * 1000:.2f} ms{database}")  # fmt: skip
    return rps, p99


def receipts_missing(*runs: dict) -> bool:
    """Whether a submission of *runs* was acknowledged (303) without the receipt
    cookie, or to another address than the thank-you page's (said if so)."""
    missing = sum(run["codes"].get(NO_RECEIPT, 0) for run in runs)
    if missing:
        print(f"  INVARIANT BROKEN: {missing} submissions acknowledged without the "
              "receipt cookie, or with an address other than the thank-you page's")  # fmt: skip
    return bool(missing)


def report_stress(submit_rps: float, p99: float, resident_runs: list[dict],
                  bare_runs: list[dict], clients: int) -> None:  # fmt: skip
    """The bare endpoint's runs, each part against them, the ratio and p99 against
    their targets, and what Little's law makes of the mean latency."""
    bare_rps, bare_p99 = summarize(f"  bare endpoint /healthz, {len(bare_runs)} runs "
                                   "(before, between and after the parts)", merge(bare_runs))  # fmt: skip
    ratio = submit_rps / bare_rps
    if len(resident_runs) > 1:
        print("  " + compare_parts(resident_runs, bare_runs))
    # Shown cut, not rounded, to 3 places: 0.4996 read "0.500 (… missed)".
    print(f"  submit path / bare endpoint throughput: {int(ratio * 1000) / 1000:.3f} "
          f"(target ≥ 0.5: {'ok' if ratio >= 0.5 else 'missed'}); p99 {p99:.0f} ms "
          f"(target < 100 ms: {'ok' if p99 < 100 else 'missed'})")  # fmt: skip
    # Little's law: with N clients and no pauses, mean latency = N / throughput.
    print(f"  with {clients} clients and no pauses, mean latency = clients / throughput: "
          f"{clients / submit_rps * 1000:.0f} ms on the resident path, "
          f"{clients / bare_rps * 1000:.0f} ms even on the bare endpoint (its p99 "
          f"{bare_p99:.0f} ms)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=256,
                        help="submissions before timing starts (stored and checked too)")  # fmt: skip
    parser.add_argument("--processes", type=int, default=0,
                        help="client processes (default: one per client, as phones share no "
                             "interpreter; with threads, a response waits for its client "
                             "process's GIL, and that wait was counted as the server's latency)")  # fmt: skip
    deployed = gunicorn_settings()
    parser.add_argument("--workers", type=int, default=deployed["workers"],
                        help="gunicorn worker processes (default: gunicorn.conf.py's, "
                             "%(default)s on this machine)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=deployed["threads"],
                        help="threads per gunicorn worker (default: gunicorn.conf.py's, "
                             "%(default)s)")  # fmt: skip
    parser.add_argument("--gunicorn", default="", metavar="ARGS",
                        help='more gunicorn options, e.g. "--keep-alive 0" or "-k sync"')  # fmt: skip
    parser.add_argument("--parts", type=int, default=5,
                        help="a stress run's resident submissions in this many parts, with the "
                             "bare endpoint measured before, between and after them")  # fmt: skip
    parser.add_argument("--bare-requests", type=int, default=8_000,
                        help="requests of each run of the bare endpoint (default %(default)s)")  # fmt: skip
    parser.add_argument("--think-ms", type=float, default=0,
                        help="mean pause before each request (exponential), as a resident reading "
                             "and answering; 0 (default) is a stress test with no pauses")  # fmt: skip
    parser.add_argument("--compressed", action="store_true",
                        help="ask for compressed pages, as a phone's browser does")  # fmt: skip
    parser.add_argument("--no-rate-limits", dest="rate_limits", action="store_false",
                        help="do not count requests against the rate limits (by default they are "
                             "counted as in production, with limits raised out of reach: all "
                             "clients here share one address)")  # fmt: skip
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--kill", type=int, default=0, help="SIGKILL the server this many times")
    parser.add_argument("--restart-postgres", type=int, default=0)
    args = parser.parse_args()
    args.processes = args.processes or args.clients
    if args.compressed:
        os.environ["BENCH_ACCEPT_ENCODING"] = CHROME_ACCEPT_ENCODING

    tmp = tempfile.mkdtemp()
    url = throwaway_database("load", tmp, args.postgres)
    tokens, districts, wave_id = prepare(url)
    env = {**os.environ, "SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": "k" * 48,
           "SURVEY_RATE_LIMITS": rate_limits(args.rate_limits),
           "SURVEY_MIN_DURATION_SECONDS": "0"}  # fmt: skip
    port = free_port()
    server = Server(env, port, args.workers, args.threads, args.gunicorn.split(), args.postgres)
    server.restarts_postgres = bool(args.restart_postgres)
    server.start()
    stop_faults = threading.Event()

    def faults():
        total = args.kill + args.restart_postgres
        for k in range(total):
            if stop_faults.wait(4.0):
                return
            if k < args.kill:
                print(f"  fault {k + 1}: SIGKILL gunicorn", file=sys.stderr)
                server.kill()
                time.sleep(1.0)
                server.start()
            else:
                print(f"  fault {k + 1}: restart PostgreSQL", file=sys.stderr)
                version = sorted(os.listdir("/etc/postgresql"))[-1]
                subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main",
                                "restart"], check=False)  # fmt: skip

    # Warm-up, not timed: each worker compiles its templates and fills its caches on
    # its first requests (the bare endpoint, measured after it, meets a warm server too).
    warm = run_clients("submit", port, tokens, districts, args.warmup, args.clients,
                       args.processes) if args.warmup else merge([])  # fmt: skip
    # A stress run measures the bare endpoint before, between and after the parts of
    # the resident run, and compares each part with the bare runs on either side of
    # it: this machine's speed drifts by ±15% within minutes.
    compare = not (args.kill or args.restart_postgres or args.think_ms)
    parts = max(1, min(args.parts, args.submissions)) if compare else 1
    fault_thread = threading.Thread(target=faults)
    polled: dict = {}
    poller = threading.Thread(target=dashboard_poller, args=(port, wave_id, stop_faults, polled))
    poller.start()
    failed = False
    try:
        think = args.think_ms / 1000
        bare_runs, resident_runs = [], []
        if compare:
            bare_runs.append(run_clients("bare", port, tokens, districts, args.bare_requests,
                                         args.clients, args.processes, server))  # fmt: skip
        fault_thread.start()
        for k in range(parts):
            count = args.submissions * (k + 1) // parts - args.submissions * k // parts
            resident_runs.append(run_clients("submit", port, tokens, districts, count,
                                             args.clients, args.processes, server, think))  # fmt: skip
            if compare:
                bare_runs.append(run_clients("bare", port, tokens, districts,
                                             args.bare_requests, args.clients, args.processes,
                                             server))  # fmt: skip
        stop_faults.set()
        fault_thread.join()
        poller.join()
        result = merge(resident_runs)
        if args.kill:  # killed workers take their CPU time with them: not reported
            result.pop("server_cpu", None)
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, gunicorn {args.workers} workers "
              f"× {args.threads} threads, {args.clients} clients, kills {args.kill}, "
              f"PostgreSQL restarts {args.restart_postgres}"
              + (f", pause before each request {args.think_ms:g} ms on average" if think else "")
              + (f", Accept-Encoding: {CHROME_ACCEPT_ENCODING}" if args.compressed else "")
              + ("" if args.rate_limits else ", rate limits not counted"))  # fmt: skip
        submit_rps, p99 = summarize("  resident path" + (f", {parts} parts" if parts > 1 else ""),
                                    result)  # fmt: skip
        subs = len(result["receipts"]) / result["elapsed"]
        print(f"  {len(result['receipts'])} submissions acknowledged = {subs:.0f} submissions/s")
        lat = sorted(polled.get("latencies", []))
        if lat:
            print(f"  dashboard JSON (polled every second): {len(lat)} requests, p50 "
                  f"{lat[len(lat) // 2] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms; "
                  f"status {polled['codes']}")  # fmt: skip
        print(f"  warm-up before timing: {len(warm['receipts'])} submissions, "
              f"status {dict(sorted(warm['codes'].items(), key=str))}")  # fmt: skip
        errors_500 = (result["codes"].get(500, 0) + warm["codes"].get(500, 0)
                      + polled.get("codes", {}).get(500, 0))  # fmt: skip
        if any(str(k).startswith("poller failed") for k in polled.get("codes", {})):
            failed = True
            print(f"  INVARIANT BROKEN: dashboard polling {polled['codes']}")
        if errors_500:
            failed = True
            print(f"  INVARIANT BROKEN: {errors_500} responses with status 500")
        failed |= receipts_missing(result, warm)
        problems = verify(url, warm["receipts"] + result["receipts"],
                          warm["abandoned"] + result["abandoned"])  # fmt: skip
        for p in problems:
            print(f"  INVARIANT BROKEN: {p}")
        failed |= bool(problems)
        if compare:
            report_stress(submit_rps, p99, resident_runs, bare_runs, args.clients)
        elif think and not args.kill and not args.restart_postgres:
            # The pauses set the pace: compare latencies, not throughput.
            bare = run_clients("bare", port, tokens, districts, min(20_000, 5 * args.submissions),
                               args.clients, args.processes, server, think)  # fmt: skip
            _, bare_p99 = summarize("  bare endpoint /healthz", bare)
            print(f"  paced run: p99 {p99:.0f} ms (target < 100 ms: "
                  f"{'ok' if p99 < 100 else 'missed'}); bare endpoint p99 {bare_p99:.0f} ms "
                  f"at the same pace")  # fmt: skip
    finally:
        stop_faults.set()
        server.stop()
        drop_database(url, tmp)
    print("invariants: " + ("BROKEN" if failed else "all hold"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
