"""URL rules of the statistician's desk."""

from flask import Blueprint

from survey.auth.access import role_required
from survey.statdesk import controllers as c

STAT = role_required("statistician")
bp = Blueprint("statdesk", __name__, url_prefix="/staff/waves")
bp.add_url_rule("/<int:wave_id>/estimates", "estimates", STAT(c.estimates))
bp.add_url_rule("/<int:wave_id>/estimates/settings", "save_settings", STAT(c.save),
                methods=["POST"])  # fmt: skip
