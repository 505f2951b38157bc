"""A channel's state on the organizer's pages is what residents meet: after the
wave's end date the channels page and the dashboard said 开放 while residents
were refused (the stored open flag is unchanged by the end date)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from survey.extensions import db
from survey.models import Channel, Wave
from survey.operations.cities import set_channel_open
from survey.operations.quality import local_day
from tests.resident import channel_token
from tests.staff import log_in, make_user


def _organizer(app):
    client = app.test_client()
    log_in(client, make_user(app, "org", "organizer"))
    return client


def _set_dates(app, wave_id: int, starts_on, ends_on) -> None:
    from survey.operations.channel_cache import forget_channels

    with app.app_context():
        with db.write() as session:
            session.execute(
                update(Wave).where(Wave.id == wave_id).values(starts_on=starts_on, ends_on=ends_on)
            )
        forget_channels()


def test_after_the_end_date_channels_say_ended_not_open(app, demo_wave):
    today = local_day()
    end = today - timedelta(days=2)
    _set_dates(app, demo_wave, today - timedelta(days=30), end)
    token = channel_token(app)
    with app.app_context():
        closed = db.session.scalar(select(Channel).filter_by(token=channel_token(app, "赤壁市")))
        set_channel_open(closed, False)
    ended = f"已结束（调查已于 {end.isoformat()} 截止）"
    client = _organizer(app)
    # Residents are refused ...
    assert "已结束" in client.get(f"/s/{token}").get_data(as_text=True)
    # ... and the staff pages say so, not 开放.
    channels = client.get(f"/staff/waves/{demo_wave}/channels").get_data(as_text=True)
    assert channels.count(ended) == 5  # the six districts' channels, one closed
    assert f"已关闭（调查也已于 {end.isoformat()} 截止）" in channels
    assert ">开放<" not in channels and "\n开放\n" not in channels
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    states = {c["state"] for c in data["channels"]}
    assert states == {"ended", "closed"}
    assert all(c["state_label"] == ended for c in data["channels"] if c["state"] == "ended")
    assert all(c["open"] for c in data["channels"] if c["state"] == "ended")  # flag kept
    page = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert page.count(ended) == 5 and ">开放<" not in page


def test_within_the_dates_and_before_them(app, demo_wave):
    today = local_day()
    client = _organizer(app)
    _set_dates(app, demo_wave, today, today)  # the end date itself is within
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert {(c["state"], c["state_label"]) for c in data["channels"]} == {("open", "开放")}
    start = today + timedelta(days=3)
    _set_dates(app, demo_wave, start, start + timedelta(days=10))
    channels = client.get(f"/staff/waves/{demo_wave}/channels").get_data(as_text=True)
    assert channels.count(f"未开始（调查于 {start.isoformat()} 开始）") == 6
