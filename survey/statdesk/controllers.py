"""Estimates page: parse the settings, call the estimates operation, render."""

from __future__ import annotations

from flask import render_template, request

from survey.models import Wave
from survey.operations.errors import OperationError
from survey.operations.estimates import CI_METHODS, WEIGHTINGS, Settings, wave_estimates
from survey.web import get_or_404


def _settings() -> Settings:
    args = request.args
    try:
        level = float(args.get("level", 0.95))
        target = float(args.get("target", 0.80))
    except ValueError:
        level, target = 0.95, 0.80
    margins = tuple(m for m in args.getlist("margins") if m in ("sex", "age_group", "urban_rural"))
    return Settings(
        weighting=args.get("weighting", "raking"),
        margins=margins or ("sex", "age_group"),
        ci=args.get("ci", "logit"),
        level=level,
        target=target,
    )


def estimates(wave_id: int):
    wave = get_or_404(Wave, wave_id)
    settings = _settings()
    try:
        result, error = wave_estimates(wave, settings), None
    except OperationError as exc:
        result, error = None, str(exc)
    return render_template(
        "statdesk/estimates.html", wave=wave, settings=settings, result=result, error=error,
        weightings=WEIGHTINGS, ci_methods=CI_METHODS,
    )  # fmt: skip
