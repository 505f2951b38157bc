"""The organizer's dashboard: counters, quality flags, exclusion, channels, JSON."""

from __future__ import annotations

from sqlalchemy import event, select, update

from survey.extensions import db
from survey.models import AuditEvent, Channel, DailyCount, DurationBucket, Response
from survey.operations.dataset import valid_responses
from survey.operations.quality import median_from_buckets
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete, receipt_of, start, submit_page
from tests.staff import log_in, make_user


def organizer_client(app):
    client = app.test_client()
    log_in(client, make_user(app, "org", "organizer"))
    return client


def test_median_from_histogram_by_hand():
    # 10 responses: 3 in [60,70), 4 in [70,80), 3 in [80,90) -> median in second bin:
    # half = 5, 3 before it, so 70 + 10 * (5 - 3) / 4 = 75.
    assert median_from_buckets([(60, 3), (70, 4), (80, 3)]) == 75.0
    assert median_from_buckets([]) is None


def test_submit_updates_counters(app, client, demo_wave):
    token = channel_token(app)
    complete(client, token)
    with app.app_context():
        channel = db.session.scalar(select(Channel).filter_by(token=token))
        assert sum(d.completions for d in db.session.scalars(select(DailyCount))) == 1
        assert sum(b.count for b in db.session.scalars(select(DurationBucket))) == 1
        assert channel.stats.completions == 1


def test_straight_lining_and_repeated_device_are_flagged(app, demo_wave):
    token = channel_token(app)
    client = app.test_client()
    pages = [dict(p) for p in STANDARD_PAGES]
    pages[1] = {k: "3" for k in pages[1]}
    complete(client, token, pages=pages)
    complete(client, token)  # same browser: same device cookie
    with app.app_context():
        first, second = db.session.scalars(select(Response).order_by(Response.id))
        assert "straight_lined" in first.flags
        assert "repeated_device" in second.flags and "repeated_device" not in first.flags
        assert first.device_hash and len(first.device_hash) == 32


