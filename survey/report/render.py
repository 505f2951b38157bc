"""Render the report section as DOCX (python-docx) and as a printable HTML page,
with a chart of each district's estimate, its interval and the target line."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from flask import render_template

from survey.report.content import ReportContent, pct

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC")  # fmt: skip


#: Whether this process has looked for CJK fonts installed after matplotlib's font
#: cache was written (the cache, in ~/.cache/matplotlib, is never refreshed by itself).
_rescanned = False


def _cjk_font() -> str | None:
    global _rescanned
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FONTS if n in names), None)

    found = known()
    if found is None and not _rescanned:
        _rescanned = True
        for path in font_manager.findSystemFonts():
            name = Path(path).name.lower()
            if any(
                key in name for key in ("cjk", "sourcehan", "wqy", "simhei", "msyh", "pingfang")
            ):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # an unreadable file: skip it
                    continue
        found = known()
    return found


def _chart_rows(content: ReportContent) -> list[dict]:
    """The table's rows the chart draws (both indicators estimated), in its order:
    the D-numbers of a chart without Chinese and its key count these."""
    return [r for r in content.table if r.get("sat") and r.get("part")]


def chart_key(content: ReportContent) -> str | None:
    """The chart's legend in words when it had to be drawn without Chinese (no CJK
    font on the server): which district each D-number is, and the two panels."""
    if _cjk_font():
        return None
    rows = _chart_rows(content)
    districts = "，".join(f"D{i + 1} = {r['domain']}" for i, r in enumerate(rows))
    return f"图中左栏 Satisfaction 为满意度，右栏 Participation 为参与度；{districts}。"


def chart_png(content: ReportContent) -> bytes:
    """PNG chart; Chinese labels when a CJK font is installed, else district numbers
    with a note (never boxes for missing glyphs)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    font = _cjk_font()
    with plt.rc_context({"font.family": font} if font else {}):
        return _draw(plt, content, font)


def _draw(plt, content: ReportContent, font: str | None) -> bytes:
    rows = _chart_rows(content)
    labels = [r["domain"] if font else f"D{i + 1}" for i, r in enumerate(rows)]
    fig, axes = plt.subplots(1, 2, figsize=(8, 0.45 * len(rows) + 1.4), sharey=True)
    target = content.estimates.settings.target
    for ax, key, title in ((axes[0], "sat", "满意度"), (axes[1], "part", "参与度")):
        for y, r in enumerate(rows):
            e = r[key]
            color = {"达标": "#0b6b3a", "未达标": "#b00020"}.get(e.status, "#c77700")
            ax.plot([e.ci_low * 100, e.ci_high * 100], [y, y], color=color, linewidth=3)
            ax.plot([e.estimate * 100], [y], "o", color="#111")
        ax.axvline(target * 100, color="#555", linestyle="--", linewidth=1)
        ax.set_title(title if font else ("Satisfaction" if key == "sat" else "Participation"))
        ax.set_xlabel("%")
    axes[0].set_yticks(range(len(rows)), labels)
    axes[0].invert_yaxis()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    plt.close(fig)
    return buf.getvalue()


#: Characters XML 1.0 cannot hold (Word's Shift+Enter pastes \x0b): lxml refused
#: the whole document, and the report of that wave failed for everyone.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """*text* as a Word document can hold it: control characters become spaces."""
    return _NOT_XML.sub(" ", text)


def render_html(content: ReportContent) -> str:
    chart = base64.b64encode(chart_png(content)).decode()
    return render_template(
        "report/section.html", c=content, pct=pct, chart=chart, chart_key=chart_key(content)
    )


def render_docx(content: ReportContent, path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    for section in doc.sections:  # A4, as Chinese reports are printed (python-docx: US Letter)
        section.page_width, section.page_height = Mm(210), Mm(297)
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.font.size = Pt(11)
    heading = doc.add_heading(content.title, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    w = content.wave
    doc.add_paragraph(xml_text(f"{w.city.name} {w.name}"))
    doc.add_heading("一、调查方法", level=2)
    for line in content.method:
        doc.add_paragraph(xml_text(line))
    doc.add_heading("二、计分方法", level=2)
    for line in content.scoring:
        doc.add_paragraph(xml_text(line))
    doc.add_heading("三、调查结果", level=2)
    table = doc.add_table(rows=1, cols=len(content.table_header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, content.table_header, strict=True):
        cell.text = xml_text(text)
    for values in content.table_cells:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = xml_text(text)
    for line in content.findings:
        doc.add_paragraph(xml_text(line))
    doc.add_picture(io.BytesIO(chart_png(content)))
    doc.add_paragraph(xml_text(content.chart_caption))
    key = chart_key(content)
    if key:
        doc.add_paragraph(xml_text(key))
    doc.add_heading("四、与上年比较", level=2)
    for line in content.changes or ["本市尚无上一轮调查数据，无法比较。"]:
        doc.add_paragraph(xml_text(line))
    doc.add_heading("五、薄弱环节", level=2)
    for line in content.weakness:
        doc.add_paragraph(xml_text(line))
    doc.add_heading("附录：调查问卷", level=2)
    doc.add_paragraph(xml_text(w.questionnaire.title))
    for title, lines in content.appendix:
        doc.add_paragraph(xml_text(title))
        for line in lines:
            doc.add_paragraph(xml_text(line))
    doc.save(path)
