"""The garbage collector's settings of a server process (wsgi.py), also applied by
the benchmarks that call the application in-process, so that they measure what
production runs."""

from __future__ import annotations

import gc


def settle_garbage_collector() -> None:
    """Freeze what exists now and make young collections rarer.

    Called once the app is created. What exists then (modules, the app, its routes
    and settings) lives as long as the process: frozen, the collector's full passes
    no longer walk it (they took 100-200 ms each, every request thread of the worker
    waiting, with 125,000 objects under load). Young collections run every 10,000
    allocations instead of 700: most of a request's objects are freed by reference
    counting anyway. Under bench_load this cut each worker's time in the collector
    from about 650 to 230 ms a run.
    """
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
