"""Staff pages through HTTP: frame upload, plans, channels, admin, audit log."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent, Channel, QuotaCell, User, Wave, utcnow
from survey.operations import users as users_ops
from survey.paths import DEMO_DIR
from tests.conftest import form_tokens
from tests.staff import log_in, make_user


def client_as(app, *roles):
    client = app.test_client()
    log_in(client, make_user(app, "u-" + "-".join(roles), *roles))
    return client


def _csrf(client, url):
    return form_tokens(client.get(url).get_data(as_text=True))["csrf_token"]


def test_frame_upload_shows_every_problem_and_imports_a_good_file(app, demo_wave):
    client = client_as(app, "organizer")
    url = f"/staff/waves/{demo_wave}/frame"
    csrf = _csrf(client, url)
    bad = "district,sex,age_group,population\n武汉市,男,18-29岁,-1\n".encode()
    response = client.post(url, data={"csrf_token": csrf, "file": (io.BytesIO(bad), "bad.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 422 and "未导入" in html and "武汉市" in html and "缺少单元" in html
    )
    good = (DEMO_DIR / "xianning_frame.csv").read_bytes()
    response = client.post(url, data={"csrf_token": csrf, "file": (io.BytesIO(good), "f.csv")},
                           content_type="multipart/form-data", follow_redirects=True)  # fmt: skip
    assert "已导入 120 个人口单元" in response.get_data(as_text=True)


def test_plan_and_cell_edit_through_the_page(app, demo_wave):
    client = client_as(app, "organizer")
    url = f"/staff/waves/{demo_wave}/quotas"
    page = client.get(url + "?p=85&margin=5&deff=1.5").get_data(as_text=True)
    assert '<strong class="big">294</strong>' in page  # 1.96² · .85 · .15 · 1.5 / .05²
    csrf = form_tokens(page)["csrf_token"]
    done = client.post(url + "/plan", data={"csrf_token": csrf, "mode": "total", "total": "900",
                                            "min_per_district": "100"}, follow_redirects=True)  # fmt: skip
    assert "配额已生成：共 900 份" in done.get_data(as_text=True)
    with app.app_context():
        cell = db.session.scalar(select(QuotaCell).filter_by(wave_id=demo_wave).limit(1))
    client.post(f"{url}/{cell.id}", data={"csrf_token": csrf, "target": "77"})
    with app.app_context():
        assert db.session.get(QuotaCell, cell.id).target == 77
    bad = client.post(f"{url}/{cell.id}", data={"csrf_token": csrf, "target": "abc"},
                      follow_redirects=True)  # fmt: skip
    assert "必须是整数" in bad.get_data(as_text=True)


def test_a_refused_target_is_said_where_the_organizer_sees_it(app, demo_wave):
    """A refused target sent the page scrolled down to its cell (#cell-…), the
    message at the top out of sight: in a plan of hundreds of cells the organizer
    saw the old target back and no reason. The field now says the largest value
    the server takes, as its smallest."""
    client = client_as(app, "organizer")
    url = f"/staff/waves/{demo_wave}/quotas"
    page = client.get(url).get_data(as_text=True)
    csrf = form_tokens(page)["csrf_token"]
    with app.app_context():
        cell = db.session.scalar(select(QuotaCell).filter_by(wave_id=demo_wave).limit(1))
        target = cell.target
    assert f'id="t-{cell.id}" name="target" value="{target}" min="0" max="1000000"' in page
    refused = client.post(f"{url}/{cell.id}", data={"csrf_token": csrf, "target": "2000000"})
    assert refused.status_code == 302 and "#" not in refused.headers["Location"]
    assert "过大" in client.get(refused.headers["Location"]).get_data(as_text=True)
    done = client.post(f"{url}/{cell.id}", data={"csrf_token": csrf, "target": "5"})
    assert done.headers["Location"].endswith(f"#cell-{cell.id}")
    with app.app_context():
        assert db.session.get(QuotaCell, cell.id).target == 5


def test_channels_page_creates_channels_and_prints_posters(app, demo_wave):
    client = client_as(app, "organizer")
    url = f"/staff/waves/{demo_wave}/channels"
    page = client.get(url).get_data(as_text=True)
    assert page.count("<svg") >= 6
    with app.app_context():
        district_id = db.session.scalar(select(Channel.district_id).limit(1))
    client.post(url + "/new", data={"csrf_token": form_tokens(page)["csrf_token"],
                                    "district_id": district_id, "label": "访问员 张三"})  # fmt: skip
    with app.app_context():
        assert db.session.scalar(select(func.count(Channel.id))) == 7
    posters = client.get(f"/staff/waves/{demo_wave}/posters").get_data(as_text=True)
    assert posters.count('class="poster"') == 7 and "访问员 张三" in posters
    # The same name twice in a district could not be told apart anywhere: refused.
    again = client.post(url + "/new", data={"csrf_token": form_tokens(page)["csrf_token"],
                        "district_id": district_id, "label": " 访问员 张三 "},
                        follow_redirects=True)  # fmt: skip
    assert "已有名为“访问员 张三”的采集点" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Channel.id))) == 7
    # Audited, named a 采集点 (as on the pages), its details in Chinese.
    log = client.get("/staff/audit").get_data(as_text=True)
    assert "创建采集点" in log and "名称：访问员 张三；区县：" in log and "label：" not in log


def _reset_form(page: str, user_id: int) -> dict:
    """The fields of the accounts page's 重置密码 form for one user."""
    forms = re.findall(
        rf'<form[^>]*action="/staff/admin/users/{user_id}"[^>]*>(.*?)</form>', page, re.S
    )
    (form,) = [f for f in forms if 'value="reset"' in f]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


def test_admin_creates_users_and_waves(app, demo_wave):
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/users")
    client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "liu",
                "password": "Strong-pass-2026", "roles": ["statistician"], "display_name": "刘"})  # fmt: skip
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="liu"))
        assert user.roles == {"statistician"}
        wave = db.session.get(Wave, demo_wave)
        city_id, qid = wave.city_id, wave.questionnaire_id
    response = client.post("/staff/admin/waves/new", data={
        "csrf_token": csrf, "city_id": city_id, "questionnaire_id": qid, "name": "2027年度",
        "starts_on": "2027-05-01", "ends_on": "2027-04-01"}, follow_redirects=True)  # fmt: skip
    assert "结束日期不能早于开始日期" in response.get_data(as_text=True)
    client.post("/staff/admin/waves/new", data={
        "csrf_token": csrf, "city_id": city_id, "questionnaire_id": qid, "name": "2027年度",
        "starts_on": "2027-05-01", "ends_on": "2027-06-01", "quota_policy": "soft"})  # fmt: skip
    with app.app_context():
        assert db.session.scalar(select(Wave).filter_by(name="2027年度")).quota_policy == "soft"
    data = _reset_form(client.get("/staff/admin/users").get_data(as_text=True), user.id)
    reset = client.post(f"/staff/admin/users/{user.id}", data=data)
    assert "临时密码" in reset.get_data(as_text=True)


