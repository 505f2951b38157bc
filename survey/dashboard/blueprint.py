"""URL rules of the dashboard (organizers and administrators)."""

from flask import Blueprint

from survey.auth.access import role_required
from survey.dashboard import controllers as c

ROLES = ("organizer", "administrator")
bp = Blueprint("dashboard", __name__, url_prefix="/staff/waves")
bp.add_url_rule("/<int:wave_id>/dashboard", "page", role_required(*ROLES)(c.page))
bp.add_url_rule("/<int:wave_id>/dashboard.json", "data", role_required(*ROLES)(c.data_json))
bp.add_url_rule(
    "/<int:wave_id>/responses/<int:response_id>/exclude",
    "exclude",
    role_required("organizer")(c.exclude),
    methods=["POST"],
)
bp.add_url_rule(
    "/<int:wave_id>/responses/<int:response_id>",
    "response",
    role_required("organizer")(c.response),
)
