"""Views for administrators (accounts, waves) and the audit log (organizers too)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import ROLES, AuditEvent, City, QuestionnaireVersion, User, Wave
from survey.models.staff import ROLE_LABELS
from survey.operations.cities import QUOTA_POLICY_LABELS
from survey.operations.errors import OperationError
from survey.operations.quality import beijing_midnight, beijing_time, local_day
from survey.operations.users import (
    create_user,
    reset_form_tokens,
    reset_password,
    set_active,
    set_roles,
)
from survey.operations.waves import create_wave_from_form, update_wave
from survey.web import get_or_404

PAGE_SIZE = 50

ACTION_LABELS = {
    "login": "登录", "login_failed": "登录失败", "logout": "退出登录",
    "user_create": "创建账号", "user_roles": "修改角色", "user_activate": "启用账号",
    "user_deactivate": "停用账号", "password_reset": "重置密码", "password_change": "修改密码",
    "city_create": "创建城市", "wave_create": "创建调查轮次", "wave_update": "修改调查轮次",
    "frame_import": "导入人口数据", "quota_plan": "生成配额", "quota_change": "修改配额",
    "channel_create": "创建采集点", "channel_open": "开启采集点", "channel_close": "关闭采集点",
    "response_exclude": "剔除答卷", "response_restore": "恢复答卷", "response_keep": "核查后保留答卷",
    "response_withdraw": "受访者撤回答卷", "paradata_purge": "清除过期散列",
    "export": "导出数据", "report": "生成报告", "wave_comparison": "设置上年比较",
    "wave_settings": "保存发布口径", "questionnaire_load": "导入问卷",
}  # fmt: skip
OBJECT_LABELS = {"user": "账号", "city": "城市", "wave": "调查轮次", "channel": "采集点",
                 "quota_cell": "配额单元", "response": "答卷", "questionnaire": "问卷"}  # fmt: skip


#: The keys of events' details, as the log shows them (keys not listed: as they are).
DETAIL_LABELS = {
    "reason": "原因", "label": "名称", "cell": "单元", "old": "原值", "new": "新值",
    "format": "格式", "rows": "行数", "what": "内容", "total": "总样本量",
    "per_district": "各区县", "min": "每区县至少", "username": "用户名", "roles": "角色",
    "name": "名称", "city": "城市", "province": "省份", "districts": "区县数",
    "population": "人口", "file": "文件", "encoding": "编码", "days": "保留天数",
    "wave_id": "调查轮次", "district": "区县", "wave": "比较轮次", "figures": "公布结果项数",
    "source": "来源", "cells": "配额单元", "recounted": "按现有有效答卷重新计数",
    "over_target": "其中超出新目标", "settings": "口径",
    "over_quota": "超出目标的有效答卷", "organizer": "调查单位", "starts_on": "开始日期",
    "ends_on": "结束日期", "quota_policy": "单元满额时", "questionnaire": "问卷",
    "version": "版本", "title": "标题", "change": "变动",
}  # fmt: skip
#: Values recorded as codes, in words.
DETAIL_VALUES = {"too_many": "尝试次数过多", "microdata": "答卷数据", "estimates": "估计结果表",
                 "version_added": "新版本", "version_replaced": "替换了尚无答卷的同一版本的内容"}  # fmt: skip
#: Details that list an account's roles (recorded as codes: administrator …).
ROLE_KEYS = {"roles", "old", "new"}


def _setting_text(key: str, value) -> str:
    """One of a wave's old or new settings in words: the quota policy as the
    form says it, a date not set (recorded as "None") as 未设, "" as （空）."""
    if value is None or value == "None":
        return "未设"
    if value == "":
        return "（空）"
    if key == "quota_policy":  # as the wave settings form says it
        return str(QUOTA_POLICY_LABELS.get(value, value))
    return str(value)


#: Who acted, when no staff account did: the names operations record.
ACTOR_LABELS = {"cli": "命令行（服务器上）", "respondent": "受访者（凭回执码）", "demo": "演示数据"}


def _actor_text(event: AuditEvent) -> str:
    """Who acted, as the log shows it: a staff member's user name, or in words
    the command line, a respondent (a withdrawal) … A failed login names the
    account tried, if there is one (its user name could be any of these words)."""
    if event.actor_id is not None:
        return event.actor_name
    if event.action == "login_failed":
        return event.actor_name if event.object_id else "（无此账号）"
    return ACTOR_LABELS.get(event.actor_name, event.actor_name)


def _detail_text(detail) -> str:
    """An event's details as text a person reads (Chinese as it is, not \\u escapes)."""
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    parts = []
    for key, value in detail.items():
        if isinstance(value, list | tuple):  # an account's roles in words, as on its page
            value = "、".join(
                ROLE_LABELS.get(v, str(v)) if key in ROLE_KEYS else str(v) for v in value
            )
        elif isinstance(value, dict):  # a wave's old and new settings, sizes by district
            value = "，".join(
                f"{DETAIL_LABELS.get(k, k)} {_setting_text(k, v)}" for k, v in value.items()
            )
        elif isinstance(value, str):
            value = DETAIL_VALUES.get(value, value) or "（未填）"  # e.g. no reason given
        parts.append(f"{DETAIL_LABELS.get(key, key)}：{value}")
    return "；".join(parts)