def test_audit_log_filters_and_cannot_be_edited(app, demo_wave):
    client = client_as(app, "organizer")
    page = client.get("/staff/audit?action=frame_import").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert "导入人口数据" in rows and "生成配额" not in rows and "共 1 条" in page
    # Chinese as it is (it was \\u54b8…, shown by |tojson), times in Beijing time.
    assert "\\u" not in rows and "行数：120" in rows and "北京时间" in page
    with app.app_context():
        at = db.session.scalar(select(AuditEvent.at).filter_by(action="frame_import"))
    assert f"{at + timedelta(hours=8):%Y-%m-%d %H:%M}" in rows
    local_day = f"{at + timedelta(hours=8):%Y-%m-%d}"
    same_day = client.get(f"/staff/audit?action=frame_import&from={local_day}&to={local_day}")
    assert "共 1 条" in same_day.get_data(as_text=True)
    for extreme in ("from=0001-01-01", "to=9999-12-31"):  # date arithmetic overflowed: 500
        assert client.get(f"/staff/audit?{extreme}").status_code == 200
    assert client.get("/staff/audit?from=2000-01-01&to=2000-01-02").status_code == 200
    # No route lets anyone change or delete audit events.
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods - {"GET", "HEAD", "OPTIONS"} == set()
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) > 0
    assert client_as(app, "statistician").get("/staff/audit").status_code == 403


