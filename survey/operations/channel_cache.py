"""A process's short-lived cache of channels by QR token (the resident's path).

Every request of every resident starts by looking up the channel behind the QR
code with its wave, city, district and questionnaire: one query with four
joined loads, the largest single cost of a resident's request. The objects are
read-only on that path, so each process keeps them for ``TTL`` seconds.
Changes made through the operations here (closing a channel, editing a wave)
clear this process's cache at once; other processes see them within ``TTL``.
"""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from survey.extensions import db
from survey.models import Channel, Wave

#: Seconds a process keeps a channel (closing a channel reaches every process within this).
TTL = 5.0
_KEY = "survey_channel_cache"


def channel_by_token(token: str) -> Channel | None:
    """The channel with its wave, city, district and questionnaire loaded, or None."""
    cache = current_app.extensions.setdefault(_KEY, {})
    now = time.monotonic()
    hit = cache.get(token)
    if hit is not None and now - hit[0] <= TTL:
        return hit[1]
    channel = db.session.scalar(
        select(Channel)
        .filter_by(token=token)
        .options(
            joinedload(Channel.district),
            joinedload(Channel.wave).joinedload(Wave.city),
            joinedload(Channel.wave).joinedload(Wave.questionnaire),
        )
    )
    if channel is not None:
        if len(cache) > 10_000:  # tokens come from URLs: never let the cache grow unbounded
            cache.clear()
        cache[token] = (now, channel)
    return channel


def forget_channels() -> None:
    """Drop this process's cached channels (after a channel or wave changed)."""
    current_app.extensions.pop(_KEY, None)
