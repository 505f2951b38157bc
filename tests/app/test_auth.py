"""Staff accounts: Argon2 hashes, login, lockout, safe redirects, CLI, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent, User, utcnow
from survey.operations import users
from tests.conftest import form_tokens

PASSWORD = "Correct-horse-42"


@pytest.fixture
def staff(app):
    with app.app_context():
        users.create_user("zhang", PASSWORD, ["organizer"], "张三")
        users.create_user("li", PASSWORD, ["statistician", "organizer"], "李四")
    return app


def login(client, username, password=PASSWORD, next_url=""):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post(
        "/staff/login",
        data={"csrf_token": form_tokens(page)["csrf_token"], "username": username,
              "password": password, "next": next_url},
    )  # fmt: skip


def _actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_password_is_hashed_with_argon2id(staff):
    with staff.app_context():
        user = db.session.scalar(select(User).filter_by(username="zhang"))
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_login_and_logout_are_audited(staff, client):
    response = login(client, "zhang")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    home = client.get("/staff/").get_data(as_text=True)
    assert "张三" in home and "调查组织者" in home
    client.post("/staff/logout", data={"csrf_token": form_tokens(home)["csrf_token"]})
    assert client.get("/staff/").status_code == 302
    assert _actions(staff)[-2:] == ["login", "logout"]


def test_wrong_password_and_unknown_user_get_the_same_answer(staff, client):
    wrong = login(client, "zhang", "nope-nope-nope")
    unknown = login(client, "nobody", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert "用户名或密码不正确" in unknown.get_data(as_text=True)
    assert _actions(staff).count("login_failed") == 2


def _from(app, address: str):
    """A test client whose requests come from *address*."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_too_many_attempts_stop_that_client_only(staff, client, monkeypatch):
    """Failures locked the account for everyone: 5 wrong passwords from anywhere
    locked out the account's owner too (a security review locked the only
    administrator so, 5 requests every 15 minutes). Now the limit is per account
    name and client; the owner elsewhere still gets in, and unknown names are
    answered exactly as known ones."""
    clock = [utcnow()]
    monkeypatch.setattr(users, "now", lambda: clock[0])
    limit = staff.config["LOGIN_MAX_ATTEMPTS"]
    attacker = _from(staff, "203.0.113.7")
    for name in ("zhang", "nobody"):
        answers = [login(attacker, name, "bad-password-1") for _ in range(limit + 1)]
        assert [a.status_code for a in answers] == [401] * (limit + 1)
        texts = [a.get_data(as_text=True) for a in answers]
        assert all("用户名或密码不正确" in t for t in texts[:limit])
        assert "尝试次数过多" in texts[limit] and "分钟后再试" in texts[limit]
    refused = login(attacker, "zhang", PASSWORD)  # even the right password, from there
    assert refused.status_code == 401 and "尝试次数过多" in refused.get_data(as_text=True)
    owner = _from(staff, "198.51.100.20")
    assert login(owner, "zhang", PASSWORD).status_code == 302
    clock[0] += timedelta(seconds=staff.config["LOGIN_LOCK_SECONDS"] + 1)
    assert login(attacker, "zhang", PASSWORD).status_code == 302
    with staff.app_context():
        names = set(db.session.scalars(select(AuditEvent.actor_name)))
    assert "nobody" not in names  # a typed unknown name may be someone's password


def test_attempts_on_one_account_from_many_clients_are_limited(staff, monkeypatch):
    staff.config["LOGIN_ACCOUNT_MAX_ATTEMPTS"] = 6
    answers = []
    for i in range(7):
        client = _from(staff, f"203.0.113.{i + 1}")
        answers.append(login(client, "zhang", "bad-password-1").get_data(as_text=True))
    assert "尝试次数过多" not in answers[5] and "尝试次数过多" in answers[6]


def test_logout_ends_the_session_even_for_a_copied_cookie(staff, client):
    assert login(client, "zhang", PASSWORD).status_code == 302
    copy = staff.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/staff/").status_code == 200
    page = client.get("/staff/").get_data(as_text=True)
    client.post("/staff/logout", data={"csrf_token": form_tokens(page)["csrf_token"]})
    assert copy.get("/staff/").status_code == 302  # to the log-in page


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(staff, client, target):
    response = login(client, "zhang", next_url=target)
    assert response.headers["Location"] == "/staff/"


