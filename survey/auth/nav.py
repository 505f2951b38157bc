"""The staff menu: each feature registers its pages with the roles that see them."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

#: (endpoint, label, roles); filled by blueprints at import time.
STAFF_NAV: list[tuple[str, str, tuple[str, ...]]] = []


def register(endpoint: str, label: str, *roles: str) -> None:
    if not any(item[0] == endpoint for item in STAFF_NAV):
        STAFF_NAV.append((endpoint, label, roles))


def staff_nav() -> list[tuple[str, str]]:
    """Menu entries the current user may open."""
    if not current_user.is_authenticated:
        return []
    return [
        (endpoint, label)
        for endpoint, label, roles in STAFF_NAV
        if endpoint in current_app.view_functions and current_user.has_role(*roles)
    ]
