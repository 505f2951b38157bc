"""Quota checks on the resident's path.

The foundation has no quota plans yet: every cell is open. The fieldwork
issue replaces these with checks against the wave's quota plan.
"""

from __future__ import annotations

from questionnaires.engine import answers_to_labels

ROLES = ("district", "sex", "age_group", "urban_rural")


def cells_of(q, answers: dict) -> dict[str, str | None]:
    """The respondent's cell variables (frame labels) from their answers."""
    labels = answers_to_labels(q, answers)
    return {role: labels.get(qid) for role, qid in q.roles.items() if role in ROLES}


def is_full_before_submit(channel, cells: dict) -> bool:
    """True when the respondent's cell is known and already full (close policy)."""
    return False


def reserve(session, submission) -> str:
    """Reserve a quota place inside the submit transaction: ok / over / full."""
    return "ok"
