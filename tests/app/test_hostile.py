"""Hostile input: random and adversarial data never causes a server error,
is rejected with a clear message, and stores nothing; markup is escaped."""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from questionnaires import QuestionnaireError, load_questionnaire_text
from survey.extensions import db
from survey.models import Channel, Response, User, Wave
from survey.operations.frames import FrameError, read_frame_file, validate_frame
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, start, submit_page
from tests.staff import log_in, make_user

FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(data=json_like)
def test_loader_rejects_random_structures_cleanly(data):
    try:
        load_questionnaire_text(yaml.safe_dump(data, allow_unicode=True), "fuzz.yaml")
    except QuestionnaireError as exc:
        assert exc.problems and all(p.file == "fuzz.yaml" for p in exc.problems)


@FUZZ
@given(text=st.text(max_size=300))
def test_loader_survives_arbitrary_text(text):
    try:
        load_questionnaire_text(text, "fuzz.yaml")
    except QuestionnaireError:
        pass


@FUZZ
@given(
    raw=st.binary(max_size=400)
    | st.text(alphabet=string.printable + "区县男女", max_size=400).map(str.encode)
)
@example(raw=b"\r\x00")  # a lone CR once escaped the csv module as a crash
def test_frame_importer_never_crashes(raw):
    categories = {
        "district": ["甲区"],
        "sex": ["男", "女"],
        "age_group": ["18-29岁"],
        "urban_rural": [],
    }
    try:
        validate_frame(read_frame_file(raw, "fuzz.csv"), categories)
    except FrameError as exc:
        assert exc.problems


field_values = st.lists(
    st.text(max_size=30)
    | st.sampled_from(["5", "dk", "男", "under18", "none", "sorting", "-1", "9" * 12]),
    max_size=3,
)


@FUZZ
@given(form=st.dictionaries(
    st.sampled_from([q for page in STANDARD_PAGES for q in page] + ["state", "website", "x"]),
    field_values, max_size=8))  # fmt: skip
def test_random_page_posts_never_500_and_store_nothing(app, demo_wave, form):
    client = app.test_client()
    token = channel_token(app)
    first = start(client, token)
    tokens = form_tokens(first.get_data(as_text=True))
    data = [(k, v) for k, values in form.items() for v in values if k != "state"]
    if "state" in form:
        data.append(("state", (form["state"] or [""])[0]))
    else:
        data.append(("state", tokens["state"]))
    data.append(("csrf_token", tokens["csrf_token"]))
    response = client.post(f"/s/{token}/page", data=MultiDict(data))
    assert response.status_code in (200, 400, 422), response.status_code
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 0


def test_oversized_body_is_413(app, client, demo_wave):
    token = channel_token(app)
    page = start(client, token).get_data(as_text=True)
    response = client.post(
        f"/s/{token}/page", data={**form_tokens(page), "suggestion": "字" * 70000}
    )
    assert response.status_code == 413
    assert "提交内容过大" in response.get_data(as_text=True)


def test_forged_channel_token_and_state_from_another_channel(app, client, demo_wave):
    token = channel_token(app)
    other = channel_token(app, "嘉鱼县")
    page = start(client, token).get_data(as_text=True)
    assert client.post("/s/forged-token/page", data=form_tokens(page)).status_code == 404
    moved = client.post(f"/s/{other}/page", data={**form_tokens(page), **STANDARD_PAGES[0]})
    assert moved.status_code == 400  # a state signed for one channel is refused on another


def test_markup_is_escaped_everywhere_staff_can_type(app, demo_wave):
    with app.app_context():
        with db.write() as session:
            session.execute(update(Channel).values(label=PAYLOAD))
            session.execute(update(Wave).values(name=PAYLOAD, organizer=PAYLOAD))
    admin = make_user(app, "xss-admin", "administrator", "organizer", "statistician")
    with app.app_context():
        with db.write() as session:
            session.execute(update(User).where(User.id == admin.id).values(display_name=PAYLOAD))
    client = app.test_client()
    log_in(client, admin)
    token = channel_token(app)
    pages = [
        f"/s/{token}",
        "/staff/",
        "/staff/waves/",
        f"/staff/waves/{demo_wave}/dashboard",
        f"/staff/waves/{demo_wave}/channels",
        f"/staff/waves/{demo_wave}/posters",
        f"/staff/waves/{demo_wave}/quotas",
        "/staff/admin/users",
        "/staff/admin/waves",
        "/staff/audit",
        f"/staff/waves/{demo_wave}/dashboard.json",
    ]
    for url in pages:
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, url
    resident = app.test_client()
    page = start(resident, token)
    answers = [dict(p) for p in STANDARD_PAGES]
    answers[-1]["suggestion"] = PAYLOAD
    for values in answers:
        page = submit_page(resident, token, page.get_data(as_text=True), values)
    assert page.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Response.answers))["suggestion"] == PAYLOAD  # kept as text


