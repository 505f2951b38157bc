"""The audit log: every staff action is recorded inside the same transaction."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from survey.models import AuditEvent, User


def record(
    session: Session,
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: dict | None = None,
    actor: User | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Add an audit event to *session* (committed with the caller's change).

    The actor defaults to the logged-in staff member; CLI actions are recorded
    with ``actor_name='cli'``.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor_name or (actor.username if actor else "cli"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
    )
    session.add(event)
    return event
