"""Estimates page: parse the settings, call the estimates operation, render."""

from __future__ import annotations

from flask import render_template, request

from survey.models import Wave
from survey.operations.errors import OperationError
from survey.operations.estimates import CI_METHODS, WEIGHTINGS, settings_from, wave_estimates
from survey.web import get_or_404


def estimates(wave_id: int):
    wave = get_or_404(Wave, wave_id)
    settings = settings_from(request.args)
    try:
        result, error = wave_estimates(wave, settings), None
    except OperationError as exc:
        result, error = None, str(exc)
    return render_template(
        "statdesk/estimates.html", wave=wave, settings=settings, result=result, error=error,
        weightings=WEIGHTINGS, ci_methods=CI_METHODS,
    )  # fmt: skip