def test_database_outage_is_a_retryable_503(app, client, demo_wave, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import survey.respond.controllers as controllers

    token = channel_token(app)
    page = start(client, token)
    for values in STANDARD_PAGES[:-1]:
        page = submit_page(client, token, page.get_data(as_text=True), values)
    html = page.get_data(as_text=True)
    real = controllers.submit_response

    def down(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(controllers, "submit_response", down)
    failed = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "2"
    assert "不会丢失" in failed.get_data(as_text=True)
    monkeypatch.setattr(controllers, "submit_response", real)
    retried = submit_page(client, token, html, STANDARD_PAGES[-1])
    again = submit_page(client, token, html, STANDARD_PAGES[-1])
    assert retried.status_code == again.status_code == 303
    assert retried.headers["Location"] == again.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_database_outage_on_a_staff_page_is_a_503_too(app, client, demo_wave, monkeypatch):
    """A staff member's session is loaded from the database; when that fails the
    error page must not try again (it did, and turned the 503 into a 500)."""
    from sqlalchemy.exc import OperationalError

    from survey.extensions import db as database
    from tests.staff import log_in, make_user

    log_in(client, make_user(app, "org", "organizer"))

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise OperationalError(
                    "SELECT", {}, Exception("the database system is shutting down")
                )

            return fail

    monkeypatch.setattr(type(database), "session", property(lambda self: Down()))
    response = client.get(f"/staff/waves/{demo_wave}/dashboard.json")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "服务暂时繁忙" in response.get_data(as_text=True)


def test_crafted_staff_input_is_refused_without_a_500(app, demo_wave):
    """Hand-made requests a browser's form would never send (a tester's list):
    each gets a clear message or is ignored, never a 500, and changes nothing."""
    from survey.models import AuditEvent, QuotaCell, QuotaPlan

    admin = make_user(app, "crafty", "administrator", "organizer", "statistician")
    client = app.test_client()
    log_in(client, admin)
    quotas = f"/staff/waves/{demo_wave}/quotas"
    csrf = form_tokens(client.get(quotas).get_data(as_text=True))["csrf_token"]
    with app.app_context():
        cell = db.session.scalar(select(QuotaCell).filter_by(wave_id=demo_wave).limit(1))
        cell_id, target = cell.id, cell.target
        plan_total = db.session.get(QuotaPlan, demo_wave).total
        events = db.session.scalar(select(func.count(AuditEvent.id)))
    huge = "9" * 20
    posts = [
        ("/staff/admin/waves/new", {"city_id": "abc", "questionnaire_id": "1", "name": "x"}),
        ("/staff/admin/waves/new", {"city_id": "1", "questionnaire_id": "1.5", "name": "x"}),
        ("/staff/admin/waves/new", {"city_id": huge, "questionnaire_id": "١", "name": "x"}),
        (f"{quotas}/plan", {"mode": "total", "total": huge}),
        (f"{quotas}/plan", {"mode": "total", "total": "99999999999"}),
        (f"{quotas}/plan", {"mode": "total", "total": "-5"}),
        (f"{quotas}/plan", {"mode": "total", "total": "900", "min_per_district": "-3"}),
        (f"{quotas}/plan", {"mode": "per_district", "size_咸安区": "99999999999"}),
        (f"{quotas}/{cell_id}", {"target": "99999999999"}),
        (f"{quotas}/{cell_id}", {"target": huge}),
    ]
    for url, form in posts:
        response = client.post(url, data={"csrf_token": csrf, **form}, follow_redirects=True)
        # 422: a refused new-wave form, shown again as typed.
        assert response.status_code in (200, 422), (url, form, response.status_code)
        body = response.get_data(as_text=True)
        assert any(word in body for word in ("整数", "过大", "不能为负数", "大于 0", "请选择")), (
            url,
            form,
        )
    for url in (
        f"{quotas}?p=nan",
        f"{quotas}?deff=nan&margin=inf&p=-inf",
        f"/staff/audit?page={huge}",
        f"/staff/audit?page={'9' * 5000}",
        f"/staff/waves/{demo_wave}/estimates?level=nan&target=inf",
    ):
        assert client.get(url).status_code == 200, url
    with app.app_context():
        assert db.session.get(QuotaCell, cell_id).target == target
        assert db.session.get(QuotaPlan, demo_wave).total == plan_total
        assert db.session.scalar(select(func.count(Wave.id))) == 1
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events


def test_a_wave_page_changes_only_its_own_wave(app, demo_wave):
    """A quota cell or response of one wave cannot be changed through another
    wave's address (the URL's wave is checked, not only the object's id)."""
    from survey.models import City, QuestionnaireVersion, QuotaCell
    from survey.operations.cities import create_wave

    token = channel_token(app)
    resident = app.test_client()
    page = start(resident, token)
    for values in STANDARD_PAGES:
        page = submit_page(resident, token, page.get_data(as_text=True), values)
    assert page.status_code == 303
    with app.app_context():
        other = create_wave(
            db.session.scalar(select(City)),
            "另一轮",
            db.session.scalar(select(QuestionnaireVersion)),
        ).id
        cell = db.session.scalar(select(QuotaCell).filter_by(wave_id=demo_wave).limit(1))
        cell_id, target = cell.id, cell.target
        response_id = db.session.scalar(select(Response.id))
    admin = make_user(app, "two-waves", "administrator", "organizer", "statistician")
    client = app.test_client()
    log_in(client, admin)
    csrf = form_tokens(client.get(f"/staff/waves/{other}/quotas").get_data(as_text=True))[
        "csrf_token"
    ]
    moved = client.post(f"/staff/waves/{other}/quotas/{cell_id}",
                        data={"csrf_token": csrf, "target": "7"}, follow_redirects=True)  # fmt: skip
    assert "本轮调查没有这个配额单元" in moved.get_data(as_text=True)
    excluded = client.post(f"/staff/waves/{other}/responses/{response_id}/exclude",
                           data={"csrf_token": csrf, "excluded": "1", "reason": "x"},
                           follow_redirects=True)  # fmt: skip
    assert "本轮调查没有这份答卷" in excluded.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuotaCell, cell_id).target == target
        assert db.session.get(Response, response_id).excluded is False
    done = client.post(f"/staff/waves/{demo_wave}/quotas/{cell_id}",
                       data={"csrf_token": csrf, "target": "7"}, follow_redirects=True)  # fmt: skip
    assert "配额已修改" in done.get_data(as_text=True)


def test_download_names_keep_no_markup_in_their_ascii_fallback(app, demo_wave):
    """Werkzeug's ASCII fallback of a Chinese file name dropped the Chinese and kept
    the rest: a wave named with markup gave filename="-2026<script>…-microdata.xlsx"."""
    token = channel_token(app)
    resident = app.test_client()
    page = start(resident, token)
    for values in STANDARD_PAGES:
        page = submit_page(resident, token, page.get_data(as_text=True), values)
    with app.app_context():
        with db.write() as session:
            session.execute(update(Wave).values(name="2026<script>alert(1)</script>"))
    client = app.test_client()
    log_in(client, make_user(app, "stat-names", "statistician"))
    exports = f"/staff/waves/{demo_wave}/exports"
    csrf = form_tokens(client.get(exports).get_data(as_text=True))["csrf_token"]
    responses = [client.post(f"{exports}/microdata.{fmt}", data={"csrf_token": csrf})
                 for fmt in ("csv", "xlsx")]  # fmt: skip
    responses.append(client.get(f"/staff/waves/{demo_wave}/report.docx"))
    for response in responses:
        disposition = response.headers["Content-Disposition"]
        response.close()
        assert response.status_code == 200
        fallback = disposition.split("filename=")[1].split(";")[0]
        assert fallback.startswith(f"wave-{demo_wave}-") and "<" not in disposition
        assert "filename*=UTF-8''" in disposition and "%3Cscript%3E" in disposition


def _escaped_everywhere(body: str, label: str, *, present: bool = True) -> None:
    """No payload markup in *body*; when *present*, the payload is there as text
    (escaped), so that the page does show the field checked."""
    from markupsafe import escape

    assert "<script>alert" not in body and "<img src=x" not in body, label
    if present:
        assert str(escape(PAYLOAD)) in body, label


def test_markup_is_escaped_in_the_staff_texts_of_the_new_pages(app, demo_wave, tmp_path):
    """The places where staff- or resident-entered text appears since the dashboard,
    audit log, report comparison and estimates warnings were reworded: a wave,
    district, channel and user named with markup, a reason and a device class
    holding markup, all shown as text in every page, message, JSON and report."""
    import io
    import json
    import zipfile

    from markupsafe import escape

    from survey.models import AuditEvent, District, PopulationCell, QuotaCell
    from tests.app.test_estimates_page import _fill
    from tests.app.test_report import _second_wave

    _fill(app)
    new_id = _second_wave(app, demo_wave, answers_per_district=10)
    admin = make_user(app, "xss-new", "administrator", "organizer", "statistician")
    victim = make_user(app, PAYLOAD, "organizer")  # a user name the log names
    with app.app_context():
        response_id = db.session.scalar(
            select(Response.id)
            .where(Response.wave_id == demo_wave, Response.district != "咸安区")
            .order_by(Response.id)
        )
        receipt = db.session.scalar(
            select(Response.receipt_code).where(Response.wave_id == new_id).limit(1)
        )
    client = app.test_client()
    log_in(client, admin)
    waves = "/staff/admin/waves"
    csrf = form_tokens(client.get(waves).get_data(as_text=True))["csrf_token"]
    # The earlier wave renamed with markup (the audit log shows old and new settings).
    renamed = client.post(f"{waves}/{demo_wave}", follow_redirects=True, data={
        "csrf_token": csrf, "name": PAYLOAD, "organizer": PAYLOAD, "quota_policy": "soft"})  # fmt: skip
    assert renamed.status_code == 200
    _escaped_everywhere(renamed.get_data(as_text=True), "waves page after renaming")
    # A failed log-in of the account named with markup.
    guesser = app.test_client()
    login_csrf = form_tokens(guesser.get("/staff/login").get_data(as_text=True))["csrf_token"]
    failed = guesser.post("/staff/login", data={
        "csrf_token": login_csrf, "username": PAYLOAD, "password": "wrong"})  # fmt: skip
    assert failed.status_code == 401
    # The report of the later wave names the earlier one in its comparison lines.
    report = client.get(f"/staff/waves/{new_id}/report").get_data(as_text=True)
    assert "上年数据：本平台" in report
    _escaped_everywhere(report, "report page")
    docx = client.get(f"/staff/waves/{new_id}/report.docx")
    assert docx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(docx.get_data())) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    docx.close()
    assert "<script>alert" not in xml and "&lt;script&gt;alert" in xml
    # A response withdrawn (the dashboard's withdrawn count), one excluded with
    # markup as its reason, a device class as no browser sends it.
    resident = app.test_client()
    withdraw_csrf = form_tokens(resident.get("/withdraw").get_data(as_text=True))["csrf_token"]
    done = resident.post("/withdraw", data={"csrf_token": withdraw_csrf,
                                            "receipt_code": receipt, "confirm": "1"})  # fmt: skip
    assert done.status_code == 200
    with app.app_context():
        with db.write() as session:
            session.execute(update(Response).where(Response.id == response_id)
                            .values(device_class="<script>alert(1)</script>", is_flagged=True))  # fmt: skip
            session.execute(update(Channel).values(label=PAYLOAD))
            # After the answers: residents' district answers are the frame's names.
            # A district named with markup, everywhere its name is kept; none of its
            # answers valid (the estimates page names it as a district left out).
            for model in (District, QuotaCell, PopulationCell, Response):
                column = model.name if model is District else model.district
                session.execute(update(model).where(column == "咸安区").values({column: PAYLOAD}))
            session.execute(update(Response).where(Response.district == PAYLOAD)
                            .values(excluded=True))  # fmt: skip
        cell_id = db.session.scalar(
            select(QuotaCell.id).where(
                QuotaCell.wave_id == demo_wave, QuotaCell.district == PAYLOAD
            )
        )
        channel_id = db.session.scalar(select(Channel.id).where(Channel.wave_id == demo_wave))
    base = f"/staff/waves/{demo_wave}"
    excluded = client.post(f"{base}/responses/{response_id}/exclude", follow_redirects=True,
                           data={"csrf_token": csrf, "excluded": "1", "reason": PAYLOAD})  # fmt: skip
    _escaped_everywhere(excluded.get_data(as_text=True), "dashboard after excluding")
    toggled = client.post(f"{base}/channels/{channel_id}/open", follow_redirects=True,
                          data={"csrf_token": csrf, "open": "0", "back": "dashboard"})  # fmt: skip
    body = toggled.get_data(as_text=True)
    _escaped_everywhere(body, "dashboard after closing a channel")
    assert f"采集点“{escape(PAYLOAD)}”已关闭" in body  # the message names it, as text
    edited = client.post(f"{base}/quotas/{cell_id}", follow_redirects=True,
                         data={"csrf_token": csrf, "target": "0"})  # fmt: skip
    _escaped_everywhere(edited.get_data(as_text=True), "quotas page after editing a target")
    for url in (f"{base}/dashboard", f"{base}/channels", f"{base}/quotas",
                f"{base}/responses/{response_id}", f"{base}/estimates?weighting=raking",
                f"{base}/estimates", "/staff/admin/users", "/staff/audit?action=wave_update",
                "/staff/audit?action=response_exclude", "/staff/audit?action=login_failed",
                "/staff/audit?action=channel_close", "/staff/audit?action=quota_change",
                f"{base}/exports", f"{base}/comparison"):  # fmt: skip
        _escaped_everywhere(client.get(url).get_data(as_text=True), url)
    estimates = client.get(f"{base}/estimates?weighting=raking").get_data(as_text=True)
    assert "未勾选任何加权变量" in estimates  # the warning of no margin ticked
    assert f"未作估计（全市结果只包括其余区县）：{escape(PAYLOAD)}" in estimates
    data = client.get(f"{base}/dashboard.json")
    raw = data.get_data(as_text=True)
    assert "<" not in raw and ">" not in raw
    parsed = json.loads(raw)
    assert {c["label"] for c in parsed["channels"]} == {PAYLOAD}
    assert PAYLOAD in {d["district"] for d in parsed["districts"]}
    assert parsed["totals"]["excluded"] >= 1
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {
        "wave_update",
        "response_exclude",
        "login_failed",
        "channel_close",
        "quota_change",
    } <= actions
    assert victim.id


