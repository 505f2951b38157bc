#!/usr/bin/env python3
"""Export throughput and memory with a large wave.

    python bench/bench_export.py [--responses 1000000] [--other 100000]

Builds a SQLite wave with N realistic responses (the standard questionnaire,
all answers and indicators), then, each in a fresh child process so that peak
memory is its own: the CSV microdata export of all N rows (target ≥ 100,000
rows/s and peak RSS < 300 MB), and XLSX, SPSS and Stata exports of the first
``--other`` rows (figures reported). In the same run, a baseline: Python's
csv.writer over a prepared list of tuples of the same width.
Exits 1 when a CSV target is missed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from survey import create_app
from survey.extensions import db
from survey.models import Wave
from survey.operations.exports import write_file
app = create_app({{"SECRET_KEY": "k" * 48, "DATABASE_URL": {url!r}}})
with app.app_context():
    wave = db.session.get(Wave, 1)
    t = time.perf_counter()
    n = write_file(wave, {fmt!r}, {out!r}, limit_rows={limit})
    elapsed = time.perf_counter() - t
# VmHWM: this process's own peak (ru_maxrss would include the parent's at fork time)
peak = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")]
print(n, elapsed, peak[0] / 1024 if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def build(url: str, n: int) -> None:
    from sqlalchemy import insert, update

    from survey import create_app
    from survey.extensions import db
    from survey.migrate import upgrade
    from survey.models import Channel, Response
    from survey.operations.demo import setup_demo
    from tests.resident import STANDARD_PAGES

    upgrade(url)
    app = create_app({"SECRET_KEY": "k" * 48, "DATABASE_URL": url})
    rng = random.Random(3)
    with app.app_context():
        wave = setup_demo()
        from questionnaires.engine import score
        from survey.operations.questionnaires import questionnaire_of

        q = questionnaire_of(wave.questionnaire)
        channels = [
            (c.id, c.district.name) for c in db.session.query(Channel).filter_by(wave_id=wave.id)
        ]
        base = {k: v for page in STANDARD_PAGES for k, v in page.items()}
        base["years_here"] = 12
        t0, t1 = datetime(2026, 11, 1, 8), datetime(2026, 11, 1, 8, 5)
        with db.engine.begin() as conn:
            batch = []
            for i in range(n):
                cid, district = channels[i % len(channels)]
                answers = dict(base, s_air=rng.choice("54321"), district=district,
                               suggestion=rng.choice(["多种树", "=1+1", "减少噪声"]))  # fmt: skip
                batch.append({
                    "submission_id": uuid.uuid4().hex, "receipt_code": f"E{i:07d}",
                    "wave_id": wave.id, "channel_id": cid, "questionnaire_id": wave.questionnaire_id,
                    "answers": answers, "indicators": score(q, answers), "district": district,
                    "sex": rng.choice("男女"), "age_group": "30-39岁", "urban_rural": "城镇",
                    "started_at": t0, "submitted_at": t1, "duration_seconds": 240.0,
                    "device_class": "mobile", "client_hash": "", "over_quota": False,
                    "excluded": False, "flags": [], "is_flagged": False, "device_hash": "",
                })  # fmt: skip
                if len(batch) == 20000:
                    conn.execute(insert(Response.__table__), batch)
                    batch = []
                    print(f"\r  loaded {i + 1:,}/{n:,}", end="", file=sys.stderr)
            if batch:
                conn.execute(insert(Response.__table__), batch)
        print(file=sys.stderr)
        _ = update, json


def child(url: str, fmt: str, out: Path, limit: int | None) -> tuple[int, float, float]:
    code = CHILD.format(root=str(ROOT), url=url, fmt=fmt, out=str(out), limit=limit)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    n, elapsed, peak = result.stdout.split()
    return int(n), float(elapsed), float(peak)


def baseline(n: int, width: int) -> float:
    rows = [tuple(f"v{i}-{j}" for j in range(width)) for i in range(min(n, 200_000))]
    buf = io.StringIO()
    t = time.perf_counter()
    csv.writer(buf).writerows(rows)
    return len(rows) / (time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--other", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny runs for the test suite: report, do not judge the targets")  # fmt: skip
    parser.add_argument("--keep", action="store_true",
                        help="keep the built database (for a later --database)")  # fmt: skip
    parser.add_argument("--formats", default="csv,xlsx,sav,dta", help="which exports to run")
    parser.add_argument("--database", type=Path,
                        help="re-use a SQLite file built by an earlier run (skips the build)")  # fmt: skip
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    if args.database:
        url = f"sqlite:///{args.database.resolve()}"
    else:
        url = f"sqlite:///{tmp / 'export.sqlite3'}"
        build(url, args.responses)
        if args.keep:
            print(f"  (database kept for --database: {tmp / 'export.sqlite3'})", file=sys.stderr)
    failed = False
    formats = args.formats.split(",")
    if "csv" in formats:
        failed = run_csv(url, tmp) and not args.smoke
    for fmt in ("xlsx", "sav", "dta"):
        if fmt not in formats:
            continue
        n, elapsed, peak = child(url, fmt, tmp / f"part.{fmt}", args.other)
        print(
            f"{fmt.upper()}: {n:,} rows in {elapsed:.1f} s = {n / elapsed:,.0f} rows/s, peak {peak:.0f} MB"
        )
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)  # the built wave is 1.5 GB at a million rows
    return 1 if failed else 0


def run_csv(url: str, tmp: Path) -> bool:
    """The CSV export of the whole wave against its targets; True when missed."""
    failed = False
    n, elapsed, peak = child(url, "csv", tmp / "all.csv", None)
    rate = n / elapsed
    ok = rate >= 100_000 and peak < 300
    failed |= not ok
    width = len((tmp / "all.csv").open(encoding="utf-8-sig").readline().split(","))
    print(f"CSV: {n:,} rows × {width} columns in {elapsed:.1f} s = {rate:,.0f} rows/s, peak "
          f"{peak:.0f} MB (targets ≥ 100,000 rows/s, < 300 MB) {'ok' if ok else 'MISSED'}")  # fmt: skip
    print(
        f"  baseline csv.writer over prepared tuples ({width} columns): {baseline(n, width):,.0f} rows/s"
    )
    return failed


if __name__ == "__main__":
    sys.exit(main())
