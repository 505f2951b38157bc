"""Names staff type in are kept on one line: no control characters stored.

Word's Shift+Enter pastes \\x0b; a wave name or collection-point label with it
broke every Excel export of the wave (fixed in the writer since), and a line
break in a name splits the estimates file's method note."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import Channel, City, District, Wave
from survey.operations.cities import add_city, create_channel
from survey.operations.names import one_line
from survey.operations.waves import update_wave


def test_one_line():
    assert one_line(" 社区\x0b海报\r\n一号\x00 ") == "社区 海报 一号"
    assert one_line("a\u2028b\x85c\tz", 4) == "a b "[:4]
    assert one_line("") == "" and one_line(None) == ""


def test_wave_channel_and_city_names_are_stored_on_one_line(app, demo_wave):
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        update_wave(wave, {"name": "2026\x0b年度", "organizer": "市统计局\r\n（演示）\x01"})
        wave = db.session.get(Wave, demo_wave)
        assert (wave.name, wave.organizer) == ("2026 年度", "市统计局 （演示）")
        district = db.session.scalars(select(District).filter_by(city_id=wave.city_id)).first()
        channel = create_channel(wave, district, "社区\x0b海报\n二号")
        assert db.session.get(Channel, channel.id).label == "社区 海报 二号"
        from survey.operations.cities import DistrictEntry

        city = add_city("测试\x0b市", "湖北\n省", [DistrictEntry("第 1 行", "甲\x0b区", "1000")])
        city = db.session.get(City, city.id)
        assert (city.name, city.province) == ("测试 市", "湖北 省")
        assert [d.name for d in city.districts] == ["甲 区"]
