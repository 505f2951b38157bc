"""Staff accounts: creation, roles, passwords, and login attempts with rate limits."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select

from survey.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from survey.extensions import db
from survey.models import ROLES, AuditEvent, User, UserRole, utcnow
from survey.operations.audit import record
from survey.operations.errors import FieldErrors, OperationError
from survey.operations.names import one_line
from survey.respond.state import signature

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")


def now() -> datetime:
    """The clock (tests replace it)."""
    return utcnow()


def _check_roles(roles) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise OperationError(
            f"未知角色：{', '.join(unknown)}（可用：{', '.join(ROLES)}）", field="roles"
        )
    if not roles:
        raise OperationError(
            "请至少选择一个角色（没有角色的账号什么页面都打不开）；要停用账号请用“停用”。",
            field="roles",
        )
    return roles


def _keep_an_administrator(session, user: User, roles_after, active_after: bool) -> None:
    """Refuse a change that would leave no active administrator (nobody could
    manage accounts any more, except from the command line)."""
    if "administrator" not in user.roles or ("administrator" in roles_after and active_after):
        return
    others = session.scalar(
        select(func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "administrator", User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise OperationError(
            f"{user.username} 是唯一启用中的系统管理员：请先给另一个账号分配系统管理员角色。"
        )


def create_user(
    username: str,
    password: str,
    roles,
    display_name: str = "",
    actor_name: str | None = None,
    must_change: bool = False,
) -> User:
    """Create a staff account; the password must be strong enough. With
    *must_change* (an administrator chose it) the user must replace it first.
    Raises :class:`FieldErrors` naming every field at fault."""
    username = username.strip()
    problems: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        problems["username"] = "用户名只能包含字母、数字和 . _ -，长度 2–64。"
    problem = password_problem(password)
    if problem:
        problems["password"] = problem
    try:
        roles = _check_roles(roles)
    except OperationError as exc:
        problems.update(exc.fields)
    if problems:  # all of them at once, each beside its field on the accounts page
        raise FieldErrors(problems)
    with db.write() as session:
        same = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if same is not None:  # org2 and ORG2 would be told apart by nobody
            raise OperationError(
                f"用户名 {same.username} 已存在（用户名不区分大小写）。", field="username"
            )
        user = User(
            username=username,
            display_name=one_line(display_name, 100),
            password_hash=hash_password(password),
            must_change_password=must_change,
        )
        user.role_rows = [UserRole(role=r) for r in roles]
        session.add(user)
        session.flush()
        record(session, "user_create", "user", user.id, {"username": username, "roles": roles},
               actor_name=actor_name)  # fmt: skip
    return user


def set_roles(user: User, roles, actor_name: str | None = None) -> User:
    roles = _check_roles(roles)
    with db.write() as session:
        user = session.get(User, user.id)
        _keep_an_administrator(session, user, roles, user.is_active)
        old = sorted(user.roles)
        user.role_rows = [UserRole(role=r) for r in roles]
        record(session, "user_roles", "user", user.id, {"old": old, "new": roles},
               actor_name=actor_name)  # fmt: skip
    return user


def set_active(user: User, active: bool, actor: User | None = None) -> User:
    """Enable or disable an account (a disabled one's sessions end). *actor*, the
    administrator doing it, cannot disable their own account: one click had
    logged them out for good, until another administrator enabled it again."""
    if not active and actor is not None and actor.id == user.id:
        raise OperationError(
            "不能停用自己正在使用的账号（停用后会立即退出且无法再登录）；"
            "确需停用，请由另一位系统管理员操作。"
        )
    with db.write() as session:
        user = session.get(User, user.id)
        if not active:
            _keep_an_administrator(session, user, user.roles, False)
        user.is_active = active
        user.session_version += 1
        record(session, "user_activate" if active else "user_deactivate", "user", user.id)
    return user


def _last_resets(session, user_id: int | None = None) -> dict[int, int]:
    """Each account's latest password reset by an administrator (on the accounts
    page or with ``survey reset-password``): the id of its audit event, recorded
    in the reset's own transaction. A user's own change and a rehash at log-in
    record no reset."""
    query = (
        select(AuditEvent.object_id, func.max(AuditEvent.id))
        .where(AuditEvent.action == "password_reset", AuditEvent.object_type == "user")
        .group_by(AuditEvent.object_id)
    )
    if user_id is not None:
        query = query.where(AuditEvent.object_id == str(user_id))
    return {int(object_id): last for object_id, last in session.execute(query)}


def _reset_token(user_id: int, last_reset: int) -> str:
    return signature(b"survey-password-reset-form", f"{user_id}:{last_reset}".encode()).decode()


def reset_form_tokens(users) -> dict[int, str]:
    """What the accounts page's 重置密码 forms send back, by user id: it changes
    with every reset by an administrator, so the same form sent twice resets the
    password only once. It was made from the password's hash, which a user's own
    change and a rehash at log-in change too: a form left open then said 已经重置
    and the administrator had to click again."""
    last = _last_resets(db.session)
    return {user.id: _reset_token(user.id, last.get(user.id, 0)) for user in users}


def reset_password(
    username: str,
    password: str | None = None,
    actor_name: str | None = None,
    form_token: str | None = None,
):
    """Set a new password (random if none given); ends the user's sessions.

    With *form_token* (the accounts page's form: :func:`reset_form_tokens` as the
    page was shown), nothing changes if an administrator reset the password
    since (a change by the user or a rehash does not count): reloading
    the page that showed a temporary password sent the form again and made a
    second one, and the first, perhaps already given out by telephone, no
    longer worked. Returns (user, password).
    """
    if password is None:
        password = secrets.token_urlsafe(12)
    problem = password_problem(password)
    if problem:
        raise OperationError(problem)
    with db.write() as session:
        user = session.scalar(
            select(User)
            .filter_by(username=username)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if user is None:
            raise OperationError(f"没有用户 {username}。")
        last = _last_resets(session, user.id).get(user.id, 0)  # after the row lock
        if form_token is not None and not hmac.compare_digest(
            form_token.encode(), _reset_token(user.id, last).encode()
        ):
            raise OperationError(
                f"{user.username} 的密码在这个页面打开之后已经重置过（刷新显示临时密码的"
                "页面会再次提交重置）：这次没有再重置，之前给出的临时密码仍然有效（除非该用户"
                "已自己改了密码）。确实需要新的临时密码，请在账号列表中再点一次“重置密码”。"
            )
        user.password_hash = hash_password(password)
        user.session_version += 1
        user.failed_logins = 0
        # Whoever reset it knows it: the user chooses their own at the next log-in.
        user.must_change_password = True
        record(session, "password_reset", "user", user.id, actor_name=actor_name)
    return user, password


def change_password(user: User, current: str, new: str, confirm: str, client: str = "") -> User:
    """The user replaces their own password: the current one must be right, the
    new one strong, different and typed twice. Ends the user's other sessions
    (the caller logs this one in again with the returned user).

    A wrong current password counts against the log-in limits of the account
    name from *client* (:func:`_guess_allowed`): whoever held a staff member's
    session could try passwords here without any limit, and with the right one
    take the account over."""
    if new != confirm:
        raise OperationError("两次输入的新密码不一致。", field="confirm")
    if new == current:
        raise OperationError("新密码不能与当前密码相同。", field="new")
    problem = password_problem(new)
    if problem:
        raise OperationError(problem, field="new")
    stamp = now().replace(tzinfo=UTC).timestamp()
    name = user.username.lower()
    if not _guess_allowed(name, client, stamp):
        raise OperationError(_too_many(stamp))
    with db.write() as session:
        user = session.get(User, user.id)
        if not verify_password(user.password_hash, current):
            raise OperationError("当前密码不正确。", field="current")
        user.password_hash = hash_password(new)
        user.session_version += 1
        user.must_change_password = False
        record(session, "password_change", "user", user.id, actor=user)
    _forgive_guess(name, client, stamp)
    return user


def _guess_allowed(name: str, client: str, stamp: float) -> bool:
    """Count one password tried for account *name* (lower case) from *client*
    against ``LOGIN_MAX_ATTEMPTS`` (this client) and ``LOGIN_ACCOUNT_MAX_ATTEMPTS``
    (all clients) in ``LOGIN_LOCK_SECONDS``; False when either is exceeded.
    Counted before the password is checked, so that parallel guesses cannot all
    pass; a right password is forgiven afterwards (:func:`_forgive_guess`)."""
    from survey.operations import abuse

    config = current_app.config
    window = config["LOGIN_LOCK_SECONDS"]
    allowed = abuse.hit(f"login:{client}:{name}", config["LOGIN_MAX_ATTEMPTS"], window, stamp)
    return (
        abuse.hit(f"login_account:{name}", config["LOGIN_ACCOUNT_MAX_ATTEMPTS"], window, stamp)
        and allowed
    )


def _forgive_guess(name: str, client: str, stamp: float) -> None:
    """A right password was no guess: it does not use up the limits. A
    statistician who had logged in a dozen times in 15 minutes was refused."""
    from survey.operations import abuse

    window = current_app.config["LOGIN_LOCK_SECONDS"]
    abuse.forgive(f"login:{client}:{name}", window, stamp)
    abuse.forgive(f"login_account:{name}", window, stamp)


def _too_many(stamp: float) -> str:
    from survey.operations import abuse

    minutes = -(-abuse.seconds_left(current_app.config["LOGIN_LOCK_SECONDS"], stamp) // 60)
    return f"尝试次数过多，请约 {minutes} 分钟后再试。"


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str | None = None  # Chinese, when refused


def attempt_login(username: str, password: str, client: str = "") -> LoginResult:
    """Check a password, with limits that an attacker cannot turn against the
    account's owner.

    Every failed attempt counts against two limits over ``LOGIN_LOCK_SECONDS`` (the
    rate-limit counters, shared by all app processes): ``LOGIN_MAX_ATTEMPTS`` for
    this account name from this *client* (its hashed address), and
    ``LOGIN_ACCOUNT_MAX_ATTEMPTS`` for the name from everywhere (against guessing
    from many addresses). An account was locked for everyone after 5 failures
    from anywhere: anyone could lock out the only administrator with 5 requests
    every 15 minutes. Unknown names go through the same steps, limits, password
    hashing and messages, so neither answer nor timing tells which names exist.
    """
    refused = "用户名或密码不正确。"
    stamp = now().replace(tzinfo=UTC).timestamp()
    key = username.strip().lower()
    allowed = _guess_allowed(key, client, stamp)
    with db.write() as session:
        user = session.scalar(select(User).where(func.lower(User.username) == key))
        ok = verify_password(user.password_hash if user else None, password)  # always: timing
        if not allowed:
            record(session, "login_failed", "user", user.id if user else "",
                   {"reason": "too_many"}, actor_name=user.username if user else "unknown")  # fmt: skip
            return LoginResult(None, _too_many(stamp))
        if not ok or user is None or not user.is_active:
            if user is not None:
                user.failed_logins += 1
            # An unknown name is often a password typed into the wrong field: not kept.
            record(session, "login_failed", "user", user.id if user else "", {},
                   actor_name=user.username if user else "unknown")  # fmt: skip
            return LoginResult(None, refused)
        user.failed_logins = 0
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        record(session, "login", "user", user.id, actor=user)
    _forgive_guess(key, client, stamp)
    return LoginResult(user)


def log_logout(user: User) -> None:
    """Record the log-out and end every session of the user (their cookies carry
    the session version)."""
    with db.write() as session:
        session.get(User, user.id).session_version += 1
        record(session, "logout", "user", user.id, actor=user)


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))
