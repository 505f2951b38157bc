"""URL rules of the resident's path (``/s/<channel token>/...``)."""

from flask import Blueprint

from survey.extensions import csrf
from survey.respond import controllers
from survey.respond import csrf as resident_csrf

bp = Blueprint("respond", __name__)
# Residents' forms carry tokens bound to the device cookie, not to a session
# (survey/respond/csrf.py); Flask-WTF keeps guarding every other form.
csrf.exempt(bp)
bp.before_request(resident_csrf.protect)
bp.context_processor(lambda: {"csrf_token": resident_csrf.token})
bp.after_request(controllers.after_resident_request)
bp.before_request(controllers.remember_large_text)
bp.add_url_rule("/s/<token>", "landing", controllers.landing, methods=["GET"])
bp.add_url_rule("/s/<token>/start", "start", controllers.start, methods=["POST"])
bp.add_url_rule("/s/<token>/page", "page", controllers.page, methods=["POST"])
# The questionnaire's POST-only addresses opened directly (a copied link, the
# history, a tab the phone restored): on to the channel's landing page.
bp.add_url_rule("/s/<token>/start", "reopened", controllers.reopened, methods=["GET"])
bp.add_url_rule("/s/<token>/page", "reopened", controllers.reopened, methods=["GET"])
bp.add_url_rule("/s/<token>/thanks", "thanks", controllers.thanks, methods=["GET"])
# Addresses given before the receipt code moved from the address to a cookie.
bp.add_url_rule(
    "/s/<token>/thanks/<receipt>", "thanks_link", controllers.thanks_link, methods=["GET"]
)
bp.add_url_rule("/withdraw", "withdraw", controllers.withdraw, methods=["GET", "POST"])
