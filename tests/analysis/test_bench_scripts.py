"""The benchmark and Monte Carlo scripts keep working (tiny runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_montecarlo_smoke():
    result = subprocess.run(
        [sys.executable, "bench/montecarlo_coverage.py", "--reps", "3", "--per-district", "80"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "咸安区" in result.stdout and "raking cover" in result.stdout


def _bench_load(*args: str) -> str:
    """A small run of the load benchmark (8 clients, 2 workers × 4 threads, 2,000
    requests in each run of the bare endpoint); its output."""
    result = subprocess.run(
        [sys.executable, "bench/bench_load.py", "--clients", "8", "--processes", "2",
         "--workers", "2", "--threads", "4", "--bare-requests", "2000", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "invariants: all hold" in result.stdout
    return result.stdout


def test_bench_load_smoke():
    """The load benchmark end to end on a small scale: gunicorn, residents, the
    dashboard poller, the invariants and the bare endpoint."""
    out = _bench_load("--submissions", "60", "--warmup", "16", "--parts", "3")
    assert "stored 76, acknowledged 76" in out  # 16 warm-up + 60 timed
    assert "submit (last page): 60 requests" in out
    assert "bare endpoint" in out and "CPU per request: server" in out
    assert "mean latency = clients / throughput" in out
    # The resident run in 3 parts, the bare endpoint before, between and after them:
    # each part compared with the bare runs on either side of it.
    assert "resident path, 3 parts: 300 requests" in out
    assert (
        "bare endpoint /healthz, 4 runs (before, between and after the parts): 8000 requests" in out
    )
    ratios = out.split("by part: ")[1].split("ratios ")[1].split(" (")[0].split(" / ")
    assert len(ratios) == 3 and all(0 < float(r) < 5 for r in ratios), ratios


def test_bench_load_compares_each_part_with_the_bare_runs_beside_it():
    """A part is compared with the mean of the bare runs just before and after it;
    runs merged add up their requests, times and CPU."""
    from bench.bench_load import compare_parts, merge

    def run(requests: int, seconds: float) -> dict:
        return {"latencies": [0.01] * requests, "codes": {200: requests}, "receipts": [],
                "abandoned": 0, "elapsed": seconds, "server_cpu": seconds / 2}  # fmt: skip

    resident = [run(500, 1.0), run(900, 1.5)]  # 500 and 600 req/s
    bare = [run(1200, 1.0), run(800, 1.0), run(1600, 1.0)]  # 1,200, 800, 1,600 req/s
    line = compare_parts(resident, bare)
    assert "resident 500 / 600 req/s" in line
    assert "bare endpoint 1200 / 800 / 1600 req/s" in line
    # 500 / ((1,200 + 800) / 2) and 600 / ((800 + 1,600) / 2)
    assert "ratios 0.50 / 0.50 (lowest 0.50, highest 0.50)" in line
    merged = merge(resident)
    assert len(merged["latencies"]) == 1400 and merged["elapsed"] == 2.5
    assert merged["server_cpu"] == 1.25 and "database_cpu" not in merged


def test_bench_clients_read_the_receipt_from_its_cookie():
    """The receipt code left the thank-you page's address for a cookie of the
    channel's pages: the load clients read it there, send each cookie to its own
    path only, and drop one the server expires, as a browser does."""
    from bench.bench_load import CookieJar, receipt_of

    jar = CookieJar()
    given = jar.take(["sv_device=abc; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Path=/",
                      "sv_receipt=ABCD-2345.65a1b2c3.mac; Max-Age=1800; Path=/s/tok; HttpOnly"])  # fmt: skip
    assert receipt_of(given) == "ABCD-2345"
    assert jar.header("/s/tok/thanks") == "sv_device=abc; sv_receipt=ABCD-2345.65a1b2c3.mac"
    assert jar.header("/s/tok") == jar.header("/s/tok/page") == jar.header("/s/tok/thanks")
    assert jar.header("/s/tokens") == jar.header("/s/other/thanks") == "sv_device=abc"
    dropped = jar.take(["sv_receipt=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
                        "HttpOnly; Path=/s/tok; SameSite=Lax"])  # fmt: skip
    assert jar.header("/s/tok/thanks") == "sv_device=abc" and receipt_of(dropped) is None
    assert receipt_of({}) is None


def test_bench_load_paced_smoke():
    """With pauses before each request (residents reading): latencies compared with the
    bare endpoint at the same pace, no throughput ratio (the pauses set the pace)."""
    out = _bench_load("--submissions", "40", "--warmup", "8", "--think-ms", "20")
    assert "stored 48, acknowledged 48" in out
    assert "pause before each request 20 ms on average" in out
    assert "paced run: p99" in out and "throughput:" not in out


def test_bench_load_compressed_smoke():
    """Asking for compressed pages as Chrome does: the server sends zstd, the
    clients decode it and still find every form's tokens."""
    out = _bench_load("--submissions", "30", "--warmup", "4", "--compressed")
    assert "stored 34, acknowledged 34" in out
    assert "Accept-Encoding: gzip, deflate, br, zstd" in out
    assert "'zstd': " in out.split("resident path")[1].splitlines()[0]


def test_bench_request_cpu_smoke():
    """CPU per request in one process, each step of the path and the bare endpoint."""
    result = subprocess.run(
        [sys.executable, "bench/bench_request_cpu.py", "--submissions", "30", "--warmup", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "invariants: all hold" in result.stdout
    for step in ("landing:", "consent:", "page 1:", "page 2:", "submit:", "bare endpoint /healthz"):
        assert step in result.stdout, result.stdout
    assert "Exception" not in result.stderr, result.stderr  # e.g. a late counter flush


@pytest.mark.skipif(
    not os.environ.get("SURVEY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="runs in the PostgreSQL pass of the suite",
)
def test_bench_load_postgres_smoke():
    """On PostgreSQL (a throw-away database), with its server's CPU reported."""
    out = _bench_load("--postgres", "--submissions", "40", "--warmup", "8")
    assert "stored 48, acknowledged 48" in out
    assert ", PostgreSQL " in out.split("CPU per request:")[1].splitlines()[0]


def test_bench_export_smoke():
    result = subprocess.run(
        [sys.executable, "bench/bench_export.py", "--responses", "2000", "--other", "300",
         "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for line in (
        "CSV: 2,000 rows × 54 columns",
        "XLSX: 300 rows",
        "SAV: 300 rows",
        "DTA: 300 rows",
    ):
        assert line in result.stdout, result.stdout


def test_bench_instructions_arguments():
    """The instruction-count benchmark needs valgrind to run (not installed for the
    suite): its help and its argument checks work without it."""
    result = subprocess.run([sys.executable, "bench/bench_instructions.py", "--help"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for option in ("--submissions", "--warmup", "--postgres", "--compressed", "--keep"):
        assert option in result.stdout
    from bench.bench_instructions import parse_args

    args = parse_args(["--submissions", "7", "--compressed"])
    assert (args.submissions, args.warmup, args.compressed, args.postgres) == (7, 20, True, False)
    with pytest.raises(SystemExit):
        parse_args(["--submissions", "0"])