def test_staff_error_pages_speak_to_staff_in_chinese(app, client, demo_wave):
    """403 and 400 were Werkzeug's English pages; 404, 500, 413 and the expired
    form told staff to scan a QR code again or that their answers were kept."""
    log_in(client, make_user(app, "stat-err", "statistician"))
    forbidden = client.get("/staff/admin/users")
    assert forbidden.status_code == 403
    body = forbidden.get_data(as_text=True)
    assert "没有权限" in body and "系统管理员" in body and "Forbidden" not in body
    admin = app.test_client()
    log_in(admin, make_user(app, "admin-err", "administrator"))
    csrf = form_tokens(admin.get("/staff/admin/users").get_data(as_text=True))["csrf_token"]
    bad = admin.post("/staff/admin/users/1", data={"csrf_token": csrf, "action": "bogus"})
    assert bad.status_code == 400 and "请求无效" in bad.get_data(as_text=True)
    assert "Bad Request" not in bad.get_data(as_text=True)
    missing = admin.get("/staff/waves/999/quotas").get_data(as_text=True)
    assert "导航栏" in missing and "二维码" not in missing
    expired = admin.post("/staff/admin/users/1", data={"csrf_token": "x", "action": "roles"})
    assert expired.status_code == 400
    assert "刷新页面" in expired.get_data(as_text=True)
    assert "本机" not in expired.get_data(as_text=True)
    # A resident still gets the resident's wording.
    assert "二维码" in client.get("/s/no-such-token").get_data(as_text=True)


def test_staff_pages_and_downloads_are_not_cached(app, client, demo_wave):
    """Exports and the report hold personal data: send_file's default was
    "public, max-age=3600", which lets a shared proxy keep a copy."""
    log_in(client, make_user(app, "stat-cache", "statistician"))
    page = f"/staff/waves/{demo_wave}/exports"
    csrf = form_tokens(client.get(page).get_data(as_text=True))["csrf_token"]
    xlsx = client.post(f"{page}/microdata.xlsx", data={"csrf_token": csrf})
    csv = client.post(f"{page}/microdata.csv", data={"csrf_token": csrf})
    assert xlsx.status_code == csv.status_code == 200
    for response in (xlsx, csv, client.get(page), client.get("/staff/")):
        assert response.headers["Cache-Control"] == "no-store"
        response.close()
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    with client.get("/static/app.css") as static:  # residents' pages keep their caching
        assert static.headers.get("Cache-Control") != "no-store"


