"""Error pages in Chinese (404, 410, 413, 500, CSRF failures)."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError, PendingRollbackError

from survey.operations.responses import SubmitWaitTimeout
from survey.respond.controllers import csrf_error


def _page(status: int, title: str, text: str):
    # Error pages never need the signed-in user; loading it would query the
    # database again (Flask-Login's template context), which fails all over
    # when the database is what went away.
    if "_login_user" not in g:
        g._login_user = current_app.login_manager.anonymous_user()
    return render_template("error.html", status=status, title=title, text=text), status


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
        503, _l("服务暂时繁忙"), _l("请稍等几秒后再点一次提交按钮；您已填写的内容不会丢失。")
    )
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
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(
        404, lambda e: _page(404, _l("页面不存在"), _l("链接可能有误或已失效，请重新扫描二维码。"))
    )
    app.register_error_handler(
        413, lambda e: _page(413, _l("提交内容过大"), _l("请缩短填写的文字后重新提交。"))
    )
    app.register_error_handler(
        405, lambda e: _page(405, _l("请求方式不正确"), _l("请返回上一页，通过页面上的按钮操作。"))
    )
    app.register_error_handler(
        500,
        lambda e: _page(500, _l("服务器出现问题"), _l("请稍后重试；您填写的内容仍保存在本机。")),
    )
