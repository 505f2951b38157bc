"""Views of fieldwork control: parse, call operations, render."""

from __future__ import annotations

import math

from flask import (
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from analysis.samplesize import sample_size_for_margin, sample_size_for_target
from survey.extensions import db
from survey.models import Channel, District, QuotaPlan, Wave
from survey.operations.cities import create_channel, set_channel_open
from survey.operations.errors import OperationError
from survey.operations.frames import FrameError, frame_summary, import_frame
from survey.operations.quotas import (
    MAX_SAMPLE,
    cells_label,
    make_plan,
    quota_cells,
    recount_text,
    set_target,
)
from survey.qrcodes import poster_channels, poster_times, qr_svg
from survey.respond.fieldwork import channel_state
from survey.web import get_or_404


def _wave(wave_id: int) -> Wave:
    return get_or_404(Wave, wave_id)


def waves():
    rows = db.session.scalars(select(Wave).order_by(Wave.id.desc()))
    return render_template("fieldwork/waves.html", waves=list(rows))


def frame(wave_id: int):
    wave = _wave(wave_id)
    problems = []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems = ["请选择要上传的 CSV 或 Excel（.xlsx）文件。"]
        else:
            try:
                count = import_frame(wave, upload.read(), upload.filename)
            except FrameError as exc:
                problems = exc.problems
            else:
                flash(f"已导入 {count} 个人口单元。" + _plan_kept_note(wave))
                return redirect(url_for("fieldwork.frame", wave_id=wave.id))
    status = 422 if problems else 200
    summary = frame_summary(wave.id)
    return render_template(
        "fieldwork/frame.html", wave=wave, problems=problems, summary=summary
    ), status


def _plan_kept_note(wave: Wave) -> str:
    """After a new frame: a plan made from the old one is not remade by itself."""
    if db.session.get(QuotaPlan, wave.id) is None:
        return "下一步：到“配额”页面生成配额方案。"
    return (
        "现有配额方案仍按原来的人口数据分配：如要按新数据分配，"
        "请到“配额”页面重新生成（已收集的有效答卷会按新方案重新计数）。"
    )


def _float(name: str, default: float) -> float:
    try:
        value = float(request.args.get(name, default))
    except ValueError:
        return default
    return value if math.isfinite(value) else default  # "nan", "inf"


#: The flash category of a cell's outcome, followed by its id: the quotas page
#: shows it in the cell's row (the page's base template leaves it out).
CELL_NOTE = "cell-"


def _cell_notes(cell_ids: set[int]) -> tuple[dict[int, list[str]], list[str]]:
    """This request's flashed cell outcomes: by cell, and those of cells the page
    no longer shows (a plan remade meanwhile), to show at the top instead."""
    notes: dict[int, list[str]] = {}
    elsewhere = []
    for category, message in get_flashed_messages(with_categories=True):
        if not category.startswith(CELL_NOTE):
            continue
        cell_id = category[len(CELL_NOTE) :]
        if cell_id.isdigit() and int(cell_id) in cell_ids:
            notes.setdefault(int(cell_id), []).append(message)
        else:
            elsewhere.append(message)
    return notes, elsewhere


def quotas(wave_id: int):
    wave = _wave(wave_id)
    p = min(max(_float("p", 80), 1), 99) / 100
    margin = min(max(_float("margin", 5), 0.5), 30) / 100
    deff = min(max(_float("deff", 1.5), 1), 10)
    helper = {
        "p": round(p * 100, 1),
        "margin": round(margin * 100, 2),
        "deff": deff,
        "n": sample_size_for_margin(p=p, margin=margin, deff=deff),
        "n_target": sample_size_for_target(p_true=max(p, 0.85), target=0.8, deff=deff)
        if p > 0.8
        else None,
    }
    cells = quota_cells(wave.id)
    districts = {}
    for cell in cells:
        d = districts.setdefault(cell.district, {"target": 0, "achieved": 0, "cells": []})
        d["target"] += cell.target
        d["achieved"] += cell.achieved
        d["cells"].append(cell)
    notes, notes_elsewhere = _cell_notes({cell.id for cell in cells})
    return render_template(
        "fieldwork/quotas.html",
        cell_notes=notes,
        notes_elsewhere=notes_elsewhere,
        wave=wave,
        plan=db.session.get(QuotaPlan, wave.id),
        districts=districts,
        by_urban_rural=any(cell.urban_rural for cell in cells),
        helper=helper,
        frame=frame_summary(wave.id),
        max_target=MAX_SAMPLE,
    )


def _int(value: str | None, name: str) -> int:
    text = (value or "").strip()
    if len(text) > 12:  # the operations refuse more than a million anyway
        raise OperationError(f"{name}过大或格式不对：请填写整数。")
    try:
        return int(text)
    except ValueError:
        raise OperationError(f"{name}必须是整数。") from None


#: The plan form's choice of cells: by 城乡 or not.
CELL_CHOICES = {"plain": False, "urban_rural": True}


def _plan_message(made) -> str:
    cells = cells_label(made.by_urban_rural)
    return f"配额已生成：共 {made.total} 份（{cells}）。{recount_text(made)}"


def _check_mode(mode: str, sizes: dict[str, int], current: QuotaPlan | None) -> None:
    """Refuse a plan whose chosen way leaves out what the organizer changed: the
    form shows the current plan's total and district sizes, with 按总样本量
    chosen, and a district size edited without choosing 分别指定各区县样本量 was
    silently replaced by a proportional split (and the other way round)."""
    if mode == "per_district":
        total = (request.form.get("total") or "").strip()
        if current is not None and total and _int(total, "总样本量") != current.total:
            raise OperationError(
                "您改动了总样本量，但选择的是“分别指定各区县样本量”，总样本量不会生效："
                "要按总样本量分配，请选择“按总样本量”后再生成；要分别指定，请把总样本量改回原值。"
            )
    elif sizes != {
        d: n for d, n in (current.per_district if current else {}).items() if d in sizes
    }:
        raise OperationError(
            "您改动了各区县样本量，但选择的是“按总样本量”，各区县样本量不会生效："
            "要使用这些样本量，请选择“分别指定各区县样本量”后再生成；"
            "要按总样本量分配，请刷新本页（各区县样本量恢复原值）后再生成。"
        )


def plan(wave_id: int):
    wave = _wave(wave_id)
    try:
        mode = request.form.get("mode", "total")
        by_urban_rural = CELL_CHOICES.get(request.form.get("cells", "plain"))
        if by_urban_rural is None:
            raise OperationError("配额单元的划分方式无效：请选择按区县 × 性别 × 年龄组或再按城乡。")
        minimum = _int(request.form.get("min_per_district") or "0", "每个区县最少样本量")
        sizes = {
            key[len("size_") :]: _int(value, "各区县样本量")
            for key, value in request.form.items()
            if key.startswith("size_") and value.strip()
        }
        _check_mode(mode, sizes, db.session.get(QuotaPlan, wave.id))
        if mode == "per_district":
            made = make_plan(wave, per_district=sizes, min_per_district=minimum,
                             by_urban_rural=by_urban_rural)  # fmt: skip
        else:
            made = make_plan(wave, total=_int(request.form.get("total"), "总样本量"),
                             min_per_district=minimum, by_urban_rural=by_urban_rural)  # fmt: skip
    except OperationError as exc:
        flash(str(exc), "error")
    else:
        flash(_plan_message(made))
    return redirect(url_for("fieldwork.quotas", wave_id=wave.id))


def edit_cell(wave_id: int, cell_id: int):
    _wave(wave_id)
    try:
        cell = set_target(cell_id, _int(request.form.get("target"), "配额"), wave_id=wave_id)
    except OperationError as exc:
        # At the top of the page, where the message is: not scrolled down to
        # the cell (a plan of hundreds of cells), where it went unseen.
        flash(str(exc), "error")
        return redirect(url_for("fieldwork.quotas", wave_id=wave_id))
    # Shown in the cell's row, where the page scrolls to: at the top of the
    # page the message (and its over-quota note) was out of sight.
    flash(
        "配额已修改。"
        + (f"该单元有 {cell.over_quota} 份有效答卷超出目标，计为超额。" if cell.over_quota else ""),
        f"{CELL_NOTE}{cell.id}",
    )
    return redirect(url_for("fieldwork.quotas", wave_id=wave_id) + f"#cell-{cell_id}")


def channels(wave_id: int):
    wave = _wave(wave_id)
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    rows = []
    for channel in db.session.scalars(
        select(Channel).filter_by(wave_id=wave.id).order_by(Channel.id)
    ):
        url = f"{base}/s/{channel.token}"
        # What residents meet: after the end date 已结束, whatever the flag.
        rows.append((channel, url, qr_svg(url, scale=3), channel_state(channel.is_open, wave)[1]))
    districts = db.session.scalars(
        select(District).filter_by(city_id=wave.city_id).order_by(District.sort_order)
    )
    return render_template(
        "fieldwork/channels.html", wave=wave, rows=rows, districts=list(districts)
    )


def add_channel(wave_id: int):
    wave = _wave(wave_id)
    district = db.session.get(District, _int_or_404(request.form.get("district_id")))
    if district is None:
        abort(404)
    try:
        create_channel(wave, district, request.form.get("label", ""))
    except OperationError as exc:
        flash(str(exc), "error")
    else:
        flash("采集点已创建。")
    return redirect(url_for("fieldwork.channels", wave_id=wave.id))


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(404)


def toggle_channel(wave_id: int, channel_id: int):
    channel = db.session.get(Channel, channel_id)
    if channel is None or channel.wave_id != wave_id:
        abort(404)
    set_channel_open(channel, request.form.get("open") == "1")
    state = "开放" if channel.is_open else "关闭"
    if channel.changed:
        flash(f"采集点“{channel.label}”已{'开启' if channel.is_open else '关闭'}。")
    else:
        flash(f"采集点“{channel.label}”已经是{state}状态，未做改动。")
    target = request.form.get("back")
    if target == "dashboard":
        return redirect(url_for("dashboard.page", wave_id=wave_id))
    return redirect(url_for("fieldwork.channels", wave_id=wave_id))


def posters(wave_id: int):
    wave = _wave(wave_id)
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    items = []
    channels, _closed = poster_channels(wave.id)
    for channel in channels:
        url = f"{base}/s/{channel.token}"
        items.append((channel, {"url": url}, qr_svg(url)))
    return render_template("posters.html", items=items, served=True,
                           times=poster_times(channels))  # fmt: skip
