"""Small helpers shared by the views."""

from __future__ import annotations

from flask import abort

from survey.extensions import db


def get_or_404(model, ident):
    """The object with primary key *ident*, or a 404 page."""
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj
