"""Log in, log out, and the staff home page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from survey.auth.nav import staff_nav
from survey.operations import abuse
from survey.operations.errors import OperationError
from survey.operations.users import attempt_login, change_password, log_logout
from survey.respond.paradata import client_hash


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site."""
    if not target:
        return url_for("auth.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("auth.home")
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        # A line break in it was a server error (Werkzeug refuses it in a header);
        # browsers drop tabs and line breaks from addresses ("/\t/evil" is "//evil").
        return url_for("auth.home")
    return target


#: What a session keeps across log-in and log-out: the visitor's own display
#: choices, nothing anyone else could have put there to use later.
KEPT_ACROSS_LOG_IN = ("lang", "large")


def _new_session() -> None:
    """Begin a new session (log-in, log-out): a session cookie planted before
    the log-in (set for the parent domain by a sibling site, left on a shared
    computer) gave whoever planted it the CSRF token of the logged-in session;
    the token of a logged-out session stayed with the next user."""
    kept = {key: session[key] for key in KEPT_ACROSS_LOG_IN if key in session}
    session.clear()
    session.update(kept)


def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("auth.home"))
        return render_template("auth/login.html", next=request.args.get("next", ""))
    limit, window = current_app.config["RATE_LIMITS"].get("login_client", (0, 60))
    if not abuse.hit(f"login_client:{client_hash()}", limit, window):
        return render_template(
            "auth/login.html", error="登录尝试过于频繁，请稍后再试。", next=""
        ), 429
    result = attempt_login(
        request.form.get("username", "")[:64], request.form.get("password", ""), client_hash()
    )
    if result.user is None:
        return render_template(
            "auth/login.html",
            error=result.message,
            username=request.form.get("username", "")[:64],
            next=request.form.get("next", ""),
        ), 401
    _new_session()
    login_user(result.user)
    return redirect(_safe_next(request.form.get("next")))


@login_required
def logout():
    # Ends this session everywhere: the session is a signed cookie, and a copy of it
    # stayed valid for 31 days after logging out (a security review's finding).
    log_logout(current_user._get_current_object())
    logout_user()
    _new_session()
    flash("您已安全退出。")
    return redirect(url_for("auth.login"))


def home():
    return render_template("auth/home.html", links=staff_nav())


def password():
    """Change one's own password (required first after an administrator set it)."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = change_password(
                current_user._get_current_object(),
                request.form.get("current", ""),
                request.form.get("new", ""),
                request.form.get("confirm", ""),
                client_hash(),
            )
        except OperationError as exc:
            errors = exc.fields or {"": str(exc)}
        else:
            login_user(user)  # this session, with the new session version
            flash("密码已修改；其他设备上的登录已退出。")
            return redirect(url_for("auth.home"))
    return render_template(
        "auth/password.html", errors=errors, forced=current_user.must_change_password
    ), (422 if errors else 200)
