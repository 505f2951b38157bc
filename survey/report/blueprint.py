"""URL rules of the report section (statisticians)."""

from flask import Blueprint

from survey.auth.access import role_required
from survey.report import controllers as c

STAT = role_required("statistician")
bp = Blueprint("report", __name__, url_prefix="/staff/waves")
bp.add_url_rule("/<int:wave_id>/report", "html", STAT(c.report_html))
bp.add_url_rule("/<int:wave_id>/report.docx", "docx", STAT(c.report_docx))
bp.add_url_rule("/<int:wave_id>/comparison", "comparison", STAT(c.comparison),
                methods=["GET", "POST"])  # fmt: skip
