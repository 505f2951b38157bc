"""URL rules: /staff/admin/... (administrators) and /staff/audit (organizers too)."""

from flask import Blueprint

from survey.admin import controllers as c
from survey.auth.access import role_required
from survey.auth.nav import register

ADMIN = ("administrator",)
bp = Blueprint("admin", __name__, url_prefix="/staff")


def rule(path, endpoint, view, roles, methods=("GET",)):
    bp.add_url_rule(path, endpoint, role_required(*roles)(view), methods=list(methods))


rule("/admin/users", "users", c.users, ADMIN)
rule("/admin/users/new", "create_user", c.create_user_view, ADMIN, ("POST",))
rule("/admin/users/<int:user_id>", "update_user", c.update_user, ADMIN, ("POST",))
rule("/admin/waves", "waves", c.waves, ADMIN)
rule("/admin/waves/new", "create_wave", c.create_wave_view, ADMIN, ("POST",))
rule("/admin/waves/<int:wave_id>", "update_wave", c.update_wave_view, ADMIN, ("POST",))
rule("/audit", "audit", c.audit, ("organizer", "administrator"))
register("admin.users", "账号管理", "administrator")
register("admin.waves", "轮次管理", "administrator")
register("admin.audit", "操作日志", "organizer", "administrator")
