"""The demo city (咸宁市, Hubei) with the standard questionnaire and channels.

District populations are the 2020 census resident populations
(see shared/DOMAIN.md); they are real. Everything else is demo data.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from questionnaires import standard_questionnaire
from survey.extensions import db
from survey.models import Channel, City, District, Wave
from survey.operations.cities import create_channel, create_city, create_wave
from survey.operations.questionnaires import register_questionnaire
from survey.paths import DEMO_DIR

CITY = "咸宁市"
PROVINCE = "湖北省"
#: 2020 census resident population by county-level district (total 2,658,316
#: with rounding in the published district figures).
DISTRICTS: list[tuple[str, int]] = [
    ("咸安区", 657_600),
    ("赤壁市", 470_400),
    ("崇阳县", 427_100),
    ("通城县", 426_300),
    ("通山县", 391_300),
    ("嘉鱼县", 285_600),
]
WAVE_NAME = "2026年度"
ORGANIZER = "咸宁市统计局（演示）"


def setup_demo(today: date | None = None) -> Wave:
    """Create (or reuse) the demo city, questionnaire, wave and one channel per district."""
    from survey.operations.quality import local_day

    today = today or local_day()
    version = register_questionnaire(standard_questionnaire(), actor_name="demo")
    city = create_city(CITY, PROVINCE, DISTRICTS)
    session = db.session
    city = session.scalar(select(City).filter_by(name=CITY))
    wave = session.scalar(select(Wave).filter_by(city_id=city.id, name=WAVE_NAME))
    if wave is None:
        wave = create_wave(
            city,
            WAVE_NAME,
            version,
            organizer=ORGANIZER,
            starts_on=today,
            ends_on=today + timedelta(days=30),
            actor_name="demo",
        )
    have = {c.district_id for c in session.scalars(select(Channel).filter_by(wave_id=wave.id))}
    districts = session.scalars(
        select(District).filter_by(city_id=city.id).order_by(District.sort_order)
    )
    for district in districts:
        if district.id not in have:
            create_channel(wave, district, f"{district.name}宣传海报")
    setup_demo_quotas(wave)
    return wave


FRAME_FILE = DEMO_DIR / "xianning_frame.csv"
#: Planned valid questionnaires per district (a provincial scheme's figure).
DEMO_PER_DISTRICT = 300


def setup_demo_quotas(wave: Wave) -> None:
    """Import the demo frame (adults 18+) and plan 300 questionnaires per district."""
    from survey.models import QuotaPlan
    from survey.operations.frames import import_frame
    from survey.operations.quotas import make_plan

    if db.session.get(QuotaPlan, wave.id) is not None:
        return
    import_frame(wave, FRAME_FILE.read_bytes(), FRAME_FILE.name, actor_name="demo")
    make_plan(wave, per_district={name: DEMO_PER_DISTRICT for name, _ in DISTRICTS},
              actor_name="demo")  # fmt: skip


DEMO_PASSWORD = "demo-password-2026"
DEMO_STAFF = [
    ("admin", "演示管理员", ["administrator"]),
    ("organizer", "演示调查组织者", ["organizer"]),
    ("statistician", "演示统计分析人员", ["statistician"]),
]


def create_demo_staff() -> list[str]:
    """Demo accounts with a published password (only ever created by ``survey demo``)."""
    from survey.models import User
    from survey.operations.users import create_user

    made = []
    for username, name, roles in DEMO_STAFF:
        if db.session.scalar(select(User).filter_by(username=username)) is None:
            create_user(username, DEMO_PASSWORD, roles, name, actor_name="demo")
        made.append(username)
    return made
