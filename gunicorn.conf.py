"""gunicorn's settings for this app. ``gunicorn`` started in this directory reads
them by itself (from elsewhere: ``gunicorn -c path/to/gunicorn.conf.py``); options
on the command line or in ``GUNICORN_CMD_ARGS`` override them, e.g.
``gunicorn --bind 0.0.0.0:8000 --workers 8``.

``bench/bench_load.py`` starts gunicorn with these same settings (README, "Measured"):

- Threads (``gthread``), not gunicorn's default workers that serve one request at a
  time: a submission waits for its process's writer thread, which stores every
  submission waiting at that moment in one transaction (group commit); with one
  request per process there would be nothing to group, and a phone sending its form
  slowly over a weak network would hold a whole process.
- One worker process per CPU core (at least 2). On PostgreSQL on 2 cores (one
  session, runs alternated), 4 processes × 16 threads cost 2.2–3.2 ms of server CPU
  per request of the resident path and did 432–629 req/s; 2 × 16 cost 2.0–2.5 ms and
  did 516–652 req/s. Each process has its own writer, flush threads and caches, and
  the writers of more processes wait longer for each other's row locks on the hot
  counter rows. On SQLite one pair of runs went the other way (581 req/s with 4
  processes against 544 with 2), within this machine's noise.
- 16 threads per process. Fewer cut the stress run's p99 while the machine was fast
  (2 × 4: 114 against 157 ms) but cost throughput: fewer submissions wait at once,
  the writer's batches shrink and PostgreSQL's CPU per request rose (0.19–0.48
  against 0.11–0.17 ms); 8 and 32 did less than 16 too (README, "Measured").
"""

import os

wsgi_app = "wsgi:app"
worker_class = "gthread"
workers = max(2, os.cpu_count() or 1)
threads = 16


def worker_exit(server, worker):
    """A worker that stops (restart, shutdown) first stores what its writer thread
    holds and gives the writer's database connection back, then writes its
    funnel and rate-limit counts (rather than in an exit hook)."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    from survey.operations.process_local import stop_flushing
    from survey.operations.responses import stop_writer

    stop_writer(app)
    stop_flushing(app)
