"""URL rules of exports (statisticians)."""

from flask import Blueprint

from survey.auth.access import role_required
from survey.exports import controllers as c

STAT = role_required("statistician")
bp = Blueprint("exports", __name__, url_prefix="/staff/waves")
bp.add_url_rule("/<int:wave_id>/exports", "page", STAT(c.page))
bp.add_url_rule(
    "/<int:wave_id>/exports/microdata.<fmt>", "download", STAT(c.download), methods=["POST"]
)
bp.add_url_rule("/<int:wave_id>/exports/estimates.<fmt>", "estimates", STAT(c.estimates_download),
                methods=["POST"])  # fmt: skip
