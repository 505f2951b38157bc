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


def test_bench_load_smoke():
    """The load benchmark end to end on a small scale: gunicorn, residents, the
    dashboard poller, the invariants and the bare endpoint."""
    result = subprocess.run(
        [sys.executable, "bench/bench_load.py", "--submissions", "60", "--clients", "8",
         "--processes", "2", "--workers", "2", "--threads", "4", "--warmup", "16"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stored 76, acknowledged 76" in result.stdout  # 16 warm-up + 60 timed
    assert "submit (last page): 60 requests" in result.stdout
    assert "bare endpoint" in result.stdout and "invariants: all hold" in result.stdout
    assert "CPU per request: server" in result.stdout
    assert "mean latency = clients / throughput" in result.stdout


def test_bench_load_paced_smoke():
    """With pauses before each request (residents reading): latencies compared with the
    bare endpoint at the same pace, no throughput ratio (the pauses set the pace)."""
    result = subprocess.run(
        [sys.executable, "bench/bench_load.py", "--submissions", "40", "--clients", "8",
         "--processes", "2", "--workers", "2", "--threads", "4", "--warmup", "8",
         "--think-ms", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stored 48, acknowledged 48" in result.stdout
    assert "pause before each request 20 ms on average" in result.stdout
    assert "paced run: p99" in result.stdout and "throughput:" not in result.stdout
    assert "invariants: all hold" in result.stdout


@pytest.mark.skipif(
    not os.environ.get("SURVEY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="runs in the PostgreSQL pass of the suite",
)
def test_bench_load_postgres_smoke():
    """On PostgreSQL (a throw-away database), with its server's CPU reported."""
    result = subprocess.run(
        [sys.executable, "bench/bench_load.py", "--postgres", "--submissions", "40",
         "--clients", "8", "--processes", "2", "--workers", "2", "--threads", "4",
         "--warmup", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stored 48, acknowledged 48" in result.stdout
    assert ", PostgreSQL " in result.stdout.split("CPU per request:")[1].splitlines()[0]
    assert "invariants: all hold" in result.stdout


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
