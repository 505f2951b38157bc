"""URL rules of the resident's path (``/s/<channel token>/...``)."""

from flask import Blueprint

from survey.respond import controllers

bp = Blueprint("respond", __name__)
bp.before_request(controllers.remember_large_text)
bp.add_url_rule("/s/<token>", "landing", controllers.landing, methods=["GET"])
bp.add_url_rule("/s/<token>/start", "start", controllers.start, methods=["POST"])
bp.add_url_rule("/s/<token>/page", "page", controllers.page, methods=["POST"])
bp.add_url_rule("/s/<token>/thanks/<receipt>", "thanks", controllers.thanks, methods=["GET"])
bp.add_url_rule("/withdraw", "withdraw", controllers.withdraw, methods=["GET", "POST"])
