"""Report views (statisticians): printable HTML page and DOCX download (audited)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from survey.models import Wave
from survey.operations.analysis_settings import wave_settings
from survey.operations.cities import district_names
from survey.operations.comparison import earlier_waves, figures_text, set_comparison
from survey.operations.errors import OperationError
from survey.operations.estimates import settings_from
from survey.operations.exports import audit_report
from survey.report.content import build_content
from survey.report.render import render_docx, render_html
from survey.web import TemporaryDownload, attachment, get_or_404


def _from_another_site():
    """A report is computed and audited on a GET: a link on another site (the
    staff member's cookies go along with a top-level GET) should not make one.
    Browsers say where a request comes from (Sec-Fetch-Site); such a request
    gets a page with the same link to follow from here."""
    if request.headers.get("Sec-Fetch-Site") != "cross-site":
        return None
    return render_template("report/confirm.html", url=request.full_path), 200


def _content(wave_id: int):
    """The report with the settings in the address (the estimates page's links),
    else the wave's saved ones."""
    wave = get_or_404(Wave, wave_id)
    try:
        return wave, build_content(wave, settings_from(request.args, wave_settings(wave))), None
    except OperationError as exc:
        return wave, None, str(exc)


def report_html(wave_id: int):
    if (confirm := _from_another_site()) is not None:
        return confirm
    wave, content, error = _content(wave_id)
    if error:
        return render_template("report/error.html", wave=wave, error=error), 409
    audit_report(wave, "html", content.estimates.settings)
    return render_html(content)


def report_docx(wave_id: int):
    if (confirm := _from_another_site()) is not None:
        return confirm
    wave, content, error = _content(wave_id)
    if error:
        return render_template("report/error.html", wave=wave, error=error), 409
    audit_report(wave, "docx", content.estimates.settings)
    with TemporaryDownload(".docx") as download:
        render_docx(content, download.path)
        name = f"{wave.city.name}-{wave.name}-满意度参与度调查情况.docx"
        sent = download.send(
            as_attachment=True, download_name=name,
            mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )  # fmt: skip
        return attachment(sent, name, f"wave-{wave.id}-report.docx")


def comparison(wave_id: int):
    """What the report's 与上年比较 compares with: an earlier wave on the platform
    (the latest by default), or last year's published figures."""
    wave = get_or_404(Wave, wave_id)
    text, source = figures_text(wave.previous_figures), wave.previous_source
    if request.method == "POST":
        try:
            set_comparison(wave, request.form)
        except OperationError as exc:
            flash(str(exc), "error")
            text = request.form.get("previous_figures", "")
            source = request.form.get("previous_source", "")
        else:
            flash("已保存：报告的“与上年比较”将按此生成。")
            return redirect(url_for("report.comparison", wave_id=wave.id))
    example = next(iter(district_names(wave.city_id)), "")
    return render_template("report/comparison.html", wave=wave, earlier=earlier_waves(wave),
                           figures=text, source=source, example=example)  # fmt: skip
