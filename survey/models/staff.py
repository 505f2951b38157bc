"""Staff accounts, their roles, and the append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, utcnow

ADMINISTRATOR = "administrator"
ORGANIZER = "organizer"
STATISTICIAN = "statistician"
ROLES = (ADMINISTRATOR, ORGANIZER, STATISTICIAN)
ROLE_LABELS = {ADMINISTRATOR: "管理员", ORGANIZER: "调查组织者", STATISTICIAN: "统计分析人员"}


class User(Base):
    """A staff member who logs in with a password. Residents never have accounts."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name (ASCII letters, digits, ``._-``); unique.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: Name shown in pages and the audit log.
    display_name: Mapped[str] = mapped_column(String(100), default="")
    #: Argon2id hash of the password (never the password).
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Disabled accounts cannot log in.
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Consecutive failed logins since the last success (information only: the
    #: limits are counted per account name and client, operations.users.attempt_login).
    failed_logins: Mapped[int] = mapped_column(default=0)
    #: Neither set nor read since stop 17 (accounts are no longer locked for everyone:
    #: operations.users.attempt_login); the column stays until a migration drops it.
    locked_until: Mapped[datetime | None]
    #: Bumped on password change or reset and on log-out: invalidates existing sessions.
    session_version: Mapped[int] = mapped_column(default=1)
    #: The password was set by an administrator (new account, reset): the user must
    #: choose their own before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Creation time.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class UserRole(Base):
    """One role held by a user; a user may hold several."""

    __tablename__ = "staff_user_role"
    __table_args__ = (
        CheckConstraint(
            "role in ('administrator', 'organizer', 'statistician')", name="known_role"
        ),
    )

    #: The user holding the role.
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    #: administrator, organizer or statistician.
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class AuditEvent(Base):
    """An append-only record of a staff action. Never updated or deleted by the app."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When it happened (UTC).
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Who did it (null for failed logins of unknown names and for CLI actions).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: The actor's username at the time (kept even if the account is renamed).
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    #: What was done, e.g. login, logout, login_failed, quota_change, channel_close.
    action: Mapped[str] = mapped_column(String(40), index=True)
    #: The kind and id of the object acted on, e.g. ("channel", "12").
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    #: Details (old and new values, file names, counts).
    detail: Mapped[dict] = mapped_column(default=dict)
