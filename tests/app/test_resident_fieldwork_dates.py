"""A wave's fieldwork dates bind the resident's path: before 开始日期 the landing
page says when the survey opens and nothing can be started; after 结束日期 every
step says the survey has ended (410, as a closed channel) and nothing is stored,
except for a resident who started before and finishes within the grace period.
Dates are calendar days in China; a date not set does not restrict."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update

from survey.extensions import db
from survey.models import Response, Wave
from survey.respond import fieldwork
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, start, submit_page

TODAY = date(2027, 5, 10)


def _html(response) -> str:
    return response.get_data(as_text=True)


def _set_dates(app, wave_id: int, starts_on, ends_on) -> None:
    from survey.operations.channel_cache import forget_channels

    with app.app_context():
        with db.write() as session:
            session.execute(
                update(Wave).where(Wave.id == wave_id).values(starts_on=starts_on, ends_on=ends_on)
            )
        forget_channels()


def _today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(fieldwork, "local_day", lambda: day)


def _responses(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def test_dates_are_days_in_china_both_included():
    class W:
        starts_on, ends_on = TODAY, TODAY + timedelta(days=2)

    assert fieldwork.fieldwork_state(W, TODAY - timedelta(days=1)) == (fieldwork.NOT_YET, TODAY)
    assert fieldwork.fieldwork_state(W, TODAY)[0] == fieldwork.OPEN
    assert fieldwork.fieldwork_state(W, W.ends_on)[0] == fieldwork.OPEN
    after = W.ends_on + timedelta(days=1)
    assert fieldwork.fieldwork_state(W, after) == (fieldwork.ENDED, W.ends_on)

    class Unset:
        starts_on = ends_on = None

    assert fieldwork.fieldwork_state(Unset, date(1999, 1, 1))[0] == fieldwork.OPEN


def test_today_is_the_day_in_china(monkeypatch):
    from datetime import datetime

    from survey.operations import quality

    # 17:00 UTC on 9 May is 01:00 on 10 May in China: the survey of the 10th is open.
    monkeypatch.setattr(quality, "utcnow", lambda: datetime(2027, 5, 9, 17, 0))

    class W:
        starts_on, ends_on = TODAY, TODAY

    assert fieldwork.fieldwork_state(W)[0] == fieldwork.OPEN


def test_before_the_start_date_the_landing_page_says_when_it_opens(
    app, client, demo_wave, monkeypatch
):
    token = channel_token(app)
    _set_dates(app, demo_wave, TODAY + timedelta(days=3), TODAY + timedelta(days=30))
    _today(monkeypatch, TODAY)
    landing = client.get(f"/s/{token}")
    html = _html(landing)
    assert landing.status_code == 200
    assert "尚未开始" in html and "2027年5月13日" in html
    assert "同意并开始填写" not in html
    # a consent form kept from before (a valid token of this device), posted anyway
    tokens = form_tokens(_html(client.get("/withdraw")))
    refused = client.post(f"/s/{token}/start", data={"csrf_token": tokens["csrf_token"]})
    assert refused.status_code == 403 and "2027年5月13日" in _html(refused)
    english = client.get(f"/s/{token}?lang=en")
    assert "May 13, 2027" in _html(english)  # the date as English writes it


def test_after_the_end_date_every_step_says_it_ended_and_nothing_is_stored(
    app, client, demo_wave, monkeypatch
):
    token = channel_token(app)
    _set_dates(app, demo_wave, TODAY - timedelta(days=30), TODAY)
    _today(monkeypatch, TODAY)
    html = _html(start(client, token))
    for answers in STANDARD_PAGES[:2]:
        html = _html(submit_page(client, token, html, answers))
    assert "第 3 页" in html
    _today(monkeypatch, TODAY + timedelta(days=1))  # midnight in China passes
    for response in (
        submit_page(client, token, html, STANDARD_PAGES[2]),
        client.get(f"/s/{token}"),
        client.post(f"/s/{token}/start", data={"csrf_token": form_tokens(html)["csrf_token"]}),
    ):
        assert response.status_code == 410
        assert "本次调查已于 2027年5月10日 结束" in _html(response)
    assert _responses(app) == 0


def test_a_kept_landing_page_does_not_outlive_the_end_date(app, client, demo_wave, monkeypatch):
    token = channel_token(app)
    _set_dates(app, demo_wave, None, TODAY)
    _today(monkeypatch, TODAY)
    assert client.get(f"/s/{token}").status_code == 200  # rendered and kept
    assert client.get(f"/s/{token}").status_code == 200  # from the page cache
    _today(monkeypatch, TODAY + timedelta(days=1))
    assert client.get(f"/s/{token}").status_code == 410


def test_no_dates_no_restriction(app, client, demo_wave, monkeypatch):
    token = channel_token(app)
    _set_dates(app, demo_wave, None, None)
    _today(monkeypatch, date(2099, 1, 1))
    html = _html(start(client, token))
    for answers in STANDARD_PAGES:
        response = submit_page(client, token, html, answers)
        html = _html(response)
    assert response.status_code == 303 and _responses(app) == 1


def test_a_resident_who_started_before_midnight_on_the_end_date_may_finish(app, client, demo_wave):
    """The end date ran out at midnight in the middle of someone's questionnaire:
    their next page said the survey had ended, and their answers were lost. One
    started before may finish for FINISH_GRACE_SECONDS; one started after may not."""
    from datetime import datetime

    from survey.models import Channel
    from survey.operations.quality import BEIJING, local_day
    from survey.respond.state import FormState, dump_state

    token = channel_token(app)
    csrf = form_tokens(_html(client.get(f"/s/{token}")))["csrf_token"]  # while it was open
    yesterday = local_day() - timedelta(days=1)
    _set_dates(app, demo_wave, yesterday - timedelta(days=30), yesterday)
    midnight = datetime.combine(local_day(), datetime.min.time()) - BEIJING  # UTC
    with app.app_context():
        channel_id = db.session.scalar(select(Channel.id).filter_by(token=token))
    assert client.get(f"/s/{token}").status_code == 410  # no new start

    def page_one(started_at):
        with app.test_request_context():
            state = dump_state(FormState(channel_id=channel_id, started_at=started_at))
        data = {"csrf_token": csrf, "state": state, **STANDARD_PAGES[0]}
        return client.post(f"/s/{token}/page", data=data)

    app.config["FINISH_GRACE_SECONDS"] = 2 * 86400
    before = page_one(midnight - timedelta(minutes=10))
    assert before.status_code == 200 and "第 2 页" in _html(before)
    html = _html(before)
    for answers in STANDARD_PAGES[1:]:
        response = submit_page(client, token, html, answers)
        html = _html(response)
    assert response.status_code == 303 and _responses(app) == 1
    assert page_one(midnight + timedelta(minutes=1)).status_code == 410  # started after
    app.config["FINISH_GRACE_SECONDS"] = 1  # midnight was more than a second ago
    assert page_one(midnight - timedelta(minutes=10)).status_code == 410
