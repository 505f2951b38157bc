"""Estimates page: parse the settings, call the estimates operation, render;
save the page's settings as the wave's 发布口径."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from survey.models import Wave
from survey.operations.analysis_settings import save_settings, saved_settings, settings_text
from survey.operations.errors import OperationError
from survey.operations.estimates import (
    CI_METHODS,
    WEIGHTINGS,
    Settings,
    margin_names,
    margins_unticked,
    settings_from,
    wave_estimates,
)
from survey.web import get_or_404


def estimates(wave_id: int):
    wave = get_or_404(Wave, wave_id)
    saved = saved_settings(wave)
    # The wave's saved settings, unless the address or the form chose others.
    settings = settings_from(request.args, saved)
    # No margin ticked: weighting by margins needs one, so the saved (or default)
    # ones are kept, and the page says so rather than silently.
    unticked = (
        f"未勾选任何加权变量，仍按{'本轮发布口径' if saved else '默认设置'}的加权变量"
        f"（{margin_names(settings)}）加权。如不需要按变量加权，请选择“不加权”。"
        if margins_unticked(request.args)
        else None
    )
    try:
        result, error = wave_estimates(wave, settings), None
    except OperationError as exc:
        result, error = None, str(exc)
    return render_template(
        "statdesk/estimates.html", wave=wave, settings=settings, result=result, error=error,
        weightings=WEIGHTINGS, ci_methods=CI_METHODS, saved=saved, unticked=unticked,
        saved_text=settings_text(saved) if saved else None,
        default_text=settings_text(Settings()), shown_text=settings_text(settings),
    )  # fmt: skip


def save(wave_id: int):
    """Save the settings the page showed (its hidden fields) as the wave's."""
    wave = get_or_404(Wave, wave_id)
    try:
        settings = save_settings(wave, request.form)
    except OperationError as exc:
        flash(str(exc), "error")
    else:
        flash(f"已保存为本轮的发布口径：{settings_text(settings)}。"
              "数据导出页、命令行导出和报告此后默认使用这些设置。")  # fmt: skip
    return redirect(url_for("statdesk.estimates", wave_id=wave.id))
