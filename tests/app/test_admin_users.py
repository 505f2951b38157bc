"""The administrator's pages: accounts (a refused new account, password resets), waves."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import User
from tests.app.test_staff_pages import _csrf, client_as


def _field(html: str, field_id: str) -> str:
    """The <input> tag with this id."""
    return re.search(rf'<input[^>]*id="{field_id}"[^>]*>', html).group(0)


def test_a_refused_new_account_comes_back_as_typed_with_each_error_at_its_field(app, demo_wave):
    """A refused 新建账号 form came back empty (a redirect, the error at the top of
    the page): the administrator typed the name, the display name and the roles
    again. Now: as typed except the password, every error beside its field."""
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/users")
    refused = client.post("/staff/admin/users/new", data={
        "csrf_token": csrf, "username": "qian wu", "display_name": "钱五 <b>",
        "password": "short-pw", "roles": ["organizer", "statistician"]})  # fmt: skip
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    username = _field(html, "username")
    assert 'value="qian wu"' in username
    assert 'aria-invalid="true"' in username and 'aria-describedby="username-error"' in username
    assert "autofocus" in username  # the first field at fault
    assert re.search(r'id="username-error" role="alert">用户名只能包含', html)
    password = _field(html, "password")
    assert 'aria-describedby="password-error"' in password and "value=" not in password
    assert "short-pw" not in html
    assert re.search(r'id="password-error" role="alert">密码至少需要 10 个字符', html)
    assert 'value="钱五 &lt;b&gt;"' in _field(html, "display_name")
    checked = re.findall(r'name="roles" value="(\w+)" checked', html.split('id="new-user"')[1])
    assert checked == ["organizer", "statistician"]
    assert "aria-invalid" not in _field(html, "display_name")

    no_role = client.post("/staff/admin/users/new", data={
        "csrf_token": csrf, "username": "qian", "password": "Strong-pass-2026"})  # fmt: skip
    html = no_role.get_data(as_text=True)
    assert no_role.status_code == 422 and 'value="qian"' in _field(html, "username")
    assert '<fieldset aria-describedby="roles-error">' in html
    assert re.search(r'id="roles-error" role="alert">请至少选择一个角色', html)
    assert "aria-invalid" not in _field(html, "username")
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).filter_by(username="qian")) == 0

    client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "qian",
                "password": "Strong-pass-2026", "roles": ["organizer"]})  # fmt: skip
    taken = client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "QIAN",
                        "password": "Strong-pass-2026", "roles": ["statistician"]})  # fmt: skip
    html = taken.get_data(as_text=True)
    assert taken.status_code == 422 and 'aria-describedby="username-error"' in _field(
        html, "username"
    )
    assert re.search(r'id="username-error" role="alert">用户名 qian 已存在', html)
    assert 'value="statistician" checked' in html


def test_a_display_name_is_kept_on_one_line(app, demo_wave):
    """Display names were stored as pasted: Word's Shift+Enter (\\x0b) or a line
    break went into the page header and the accounts list, as wave and city
    names no longer do."""
    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/users")
    client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "zhou",
                "display_name": " 周\x0b六\r\n（街道） ", "password": "Strong-pass-2026",
                "roles": ["organizer"]})  # fmt: skip
    with app.app_context():
        assert db.session.scalar(select(User.display_name).filter_by(username="zhou")) == (
            "周 六 （街道）"
        )


def _reset_form(client, user_id: int) -> dict:
    from tests.app.test_staff_pages import _reset_form

    return _reset_form(client.get("/staff/admin/users").get_data(as_text=True), user_id)


def _resets(app) -> int:
    from survey.models import AuditEvent

    with app.app_context():
        return db.session.scalar(
            select(func.count(AuditEvent.id)).filter_by(action="password_reset")
        )


def test_a_reset_form_left_open_works_after_the_user_changed_their_password(app, demo_wave):
    """The form's token was made from the password's hash: a user's own change
    between the page's opening and the click made the administrator's reset say
    已经重置 and need a second click. Only an administrator's reset counts now."""
    from survey.operations import users as users_ops

    client = client_as(app, "administrator")
    with app.app_context():
        target = users_ops.create_user("wang", "Strong-pass-2026", ["organizer"])
    data = _reset_form(client, target.id)
    with app.app_context():
        users_ops.change_password(target, "Strong-pass-2026", "Own-choice-2027", "Own-choice-2027")
    shown = client.post(f"/staff/admin/users/{target.id}", data=data).get_data(as_text=True)
    assert "临时密码（只显示这一次" in shown and "这次没有再重置" not in shown
    assert _resets(app) == 1
    # The same form sent again (the page reloaded) still changes nothing.
    again = client.post(f"/staff/admin/users/{target.id}", data=data, follow_redirects=True)
    assert "这次没有再重置" in again.get_data(as_text=True) and _resets(app) == 1


