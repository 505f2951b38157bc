"""Dashboard page, its JSON endpoint, and excluding/restoring flagged responses."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from survey.models import Wave
from survey.operations.dashboard import FLAG_LABELS, dashboard_data, device_label
from survey.operations.errors import OperationError
from survey.operations.quality import response_for_review, set_excluded
from survey.web import get_or_404


def _wave(wave_id: int) -> Wave:
    return get_or_404(Wave, wave_id)


def page(wave_id: int):
    wave = _wave(wave_id)
    data = dashboard_data(wave)
    peak = max([d["completions"] for d in data["daily"]] or [1])
    return render_template(
        "dashboard/page.html", wave=wave, data=data, peak=peak, flag_labels=FLAG_LABELS
    )


def data_json(wave_id: int):
    data = dashboard_data(_wave(wave_id))
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def exclude(wave_id: int, response_id: int):
    _wave(wave_id)
    excluded = request.form.get("excluded") == "1"
    try:
        done = set_excluded(response_id, excluded, request.form.get("reason", ""), wave_id=wave_id)
    except OperationError as exc:
        flash(str(exc), "error")
    else:
        flash(_decision_message(done))
    return redirect(url_for("dashboard.page", wave_id=wave_id) + "#flagged")


def _decision_message(response) -> str:
    """What the organizer's decision on a response did, in words."""
    if response.decision == "response_exclude":
        return f"答卷 {response.id} 已剔除：不计入估计和有效数据导出，也不占配额名额。"
    if response.decision == "response_restore":
        return f"答卷 {response.id} 已恢复，计入有效数据。" + (
            "它所在的配额单元已满，这份答卷计为超额。" if response.over_quota else ""
        )
    if response.decision == "unchanged":
        if response.excluded:
            return f"答卷 {response.id} 已经剔除，未做改动。"
        return f"答卷 {response.id} 已经核查过并计入有效数据，未做改动。"
    return f"答卷 {response.id} 已保留，计入有效数据。"


def response(wave_id: int, response_id: int):
    """One flagged response's answers, to decide on it (organizers)."""
    wave = _wave(wave_id)
    try:
        review = response_for_review(wave.id, response_id)
    except OperationError:
        abort(404)
    return render_template("dashboard/response.html", wave=wave, flag_labels=FLAG_LABELS,
                           device=device_label(review["response"].device_class),
                           **review)  # fmt: skip
