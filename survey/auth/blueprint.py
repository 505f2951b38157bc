"""URL rules: /staff/login, /staff/logout, /staff/."""

from flask import Blueprint

from survey.auth import controllers
from survey.auth.access import role_required
from survey.models.staff import ROLES

bp = Blueprint("auth", __name__, url_prefix="/staff")
bp.add_url_rule("/login", "login", controllers.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", "logout", controllers.logout, methods=["POST"])
bp.add_url_rule("/", "home", role_required(*ROLES)(controllers.home))
bp.add_url_rule(
    "/password", "password", role_required(*ROLES)(controllers.password), methods=["GET", "POST"]
)