def test_a_population_frame_larger_than_a_residents_form_can_be_uploaded(app, client, demo_wave):
    """The 64 KB limit is for residents' forms; a frame of 76 KB was refused as
    "请缩短填写的文字" (a resident's message)."""
    log_in(client, make_user(app, "org-big", "organizer"))
    url = f"/staff/waves/{demo_wave}/frame"
    csrf = form_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    body = b"district,sex,age_group,urban_rural,population\n" + b" " * (100 * 1024)
    response = client.post(url, data={"csrf_token": csrf, "file": (io.BytesIO(body), "f.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422  # read and checked (and refused: no rows)
    app.config["MAX_UPLOAD_LENGTH"] = 50 * 1024
    too_big = client.post(url, data={"csrf_token": csrf, "file": (io.BytesIO(body), "f.csv")},
                          content_type="multipart/form-data")  # fmt: skip
    assert too_big.status_code == 413
    assert "文件最大" in too_big.get_data(as_text=True)


def test_wave_names_are_unique_in_a_city_and_can_be_corrected(app, demo_wave):
    """Two "2026年度" waves of one city were accepted, and a wave's name could not
    be edited afterwards (a typo stayed on every page, export and report)."""
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/waves")
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        form = {"csrf_token": csrf, "city_id": str(wave.city_id),
                "questionnaire_id": str(wave.questionnaire_id), "name": wave.name}  # fmt: skip
        name = wave.name
    again = client.post("/staff/admin/waves/new", data=form, follow_redirects=True)
    assert f"本市已有名为“{name}”的调查轮次" in again.get_data(as_text=True)
    created = client.post("/staff/admin/waves/new", data={**form, "name": "2027年度"},
                          follow_redirects=True)  # fmt: skip
    assert "已创建调查轮次 2027年度" in created.get_data(as_text=True)
    clash = client.post(f"/staff/admin/waves/{demo_wave}", data={"csrf_token": csrf,
                        "name": "2027年度", "quota_policy": "close"}, follow_redirects=True)  # fmt: skip
    assert "本市已有名为“2027年度”" in clash.get_data(as_text=True)
    fixed = client.post(f"/staff/admin/waves/{demo_wave}", data={"csrf_token": csrf,
                        "name": "2026年度（更正）", "quota_policy": "close"}, follow_redirects=True)  # fmt: skip
    assert "轮次信息已保存" in fixed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Wave, demo_wave).name == "2026年度（更正）"
        assert db.session.scalar(select(func.count(Wave.id))) == 2


def test_waves_page_without_a_city_says_how_to_create_one(app):
    page = client_as(app, "administrator").get("/staff/admin/waves").get_data(as_text=True)
    assert "survey create-city" in page


def test_questionnaires_offered_for_a_new_wave_can_be_told_apart(app, demo_wave):
    """The 新建轮次 list showed title and version only: two questionnaires with the
    same title (a copy edited for a pilot) were two identical entries."""
    from questionnaires import STANDARD_PATH, load_questionnaire_text
    from survey.operations.questionnaires import register_questionnaire

    text = STANDARD_PATH.read_text(encoding="utf-8")
    with app.app_context():
        pilot = text.replace("id: eco-satisfaction-standard", "id: pilot-2027", 1)
        register_questionnaire(load_questionnaire_text(pilot))
    html = client_as(app, "administrator").get("/staff/admin/waves").get_data(as_text=True)
    listed = html.split('id="questionnaire_id"')[1].split("</select>")[0]
    options = re.findall(r'<option value="\d+">([^<]*)</option>', listed)
    assert len(options) == 2 and len(set(options)) == 2
    assert any("pilot-2027 v1" in o for o in options) and all("导入于" in o for o in options)


def test_posters_give_the_questionnaires_own_time(app, demo_wave, runner, tmp_path, monkeypatch):
    """Posters said 花 3–5 分钟 whatever the questionnaire; then 约 4 分钟
    (estimated_minutes) for the standard one, whose landing page says the
    intro's 3–5 分钟. Now the time the landing page gives: the intro's, or
    estimated_minutes where the intro gives none."""
    import dataclasses

    from survey.operations.questionnaires import questionnaire_of

    with app.app_context():
        q = questionnaire_of(db.session.get(Wave, demo_wave).questionnaire)
    organizer = client_as(app, "organizer")
    html = organizer.get(f"/staff/waves/{demo_wave}/posters").get_data(as_text=True)
    assert "花约 3–5 分钟匿名填写问卷" in html and f"约 {q.estimated_minutes} 分钟" not in html
    brief = dataclasses.replace(q, intro="您好！", estimated_minutes=7)
    monkeypatch.setattr("survey.operations.questionnaires.questionnaire_of", lambda v: brief)
    html = organizer.get(f"/staff/waves/{demo_wave}/posters").get_data(as_text=True)
    assert "花约 7 分钟匿名填写问卷" in html


def test_posters_come_by_district_and_say_when_there_are_none(app, demo_wave, runner, tmp_path):
    """Posters came in no stated order (a channel added later to the first
    district was printed last, away from its district's others; on PostgreSQL
    in any order), and with every channel closed the page was blank."""
    from survey.operations.cities import create_channel, set_channel_open

    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        first = db.session.scalar(select(Channel).order_by(Channel.id).limit(1))
        create_channel(wave, first.district, "访问员 李四")
    client = client_as(app, "organizer")
    html = client.get(f"/staff/waves/{demo_wave}/posters").get_data(as_text=True)
    labels = re.findall(r"采集点：([^<]*)</p>", html)
    assert len(labels) == 7 and labels[1] == "访问员 李四", labels
    assert runner.invoke(args=["qrcodes", "--wave-id", str(demo_wave), "--out", str(tmp_path),
                               "--public-url", "https://survey.example.cn"]).exit_code == 0  # fmt: skip
    written = re.findall(r"采集点：([^<]*)</p>", (tmp_path / "posters.html").read_text("utf-8"))
    assert written == labels
    with app.app_context():
        for channel in db.session.scalars(select(Channel)):
            set_channel_open(channel, False)
    html = client.get(f"/staff/waves/{demo_wave}/posters").get_data(as_text=True)
    assert "没有开放的采集点" in html and 'class="poster"' not in html


def test_two_organizers_creating_one_channel_name_at_once_get_the_clear_refusal(
    app, demo_wave, monkeypatch
):
    """The name check reads before it inserts: two organizers at once could both
    pass it. The database's unique index (0013) refuses the second, and the
    organizer gets the same message as for a name taken earlier, not a 500."""
    from sqlalchemy.orm import Session

    from survey.operations.cities import create_channel
    from survey.operations.errors import OperationError

    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        channel = db.session.scalar(select(Channel).where(Channel.wave_id == demo_wave).limit(1))
        district, label = channel.district, channel.label
        real_scalar = Session.scalar

        def check_passes(self, statement, *args, **kwargs):  # as if the other one had not committed
            if "channel" in str(statement) and "label" in str(statement):
                return None
            return real_scalar(self, statement, *args, **kwargs)

        monkeypatch.setattr(Session, "scalar", check_passes)
        with pytest.raises(OperationError, match="已有名为"):
            create_channel(wave, district, label)
        monkeypatch.undo()
        count = db.session.scalar(
            select(func.count(Channel.id)).where(Channel.district_id == district.id)
        )
        assert count == 1


def test_the_audit_log_says_a_waves_changed_settings_in_words(app, demo_wave):
    """A wave's update read 原值：name 2026年度，organizer ，starts_on None，…，
    quota_policy close: the settings' English keys and codes, None for a date."""
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/waves")
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        name, start = wave.name, wave.starts_on
    saved = client.post(f"/staff/admin/waves/{demo_wave}", data={
        "csrf_token": csrf, "name": name, "organizer": "市生态环境局",
        "starts_on": str(start), "ends_on": "", "quota_policy": "soft"}, follow_redirects=True)  # fmt: skip
    assert "轮次信息已保存" in saved.get_data(as_text=True)
    html = client.get("/staff/audit?action=wave_update").get_data(as_text=True)
    assert f"新值：名称 {name}，调查单位 市生态环境局，开始日期 {start}，结束日期 未设，" in html
    assert "单元满额时 仍然接收并标记超额" in html and "单元满额时 停止接收" in html
    assert "quota_policy" not in html and "starts_on" not in html and "None" not in html


def test_buttons_and_fields_in_table_rows_name_their_row(app, demo_wave):
    """Sixty target fields were each called 目标 and their buttons 修改, each
    row's 剔除 / 保留 / 关闭 / 停用 / 重置密码 the same as the next: a screen
    reader user could not tell which cell, response, channel or account."""
    from tests.resident import channel_token, complete

    assert complete(app.test_client(), channel_token(app)).status_code == 303  # flagged: too fast
    client = client_as(app, "organizer")
    with app.app_context():
        cell = db.session.scalar(select(QuotaCell).filter_by(wave_id=demo_wave).limit(1))
        channel = db.session.scalar(select(Channel).filter_by(wave_id=demo_wave).limit(1))
        name = f"{cell.district} {cell.sex} {cell.age_group}"
    quotas = client.get(f"/staff/waves/{demo_wave}/quotas").get_data(as_text=True)
    assert f'for="t-{cell.id}">{name} 的目标</label>' in quotas
    assert f'aria-label="修改 {name} 的目标">修改</button>' in quotas
    board = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert 'aria-label="剔除答卷 1">剔除</button>' in board
    assert 'aria-label="保留答卷 1">保留</button>' in board
    assert ">剔除答卷 1 的原因</label>" in board
    assert f'aria-label="关闭采集点 {channel.label}">关闭</button>' in board
    channels = client.get(f"/staff/waves/{demo_wave}/channels").get_data(as_text=True)
    assert f'aria-label="关闭采集点 {channel.label}">关闭</button>' in channels
    users = client_as(app, "administrator").get("/staff/admin/users").get_data(as_text=True)
    assert '<legend class="sr-only">u-organizer 的角色</legend>' in users
    assert 'aria-label="停用 u-organizer">停用</button>' in users
    assert 'aria-label="重置 u-organizer 的密码">重置密码</button>' in users


def test_a_plan_is_not_made_another_way_than_the_sizes_changed(app, demo_wave):
    """The quotas form shows the plan's district sizes with 按总样本量 chosen: an
    organizer who changed one district's size and pressed 生成配额 without
    choosing 分别指定各区县样本量 got a proportional split of the total, their
    district sizes replaced without a word."""
    client = client_as(app, "organizer")
    url = f"/staff/waves/{demo_wave}/quotas"
    sizes = {"咸安区": "400", "赤壁市": "200", "崇阳县": "200", "通城县": "200",
             "通山县": "200", "嘉鱼县": "200"}  # fmt: skip
    form = {**form_tokens(client.get(url).get_data(as_text=True)), "total": "1800",
            "min_per_district": "100", **{f"size_{d}": n for d, n in sizes.items()}}  # fmt: skip
    made = client.post(url + "/plan", data={**form, "mode": "per_district"}, follow_redirects=True)
    assert "配额已生成：共 1400 份" in made.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert 'name="size_咸安区" min="0" max="1000000" value="400"' in page

    edited = {**form, "total": "1400", "size_咸安区": "500", "mode": "total"}
    refused = client.post(url + "/plan", data=edited, follow_redirects=True)
    assert "您改动了各区县样本量，但选择的是“按总样本量”" in refused.get_data(as_text=True)
    refused = client.post(url + "/plan", data={**form, "total": "2000", "mode": "per_district"},
                          follow_redirects=True)  # fmt: skip
    assert "您改动了总样本量" in refused.get_data(as_text=True)
    with app.app_context():
        from survey.models import QuotaPlan

        plan = db.session.get(QuotaPlan, demo_wave)
        assert plan.total == 1400 and plan.per_district["咸安区"] == 400
    # Unchanged sizes, or none, with 按总样本量: the total is split as asked.
    again = client.post(url + "/plan", data={**form, "total": "1200", "mode": "total"},
                        follow_redirects=True)  # fmt: skip
    assert "配额已生成：共 1200 份" in again.get_data(as_text=True)
    fresh = client.post(url + "/plan", data={**form_tokens(page), "mode": "total", "total": "900"},
                        follow_redirects=True)  # fmt: skip
    assert "配额已生成：共 900 份" in fresh.get_data(as_text=True)


def test_the_audit_log_names_who_acted_in_words(app, runner, demo_wave):
    """The 人员 column read respondent, cli or unknown: the codes the operations
    record when no staff account acted."""
    from survey.models import Response
    from survey.operations.responses import withdraw_response
    from survey.operations.users import attempt_login
    from tests.resident import channel_token, complete

    assert complete(app.test_client(), channel_token(app)).status_code == 303
    with app.app_context():
        assert withdraw_response(db.session.scalar(select(Response.receipt_code)))
    made = runner.invoke(args=["create-user", "cli", "--role", "organizer", "--password-stdin"],
                         input="A-long-pass-123\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    with app.test_request_context():
        attempt_login("nobody-here", "whatever-pass")
        attempt_login("cli", "not-its-password")  # an account named like the command line
    client = client_as(app, "organizer")
    rows = lambda action: client.get(f"/staff/audit?action={action}").get_data(as_text=True)  # noqa: E731
    assert "<td>受访者（凭回执码）</td>" in rows("response_withdraw")
    assert "<td>命令行（服务器上）</td>" in rows("user_create")
    failed = rows("login_failed")
    assert "<td>（无此账号）</td>" in failed and "<td>cli</td>" in failed
    assert "respondent" not in rows("response_withdraw") and "unknown" not in failed


def test_an_exclusion_without_a_reason_says_none_was_given(app, demo_wave):
    """It read 原因： and nothing, as if the text had been lost."""
    from survey.models import Response
    from survey.operations.quality import set_excluded
    from tests.resident import channel_token, complete

    assert complete(app.test_client(), channel_token(app)).status_code == 303
    with app.app_context():
        set_excluded(db.session.scalar(select(Response.id)), True, "", wave_id=demo_wave)
    html = client_as(app, "organizer").get("/staff/audit?action=response_exclude")
    assert "<td>原因：（未填）</td>" in html.get_data(as_text=True)


def test_a_new_frame_says_the_plan_is_not_remade_by_itself(app, demo_wave):
    """After a corrected frame was imported in fieldwork, the page said only
    已导入 120 个人口单元: the quotas kept the old frame's split without a word."""
    from sqlalchemy import delete

    from survey.models import QuotaPlan

    client = client_as(app, "organizer")
    url = f"/staff/waves/{demo_wave}/frame"
    good = (DEMO_DIR / "xianning_frame.csv").read_bytes()

    def upload() -> str:
        response = client.post(url, data={"csrf_token": _csrf(client, url),
                               "file": (io.BytesIO(good), "f.csv")},
                               content_type="multipart/form-data", follow_redirects=True)  # fmt: skip
        return response.get_data(as_text=True)

    assert "已导入 120 个人口单元。现有配额方案仍按原来的人口数据分配" in upload()
    with app.app_context(), db.write() as session:
        session.execute(delete(QuotaCell))
        session.execute(delete(QuotaPlan))
    assert "已导入 120 个人口单元。下一步：到“配额”页面生成配额方案。" in upload()


def test_reloading_the_page_with_a_temporary_password_does_not_reset_it_again(app, demo_wave):
    """Reloading the page that showed a temporary password sent the reset form
    again and silently made a second one: the first, perhaps already given out
    by telephone, no longer worked (reviewer's finding)."""
    from survey.auth.passwords import verify_password

    client = client_as(app, "administrator")
    with app.app_context():
        target = users_ops.create_user("wang", "Strong-pass-2026", ["organizer"])
    data = _reset_form(client.get("/staff/admin/users").get_data(as_text=True), target.id)
    shown = client.post(f"/staff/admin/users/{target.id}", data=data).get_data(as_text=True)
    temporary = re.search(r"<strong>([^<]+)</strong>", shown.split("临时密码")[1]).group(1)
    again = client.post(f"/staff/admin/users/{target.id}", data=data, follow_redirects=True)
    html = again.get_data(as_text=True)
    assert "这次没有再重置" in html and "临时密码（只显示这一次" not in html
    with app.app_context():
        user = db.session.get(User, target.id)
        assert verify_password(user.password_hash, temporary)
        resets = db.session.scalar(
            select(func.count(AuditEvent.id)).filter_by(action="password_reset")
        )
        assert resets == 1
    # The page shown afterwards carries a fresh form: resetting again on purpose works.
    second = client.post(
        f"/staff/admin/users/{target.id}", data=_reset_form(html, target.id)
    ).get_data(as_text=True)
    assert "临时密码（只显示这一次" in second
    with app.app_context():
        assert not verify_password(db.session.get(User, target.id).password_hash, temporary)


def test_the_accounts_page_shows_no_lock_nothing_sets(app, demo_wave):
    """The page showed 锁定至 (a UTC time) from a column nothing sets since log-in
    limits became rate limits: an account is never locked."""
    client = client_as(app, "administrator")
    with app.app_context():
        user = users_ops.create_user("zhao", "Strong-pass-2026", ["organizer"])
        with db.write() as session:
            session.get(User, user.id).locked_until = utcnow() + timedelta(hours=1)
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert "zhao" in page and "锁定" not in page


def test_the_audit_log_names_an_accounts_roles_in_chinese(app, demo_wave):
    """创建账号 read 角色：statistician and 修改角色 原值：statistician, codes that
    the accounts page never shows."""
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/users")
    client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "sun",
                "password": "Strong-pass-2026", "roles": ["statistician"]})  # fmt: skip
    with app.app_context():
        user_id = db.session.scalar(select(User.id).filter_by(username="sun"))
    client.post(f"/staff/admin/users/{user_id}", data={"csrf_token": csrf, "action": "roles",
                "roles": ["organizer", "administrator"]})  # fmt: skip
    rows = client.get("/staff/audit").get_data(as_text=True).split("<tbody>")[1]
    assert "用户名：sun；角色：统计分析人员" in rows
    assert "原值：统计分析人员；新值：管理员、调查组织者" in rows
    assert "角色：statistician" not in rows and "新值：administrator" not in rows


def test_a_wave_is_created_with_its_audit_event_or_not_at_all(app, demo_wave, monkeypatch):
    """The wave was committed first and its audit event in a transaction of its
    own: a failure between the two left a wave nobody was recorded creating."""
    import survey.operations.audit
    import survey.operations.waves

    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/waves")
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        form = {"csrf_token": csrf, "city_id": wave.city_id, "questionnaire_id":
                wave.questionnaire_id, "name": "2028年度", "quota_policy": "close"}  # fmt: skip

    def fails(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(survey.operations.audit, "record", fails)
    monkeypatch.setattr(survey.operations.waves, "record", fails, raising=False)
    with pytest.raises(RuntimeError):
        client.post("/staff/admin/waves/new", data=form)
    with app.app_context():
        assert db.session.scalar(select(Wave).filter_by(name="2028年度")) is None
    monkeypatch.undo()
    client.post("/staff/admin/waves/new", data=form)
    rows = client.get("/staff/audit?action=wave_create").get_data(as_text=True)
    assert "名称：2028年度；城市：咸宁市；问卷：eco-satisfaction-standard 第 1 版" in rows


def test_an_error_after_a_form_is_announced_as_an_alert(app, demo_wave):
    """Refusals (a weak password, a name taken) came back as role="status", which
    a screen reader may leave unread until the user gets there; the login and
    password pages' errors were alerts already."""
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/users")
    page = client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "qian",
                       "password": "short", "roles": ["organizer"]}, follow_redirects=True)  # fmt: skip
    html = page.get_data(as_text=True)
    assert re.search(r'<p class="error" id="password-error" role="alert">[^<]*10 个字符', html)
    done = client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "qian",
                       "password": "Strong-pass-2026", "roles": ["organizer"]},
                       follow_redirects=True)  # fmt: skip
    assert '<p class="flash message" role="status">账号已创建。</p>' in done.get_data(as_text=True)


