"""Objects that each app process keeps for itself (a counter, a writer thread).

They live in ``app.extensions`` and remember the pid that made them: a gunicorn
worker forked from a process that had one (the master, with ``--preload``) makes
its own, for threads do not survive a fork.
"""

from __future__ import annotations

import os
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
    kept = current_app.extensions.get(name)
    return kept if kept is not None and kept.pid == os.getpid() else None
