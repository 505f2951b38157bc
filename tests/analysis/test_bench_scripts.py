"""The benchmark and Monte Carlo scripts keep working (tiny runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_montecarlo_smoke():
    result = subprocess.run(
        [sys.executable, "bench/montecarlo_coverage.py", "--reps", "3", "--per-district", "80"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "咸安区" in result.stdout and "raking cover" in result.stdout