def test_an_administrator_cannot_disable_their_own_account(app, demo_wave):
    """One click on 停用 in one's own row logged the administrator out for good
    (until another administrator enabled the account again)."""
    client = client_as(app, "administrator")
    make_user(app, "other-admin", "administrator")
    with app.app_context():
        me = db.session.scalar(select(User).filter_by(username="u-administrator"))
    csrf = _csrf(client, "/staff/admin/users")
    page = client.post(f"/staff/admin/users/{me.id}", data={"csrf_token": csrf,
                       "action": "deactivate"}, follow_redirects=True)  # fmt: skip
    assert page.status_code == 200 and "不能停用自己正在使用的账号" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me.id).is_active
    assert client.get("/staff/admin/users").status_code == 200


def test_the_quota_policy_has_one_wording_everywhere(app, demo_wave):
    """The waves list said 满额即止 / 超额仍收并标记, the wave settings form
    停止接收（礼貌告知） / 仍然接收并标记超额, the audit log 停止接收: one
    mapping now words it for all of them."""
    from survey.operations.cities import QUOTA_POLICY_LABELS

    close, soft = (str(QUOTA_POLICY_LABELS[key]) for key in ("close", "soft"))
    assert (close, soft) == ("停止接收（礼貌告知）", "仍然接收并标记超额")
    client = client_as(app, "administrator", "organizer")
    form = client.get("/staff/admin/waves").get_data(as_text=True)
    options = re.findall(r'<option value="(close|soft)"[^>]*>([^<]*)</option>', form)
    assert set(options) == {("close", close), ("soft", soft)}
    listed = client.get("/staff/waves/").get_data(as_text=True)
    assert f"<td>{close}</td>" in listed and "满额即止" not in listed and "单元满额时" in listed
    with app.app_context():
        name = db.session.get(Wave, demo_wave).name
    saved = client.post(f"/staff/admin/waves/{demo_wave}", data={
        "csrf_token": form_tokens(form)["csrf_token"], "name": name,
        "quota_policy": "soft"}, follow_redirects=True)  # fmt: skip
    assert "轮次信息已保存" in saved.get_data(as_text=True)
    listed = client.get("/staff/waves/").get_data(as_text=True)
    assert f"<td>{soft}</td>" in listed and "超额仍收并标记" not in listed
    log = client.get("/staff/audit?action=wave_update").get_data(as_text=True)
    assert f"单元满额时 {close}" in log and f"单元满额时 {soft}" in log
    refused = client.post(f"/staff/admin/waves/{demo_wave}", data={
        "csrf_token": form_tokens(form)["csrf_token"], "name": name,
        "quota_policy": "maybe"}, follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"单元满额时的处理只能是“{close}”或“{soft}”。" in refused
