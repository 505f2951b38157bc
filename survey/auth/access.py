"""Role checks for staff pages and JSON endpoints.

Anonymous visitors are sent to the login page (JSON endpoints get 401);
logged-in staff without one of the required roles get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, redirect, request, url_for
from flask_login import LoginManager, current_user
from sqlalchemy import select

from survey.extensions import db
from survey.models import User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        uid, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.scalar(select(User).filter_by(id=uid))
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def _wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def role_required(*roles: str) -> Callable:
    """Allow the view to staff holding at least one of *roles*."""

    def decorator(view: Callable) -> Callable:
        view._required_roles = roles  # read by the route × role test

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if _wants_json():
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if not current_user.has_role(*roles):
                abort(403)
            if current_user.must_change_password and request.endpoint != "auth.password":
                if _wants_json():
                    abort(403)
                return redirect(url_for("auth.password"))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    from survey.auth.nav import staff_nav
    from survey.models.staff import ROLE_LABELS

    login_manager.init_app(app)
    app.jinja_env.globals["staff_nav"] = staff_nav
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