def test_a_reset_form_left_open_works_after_a_rehash_at_log_in(app, demo_wave):
    """A log-in that rehashes the password (new Argon2 parameters) changed the hash
    too, and with it the form's token."""
    from argon2 import PasswordHasher

    from survey.operations import users as users_ops

    client = client_as(app, "administrator")
    with app.app_context():
        target = users_ops.create_user("wang", "Strong-pass-2026", ["organizer"])
        with db.write() as session:  # a hash made with older, weaker parameters
            session.get(User, target.id).password_hash = PasswordHasher(
                time_cost=1, memory_cost=8192
            ).hash("Strong-pass-2026")
    data = _reset_form(client, target.id)
    with app.test_request_context():
        before = db.session.get(User, target.id).password_hash
        assert users_ops.attempt_login("wang", "Strong-pass-2026").user is not None
        db.session.expire_all()
        assert db.session.get(User, target.id).password_hash != before  # rehashed
    shown = client.post(f"/staff/admin/users/{target.id}", data=data).get_data(as_text=True)
    assert "临时密码（只显示这一次" in shown and "这次没有再重置" not in shown
    assert _resets(app) == 1


def test_a_reset_form_is_stale_after_another_administrators_reset(app, demo_wave, runner):
    """Two forms open (two administrators, or the command line in between): the
    second click does not replace the temporary password the first one gave."""
    from survey.operations import users as users_ops

    client = client_as(app, "administrator")
    with app.app_context():
        target = users_ops.create_user("wang", "Strong-pass-2026", ["organizer"])
    data = _reset_form(client, target.id)
    result = runner.invoke(args=["reset-password", "wang"])
    assert result.exit_code == 0, result.output
    late = client.post(f"/staff/admin/users/{target.id}", data=data, follow_redirects=True)
    assert "这次没有再重置" in late.get_data(as_text=True) and _resets(app) == 1


def test_a_refused_new_wave_comes_back_as_typed_with_the_error_at_its_field(app, demo_wave):
    """A refused 新建轮次 form (an end before the start, a name taken) came back
    empty after a redirect: the administrator chose the city and questionnaire
    and typed the name, organizer and dates again."""
    from survey.models import Wave

    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/waves")
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        city_id, qid, taken = wave.city_id, wave.questionnaire_id, wave.name
    form = {"csrf_token": csrf, "city_id": str(city_id), "questionnaire_id": str(qid),
            "name": "2028年度", "organizer": "市统计局 <调查队>", "starts_on": "2028-05-01",
            "ends_on": "2028-04-01", "quota_policy": "soft"}  # fmt: skip
    refused = client.post("/staff/admin/waves/new", data=form)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    new_form = html.split("admin/waves/new")[1]
    ends = _field(new_form, "ends_on")
    assert 'value="2028-04-01"' in ends and 'aria-describedby="ends_on-error"' in ends
    assert 'aria-invalid="true"' in ends and "autofocus" in ends
    assert re.search(r'id="ends_on-error" role="alert">结束日期不能早于开始日期', new_form)
    assert 'value="2028-05-01"' in _field(new_form, "starts_on")
    assert 'value="2028年度"' in _field(new_form, "name")
    assert 'value="市统计局 &lt;调查队&gt;"' in _field(new_form, "organizer")
    assert f'<option value="{city_id}" selected>' in new_form
    assert re.search(rf'<option value="{qid}" selected>', new_form)
    assert '<option value="soft" selected>' in new_form

    same_name = client.post("/staff/admin/waves/new", data={**form, "name": taken,
                            "ends_on": "2028-06-01"})  # fmt: skip
    html = same_name.get_data(as_text=True).split("admin/waves/new")[1]
    assert same_name.status_code == 422 and 'aria-describedby="name-error"' in _field(html, "name")
    assert "aria-invalid" not in _field(html, "ends_on")
    with app.app_context():
        assert db.session.scalar(select(func.count(Wave.id))) == 1


def test_the_audit_log_names_the_account_and_wave_acted_on(app, demo_wave):
    """修改角色 · 账号 3: the log named accounts and waves by numbers that no page
    shows, so an administrator could not tell whose roles had changed."""
    from survey.models import Wave

    client = client_as(app, "administrator")
    csrf = _csrf(client, "/staff/admin/users")
    client.post("/staff/admin/users/new", data={"csrf_token": csrf, "username": "sun",
                "password": "Strong-pass-2026", "roles": ["statistician"]})  # fmt: skip
    with app.app_context():
        user_id = db.session.scalar(select(User.id).filter_by(username="sun"))
        wave_name = db.session.get(Wave, demo_wave).name
    client.post(f"/staff/admin/users/{user_id}", data={"csrf_token": csrf, "action": "roles",
                "roles": ["organizer"]})  # fmt: skip
    rows = client.get("/staff/audit?action=user_roles").get_data(as_text=True).split("<tbody>")[1]
    assert "<td>账号 sun</td>" in rows and f"账号 {user_id}<" not in rows
    waves = client.get("/staff/audit?action=wave_create").get_data(as_text=True)
    assert f"<td>调查轮次 {wave_name}</td>" in waves.split("<tbody>")[1]