def test_withdraw_page_shows_the_code_typed_as_text(app, demo_wave):
    """The withdraw form keeps what was typed (a code not found, one not shaped as
    a code, the text-size button from the confirm step): markup stays text, in
    the field's value and in the message."""
    from markupsafe import escape

    client = app.test_client()
    typed = PAYLOAD[:20]  # the form keeps 20 characters
    for extra in ({}, {"text_size": "large"}, {"text_size": "large", "step": "confirm"}):
        csrf = form_tokens(client.get("/withdraw").get_data(as_text=True))["csrf_token"]
        response = client.post("/withdraw", data={"csrf_token": csrf, "receipt_code": typed,
                                                  **extra})  # fmt: skip
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 422), (extra, response.status_code)
        assert "<script>alert" not in body and f'value="{escape(typed)}"' in body, extra
    csrf = form_tokens(client.get("/withdraw").get_data(as_text=True))["csrf_token"]
    for code in ("＜ｓｃｒｉｐｔ＞", "ab<c-d>ef", "Q538-<b>x"):  # full-width forms fold to "<"
        body = client.post("/withdraw", data={"csrf_token": csrf, "receipt_code": code})
        text = body.get_data(as_text=True).lower()
        assert "<script>" not in text and "<b>" not in text and "<c-d>" not in text, code