def test_dashboard_page_and_json(app, demo_wave):
    token = channel_token(app)
    complete(app.test_client(), token)
    client = organizer_client(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "咸安区" in html and "每日完成量" in html and "data-url" in html
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert data["totals"]["achieved"] == 1 and data["totals"]["target"] == 1800
    xianan = next(d for d in data["districts"] if d["district"] == "咸安区")
    assert xianan["achieved"] == 1 and xianan["target"] == 300
    assert sum(c["completions"] for c in data["channels"]) == 1
    assert data["daily"][0]["completions"] == 1


def test_dashboard_json_uses_a_bounded_number_of_queries(app, demo_wave):
    client = organizer_client(app)
    token = channel_token(app)

    def count():
        statements = []
        engine = app.extensions["survey_db"]["engine"]
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        client.get(f"/staff/waves/{demo_wave}/dashboard.json")
        event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    empty = count()
    for _ in range(5):
        complete(app.test_client(), token)
    assert count() == empty
    assert empty < 20


def test_exclude_and_restore_are_audited_and_respected(app, demo_wave):
    token = channel_token(app)
    pages = [dict(p) for p in STANDARD_PAGES]
    pages[-1]["website"] = "bot"
    complete(app.test_client(), token, pages=pages)
    client = organizer_client(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "疑似机器提交" in html
    with app.app_context():
        rid = db.session.scalar(select(Response.id))
    csrf = form_tokens(html)["csrf_token"]
    url = f"/staff/waves/{demo_wave}/responses/{rid}/exclude"
    client.post(url, data={"csrf_token": csrf, "excluded": "1", "reason": "机器提交"})
    with app.app_context():
        assert list(db.session.scalars(valid_responses(demo_wave))) == []
    client.post(url, data={"csrf_token": csrf, "excluded": "0"})
    with app.app_context():
        assert len(list(db.session.scalars(valid_responses(demo_wave)))) == 1
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
        assert "response_exclude" in actions and "response_restore" in actions


def test_a_decision_made_already_is_not_made_again(app, demo_wave):
    """A second click on 剔除, 保留 or 关闭 (or a page opened before another
    organizer acted) did it again: the audit log showed the response excluded
    twice, and a second closing moved the channel's closing time, from which
    residents who had started may still finish for an hour."""
    from survey.models import Channel

    token = channel_token(app)
    pages = [dict(p) for p in STANDARD_PAGES]
    pages[-1]["website"] = "bot"
    for _ in range(2):
        complete(app.test_client(), token, pages=pages)
    client = organizer_client(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    csrf = form_tokens(html)["csrf_token"]
    with app.app_context():
        excluded, kept = db.session.scalars(select(Response.id).order_by(Response.id)).all()
        cid = db.session.scalar(select(Channel.id).filter_by(token=token))

    def post(url, **data):
        return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=True)

    base = f"/staff/waves/{demo_wave}"
    post(f"{base}/responses/{excluded}/exclude", excluded="1", reason="机器")
    again = post(f"{base}/responses/{excluded}/exclude", excluded="1", reason="机器")
    assert f"答卷 {excluded} 已经剔除，未做改动。" in again.get_data(as_text=True)
    post(f"{base}/responses/{kept}/exclude", excluded="0")
    again = post(f"{base}/responses/{kept}/exclude", excluded="0")
    assert f"答卷 {kept} 已经核查过并计入有效数据，未做改动。" in again.get_data(as_text=True)
    close = f"{base}/channels/{cid}/open"
    post(close, open="0", back="dashboard")
    with app.app_context():
        closed_at = db.session.get(Channel, cid).closed_at
    again = post(close, open="0", back="dashboard")
    assert "已经是关闭状态，未做改动" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Channel, cid).closed_at == closed_at
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
        assert actions.count("response_exclude") == 1
        assert actions.count("response_keep") == 1
        assert actions.count("channel_close") == 1
        assert len(list(db.session.scalars(valid_responses(demo_wave)))) == 1
    data = client.get(f"{base}/dashboard.json").get_json()
    assert (data["totals"]["excluded"], data["totals"]["achieved"]) == (1, 1)
    reopened = post(close, open="1")
    assert "已开启" in reopened.get_data(as_text=True)


def test_close_channel_from_dashboard(app, demo_wave):
    client = organizer_client(app)
    token = channel_token(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    with app.app_context():
        cid = db.session.scalar(select(Channel.id).filter_by(token=token))
    client.post(f"/staff/waves/{demo_wave}/channels/{cid}/open",
                data={"csrf_token": form_tokens(html)["csrf_token"], "open": "0", "back": "dashboard"})  # fmt: skip
    assert "本次调查已结束" in app.test_client().get(f"/s/{token}").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).filter_by(action="channel_close"))
        assert event.actor_name == "org" and event.object_id == str(cid)


