"""Creating and editing survey waves from the administrator's form."""

from __future__ import annotations

from datetime import date

from survey.extensions import db
from survey.models import City, QuestionnaireVersion, Wave
from survey.operations.audit import record
from survey.operations.cities import check_quota_policy, create_wave, wave_name_free
from survey.operations.errors import OperationError
from survey.operations.names import one_line


def _date(value: str | None, label: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OperationError(f"{label}格式应为 YYYY-MM-DD。", field=field) from None


def _dates(form) -> tuple[date | None, date | None]:
    start = _date(form.get("starts_on"), "开始日期", "starts_on")
    end = _date(form.get("ends_on"), "结束日期", "ends_on")
    if start and end and end < start:
        raise OperationError("结束日期不能早于开始日期。", field="ends_on")
    return start, end


def _id(value: str | None) -> int:
    """A record id from a form's select (0, found nowhere, for anything else)."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


def create_wave_from_form(form) -> Wave:
    city = db.session.get(City, _id(form.get("city_id")))
    version = db.session.get(QuestionnaireVersion, _id(form.get("questionnaire_id")))
    name = (form.get("name") or "").strip()
    if city is None or version is None or not name:
        missing = "name" if not name else "city_id" if city is None else "questionnaire_id"
        raise OperationError("请选择城市和问卷，并填写轮次名称（如 2026年度）。", field=missing)
    start, end = _dates(form)
    wave = create_wave(
        city, name, version, one_line(form.get("organizer") or "", 200), start, end,
        form.get("quota_policy") or "close",
    )  # fmt: skip
    return wave


def update_wave(wave: Wave, form) -> Wave:
    from survey.operations.channel_cache import forget_channels

    start, end = _dates(form)
    policy = form.get("quota_policy") or wave.quota_policy
    check_quota_policy(policy)
    with db.write() as session:
        wave = session.get(Wave, wave.id)
        name = wave_name_free(session, wave.city_id, form.get("name") or wave.name, wave.id)
        old = {"name": wave.name, "organizer": wave.organizer, "starts_on": str(wave.starts_on),
               "ends_on": str(wave.ends_on), "quota_policy": wave.quota_policy}  # fmt: skip
        wave.name = name
        wave.organizer = one_line(form.get("organizer") or "", 200)
        wave.starts_on, wave.ends_on, wave.quota_policy = start, end, policy
        new = {"name": name, "organizer": wave.organizer, "starts_on": str(start), "ends_on": str(end),
               "quota_policy": policy}  # fmt: skip
        record(session, "wave_update", "wave", wave.id, {"old": old, "new": new})
    forget_channels()
    return wave