def _users_page(status: int = 200, **shown):
    """The accounts page; *shown*: a temporary password just set (``temp``), or
    the refused new-account form as typed (``new_user``) and its ``errors``."""
    rows = list(db.session.scalars(select(User).order_by(User.username)))
    page = render_template(
        "admin/users.html", users=rows, roles=ROLES, reset_tokens=reset_form_tokens(rows),
        temp=shown.get("temp"), new_user=shown.get("new_user") or {},
        errors=shown.get("errors") or {},
    )  # fmt: skip
    return page, status


def users():
    return _users_page()


def create_user_view():
    typed = {
        "username": request.form.get("username", ""),
        "display_name": request.form.get("display_name", ""),
        "roles": request.form.getlist("roles"),
    }
    try:
        create_user(
            typed["username"], request.form.get("password", ""), typed["roles"],
            typed["display_name"], must_change=True,  # the administrator chose it
        )  # fmt: skip
    except OperationError as exc:
        # The form again as typed (never the password), each error beside its field.
        return _users_page(422, new_user=typed, errors=exc.fields or {"": str(exc)})
    flash("账号已创建。")
    return redirect(url_for("admin.users"))


def _user(user_id: int) -> User:
    return get_or_404(User, user_id)


def update_user(user_id: int):
    user = _user(user_id)
    action = request.form.get("action")
    try:
        if action == "roles":
            set_roles(user, request.form.getlist("roles"))
            flash(f"{user.username} 的角色已更新。")
        elif action in ("activate", "deactivate"):
            set_active(user, action == "activate", actor=current_user._get_current_object())
            flash(f"{user.username} 已{'启用' if action == 'activate' else '停用'}。")
        elif action == "reset":
            # The form's token: a resent form (the page reloaded) changes nothing.
            _, password = reset_password(user.username, form_token=request.form.get("token", ""))
            return _users_page(temp=(user.username, password))
        else:
            abort(400)
    except OperationError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))


def _waves_page(status: int = 200, new_wave=None, errors=None):
    """The waves page; a refused new-wave form as typed (*new_wave*) and its *errors*."""
    rows = db.session.scalars(select(Wave).order_by(Wave.id.desc()))
    page = render_template(
        "admin/waves.html",
        waves=list(rows),
        cities=list(db.session.scalars(select(City).order_by(City.name))),
        questionnaires=list(
            db.session.scalars(
                select(QuestionnaireVersion).order_by(
                    QuestionnaireVersion.slug, QuestionnaireVersion.version.desc()
                )
            )
        ),
        local_day=local_day,
        new_wave=new_wave or {},
        errors=errors or {},
    )
    return page, status


def waves():
    return _waves_page()


WAVE_FIELDS = ("city_id", "name", "questionnaire_id", "organizer", "starts_on", "ends_on",
               "quota_policy")  # fmt: skip


def create_wave_view():
    try:
        wave = create_wave_from_form(request.form)
    except OperationError as exc:
        typed = {field: request.form.get(field, "") for field in WAVE_FIELDS}
        return _waves_page(422, typed, exc.fields or {"": str(exc)})
    flash(f"已创建调查轮次 {wave.name}。")
    return redirect(url_for("admin.waves"))


def update_wave_view(wave_id: int):
    wave = get_or_404(Wave, wave_id)
    try:
        update_wave(wave, request.form)
    except OperationError as exc:
        flash(str(exc), "error")
    else:
        flash("轮次信息已保存。")
    return redirect(url_for("admin.waves"))


def _date(text: str | None) -> date | None:
    """A filter's day, or None (ignored) when it is not a date of this era."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or date(2000, 1, 1) <= day <= date(2999, 12, 31) else None


def _object_texts(events: list[AuditEvent]):
    """What each event acted on, as the log shows it: an account by its user name
    and a wave by its name, not by a number the pages never show (账号 3)."""
    named = {"user": (User, User.username), "wave": (Wave, Wave.name)}
    names: dict[tuple[str, str], str] = {}
    for kind, (model, column) in named.items():
        ids = {int(e.object_id) for e in events
               if e.object_type == kind and e.object_id.isascii() and e.object_id.isdigit()}  # fmt: skip
        if ids:
            rows = db.session.execute(select(model.id, column).where(model.id.in_(ids)))
            names.update({(kind, str(i)): name for i, name in rows})

    def text(event: AuditEvent) -> str:
        label = OBJECT_LABELS.get(event.object_type, event.object_type)
        return f"{label} {names.get((event.object_type, event.object_id), event.object_id)}"

    return text


def audit():
    action = request.args.get("action", "")
    start, end = _date(request.args.get("from")), _date(request.args.get("to"))
    try:
        page = min(max(1, int(request.args.get("page", 1))), 1_000_000)
    except ValueError:
        page = 1
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if start:  # a day in China time, the log's times being UTC
        query = query.where(AuditEvent.at >= beijing_midnight(start))
    if end:
        query = query.where(AuditEvent.at < beijing_midnight(end + timedelta(days=1)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    events = db.session.scalars(
        query.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )
    events = list(events)
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return render_template(
        "admin/audit.html",
        events=events,
        actions=list(actions),
        object_text=_object_texts(events),
        action=action,
        start=request.args.get("from", ""),
        end=request.args.get("to", ""),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        labels=ACTION_LABELS,
        detail_text=_detail_text,
        actor_text=_actor_text,
        beijing_time=beijing_time,
        total=total,
    )
