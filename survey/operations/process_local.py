"""Objects that each app process keeps for itself (counts, a writer thread).

They live in ``app.extensions`` and remember the pid that made them: a gunicorn
worker forked from a process that had one (the master, with ``--preload``) makes
its own, for threads do not survive a fork.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from flask import current_app


def of_this_process(app, name: str, make: Callable[[], Any]) -> Any:
    """``app.extensions[name]``, made by *make()* if this process has none yet."""
    kept = app.extensions.get(name)
    if kept is None or kept.pid != os.getpid():
        kept = app.extensions[name] = make()
    return kept


def if_made(name: str) -> Any | None:
    """The current app's ``extensions[name]`` if this process made it, else None."""
    kept = current_app._get_current_object().extensions.get(name)  # not via the proxy
    return kept if kept is not None and kept.pid == os.getpid() else None


def flush_if_made(name: str) -> None:
    """Write now what this process's :class:`PeriodicFlush` *name* holds, if it has one."""
    kept = if_made(name)
    if kept is not None:
        kept.flush()


def cached(space: str, key, ttl: float, load):
    """``load()`` for *key*, kept in this process for *ttl* seconds (None is not kept)."""
    # The app, not its proxy: a read through Werkzeug's proxy costs ~2 µs on
    # Python 3.11 (see survey.respond.paradata.device_cookie).
    cache = current_app._get_current_object().extensions.setdefault(space, {})
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] <= ttl:
        return hit[1]
    value = load()
    if value is not None:
        if len(cache) > 10_000:  # keys come from URLs: never let a cache grow unbounded
            cache.clear()
        cache[key] = (now, value)
    return value


class PeriodicFlush(ABC):
    """What one process counts in memory, written by a thread of its own every
    *delay* seconds (and at exit, or when :meth:`stop` ends the thread first).
    Subclasses write in :meth:`flush`, keeping what they could not write for the
    next try.

    While the database is away the thread keeps trying: the first failure is
    logged with its traceback, the following ones in a line each, and the
    recovery once.
    """

    #: What is counted, for the log and the thread's name.
    what = "counts"

    def __init__(self, app, delay: float):
        self.app, self.delay = app, delay
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None
        self.stopped = threading.Event()
        self.failures = 0

    def start_once(self) -> None:
        """Start the flushing thread on first use (call it holding ``self.lock``)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, daemon=True,
                                           name=f"survey-flush {self.what}")  # fmt: skip
            self.thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        while not self.stopped.wait(self.delay):
            self.tick()

    def stop(self) -> None:
        """End the thread and write what is counted, now rather than at exit.

        For an app about to be disposed of (a gunicorn worker's exit, a test's
        app): the exit hook of a test's app had written its last rate-limit counts
        after pytest's summary, into a database the test run had dropped
        ("database survey_test_... does not exist"), and a thread left running
        could write into a later test's database."""
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(10)  # at most one flush under way
        atexit.unregister(self.flush)
        self.flush()

    def tick(self) -> None:
        """One try of the flushing thread."""
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - database away: keep the counts, try again
            self.failures += 1
            if self.failures == 1:
                self.app.logger.warning("%s not written yet", self.what, exc_info=True)
            else:
                self.app.logger.warning("%s still not written (try %d): %s",
                                        self.what, self.failures, type(exc).__name__)  # fmt: skip
        else:
            if self.failures:
                self.app.logger.warning("%s written again after %d tries", self.what,
                                        self.failures)  # fmt: skip
            self.failures = 0

    @abstractmethod
    def flush(self) -> None:
        """Write what is counted; keep it for the next try if writing fails."""


def stop_flushing(app) -> None:
    """Stop this process's :class:`PeriodicFlush` objects of *app*, writing what
    they hold (before the app's engine is disposed of)."""
    for name, kept in list(app.extensions.items()):
        if isinstance(kept, PeriodicFlush) and kept.pid == os.getpid():
            del app.extensions[name]
            kept.stop()
