"""Export page and downloads (statisticians; every download audited)."""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import abort, render_template, request, stream_with_context

from survey.exports import writers
from survey.models import Wave
from survey.operations.analysis_settings import provenance, settings_text, wave_settings
from survey.operations.errors import OperationError
from survey.operations.estimates import Settings, check_settings, settings_from, wave_estimates
from survey.operations.exports import (
    FORMATS,
    audit_export,
    count_rows,
    csv_stream,
    estimates_note,
    write_file,
)
from survey.web import TemporaryDownload, attachment, get_or_404

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}


def _wave(wave_id: int) -> Wave:
    return get_or_404(Wave, wave_id)


def _page(wave: Wave, error: str | None = None):
    settings = wave_settings(wave)
    return render_template("exports/page.html", wave=wave, rows=count_rows(wave, False),
                           error=error, settings_text=settings_text(settings),
                           provenance=provenance(wave, settings))  # fmt: skip


def _settings(wave: Wave) -> Settings:
    """The settings sent with the download (the estimates page's buttons send
    that page's), else the wave's saved ones (the exports page sends none)."""
    return settings_from(request.form, wave_settings(wave))


def page(wave_id: int):
    return _page(_wave(wave_id))


def _filename(wave: Wave, what: str, fmt: str) -> str:
    return f"{wave.city.name}-{wave.name}-{what}.{fmt}"


def download(wave_id: int, fmt: str):
    wave = _wave(wave_id)
    if fmt not in FORMATS:
        abort(404)
    include_excluded = request.form.get("include_excluded") == "1"
    labels = request.form.get("labels") == "1"
    settings = _settings(wave)
    try:
        # As the estimates table refuses them: a file without weights, its note
        # saying 加权方法无效, was no answer to an edited form.
        check_settings(settings)
    except OperationError as exc:
        return _page(wave, f"{exc}未导出文件。"), 409
    name = _filename(wave, "microdata", fmt)
    if fmt == "csv":
        audit_export(wave, fmt, count_rows(wave, include_excluded), settings=settings)
        body = stream_with_context(csv_stream(wave, labels, include_excluded, settings=settings))
        response = FlaskResponse(body, content_type=MIMETYPES["csv"])
        return attachment(response, name, f"wave-{wave.id}-microdata.csv")
    with TemporaryDownload(f".{fmt}") as download:
        try:
            written = write_file(wave, fmt, download.path, include_excluded, settings=settings)
        except OperationError as exc:
            return _page(wave, str(exc)), 409
        audit_export(wave, fmt, written, settings=settings)
        sent = download.send(mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name)
        return attachment(sent, name, f"wave-{wave.id}-microdata.{fmt}")


def estimates_download(wave_id: int, fmt: str):
    wave = _wave(wave_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    settings = _settings(wave)
    try:
        result = wave_estimates(wave, settings)
    except OperationError as exc:
        return _page(wave, str(exc)), 409
    # The indicators, then each satisfaction item (the page's 各项满意度) with its interval.
    rows = [*result.rows, *result.item_rows]
    note = estimates_note(wave, settings, result)
    audit_export(wave, fmt, len(rows), what="estimates", settings=settings)
    name = _filename(wave, "estimates", fmt)
    if fmt == "csv":
        response = FlaskResponse(writers.estimates_csv(rows, note), content_type=MIMETYPES["csv"])
        return attachment(response, name, f"wave-{wave.id}-estimates.csv")
    with TemporaryDownload(".xlsx") as download:
        labels = {**result.labels, **result.item_labels}
        writers.estimates_xlsx(download.path, rows, note, labels, result.kinds)
        sent = download.send(mimetype=MIMETYPES["xlsx"], as_attachment=True, download_name=name)
        return attachment(sent, name, f"wave-{wave.id}-estimates.xlsx")
