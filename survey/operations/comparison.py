"""What a wave's report compares with: an earlier wave on the platform, or last
year's published figures (a city whose earlier surveys were run elsewhere)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import select

from survey.extensions import db
from survey.models import Wave
from survey.operations.audit import record
from survey.operations.cities import district_names
from survey.operations.errors import OperationError

CITY = "全市"
#: The headline indicators the figures are given for, by role.
ROLES = ("satisfaction", "participation")
MAX_LINES = 200


@dataclass
class Previous:
    """The comparison of a report: *wave* (on the platform) or published *figures*."""

    wave: Wave | None = None
    figures: dict | None = None
    source: str = ""


def earlier_waves(wave: Wave) -> list[Wave]:
    """The city's waves before *wave*, latest first."""
    return list(
        db.session.scalars(
            select(Wave)
            .where(Wave.city_id == wave.city_id, Wave.id < wave.id)
            .order_by(Wave.id.desc())
        )
    )


def previous_of(wave: Wave) -> Previous | None:
    """What *wave*'s report compares with: the published figures when entered,
    else the chosen earlier wave, else the city's latest earlier wave."""
    if wave.previous_figures:
        return Previous(figures=wave.previous_figures, source=wave.previous_source)
    if wave.previous_wave_id is not None:
        return Previous(wave=db.session.get(Wave, wave.previous_wave_id))
    earlier = earlier_waves(wave)
    return Previous(wave=earlier[0]) if earlier else None


def _percent(text: str, line: int, what: str, problems: list[str]) -> float | None:
    text = text.strip().rstrip("%％").strip()
    if text in ("", "-", "—", "–"):
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"第 {line} 行：{what}“{text}”不是数字（请填百分数，如 97.80）。")
        return None
    if not math.isfinite(value) or not 0 <= value <= 100:
        problems.append(f"第 {line} 行：{what} {text} 不在 0–100 之间（请填百分数，如 97.80）。")
        return None
    return value


def parse_figures(text: str, districts: list[str]) -> dict:
    """Lines ``区县或全市, 满意度%, 参与度%`` (commas, tabs or spaces; a blank or —
    for a figure not published) → {domain: {"satisfaction": %, "participation": %}}.
    Every problem is listed at once (OperationError); nothing is half read."""
    figures: dict = {}
    problems: list[str] = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) > MAX_LINES:
        raise OperationError(f"最多 {MAX_LINES} 行（收到 {len(lines)} 行）。")
    for n, line in lines:
        cells = re.split(r"[,，、\t]", line.strip())
        if len(cells) == 1:  # separated by spaces only
            cells = line.split()
        cells = [c.strip() for c in cells]
        if len(cells) not in (2, 3):
            problems.append(
                f"第 {n} 行：应为“区县或全市, 满意度, 参与度”三项（收到“{line.strip()}”）。"
            )
            continue
        name = cells[0]
        if name not in districts and name != CITY:
            problems.append(
                f"第 {n} 行：“{name}”不是本市的区县（可填：{CITY}、{'、'.join(districts)}）。"
            )
            continue
        if name in figures:
            problems.append(f"第 {n} 行：“{name}”重复。")
            continue
        values = {}
        for role, cell, label in zip(ROLES, cells[1:] + [""], ("满意度", "参与度"), strict=False):
            value = _percent(cell, n, label, problems)
            if value is not None:
                values[role] = value
        if values:
            figures[name] = values
    if problems:
        raise OperationError("\n".join(problems))
    return figures


def figures_text(figures: dict | None) -> str:
    """The figures as the form shows them again."""

    def cell(value):
        return "" if value is None else f"{value:g}"

    return "\n".join(
        f"{name}, {cell(v.get('satisfaction'))}, {cell(v.get('participation'))}"
        for name, v in (figures or {}).items()
    )


def set_comparison(wave: Wave, form) -> Wave:
    """Save what *wave*'s report compares with, from the comparison form (audited)."""
    chosen = (form.get("previous_wave_id") or "").strip()
    previous_wave_id = None
    if chosen:
        ids = {w.id for w in earlier_waves(wave)}
        if not chosen.isdigit() or int(chosen) not in ids:
            raise OperationError("只能选择本市在本轮之前的调查轮次。")
        previous_wave_id = int(chosen)
    districts = district_names(wave.city_id)
    figures = parse_figures(form.get("previous_figures") or "", districts) or None
    # Pasted from Word it may hold control characters (Shift+Enter is \x0b).
    typed = form.get("previous_source") or ""
    source = "".join(c if c.isprintable() else " " for c in typed).strip()[:200]
    if figures and not source:
        raise OperationError("请填写上年结果的来源（例如：2025年度公众满意度调查报告）。")
    with db.write() as session:
        wave = session.get(Wave, wave.id)
        wave.previous_wave_id = previous_wave_id
        wave.previous_figures = figures
        wave.previous_source = source if figures else ""
        record(session, "wave_comparison", "wave", wave.id,
               {"wave": previous_wave_id or "", "figures": len(figures or {}),
                "source": wave.previous_source})  # fmt: skip
    return wave
