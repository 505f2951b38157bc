"""URL rules of fieldwork control (organizers; wave list for every staff role)."""

from flask import Blueprint

from survey.auth.access import role_required
from survey.auth.nav import register
from survey.fieldwork import controllers as c

ORG = ("organizer", "administrator")
bp = Blueprint("fieldwork", __name__, url_prefix="/staff/waves")


def rule(path, endpoint, view, roles, methods=("GET",)):
    bp.add_url_rule(path, endpoint, role_required(*roles)(view), methods=list(methods))


rule("/", "waves", c.waves, ("organizer", "administrator", "statistician"))
rule("/<int:wave_id>/frame", "frame", c.frame, ORG, ("GET", "POST"))
rule("/<int:wave_id>/quotas", "quotas", c.quotas, ORG)
rule("/<int:wave_id>/quotas/plan", "plan", c.plan, ORG, ("POST",))
rule("/<int:wave_id>/quotas/<int:cell_id>", "edit_cell", c.edit_cell, ORG, ("POST",))
rule("/<int:wave_id>/channels", "channels", c.channels, ORG)
rule("/<int:wave_id>/channels/new", "add_channel", c.add_channel, ORG, ("POST",))
rule(
    "/<int:wave_id>/channels/<int:channel_id>/open",
    "toggle_channel",
    c.toggle_channel,
    ORG,
    ("POST",),
)
rule("/<int:wave_id>/posters", "posters", c.posters, ORG)
register("fieldwork.waves", "调查轮次", "organizer", "administrator", "statistician")