def test_channel_labels_are_escaped(app, demo_wave):
    with app.app_context():
        with db.write() as session:
            session.execute(update(Channel).values(label="<script>alert(1)</script>"))
    client = organizer_client(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    body = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_data(as_text=True)
    assert "<script>" not in body  # JSON escapes < as \u003c


def test_at_risk_projection(app, demo_wave):
    from datetime import timedelta

    from survey.models import Wave
    from survey.operations.dashboard import dashboard_data
    from survey.operations.quality import local_day

    complete(app.test_client(), channel_token(app))
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        today = local_day()
        wave.starts_on = today
        assert not any(d["at_risk"] for d in dashboard_data(wave, today)["districts"])  # day one
        wave.starts_on = today - timedelta(days=5)
        wave.ends_on = today + timedelta(days=2)
        data = dashboard_data(wave, today)
        xianan = next(d for d in data["districts"] if d["district"] == "咸安区")
        assert xianan["rate_per_day"] == 1 / 3 and xianan["at_risk"]  # 1 + 2/3 < 300
        wave.ends_on = today + timedelta(days=2000)
        assert not next(d for d in dashboard_data(wave, today)["districts"]
                        if d["district"] == "咸安区")["at_risk"]  # fmt: skip
        # On the second day of fieldwork the 3-day mean covers two days, not three.
        wave.starts_on, wave.ends_on = today - timedelta(days=1), today + timedelta(days=2)
        second = next(d for d in dashboard_data(wave, today)["districts"]
                      if d["district"] == "咸安区")  # fmt: skip
        assert second["rate_per_day"] == 1 / 2
        # After the end date: no countdown below zero, no "at risk" but "ended".
        wave.starts_on, wave.ends_on = today - timedelta(days=30), today - timedelta(days=2)
        data = dashboard_data(wave, today)
        assert data["wave"]["days_left"] == -2
        assert not any(d["at_risk"] for d in data["districts"])
    client = app.test_client()
    log_in(client, make_user(app, "org-ended", "organizer"))
    with app.app_context():
        with db.write() as session:
            session.get(Wave, demo_wave).ends_on = today - timedelta(days=2)
    page = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "实地调查已于" in page and "还有 -" not in page and "已结束，未完成" in page


def test_devices_seen_answers_for_each_device_of_a_batch(app, demo_wave):
    from survey.operations.quality import devices_seen

    token = channel_token(app)
    phones = [app.test_client() for _ in range(3)]
    for phone in phones[:2]:
        complete(phone, token)
        complete(phone, token)  # a device with more than one answer
    with app.app_context():
        known = list(db.session.scalars(select(Response.device_hash).distinct()))
        assert len(known) == 2
        conn = db.session.connection()
        asked = [known[1], "f" * 32, "", known[0], known[0]]
        assert devices_seen(conn, demo_wave, asked) == set(known)
        assert devices_seen(conn, demo_wave, ["0" * 32]) == set()
        assert devices_seen(conn, demo_wave + 1000, known) == set()  # another wave
        assert devices_seen(conn, demo_wave, ["", ""]) == set()


def _cell(app, wave_id, district="咸安区", sex="男", age_group="30-39岁"):
    from survey.models import QuotaCell

    with app.app_context():
        cell = db.session.scalar(
            select(QuotaCell).filter_by(
                wave_id=wave_id, district=district, sex=sex, age_group=age_group
            )  # fmt: skip
        )
        return cell.id, cell.achieved, cell.over_quota


def _set_policy_and_target(app, wave_id, policy: str, target: int) -> None:
    """The wave's quota policy, and the target of the cell the standard answers fall in."""
    from survey.models import QuotaCell, Wave

    cell_id = _cell(app, wave_id)[0]
    with app.app_context(), db.write() as session:
        session.execute(update(Wave).where(Wave.id == wave_id).values(quota_policy=policy))
        session.execute(update(QuotaCell).where(QuotaCell.id == cell_id).values(target=target))


def test_an_excluded_response_gives_its_quota_place_back(app, demo_wave):
    """Excluding a speeder or a bot left its quota place taken: under the close
    policy its cell stayed full short of its valid sample, and the dashboard
    counted it. Restoring takes a place again, over quota if the cell filled."""
    from survey.operations.quality import set_excluded
    from survey.operations.responses import withdraw_response

    _set_policy_and_target(app, demo_wave, "close", 2)
    token = channel_token(app)
    for _ in range(2):
        assert complete(app.test_client(), token).status_code == 303

    def told_full() -> bool:
        client = app.test_client()
        first_page = start(client, token).get_data(as_text=True)
        return "名额已满" in submit_page(client, token, first_page, STANDARD_PAGES[0]).get_data(
            as_text=True
        )

    assert told_full()
    with app.app_context():
        first, second = db.session.scalars(select(Response.id).order_by(Response.id)).all()
        set_excluded(first, True, "用时过短", wave_id=demo_wave)
    assert _cell(app, demo_wave)[1:] == (1, 0)
    client = organizer_client(app)
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert data["totals"]["achieved"] == 1
    assert not told_full()
    assert complete(app.test_client(), token).status_code == 303  # the place freed is taken
    assert told_full()
    assert _cell(app, demo_wave)[1:] == (2, 0)
    with app.app_context():
        restored = set_excluded(first, False, wave_id=demo_wave)
        assert restored.over_quota  # the cell had filled: counted over quota, not refused
    assert _cell(app, demo_wave)[1:] == (2, 1)
    with app.app_context():
        set_excluded(first, True, wave_id=demo_wave)  # over quota: gives back that count
        assert _cell(app, demo_wave)[1:] == (2, 0)
        code = db.session.get(Response, first).receipt_code
        assert withdraw_response(code)  # excluded already: nothing to give back twice
        assert _cell(app, demo_wave)[1:] == (2, 0)
        assert withdraw_response(db.session.get(Response, second).receipt_code)
    assert _cell(app, demo_wave)[1:] == (1, 0)


def test_flagged_responses_wait_for_review_until_excluded_or_kept(app, demo_wave):
    """待核查答卷 counted every flagged response ever, excluded or restored, and
    there was no way to keep one; its times were UTC where the audit log is in
    Beijing time."""
    token = channel_token(app)
    pages = [dict(p) for p in STANDARD_PAGES]
    pages[-1]["website"] = "bot"
    for _ in range(3):
        complete(app.test_client(), token, pages=pages)
    client = organizer_client(app)
    url = f"/staff/waves/{demo_wave}/dashboard"
    assert client.get(f"{url}.json").get_json()["totals"]["pending_review"] == 3
    html = client.get(url).get_data(as_text=True)
    assert "提交时间（北京时间）" in html and "UTC" not in html
    with app.app_context():
        a, b, c = db.session.scalars(select(Response).order_by(Response.id)).all()
        assert a.submitted_at.strftime("%H:%M") not in html  # UTC is not shown
        from datetime import timedelta

        assert (a.submitted_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") in html
        ids = a.id, b.id
    csrf = form_tokens(html)["csrf_token"]
    exclude = f"/staff/waves/{demo_wave}/responses/{ids[0]}/exclude"
    keep = f"/staff/waves/{demo_wave}/responses/{ids[1]}/exclude"
    client.post(exclude, data={"csrf_token": csrf, "excluded": "1", "reason": "机器"})
    client.post(keep, data={"csrf_token": csrf, "excluded": "0"})
    data = client.get(f"{url}.json").get_json()
    assert data["totals"]["pending_review"] == 1
    assert [(r["excluded"], r["reviewed"]) for r in data["flagged"]] == [
        (False, False), (False, True), (True, True)]  # fmt: skip
    html = client.get(url).get_data(as_text=True)
    assert "已保留" in html and "已剔除" in html and "待核查" in html
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
        assert actions.count("response_keep") == 1
        assert len(list(db.session.scalars(valid_responses(demo_wave)))) == 2


def test_the_pace_says_not_started_and_day_one_instead_of_normal(app, demo_wave):
    """Before the start date and on the first day every district said 预判 正常,
    though nothing had been judged."""
    from datetime import timedelta

    from survey.models import Wave
    from survey.operations.quality import local_day

    client = organizer_client(app)
    url = f"/staff/waves/{demo_wave}/dashboard"
    for offset, said in ((1, "尚未开始"), (0, "首日暂不预判")):
        with app.app_context(), db.write() as session:
            session.execute(update(Wave).where(Wave.id == demo_wave).values(
                starts_on=local_day() + timedelta(days=offset),
                ends_on=local_day() + timedelta(days=30)))  # fmt: skip
        html = client.get(url).get_data(as_text=True)
        progress = html.split("各区县进度")[1].split("</table>")[0]
        assert progress.count(f"<td>{said}</td>") == 6, said


def test_two_decisions_at_once_move_the_quota_counts_once(app, demo_wave, monkeypatch):
    """Two organizers excluding the same response at once (or a double click, or
    the resident withdrawing meanwhile) both read it as valid and gave its place
    back twice on PostgreSQL: the cell then took residents beyond its target."""
    import threading
    import time

    from survey.operations import quality
    from survey.operations.responses import withdraw_response

    token = channel_token(app)
    for _ in range(3):
        complete(app.test_client(), token)
    slow = quality.give_back_place

    def give_back_slowly(session, response):  # widens the window between read and write
        time.sleep(0.3)
        slow(session, response)

    monkeypatch.setattr(quality, "give_back_place", give_back_slowly)
    with app.app_context():
        first, second = db.session.scalars(select(Response).order_by(Response.id)).all()[:2]
        first_id, code = first.id, second.receipt_code
    assert _cell(app, demo_wave)[1:] == (3, 0)

    def at_once(*calls, allowed=()):
        errors = []

        def run(call):
            with app.app_context():
                try:
                    call()
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        threads = [threading.Thread(target=run, args=(c,)) for c in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(any(a in str(e) for a in allowed) for e in errors), errors

    exclude = lambda rid: lambda: quality.set_excluded(rid, True, wave_id=demo_wave)  # noqa: E731
    at_once(exclude(first_id), exclude(first_id))
    assert _cell(app, demo_wave)[1:] == (2, 0)
    with app.app_context():
        second_id = db.session.scalar(select(Response.id).filter_by(receipt_code=code))
    monkeypatch.setattr("survey.operations.quality.give_back_place", give_back_slowly)
    # Whichever comes first, the place is given back once; an exclusion coming
    # second finds the response withdrawn and says so.
    at_once(exclude(second_id), lambda: withdraw_response(code), allowed=("已由受访者撤回",))
    assert _cell(app, demo_wave)[1:] == (1, 0)


def test_soft_policy_a_freed_place_goes_to_the_earliest_response_over_quota(app, demo_wave):
    """Under the soft policy, excluding a response within the quota left the one
    counted over quota outside: the dashboard showed the cell short of its target
    while it held as many valid responses as the target."""
    from survey.operations.quality import set_excluded

    _set_policy_and_target(app, demo_wave, "soft", 2)
    token = channel_token(app)
    for _ in range(4):
        complete(app.test_client(), token)
    assert _cell(app, demo_wave)[1:] == (2, 2)
    with app.app_context():
        ids = db.session.scalars(select(Response.id).order_by(Response.id)).all()
        set_excluded(ids[0], True, wave_id=demo_wave)
        over = dict(db.session.execute(select(Response.id, Response.over_quota)).all())
    assert _cell(app, demo_wave)[1:] == (2, 1)
    assert [over[i] for i in ids] == [False, False, False, True]  # the third moved in


def test_an_organizer_reads_a_flagged_response_before_deciding(app, demo_wave):
    """Organizers could exclude a flagged response but not see it (exports are for
    statisticians): a straight-liner was excluded blind."""
    token = channel_token(app)
    pages = [dict(p) for p in STANDARD_PAGES]
    pages[-1].update(website="bot", suggestion="<script>alert(1)</script>多种树")
    complete(app.test_client(), token, pages=pages)
    with app.app_context():
        rid = db.session.scalar(select(Response.id))
    client = organizer_client(app)
    board = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    url = f"/staff/waves/{demo_wave}/responses/{rid}"
    assert f'href="{url}"' in board
    html = client.get(url).get_data(as_text=True)
    assert "您对本地空气质量是否满意？" in html and "<td>满意</td>" in html  # labels, not codes
    assert "说不清/不了解" in html and "垃圾分类、绿色出行" in html
    assert "疑似机器提交" in html and "待核查" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;多种树" in html and "<script>alert" not in html
    assert client.get(f"/staff/waves/{demo_wave + 1000}/responses/{rid}").status_code == 404
    statistician = app.test_client()
    log_in(statistician, make_user(app, "stat", "statistician"))
    assert statistician.get(url).status_code == 403
    with app.app_context():
        from survey.operations.responses import withdraw_response

        withdraw_response(db.session.get(Response, rid).receipt_code)
    assert client.get(url).status_code == 404  # erased: nothing to show


def test_withdrawn_and_excluded_completions_are_shown_beside_them(app, demo_wave):
    """A withdrawn response left its channel's 完成 as it was, with nothing on
    the dashboard saying that one of them no longer counted (the quotas did
    not count it): 完成 stays the number of questionnaires finished, and the
    withdrawn and excluded ones are shown beside it, on the page and in its JSON."""
    from survey.operations.quality import set_excluded
    from survey.operations.responses import withdraw_response

    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        first, second, third = db.session.scalars(select(Response).order_by(Response.id))
        assert withdraw_response(first.receipt_code)
        set_excluded(second.id, True, "核查", wave_id=demo_wave)
        channel_id = db.session.scalar(select(Channel.id).filter_by(token=token))
    client = organizer_client(app)
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    channel = next(c for c in data["channels"] if c["id"] == channel_id)
    assert (channel["completions"], channel["withdrawn"]) == (3, 1)
    assert sum(c["withdrawn"] for c in data["channels"]) == 1
    totals = data["totals"]
    assert (totals["completions"], totals["withdrawn"], totals["excluded"]) == (3, 1, 1)
    assert totals["achieved"] == 1  # the one still valid holds a place
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "其中已撤回" in html
    index = [c["id"] for c in data["channels"]].index(channel_id)
    assert f'data-bind="channel.{index}.withdrawn">1<' in html
    assert 'data-bind="totals.withdrawn">1<' in html
    assert 'data-bind="totals.excluded">1<' in html


def test_the_dashboard_says_when_it_was_updated_in_beijing_time(app, demo_wave, monkeypatch):
    """The refresh wrote the JSON's UTC ISO time (2026-…T04:00:00+00:00) on the
    page; staff read Beijing time."""
    from datetime import datetime

    from survey.operations import dashboard

    monkeypatch.setattr(dashboard, "utcnow", lambda: datetime(2026, 5, 1, 20, 30, 5))
    client = organizer_client(app)
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert data["generated_beijing"] == "2026-05-02 04:30:05"
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert 'data-bind="generated_beijing">2026-05-02 04:30:05<' in html
    assert "北京时间" in html
    assert 'data-bind="generated_at"' not in html


def test_the_jsons_utc_times_carry_their_offset(app, demo_wave, monkeypatch):
    """flagged[].submitted_at was naive UTC ("2026-05-01T20:30:05"), which a
    reader takes for local time, eight hours off Beijing time beside it; and
    generated_at was read at another moment than generated_beijing."""
    from datetime import UTC, datetime, timedelta

    from survey.operations import dashboard

    token = channel_token(app)
    pages = [dict(p) for p in STANDARD_PAGES]
    pages[-1]["website"] = "bot"
    complete(app.test_client(), token, pages=pages)
    with app.app_context():
        db.session.execute(update(Response).values(submitted_at=datetime(2026, 5, 1, 20, 30, 5)))
        db.session.commit()
    monkeypatch.setattr(dashboard, "utcnow", lambda: datetime(2026, 5, 1, 21, 0, 0, 700000))
    data = organizer_client(app).get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    (flagged,) = data["flagged"]
    assert flagged["submitted_at"] == "2026-05-01T20:30:05+00:00"
    assert flagged["submitted_beijing"] == "2026-05-02 04:30:05"
    moment = datetime.fromisoformat(flagged["submitted_at"])
    assert moment.tzinfo is not None
    beijing = datetime.fromisoformat(flagged["submitted_beijing"]).replace(tzinfo=UTC) - timedelta(
        hours=8
    )
    assert moment == beijing
    assert data["generated_at"] == "2026-05-01T21:00:00+00:00"
    assert data["generated_beijing"] == "2026-05-02 05:00:00"


def test_each_cells_number_is_refreshed_with_its_bar(app, demo_wave):
    """The refresh moved each cell's bar but not its number (nor the district's
    in the cells' summary), and no target (edited meanwhile, the bars were
    drawn against the new one beside the old number): every number shown
    there is bound to the JSON."""
    token = channel_token(app)
    complete(app.test_client(), token)
    client = organizer_client(app)
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    for d in data["districts"]:
        for cell in d["cells"]:
            assert f'data-bind="cell.{cell["id"]}.achieved">{cell["achieved"]}<' in html
            assert f'data-bind="cell.{cell["id"]}.target">{cell["target"]}<' in html
    assert html.count('data-bind="district.0.achieved"') == 2  # the table and the summary
    assert html.count('data-bind="district.0.target">300<') == 2
    assert 'data-bind="totals.target">1800<' in html


def test_the_review_page_names_the_device_in_words(app, demo_wave):
    """It showed the stored code (desktop, mobile-wechat) on a Chinese page."""
    from survey.operations.dashboard import device_label

    assert device_label("mobile-wechat") == "手机（微信内）"
    assert device_label("tablet") == "平板电脑"
    assert device_label("something-new") == "something-new"
    complete(app.test_client(), channel_token(app))
    with app.app_context(), db.write() as session:
        rid = session.scalar(select(Response.id))
        session.execute(update(Response).values(device_class="mobile-wechat"))
    html = organizer_client(app).get(f"/staff/waves/{demo_wave}/responses/{rid}")
    text = html.get_data(as_text=True)
    assert "设备：手机（微信内）" in text and "mobile-wechat" not in text


def test_without_a_quota_plan_the_dashboard_says_so_and_where_to_make_one(app, demo_wave):
    """It showed 0 / 0 everywhere and six empty cell tables, with no word that
    there was no plan (the residents' answers were taken without quotas)."""
    from sqlalchemy import delete

    from survey.models import QuotaCell, QuotaPlan

    client = organizer_client(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "还没有配额方案" not in html
    with app.app_context(), db.write() as session:
        session.execute(delete(QuotaCell))
        session.execute(delete(QuotaPlan))
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "本轮调查还没有配额方案" in html
    assert f'href="/staff/waves/{demo_wave}/quotas"' in html
    assert "各单元（区县" not in html
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert data["wave"]["has_plan"] is False


def test_each_decision_on_a_response_is_confirmed_in_its_own_words(app, demo_wave):
    """恢复 was confirmed as 答卷已保留 (the word of the other button), and a
    response restored into a cell that had filled meanwhile was counted over
    quota without a word."""
    _set_policy_and_target(app, demo_wave, "close", 1)
    token = channel_token(app)
    assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        first = db.session.scalar(select(Response.id))
    client = organizer_client(app)
    board = f"/staff/waves/{demo_wave}/dashboard"
    csrf = form_tokens(client.get(board).get_data(as_text=True))["csrf_token"]

    def decide(rid, excluded: str) -> str:
        url = f"/staff/waves/{demo_wave}/responses/{rid}/exclude"
        response = client.post(url, data={"csrf_token": csrf, "excluded": excluded},
                               follow_redirects=True)  # fmt: skip
        return response.get_data(as_text=True)

    assert f"答卷 {first} 已剔除：不计入估计和有效数据导出" in decide(first, "1")
    assert complete(app.test_client(), token).status_code == 303  # takes the place freed
    with app.app_context():
        second = db.session.scalar(select(Response.id).where(Response.id != first))
    restored = decide(first, "0")
    assert (
        f"答卷 {first} 已恢复，计入有效数据。它所在的配额单元已满，这份答卷计为超额。" in restored
    )
    assert f"答卷 {second} 已保留，计入有效数据。" in decide(second, "0")
    assert _cell(app, demo_wave)[1:] == (1, 1)


def test_the_flagged_list_says_when_more_wait_than_it_shows(app, demo_wave, monkeypatch):
    """The list stops at 50: with more waiting, nothing said that the others
    existed or how to reach them."""
    from survey.operations import dashboard

    token = channel_token(app)
    for _ in range(3):  # answered in no time: each flagged 用时过短
        assert complete(app.test_client(), token).status_code == 303
    client = organizer_client(app)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "份待核查，这里列出" not in html
    monkeypatch.setattr(dashboard, "FLAGGED_LIMIT", 2)
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "共 3 份待核查，这里列出其中最新的 2 份；处理后刷新本页，可看到其余的。" in html


def test_days_without_completions_are_shown_as_zero(app, demo_wave):
    """The daily chart drew only the days with completions, side by side: a
    rainy day with none vanished, and 1, 2, 5 December looked consecutive."""
    from datetime import date

    with app.app_context(), db.write() as session:
        channel_id = session.scalar(select(Channel.id).limit(1))
        for day, n in ((date(2026, 12, 1), 4), (date(2026, 12, 2), 2), (date(2026, 12, 5), 3)):
            session.add(DailyCount(channel_id=channel_id, day=day, completions=n))
    data = organizer_client(app).get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert [(d["day"], d["completions"]) for d in data["daily"]] == [
        ("2026-12-01", 4), ("2026-12-02", 2), ("2026-12-03", 0), ("2026-12-04", 0),
        ("2026-12-05", 3),
    ]  # fmt: skip


def test_the_dashboard_counts_the_valid_responses_as_the_exports_page_does(app, demo_wave):
    """The exports page said 有效答卷 N 份, a number the dashboard showed nowhere:
    its 已完成 counts places within the quotas (not those over quota, nor
    responses outside the plan), its 提交 every questionnaire finished."""
    from survey.operations.quality import set_excluded
    from survey.operations.responses import withdraw_response

    _set_policy_and_target(app, demo_wave, "soft", 2)
    token = channel_token(app)
    codes = []
    for _ in range(5):
        codes.append(receipt_of(complete(app.test_client(), token)))
    with app.app_context():
        first = db.session.scalar(select(Response.id).order_by(Response.id))
        set_excluded(first, True, wave_id=demo_wave)
        assert withdraw_response(codes[-1])
    organizer = organizer_client(app)
    data = organizer.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    totals = data["totals"]
    assert (totals["completions"], totals["excluded"], totals["withdrawn"]) == (5, 1, 1)
    assert (totals["achieved"], totals["over_quota"], totals["valid"]) == (2, 1, 3)
    html = organizer.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert 'data-bind="totals.valid">3<' in html
    statistician = app.test_client()
    log_in(statistician, make_user(app, "stat", "statistician"))
    exports = statistician.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True)
    assert "有效答卷 3 份" in exports


def test_the_page_and_its_json_name_the_plan_they_show(app, demo_wave):
    """The refresh had no way to tell that the plan was remade after the page was
    drawn (SQLite gives the new cells the old ids): it wrote the new cells'
    numbers into the old cells' rows. tests/e2e/test_organizer_browser.py sees
    the page say so."""
    from survey.models import Wave
    from survey.operations.quotas import make_plan

    client = organizer_client(app)
    url = f"/staff/waves/{demo_wave}/dashboard"
    before = client.get(f"{url}.json").get_json()["wave"]["plan_version"]
    assert before > 0
    assert f'data-plan="{before}"' in client.get(url).get_data(as_text=True)
    with app.app_context():
        make_plan(db.session.get(Wave, demo_wave), per_district={"咸安区": 120})
    after = client.get(f"{url}.json").get_json()["wave"]["plan_version"]
    assert after > before


def test_each_channel_shows_its_excluded_completions(app, demo_wave):
    """A channel's 完成 counts the responses organizers excluded, but only the
    totals said how many: 其中已剔除 per channel (page and JSON), adding up to
    the totals' 已剔除, a withdrawn one counted under 其中已撤回 only."""
    from survey.operations.quality import set_excluded
    from survey.operations.responses import withdraw_response

    tokens = [channel_token(app), channel_token(app, "赤壁市")]
    for token in (tokens[0], tokens[0], tokens[0], tokens[1], tokens[1]):
        assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        ids = list(db.session.scalars(select(Response.id).order_by(Response.id)))
        set_excluded(ids[0], True, "核查", wave_id=demo_wave)
        set_excluded(ids[1], True, "核查", wave_id=demo_wave)
        assert withdraw_response(db.session.get(Response, ids[2]).receipt_code)
        set_excluded(ids[3], True, "核查", wave_id=demo_wave)
        channel_ids = [
            db.session.scalar(select(Channel.id).filter_by(token=token)) for token in tokens
        ]
    client = organizer_client(app)
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    by_id = {c["id"]: c for c in data["channels"]}
    first, second = (by_id[cid] for cid in channel_ids)
    assert (first["completions"], first["withdrawn"], first["excluded"]) == (3, 1, 2)
    assert (second["completions"], second["withdrawn"], second["excluded"]) == (2, 0, 1)
    assert all(c["excluded"] == 0 for cid, c in by_id.items() if cid not in channel_ids)
    totals = data["totals"]
    assert totals["excluded"] == sum(c["excluded"] for c in data["channels"]) == 3
    assert totals["valid"] == totals["completions"] - totals["withdrawn"] - totals["excluded"] == 1
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "其中已剔除" in html
    index = [c["id"] for c in data["channels"]].index(channel_ids[0])
    assert f'data-bind="channel.{index}.excluded">2<' in html
