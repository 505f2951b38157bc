"""Error pages in Chinese (404, 410, 413, 500, CSRF failures)."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError, PendingRollbackError

from survey.operations.responses import SubmitWaitTimeout
from survey.respond.controllers import csrf_error


def _staff() -> bool:
    return request.path.startswith("/staff")


def _page(status: int, title: str, text: str, staff_text: str | None = None,
          kept_on_phone: bool = False):  # fmt: skip
    """The error page: the resident's, or on staff addresses the staff layout with
    *staff_text* (a staff member is not told to scan a QR code again).
    *kept_on_phone*: the resident's page adds that the answers are still on the
    phone, shown only where app.js keeps them (local storage)."""
    # Error pages never need the signed-in user; loading it would query the
    # database again (Flask-Login's template context), which fails all over
    # when the database is what went away.
    if "_login_user" not in g:
        g._login_user = current_app.login_manager.anonymous_user()
    if _staff():
        text = staff_text or text
        return render_template("staff/error.html", status=status, title=title, text=text), status
    html = render_template("error.html", status=status, title=title, text=text,
                           kept_on_phone=kept_on_phone)  # fmt: skip
    return html, status


def _too_large(exc):
    if _staff():
        limit = request.max_content_length or 0
        return _page(413, _l("上传的内容过大"), "", _l(
            "文件最大 %(mb).1f MB。请删去多余的工作表、格式或空行后重试，或改用 CSV 文件。",
            mb=limit / 1024 / 1024,
        ))  # fmt: skip
    return _page(413, _l("提交内容过大"), _l("请缩短填写的文字后重新提交。"))


def _csrf_failed(reason):
    if _staff():
        return _page(400, _l("页面已过期"), "", _l(
            "页面打开太久，或已在别处退出登录。请刷新页面（必要时重新登录）后再操作一次。"
        ))  # fmt: skip
    return csrf_error(reason)


def _database_unavailable(exc):
    """The database is restarting or busy: a clear, retryable answer (never a bare 500).

    Retrying the same form is safe: the submission id makes it idempotent.
    """
    from survey.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the pool will replace it
        pass
    response, status = _page(
        503, _l("服务暂时繁忙"), _l("请稍等几秒后再点一次提交按钮；您已填写的内容不会丢失。"),
        _l("数据库暂时无法访问，请稍等几秒后重试；如持续出现，请联系系统管理员。"),
    )  # fmt: skip
    return response, status, {"Retry-After": "2"}


def init_app(app: Flask) -> None:
    # Connection lost, server restarting, session left unusable by such an error:
    # all retryable. (Integrity errors are handled inside the operations.)
    for error in (
        OperationalError,
        InterfaceError,
        InternalError,
        PendingRollbackError,
        SubmitWaitTimeout,
    ):
        app.register_error_handler(error, _database_unavailable)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(413, _too_large)
    pages = {
        400: (_l("请求无效"), _l("提交的内容不完整或不正确，请返回上一页重新操作。"), None),
        403: (_l("没有权限"), _l("您没有访问这个页面的权限。"),
              _l("您的账号没有访问这个页面的权限；如工作需要，请联系系统管理员为您分配相应角色。")),
        404: (_l("页面不存在"), _l("链接可能有误或已失效，请重新扫描二维码。"),
              _l("链接可能有误，或所指的记录已不存在；请从导航栏重新进入。")),
        405: (_l("请求方式不正确"), _l("请返回上一页，通过页面上的按钮操作。"), None),
        500: (_l("服务器出现问题"), _l("请稍后重试。"),
              _l("请稍后重试；如一再出现，请把出现的时间和操作告诉系统管理员。")),
    }  # fmt: skip
    for code, texts in pages.items():
        app.register_error_handler(
            code,
            lambda e, texts=texts, kept=code == 500: _page(
                e.code or 500, *texts, kept_on_phone=kept
            ),
        )
