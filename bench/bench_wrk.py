#!/usr/bin/env python3
"""The stress run of bench_load.py with wrk as the load generator.

    python bench/bench_wrk.py                    # SQLite, 20,000 submissions, 64 clients
    python bench/bench_wrk.py --postgres

bench_load.py's clients are Python processes on the same two cores as the
server: each costs 0.4–0.5 ms of CPU per request, a third of what the server
spends, and a response waits until its client process gets a core. Both blur
what the server itself does: the clients' cost is the same for the resident
path and the bare endpoint, which brings their throughputs closer, and their
scheduling delays are counted as latency. wrk (a C program, Debian package
``wrk``) costs a few µs per request. With ``-t N -c N`` each of its threads has
one connection and runs ``bench/wrk_resident.lua``: one resident repeating the
questionnaire's path as in bench_load.py (landing → consent → three pages,
cookies, CSRF tokens, random cells over all channels), or a client of /healthz.

Like bench_load.py: warm-up submissions first (stored and checked, not timed);
the resident run in parts with the bare endpoint measured before, between and
after them, with the same wrk threads; the dashboard JSON polled every second by
an organizer; afterwards every acknowledged receipt must be stored exactly once,
no half-stored response, counters equal to stored counts, zero 5xx (exit 1
otherwise). Faults (--kill, --restart-postgres) and paced runs stay with
bench_load.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_load import (  # noqa: E402
    NO_RECEIPT,
    Server,
    dashboard_poller,
    drop_database,
    free_port,
    gunicorn_settings,
    merge,
    postgres_cpu_seconds,
    prepare,
    rate_limits,
    receipts_missing,
    report_stress,
    summarize,
    throwaway_database,
    verify,
)

SCRIPT = ROOT / "bench" / "wrk_resident.lua"
#: The Lua script's step names, as bench_load.py prints them.
STEPS = {"landing": "landing (GET)", "consent": "consent (POST)", "page": "next page",
         "submit": "submit (last page)", "bare": ""}  # fmt: skip


def counts(total: int, clients: int) -> list[int]:
    """*total* spread over *clients* threads."""
    return [total * (k + 1) // clients - total * k // clients for k in range(clients)]


def run_wrk(mode: str, port: int, total: int, clients: int, channels, server=None,
            timeout: float = 1800) -> dict:  # fmt: skip
    """One wrk run of *total* submissions ("resident") or /healthz requests ("bare");
    the result in bench_load.py's shape (latencies in seconds, statuses, receipts,
    by step, elapsed from the first request to the last answer, CPU)."""
    out = Path(tempfile.mkdtemp(prefix="bench_wrk_"))
    config = out / "config.txt"
    with config.open("w", encoding="utf-8") as f:
        f.write(" ".join([mode, str(out), *map(str, counts(total, clients))]) + "\n")
        for token, district in channels:
            f.write(f"{token} {district}\n")
    server_cpu = server.cpu_seconds() if server else 0.0
    database_cpu = postgres_cpu_seconds() if server and server.postgres else 0.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        ["wrk", f"-t{clients}", f"-c{clients}", f"-d{int(timeout)}s", "--timeout", "30s",
         "-s", str(SCRIPT), f"http://127.0.0.1:{port}", "--", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    files = [out / f"thread-{k}.txt" for k in range(clients)]
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in files):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"wrk stopped before its threads finished:\n{proc.communicate()[0]}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # every thread is done: wrk prints its summary and ends
    wrk_output = proc.communicate(timeout=60)[0]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = merge([])
    result["server_cpu"] = server.cpu_seconds() - server_cpu if server else 0.0
    if server and server.postgres:
        result["database_cpu"] = postgres_cpu_seconds() - database_cpu
    result["cpu"] = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    starts, ends = [], []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            word, _, rest = line.partition(" ")
            if word == "window":
                start, end = map(float, rest.split())
                starts.append(start)
                ends.append(end)
            elif word == "abandoned":
                result["abandoned"] += int(rest)
            elif word == "noreceipt" and int(rest):
                result["codes"][NO_RECEIPT] = result["codes"].get(NO_RECEIPT, 0) + int(rest)
            elif word == "receipt":
                result["receipts"].append(rest)
            elif word in STEPS:
                micros, status = rest.split()
                seconds, status = float(micros) / 1e6, int(status)
                result["latencies"].append(seconds)
                result["by_step"].setdefault(STEPS[word], []).append(seconds)
                result["codes"][status] = result["codes"].get(status, 0) + 1
    result["elapsed"] = (max(ends) - min(starts)) / 1e6
    errors = [line for line in wrk_output.splitlines() if "Socket errors" in line]
    if errors:
        result["codes"]["socket errors (retried)"] = errors[0].strip()
    shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=256)
    deployed = gunicorn_settings()
    parser.add_argument("--workers", type=int, default=deployed["workers"])
    parser.add_argument("--threads", type=int, default=deployed["threads"])
    parser.add_argument("--gunicorn", default="", metavar="ARGS", help="more gunicorn options")
    parser.add_argument("--parts", type=int, default=5)
    parser.add_argument("--bare-requests", type=int, default=8_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp()
    url = throwaway_database("wrk", tmp, args.postgres)
    tokens, districts, wave_id = prepare(url)
    channels = list(zip(tokens, districts, strict=True))
    env = {**os.environ, "SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": "k" * 48,
           "SURVEY_RATE_LIMITS": rate_limits(True), "SURVEY_MIN_DURATION_SECONDS": "0"}  # fmt: skip
    port = free_port()
    server = Server(env, port, args.workers, args.threads, args.gunicorn.split(), args.postgres)
    failed = False
    try:
        server.start()
        warm = run_wrk("resident", port, args.warmup, args.clients, channels)
        stop, polled = threading.Event(), {}
        poller = threading.Thread(target=dashboard_poller, args=(port, wave_id, stop, polled))
        poller.start()
        parts = max(1, min(args.parts, args.submissions))
        bare_runs = [run_wrk("bare", port, args.bare_requests, args.clients, channels, server)]
        resident_runs = []
        for k in range(parts):
            count = args.submissions * (k + 1) // parts - args.submissions * k // parts
            resident_runs.append(run_wrk("resident", port, count, args.clients, channels, server))
            bare_runs.append(run_wrk("bare", port, args.bare_requests, args.clients, channels,
                                     server))  # fmt: skip
        stop.set()
        poller.join()
        result = merge(resident_runs)
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, gunicorn {args.workers} workers "
              f"× {args.threads} threads, wrk: {args.clients} threads with one connection each")  # fmt: skip
        submit_rps, p99 = summarize(f"  resident path, {parts} parts", result)
        print(f"  {len(result['receipts'])} submissions acknowledged = "
              f"{len(result['receipts']) / result['elapsed']:.0f} submissions/s")  # fmt: skip
        lat = sorted(polled.get("latencies", []))
        if lat:
            print(f"  dashboard JSON (polled every second): {len(lat)} requests, p50 "
                  f"{lat[len(lat) // 2] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms; "
                  f"status {polled['codes']}")  # fmt: skip
        print(f"  warm-up before timing: {len(warm['receipts'])} submissions, "
              f"status {dict(sorted(warm['codes'].items(), key=str))}")  # fmt: skip
        fives = sum(n for runs in ([result], [warm], bare_runs) for r in runs
                    for code, n in r["codes"].items() if isinstance(code, int) and code >= 500)  # fmt: skip
        fives += sum(n for code, n in polled.get("codes", {}).items()
                     if isinstance(code, int) and code >= 500)  # fmt: skip
        if any(str(k).startswith("poller failed") for k in polled.get("codes", {})):
            failed = True
            print(f"  INVARIANT BROKEN: dashboard polling {polled['codes']}")
        if fives:
            failed = True
            print(f"  INVARIANT BROKEN: {fives} responses with status 5xx")
        failed |= receipts_missing(result, warm)
        problems = verify(url, warm["receipts"] + result["receipts"],
                          warm["abandoned"] + result["abandoned"])  # fmt: skip
        for p in problems:
            print(f"  INVARIANT BROKEN: {p}")
        failed |= bool(problems)
        report_stress(submit_rps, p99, resident_runs, bare_runs, args.clients)
    finally:
        server.stop()
        drop_database(url, tmp)
    print("invariants: " + ("BROKEN" if failed else "all hold"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
