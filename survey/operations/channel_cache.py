"""A process's short-lived caches for the resident's path: channels by QR token,
and each city's districts.

Every request of every resident starts by looking up the channel behind the QR
code with its wave, city, district and questionnaire: one query with four
joined loads, the largest single cost of a resident's request. The objects are
read-only on that path, so each process keeps them for ``TTL`` seconds.
Changes made through the operations here (closing a channel, editing a wave)
clear this process's cache at once; other processes see them within ``TTL``.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from survey.extensions import db
from survey.models import Channel, Wave
from survey.operations.process_local import cached

#: Seconds a process keeps a channel (closing a channel reaches every process within this).
TTL = 5.0
#: Seconds a process keeps a city's district list (the district question's options).
DISTRICTS_TTL = 30.0
_KEY = "survey_channel_cache"
_DISTRICTS_KEY = "survey_district_cache"


def channel_by_token(token: str) -> Channel | None:
    """The channel with its wave, city, district and questionnaire loaded, or None."""
    return cached(_KEY, token, TTL, lambda: db.session.scalar(
        select(Channel)
        .filter_by(token=token)
        .options(
            joinedload(Channel.district),
            joinedload(Channel.wave).joinedload(Wave.city),
            joinedload(Channel.wave).joinedload(Wave.questionnaire),
        )
    ))  # fmt: skip


def city_districts(city_id: int) -> tuple[str, ...]:
    """The city's district names in order: every page of every resident needs
    them, and they change only when the city is set up."""
    from survey.operations.cities import district_names

    return cached(_DISTRICTS_KEY, city_id, DISTRICTS_TTL, lambda: tuple(district_names(city_id)))


def forget_channels() -> None:
    """Drop this process's cached channels (after a channel or wave changed)."""
    current_app.extensions.pop(_KEY, None)