def test_control_characters_in_staff_names_do_not_break_the_workbooks(app, demo_wave):
    """A channel label, wave name or organizer with a control character (Word's
    Shift+Enter pastes \\x0b) made openpyxl refuse the whole workbook: every
    microdata and estimates XLSX of the wave failed with a server error, for
    every statistician. The character becomes a space in a worksheet."""
    import io

    from openpyxl import load_workbook

    from tests.app.test_estimates_page import _fill

    _fill(app, n_per_district=6)
    with app.app_context():
        with db.write() as session:
            session.execute(update(Wave).values(name="2026\x0b年度", organizer="统计局\x01"))
            session.execute(update(Channel).values(label="海报\x0b一"))
    client = app.test_client()
    log_in(client, make_user(app, "stat-ctl", "statistician"))
    exports = f"/staff/waves/{demo_wave}/exports"
    csrf = form_tokens(client.get(exports).get_data(as_text=True))["csrf_token"]
    texts = {}
    for what in ("microdata.xlsx", "estimates.xlsx"):
        response = client.post(f"{exports}/{what}",
                               data={"csrf_token": csrf, "weighting": "none"})  # fmt: skip
        assert response.status_code == 200, what
        book = load_workbook(io.BytesIO(response.get_data()))
        response.close()
        texts[what] = [v for sheet in book for row in sheet.iter_rows(values_only=True)
                       for v in row if isinstance(v, str)]  # fmt: skip
    assert "海报 一" in texts["microdata.xlsx"]
    for cells in texts.values():  # the note (split into lines at the \x0b)
        assert "调查单位：统计局 " in cells and any(v.startswith("咸宁市 2026") for v in cells)


