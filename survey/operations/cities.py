"""Cities, districts, waves and channels."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import Channel, ChannelStats, City, District, QuestionnaireVersion, Wave, utcnow
from survey.operations.errors import OperationError
from survey.operations.names import one_line

#: What happens to a resident whose quota cell is full (Wave.quota_policy), in
#: the words every page, the audit log and the messages use: the waves list
#: said 满额即止 / 超额仍收并标记 for what the settings form calls these.
QUOTA_POLICY_LABELS = {"close": _l("停止接收（礼貌告知）"), "soft": _l("仍然接收并标记超额")}


def check_quota_policy(policy: str) -> None:
    """Refuse a quota policy that is neither of :data:`QUOTA_POLICY_LABELS`."""
    if policy not in QUOTA_POLICY_LABELS:
        close, soft = QUOTA_POLICY_LABELS["close"], QUOTA_POLICY_LABELS["soft"]
        raise OperationError(f"单元满额时的处理只能是“{close}”或“{soft}”。", field="quota_policy")


def district_names(city_id: int) -> list[str]:
    """The city's district names, in their order (residents' pages read a kept
    copy: channel_cache.city_districts)."""
    return list(
        db.session.scalars(
            select(District.name).where(District.city_id == city_id).order_by(District.sort_order)
        )
    )


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


NAME_LENGTH = 100  # City.name, City.province and District.name are String(100)


class CityError(OperationError):
    """The city cannot be created; ``problems`` lists every reason (Chinese)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class DistrictEntry:
    """A district as the operator gave it, before checking."""

    #: Where it was given, for messages: "第 3 行", "--district 咸安区=657600".
    where: str
    name: str
    #: The population as typed ("657600", "657,600"; an XLSX cell may give "657600.0").
    population: str


def _population(text: str) -> int | None:
    """A positive whole number written with or without thousands separators, else None."""
    text = text.strip().replace(",", "").replace("，", "")
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number <= 0 or number != int(number):
        return None
    return int(number)


def _check_city(name: str, province: str, entries: list[DistrictEntry]) -> list[tuple[str, int]]:
    """The districts as (name, population) in the given order, or CityError with every problem."""
    problems: list[str] = []
    for label, value, example in (("城市名称", name, "咸宁市"), ("省份", province, "湖北省")):
        if not value:
            problems.append(f"请填写{label}，例如 {example}。")
        elif len(value) > NAME_LENGTH:
            problems.append(f"{label}“{value[:20]}…”太长（最多 {NAME_LENGTH} 个字）。")
    if not entries:
        problems.append("至少需要一个区县（区、县或县级市）及其人口数。")
    seen: dict[str, str] = {}
    clean = []
    for entry in entries:
        district = one_line(entry.name)
        population = _population(entry.population)
        if not district:
            problems.append(f"{entry.where}：缺少区县名称。")
        elif len(district) > NAME_LENGTH:
            problems.append(f"{entry.where}：区县名称太长（最多 {NAME_LENGTH} 个字）。")
        elif district in seen:
            problems.append(f"{entry.where}：区县“{district}”重复（先见于 {seen[district]}）。")
        else:
            seen[district] = entry.where
        if population is None:
            shown = entry.population.strip()
            problems.append(
                f"{entry.where}：人口数“{shown}”应为正整数。"
                if shown
                else f"{entry.where}：缺少人口数。"
            )
        clean.append((district, population))
    if name and db.session.scalar(select(City.id).filter_by(name=name)) is not None:
        problems.append(f"城市“{name}”已存在，未做任何修改。")
    if problems:
        raise CityError(problems)
    return clean


def add_city(
    name: str, province: str, entries: list[DistrictEntry], actor_name: str | None = None
) -> City:
    """Create a new city with its districts (in the order given) in one transaction.

    Every problem is reported at once (:class:`CityError`) and nothing is written:
    a name or province missing, no district, a district named twice, a population
    that is not a positive whole number, a city of that name already there.
    """
    from survey.operations.audit import record

    name, province = one_line(name), one_line(province)
    districts = _check_city(name, province, entries)
    try:
        with db.write() as session:
            city = City(name=name, province=province)
            session.add(city)
            session.flush()
            session.add_all(
                District(city_id=city.id, name=district, census_population=population,
                         sort_order=order)
                for order, (district, population) in enumerate(districts)
            )  # fmt: skip
            record(session, "city_create", "city", city.id,
                   {"name": name, "province": province, "districts": len(districts),
                    "population": sum(p for _, p in districts)},
                   actor_name=actor_name)  # fmt: skip
    except IntegrityError as exc:  # created by someone else since the check
        raise CityError([f"城市“{name}”已存在，未做任何修改。"]) from exc
    db.session.expire(city, ["districts"])
    return city


