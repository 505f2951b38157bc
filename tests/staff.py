"""Helpers for staff tests: users with roles, logged in without the login form."""

from __future__ import annotations

from survey.extensions import db
from survey.models import User, UserRole


def make_user(app, username: str, *roles: str) -> User:
    with app.app_context():
        with db.write() as session:
            user = User(username=username, display_name=username, password_hash="x")
            user.role_rows = [UserRole(role=r) for r in roles]
            session.add(user)
        return user


def log_in(client, user: User) -> None:
    with client.application.app_context():  # its current version: a log-out raises it
        version = db.session.get(User, user.id).session_version
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:{version}"
        sess["_fresh"] = True