def test_quota_and_frame_refusals_show_what_was_sent_as_text(app, demo_wave):
    """The quota plan's refusal names the districts sent that the frame lacks, the
    frame import's problems quote the file: markup in either stays text."""
    import io

    from markupsafe import escape

    client = app.test_client()
    log_in(client, make_user(app, "org-refusals", "organizer"))
    base = f"/staff/waves/{demo_wave}"
    csrf = form_tokens(client.get(f"{base}/quotas").get_data(as_text=True))["csrf_token"]
    refused = client.post(f"{base}/quotas/plan", follow_redirects=True, data={
        "csrf_token": csrf, "mode": "per_district", "cells": "plain",
        "size_咸安区": "10", f"size_{PAYLOAD}": "5"})  # fmt: skip
    body = refused.get_data(as_text=True)
    assert "人口数据中没有这些区县" in body, body[-2000:]
    _escaped_everywhere(body, "quota plan refused")
    frame = f"district,sex,age_group,urban_rural,population\n{PAYLOAD},男,18-29岁,城镇,100\n"
    imported = client.post(f"{base}/frame", content_type="multipart/form-data", data={
        "csrf_token": csrf, "file": (io.BytesIO(frame.encode()), "f.csv")})  # fmt: skip
    body = imported.get_data(as_text=True)
    assert imported.status_code == 422
    assert "<script>alert" not in body and "<img src=x" not in body
    assert str(escape(PAYLOAD)) in body or "&lt;script&gt;" in body