def wave_name_free(session, city_id: int, name: str, wave_id: int | None = None) -> str:
    """*name* on one line, refused when empty or when another wave of the city
    (not *wave_id*) has it. Inside the write transaction that stores the name,
    after the city's row lock (PostgreSQL; SQLite's write transactions run one
    at a time): two administrators creating or renaming a wave to one name at
    the same moment, or a double click on 创建, each found the name free when
    the check ran before the transaction, and both stored it."""
    name = one_line(name, 100)
    if not name:
        raise OperationError("请填写轮次名称（如 2026年度）。", field="name")
    # FOR NO KEY UPDATE: a wave's or district's insert (a key-share lock on the
    # city) does not wait for it; another name check does.
    session.execute(select(City.id).where(City.id == city_id).with_for_update(key_share=True))
    same = session.scalar(
        select(Wave.id).where(Wave.city_id == city_id, Wave.name == name, Wave.id != (wave_id or 0))
    )
    if same is not None:
        raise OperationError(f"本市已有名为“{name}”的调查轮次，请换一个名称。", field="name")
    return name


def create_wave(
    city: City,
    name: str,
    questionnaire: QuestionnaireVersion,
    organizer: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    quota_policy: str = "close",
    actor_name: str | None = None,
) -> Wave:
    """Create a survey wave for *city* answering *questionnaire* (audited in the
    same transaction: it had been recorded in one of its own, after). A name
    that another wave of the city has is refused (:func:`wave_name_free`)."""
    from survey.operations.audit import record

    check_quota_policy(quota_policy)
    with db.write() as session:
        wave = Wave(
            city_id=city.id,
            name=wave_name_free(session, city.id, name),
            questionnaire_id=questionnaire.id,
            organizer=organizer,
            starts_on=starts_on,
            ends_on=ends_on,
            quota_policy=quota_policy,
        )
        session.add(wave)
        session.flush()
        record(session, "wave_create", "wave", wave.id,
               {"name": wave.name, "city": city.name,
                "questionnaire": f"{questionnaire.slug} 第 {questionnaire.version} 版"},
               actor_name=actor_name)  # fmt: skip
    return wave


def create_channel(wave: Wave, district: District, label: str) -> Channel:
    """Create an open channel with an unguessable token and zeroed counters (audited)."""
    from survey.operations.audit import record

    if district.city_id != wave.city_id:
        raise OperationError(f"区县 {district.name} 不属于本轮调查的城市。")
    label = one_line(label)
    if not label:
        raise OperationError("请填写采集点名称（例如：社区海报、访问员姓名）。")
    # Two channels of one name could not be told apart on the dashboard, the
    # posters or the audit log.
    taken = OperationError(
        f"{district.name}已有名为“{label[:200]}”的采集点：请换一个名称（例如加上地点或日期）。"
    )
    try:
        with db.write() as session:
            exists = session.scalar(
                select(Channel.id).where(
                    Channel.wave_id == wave.id,
                    Channel.district_id == district.id,
                    Channel.label == label[:200],
                )
            )
            if exists is not None:
                raise taken
            channel = Channel(
                wave_id=wave.id,
                district_id=district.id,
                label=label[:200],
                token=secrets.token_urlsafe(16),
            )
            session.add(channel)
            session.flush()
            session.add(ChannelStats(channel_id=channel.id))
            record(session, "channel_create", "channel", channel.id,
                   {"label": channel.label, "district": district.name, "wave_id": wave.id})  # fmt: skip
    except IntegrityError as exc:
        # Created by someone else between the check and the insert (two organizers
        # at once on PostgreSQL): the unique index refused it (migration 0013).
        raise taken from exc
    return channel


def set_channel_open(channel: Channel, is_open: bool) -> Channel:
    """Open or close a channel; a closed channel accepts nothing.

    A channel in that state already (a second click, a page opened before
    someone else closed it) is left as it is, and nothing is audited: a second
    closing moved the closing time, from which residents who had started may
    still finish for a grace period (respond/fieldwork.may_finish), and the
    audit log showed it closed twice. The channel returned says whether it
    changed (``changed``)."""
    from survey.operations.audit import record
    from survey.operations.channel_cache import forget_channels

    with db.write() as session:
        closed_at = None if is_open else utcnow()
        changed = session.execute(
            update(Channel)
            .where(Channel.id == channel.id, Channel.is_open != is_open)
            .values(is_open=is_open, closed_at=closed_at)
        ).rowcount
        if changed:
            record(session, "channel_open" if is_open else "channel_close", "channel",
                   channel.id, {"label": channel.label})  # fmt: skip
    if changed:
        channel.is_open, channel.closed_at = is_open, closed_at
        forget_channels()
    else:
        db.session.refresh(channel)
    channel.changed = bool(changed)
    return channel
