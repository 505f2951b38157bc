"""Cities, districts, waves and channels."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select, update

from survey.extensions import db
from survey.models import Channel, ChannelStats, City, District, QuestionnaireVersion, Wave
from survey.operations.errors import OperationError


def create_city(name: str, province: str, districts: list[tuple[str, int | None]]) -> City:
    """Create a city with its districts (in official order); idempotent by name."""
    with db.write() as session:
        city = session.scalar(select(City).filter_by(name=name))
        if city is None:
            city = City(name=name, province=province)
            session.add(city)
            session.flush()
        existing = {d.name for d in city.districts}
        for order, (district, population) in enumerate(districts):
            if district not in existing:
                session.add(
                    District(
                        city_id=city.id,
                        name=district,
                        census_population=population,
                        sort_order=order,
                    )
                )
    db.session.expire(city, ["districts"])
    return city


def create_wave(
    city: City,
    name: str,
    questionnaire: QuestionnaireVersion,
    organizer: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    quota_policy: str = "close",
) -> Wave:
    """Create a survey wave for *city* answering *questionnaire*."""
    if quota_policy not in ("close", "soft"):
        raise OperationError("配额策略只能是 close（满额即止）或 soft（超额仍收并标记）。")
    with db.write() as session:
        wave = Wave(
            city_id=city.id,
            name=name,
            questionnaire_id=questionnaire.id,
            organizer=organizer,
            starts_on=starts_on,
            ends_on=ends_on,
            quota_policy=quota_policy,
        )
        session.add(wave)
    return wave


def create_channel(wave: Wave, district: District, label: str) -> Channel:
    """Create an open channel with an unguessable token and zeroed counters."""
    if district.city_id != wave.city_id:
        raise OperationError(f"区县 {district.name} 不属于本轮调查的城市。")
    label = label.strip()
    if not label:
        raise OperationError("请填写采集点名称（例如：社区海报、访问员姓名）。")
    with db.write() as session:
        channel = Channel(
            wave_id=wave.id,
            district_id=district.id,
            label=label[:200],
            token=secrets.token_urlsafe(16),
        )
        session.add(channel)
        session.flush()
        session.add(ChannelStats(channel_id=channel.id))
    return channel


def set_channel_open(channel: Channel, is_open: bool) -> Channel:
    """Open or close a channel; a closed channel accepts nothing."""
    from survey.operations.audit import record
    from survey.operations.channel_cache import forget_channels

    with db.write() as session:
        session.execute(update(Channel).where(Channel.id == channel.id).values(is_open=is_open))
        record(session, "channel_open" if is_open else "channel_close", "channel", channel.id,
               {"label": channel.label})  # fmt: skip
    channel.is_open = is_open
    forget_channels()
    return channel