def test_a_headline_score_warning_shows_the_questionnaires_label_as_text(app, demo_wave):
    """The estimates page's and the report's warning of a score named as the
    headline 满意度 quote the indicator's label from the questionnaire."""
    import re as re_module

    from questionnaires import STANDARD_PATH, load_questionnaire_text
    from survey.operations.questionnaires import register_questionnaire
    from tests.app.test_estimates_page import _fill

    label = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    text = STANDARD_PATH.read_text(encoding="utf-8")
    text = re_module.sub(r"(?m)^version: 1$", "version: 2", text)
    text = text.replace("  satisfaction: satisfied", "  satisfaction: satisfaction_score")
    text = text.replace("label: 满意度得分（0–100）", f"label: '{label}'")
    with app.app_context():
        stored = register_questionnaire(load_questionnaire_text(text))
        with db.write() as session:
            session.get(Wave, demo_wave).questionnaire_id = stored.id
    _fill(app, n_per_district=5)
    client = app.test_client()
    log_in(client, make_user(app, "stat-label", "statistician"))
    page = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none")
    report = client.get(f"/staff/waves/{demo_wave}/report?weighting=none")
    assert report.status_code == 409
    for response in (page, report):
        body = response.get_data(as_text=True)
        assert "问卷把满意度指标设为“&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<script>alert" not in body and "<img src=x" not in body


def test_a_question_named_like_a_system_variable_never_takes_its_name():
    """A question with the id ``weight`` became the file's ``weight`` whenever the
    export had no weights (no frame yet, weighting failed), and ``weight_2`` when
    it had: a statistician's script weighting by ``weight`` then used the answers
    as weights, silently. It is ``weight_2`` in every file (``excluded`` too)."""
    from questionnaires import STANDARD_PATH, load_questionnaire_text
    from survey.exports.codebook import variables
    from survey.exports.columnar import ColumnarExport

    text = STANDARD_PATH.read_text(encoding="utf-8")
    q = load_questionnaire_text(text.replace("id: suggestion", "id: weight"))
    assert any(question.id == "weight" for question in q.questions)
    for with_weight in (True, False):
        for with_excluded in (True, False):
            names = [v.name for v in variables(q, with_weight, with_excluded)]
            assert ("weight" in names) == with_weight, (with_weight, with_excluded)
            assert ("excluded" in names) == with_excluded, (with_weight, with_excluded)
            assert "weight_2" in names
            export = ColumnarExport(q, variables(q, False, with_excluded),
                                    include_excluded=with_excluded, channel_labels={},
                                    weights=None)  # fmt: skip
            assert "weight" not in [v.name for v in export.variables]
