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
        assert response.status_code == 200, (url, form, response.status_code)
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
