"""URL rules of the statistician's desk."""

from flask import Blueprint

from survey.auth.access import role_required
from survey.statdesk import controllers as c

bp = Blueprint("statdesk", __name__, url_prefix="/staff/waves")
bp.add_url_rule("/<int:wave_id>/estimates", "estimates", role_required("statistician")(c.estimates))
