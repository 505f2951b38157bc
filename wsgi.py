"""WSGI entry point for production servers: ``gunicorn`` in this directory (settings in
gunicorn.conf.py)."""

import gc

from survey import create_app

app = create_app()

# What exists now (modules, the app, its routes and settings) lives as long as the
# process: frozen, the collector's full passes no longer walk it (they took 100-200 ms
# each, every request thread of the worker waiting, with 125,000 objects under load).
# Young collections run every 10,000 allocations instead of 700: most of a request's
# objects are freed by reference counting anyway. Under bench_load this cut each
# worker's time in the collector from about 650 to 230 ms a run.
gc.freeze()
gc.set_threshold(10_000, 20, 20)
