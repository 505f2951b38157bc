"""Sample values for URL parameters of staff routes, for the route × role walk.

Add an entry when a new staff route takes a new URL parameter.
"""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import Channel, QuotaCell, Response, User


def _first(model, **filters):
    return db.session.scalar(select(model.id).filter_by(**filters).order_by(model.id).limit(1))


#: parameter name -> function(wave_id) returning a value (inside an app context)
SAMPLES = {
    "wave_id": lambda wave_id: wave_id,
    "cell_id": lambda wave_id: _first(QuotaCell, wave_id=wave_id),
    "channel_id": lambda wave_id: _first(Channel, wave_id=wave_id),
    "response_id": lambda wave_id: _first(Response, wave_id=wave_id),
    "user_id": lambda wave_id: _first(User),
    "fmt": lambda wave_id: "csv",
}
