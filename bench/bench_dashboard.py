#!/usr/bin/env python3
"""The organizer's dashboard JSON with 1,000,000 stored responses.

    python bench/bench_dashboard.py [--responses 1000000] [--postgres URL] [--calls 50]

Builds the demo wave, bulk-loads N responses (1% flagged) with consistent
pre-aggregated counters, then calls ``/staff/waves/<id>/dashboard.json`` as an
organizer repeatedly, and, in the same run, a trivial endpoint (``/staff/login``
GET) for comparison. Prints median and p95 times. Target: dashboard median
under 50 ms. Runs on SQLite and, when a server answers on 127.0.0.1:5432 (or
``--postgres`` is given), on PostgreSQL in a throw-away database.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from survey import create_app  # noqa: E402
from survey.migrate import upgrade  # noqa: E402

SEXES = ["男", "女"]
AGES = ["18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"]


def load(app, wave_id: int, n: int) -> None:
    from survey.extensions import db
    from survey.models import (
        Channel,
        ChannelStats,
        QuotaCell,
        Response,
        utcnow,
    )

    rng = random.Random(1)
    with app.app_context():
        channels = list(db.session.execute(select(Channel.id, Channel.district_id)))
        names = dict(db.session.execute(text("SELECT id, name FROM district")).all())
        qv = db.session.scalar(
            text("SELECT questionnaire_id FROM wave WHERE id = :w"), {"w": wave_id}
        )
        engine = db.engine
        cells, stats = {}, {}
        started = time.perf_counter()
        batch = []
        answers = {"s_air": "4"}
        indicators = {"satisfied": 1.0, "participated": 1.0}
        t1 = utcnow()  # the last 14 days up to now
        t0 = t1 - timedelta(minutes=5)
        with engine.begin() as conn:
            for i in range(n):
                cid, did = channels[i % len(channels)]
                sex, age = rng.choice(SEXES), rng.choice(AGES)
                duration = rng.uniform(60, 400)
                flagged = rng.random() < 0.01
                back = timedelta(days=i % 14)  # the database counts them per (China) day
                batch.append({
                    "submission_id": uuid.uuid4().hex, "receipt_code": f"B{i:07d}",
                    "wave_id": wave_id, "channel_id": cid, "questionnaire_id": qv,
                    "answers": answers, "indicators": indicators, "district": names[did],
                    "sex": sex, "age_group": age, "urban_rural": "城镇",
                    "started_at": t0 - back, "submitted_at": t1 - back,
                    "duration_seconds": duration, "device_class": "mobile", "client_hash": "",
                    "over_quota": False, "excluded": False,
                    "flags": ["too_fast"] if flagged else [], "is_flagged": flagged,
                    "device_hash": "",
                })  # fmt: skip
                key = (names[did], sex, age)
                cells[key] = cells.get(key, 0) + 1
                stats[cid] = stats.get(cid, 0) + 1
                if len(batch) == 20000:
                    conn.execute(insert(Response.__table__), batch)
                    batch = []
                    print(f"\r  loaded {i + 1:,}/{n:,}", end="", file=sys.stderr)
            if batch:
                conn.execute(insert(Response.__table__), batch)
            print(f"\r  loaded {n:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            for (d, s, a), count in cells.items():
                conn.execute(
                    update(QuotaCell.__table__)
                    .where(QuotaCell.wave_id == wave_id, QuotaCell.district == d,
                           QuotaCell.sex == s, QuotaCell.age_group == a)
                    .values(achieved=count)
                )  # fmt: skip
            # completions, days and duration buckets: counted by the database (trigger)
            for cid, count in stats.items():
                conn.execute(update(ChannelStats.__table__).where(ChannelStats.channel_id == cid)
                             .values(starts=count, visits=count))  # fmt: skip
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def timed(client, url: str, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return out


def run(url: str, label: str, n: int, calls: int) -> bool:
    upgrade(url)
    app = create_app({"SECRET_KEY": "bench-" + "k" * 40, "DATABASE_URL": url, "RATE_LIMITS": {}})
    from survey.operations.demo import setup_demo
    from tests.staff import log_in, make_user

    with app.app_context():
        wave_id = setup_demo().id
    load(app, wave_id, n)
    client = app.test_client()
    log_in(client, make_user(app, "bench-organizer", "organizer"))
    dash = f"/staff/waves/{wave_id}/dashboard.json"
    timed(client, dash, 3)  # warm up
    trivial_client = app.test_client()
    trivial = timed(trivial_client, "/staff/login", calls)
    dashboard = timed(client, dash, calls)
    med, p95 = statistics.median(dashboard), sorted(dashboard)[int(0.95 * len(dashboard)) - 1]
    ok = med < 50
    print(f"{label}: {n:,} responses; dashboard.json median {med:.1f} ms, p95 {p95:.1f} ms; "
          f"trivial endpoint median {statistics.median(trivial):.1f} ms  "
          f"{'ok' if ok else 'OVER 50 ms'}")  # fmt: skip
    app.extensions["survey_db"]["engine"].dispose()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--postgres", help="PostgreSQL admin URL")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args.responses, args.calls)
    pg = args.postgres
    if not pg and not args.skip_postgres:
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            pg = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        except OSError:
            print("PostgreSQL: no server on 127.0.0.1:5432, skipped")
    if pg:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(pg).set(database=name).render_as_string(hide_password=False)
            ok &= run(url, "PostgreSQL", args.responses, args.calls)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
