"""Staff pages through HTTP: frame upload, plans, channels, admin, audit log."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent, Channel, QuotaCell, User, Wave
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
    reset = client.post(
        f"/staff/admin/users/{user.id}", data={"csrf_token": csrf, "action": "reset"}
    )
    assert "临时密码" in reset.get_data(as_text=True)


def test_audit_log_filters_and_cannot_be_edited(app, demo_wave):
    client = client_as(app, "organizer")
    page = client.get("/staff/audit?action=frame_import").get_data(as_text=True)
    assert "frame_import" in page and "quota_plan" not in page.split("<tbody>")[1]
    assert "共 1 条" in page
    assert client.get("/staff/audit?from=2000-01-01&to=2000-01-02").status_code == 200
    # No route lets anyone change or delete audit events.
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods - {"GET", "HEAD", "OPTIONS"} == set()
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) > 0
    assert client_as(app, "statistician").get("/staff/audit").status_code == 403