def test_next_to_a_local_page_is_followed(staff, client):
    assert login(client, "zhang", next_url="/staff/?x=1").headers["Location"] == "/staff/?x=1"


def test_password_reset_ends_existing_sessions(staff, client):
    login(client, "zhang")
    assert client.get("/staff/").status_code == 200
    with staff.app_context():
        users.reset_password("zhang", "Another-pass-99")
    assert client.get("/staff/").status_code == 302


def test_weak_password_refused(app):
    with app.app_context():
        with pytest.raises(users.OperationError, match="至少需要 10 个字符"):
            users.create_user("wang", "short", ["organizer"])


def test_cli_create_reset_and_list(app, runner):
    result = runner.invoke(
        args=["create-user", "admin2", "--role", "administrator", "--role", "organizer",
              "--password-stdin"], input="Strong-pass-2026\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "administrator, organizer" in result.output
    listed = runner.invoke(args=["list-users"]).output
    assert "admin2" in listed and "启用" in listed
    reset = runner.invoke(args=["reset-password", "admin2"])
    assert "临时密码" in reset.output
    weak = runner.invoke(args=["create-user", "x1", "--role", "organizer", "--password-stdin"],
                         input="123\n")  # fmt: skip
    assert weak.exit_code != 0 and "至少需要" in weak.output
    assert {"user_create", "password_reset"} <= set(_actions(app))


def test_session_cookie_flags(staff, client):
    response = login(client, "zhang")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_staff_log_in_over_https(staff):
    """Over HTTPS Flask-WTF refuses a staff form without a Referer. The pages' policy
    lets browsers send it to this site (and to no other): with "no-referrer" no
    staff member could log in over HTTPS."""
    client = staff.test_client()
    site = "https://survey.example.cn"
    page = client.get("/staff/login", base_url=site)
    assert page.headers["Referrer-Policy"] == "same-origin"
    response = client.post(
        "/staff/login", base_url=site, headers={"Referer": f"{site}/staff/login"},
        data={"csrf_token": form_tokens(page.get_data(as_text=True))["csrf_token"],
              "username": "zhang", "password": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    # what a browser sent under "no-referrer": refused
    refused = staff.test_client().post(
        "/staff/login", base_url=site,
        data={"csrf_token": form_tokens(page.get_data(as_text=True))["csrf_token"],
              "username": "zhang", "password": PASSWORD},
    )  # fmt: skip
    assert refused.status_code == 400


def test_accounts_keep_an_administrator_and_a_role_and_unique_names(app):
    """A tester could create an account with no role (403 everywhere), 'org2'
    beside 'ORG2', and nothing stopped an administrator from removing the last
    administrator (then nobody can manage accounts)."""
    from survey.operations.errors import OperationError

    with app.app_context():
        admin = users.create_user("boss", PASSWORD, ["administrator"])
        org = users.create_user("org2", PASSWORD, ["organizer"])
        for bad in (
            lambda: users.create_user("norole", PASSWORD, []),
            lambda: users.create_user("ORG2", PASSWORD, ["organizer"]),
            lambda: users.set_roles(admin, ["organizer"]),
            lambda: users.set_active(admin, False),
            lambda: users.set_roles(org, []),
        ):
            with pytest.raises(OperationError) as refused:
                bad()
            assert any(w in str(refused.value) for w in ("角色", "已存在", "唯一")), refused.value
        assert db.session.scalar(select(func.count(User.id))) == 2
        users.set_roles(org, ["organizer", "administrator"])  # now there are two
        users.set_active(admin, False)
        with pytest.raises(OperationError):
            users.set_roles(org, ["organizer"])  # the only active one again
        users.set_active(admin, True)
        users.set_roles(org, ["organizer"])


def test_a_password_set_by_an_administrator_must_be_replaced_first(staff, client):
    """A reset showed the administrator a password the account kept for good, and
    nobody could change their own password (security review)."""
    with staff.app_context():
        _, temporary = users.reset_password("zhang")
    assert login(client, "zhang", temporary).status_code == 302
    other = staff.test_client()
    assert login(other, "zhang", temporary).status_code == 302
    assert client.get("/staff/").headers["Location"].endswith("/staff/password")
    assert client.get("/staff/audit").headers["Location"].endswith("/staff/password")
    page = client.get("/staff/password").get_data(as_text=True)
    assert "系统管理员设置的" in page
    csrf = form_tokens(page)["csrf_token"]

    def change(current, new, confirm=None):
        return client.post("/staff/password", data={"csrf_token": csrf, "current": current,
                           "new": new, "confirm": new if confirm is None else confirm})  # fmt: skip

    for current, new, confirm, message in (
        ("wrong-password-1", "Brand-new-pass-7", None, "当前密码不正确"),
        (temporary, "Brand-new-pass-7", "Brand-new-pass-8", "不一致"),
        (temporary, "short", None, "至少需要"),
        (temporary, temporary, None, "不能与当前密码相同"),
    ):
        refused = change(current, new, confirm)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    done = change(temporary, "Brand-new-pass-7")
    assert done.status_code == 302
    assert client.get("/staff/").status_code == 200  # this session goes on
    assert other.get("/staff/").status_code == 302  # the other one was ended
    assert login(staff.test_client(), "zhang", "Brand-new-pass-7").status_code == 302
    with staff.app_context():
        assert "password_change" in _actions(staff)
        assert not db.session.scalar(select(User).filter_by(username="zhang")).must_change_password


@pytest.mark.parametrize("sync_seconds", [0, 60])
def test_successful_log_ins_do_not_use_up_the_limit(staff, sync_seconds):
    """Every log-in counted, the right ones too: after about a dozen log-ins in 15
    minutes a statistician was told 尝试次数过多. Failures still count."""
    staff.config["RATE_LIMIT_SYNC_SECONDS"] = sync_seconds
    staff.config["LOGIN_MAX_ATTEMPTS"] = 3
    staff.config["LOGIN_ACCOUNT_MAX_ATTEMPTS"] = 4
    client = _from(staff, "198.51.100.30")
    for _ in range(6):
        assert login(client, "zhang").status_code == 302
        client.post("/staff/logout", data=form_tokens(client.get("/staff/").get_data(as_text=True)))
    texts = [login(client, "zhang", "bad-password-1").get_data(as_text=True) for _ in range(4)]
    assert "尝试次数过多" not in texts[2] and "尝试次数过多" in texts[3]


def test_commands_before_db_upgrade_say_to_run_it(tmp_path):
    """A new installation's first command other than db-upgrade (or any after an
    upgrade of the code) ended in a traceback: no such table: staff_user."""
    from survey import create_app
    from survey.migrate import upgrade
    from tests.conftest import app_config, close_app

    empty = create_app(app_config(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path))
    try:
        runner = empty.test_cli_runner()
        result = runner.invoke(args=["create-user", "admin", "--role", "administrator",
                                     "--password-stdin"], input="Strong-pass-2026\n")  # fmt: skip
        assert result.exit_code != 0 and "请先运行 survey db-upgrade" in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
        upgrade(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "0012")
        older = runner.invoke(args=["list-users"])
        assert older.exit_code != 0 and "数据库结构是版本 0012" in older.output
    finally:
        close_app(empty)


def test_a_refused_password_change_names_the_field_at_fault(staff, client):
    """The change-password page (every new account's first page) said what was
    wrong at the top, tied to no field: which of the three password fields to
    retype was left to guess. Now the message sits beside its field, which is
    marked invalid, described by it and focused; no password comes back."""
    import re

    assert login(client, "zhang").status_code == 302
    csrf = form_tokens(client.get("/staff/password").get_data(as_text=True))["csrf_token"]
    for current, new, confirm, field, message in (
        ("wrong-password-1", "Brand-new-pass-7", "Brand-new-pass-7", "current", "当前密码不正确"),
        (PASSWORD, "Brand-new-pass-7", "Brand-new-pass-8", "confirm", "不一致"),
        (PASSWORD, "short", "short", "new", "至少需要"),
    ):
        html = client.post("/staff/password", data={"csrf_token": csrf, "current": current,
                           "new": new, "confirm": confirm}).get_data(as_text=True)  # fmt: skip
        tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-error"' in tag
        assert "autofocus" in tag
        assert re.search(rf'id="{field}-error" role="alert">[^<]*{message}', html)
        assert html.count("aria-invalid") == 1
        assert new not in html and "wrong-password-1" not in html
