"""A wave's analysis settings for publication (发布口径): saved once from the
estimates page, used by the exports page, the CLI and the report.

Without them every place that weighted used its own settings: the estimates page
the request's, the exports page, the CLI and the report the defaults, so one
wave's microdata weights differed by where they were downloaded.
"""

from __future__ import annotations

import math

from werkzeug.datastructures import MultiDict

from survey.extensions import db
from survey.models import Wave
from survey.operations.audit import record
from survey.operations.errors import OperationError
from survey.operations.estimates import (
    CI_METHODS,
    FIELDS,
    MARGIN_LABELS,
    MARGINS,
    MAX_MIN_CELL,
    WEIGHTINGS,
    Settings,
    level_ok,
    margin_names,
    target_ok,
)

WEIGHTING_LABELS = {
    "raking": "边际迭代（raking）",
    "poststratify": "事后分层",
    "none": "不加权（仅设计权数）",
}
#: Where a download's or a report's settings came from, in words (method notes).
SAVED = "本轮保存的发布口径"
DEFAULT_UNSAVED = "默认设置（本轮尚未保存发布口径）"
CHOSEN_UNSAVED = "估计结果页当前选择的设置（本轮尚未保存发布口径）"
CHOSEN_OTHER = "估计结果页当前选择的设置（与本轮保存的发布口径不同）"
CLI_UNSAVED = "命令行指定的设置（本轮尚未保存发布口径）"
CLI_OTHER = "命令行指定的设置（与本轮保存的发布口径不同）"
#: The settings' fields in words (a refusal names what is missing).
FIELD_LABELS = {"weighting": "加权方法", "margins": "加权变量", "ci": "置信区间方法",
                "level": "置信水平", "target": "目标值", "min_cell": "加权单元最少人数"}  # fmt: skip


def _shown(value: object) -> str:
    """A received value as a message may quote it: short, on one line."""
    text = " ".join(str(value).split())
    return text[:20] + ("…" if len(text) > 20 else "")


def _number(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def parse_settings(values, refused: str = "未保存：") -> Settings:
    """Settings to save, from the estimates page's fields (*values*: a form, or
    a mapping as stored). Unlike :func:`settings_from`, which makes any request
    show something, nothing is guessed: every field must be there and within
    the page's limits, else :class:`OperationError` lists every problem, after
    *refused* (what was not done)."""
    if not isinstance(values, MultiDict):
        values = MultiDict(
            [(k, x) for k, v in dict(values).items() for x in (v if isinstance(v, list) else [v])]
        )
    problems = []
    missing = [name for name in FIELDS if not values.getlist(name)]
    if missing:
        names = "、".join(FIELD_LABELS[name] for name in missing)
        raise OperationError(f"{refused}设置不完整，缺少{names}。")
    weighting, ci = str(values.get("weighting")), str(values.get("ci"))
    if weighting not in WEIGHTINGS:
        problems.append(f"加权方法“{_shown(weighting)}”无效：只能是边际迭代、事后分层或不加权。")
    margins = [str(m) for m in values.getlist("margins")]
    unknown = [_shown(m) for m in margins if m not in MARGINS]
    if unknown:
        problems.append(
            f"加权变量“{'、'.join(unknown)}”无效：只能是{'、'.join(MARGIN_LABELS.values())}。"
        )
    if ci not in CI_METHODS:
        problems.append(f"置信区间方法“{_shown(ci)}”无效：只能是 {'、'.join(CI_METHODS)}。")
    level, target = _number(values.get("level")), _number(values.get("target"))
    if level is None or not level_ok(level):
        problems.append(f"置信水平“{_shown(values.get('level'))}”应在 0.5–0.999 之间。")
    if target is None or not target_ok(target):
        problems.append(f"目标值“{_shown(values.get('target'))}”应在 0–1 之间（如 0.8）。")
    min_cell = _number(values.get("min_cell"))
    if min_cell is None or min_cell != int(min_cell) or not 1 <= min_cell <= MAX_MIN_CELL:
        problems.append(
            f"加权单元最少人数“{_shown(values.get('min_cell'))}”应为 1–{MAX_MIN_CELL} 的整数。"
        )
    if problems:
        raise OperationError(refused + "".join(problems))
    return Settings(
        weighting=weighting,
        margins=tuple(m for m in MARGINS if m in margins),
        ci=ci,
        level=level,
        target=target,
        min_cell=int(min_cell),
    )


def saved_settings(wave: Wave) -> Settings | None:
    """The wave's saved settings (None: none saved). A stored value the page
    would refuse (edited in the database by hand) counts as none."""
    if not wave.analysis_settings:
        return None
    try:
        return parse_settings(wave.analysis_settings)
    except OperationError:
        return None


def wave_settings(wave: Wave) -> Settings:
    """The settings the wave's exports and report use unless others are chosen:
    the saved ones, else the defaults."""
    return saved_settings(wave) or Settings()


def settings_text(settings: Settings) -> str:
    """The settings in words, e.g. 边际迭代（raking），按性别、年龄组；加权单元最少 1 人；
    logit 置信区间，95%；目标 80%."""
    text = WEIGHTING_LABELS.get(settings.weighting, settings.weighting)
    if settings.weighting != "none":
        text += f"，按{margin_names(settings)}；加权单元最少 {settings.min_cell} 人"
    return text + (
        f"；{settings.ci} 置信区间，{round(settings.level * 100, 4):g}%；"
        f"目标 {round(settings.target * 100, 4):g}%"
    )


def provenance(wave: Wave, settings: Settings) -> str:
    """Where *settings* stand against the wave's saved ones, in words."""
    saved = saved_settings(wave)
    cli = settings.chosen_on == "cli"
    if saved is None:
        if settings == Settings():
            return DEFAULT_UNSAVED
        return CLI_UNSAVED if cli else CHOSEN_UNSAVED
    if settings == saved:
        return SAVED
    return CLI_OTHER if cli else CHOSEN_OTHER


def settings_used(wave: Wave, settings: Settings) -> str:
    """Where *settings* come from and what they are, for the audit log and the
    CLI: 本轮保存的发布口径：边际迭代（raking），按性别、年龄组；…"""
    return f"{provenance(wave, settings)}：{settings_text(settings)}"


#: :func:`provenance` in a few words (a variable label).
_SHORT = {SAVED: "本轮发布口径", DEFAULT_UNSAVED: "默认设置，本轮未保存发布口径",
          CHOSEN_UNSAVED: "估计结果页所选，本轮未保存发布口径",
          CHOSEN_OTHER: "估计结果页所选，非本轮发布口径",
          CLI_UNSAVED: "命令行所选，本轮未保存发布口径",
          CLI_OTHER: "命令行所选，非本轮发布口径"}  # fmt: skip


def weight_about(wave: Wave, settings: Settings) -> str:
    """How the weights were made, for the weight variable's label: 边际迭代：性别、
    年龄组；本轮发布口径."""
    method = {"raking": "边际迭代", "poststratify": "事后分层"}.get(settings.weighting)
    made = f"{method}：{margin_names(settings)}" if method else "仅设计权数"
    return f"{made}；{_SHORT[provenance(wave, settings)]}"


def save_settings(wave: Wave, values) -> Settings:
    """Save the estimates page's settings (*values*: its fields) as the wave's
    发布口径; audited with the settings before and after. Refused (nothing
    changed) when a field is missing or outside the page's limits. A margin the
    frame lacks is saved all the same: the pages then say why there are no
    weights, as they do when it is chosen on the page."""
    settings = parse_settings(values)
    with db.write() as session:
        wave = session.get(Wave, wave.id)
        before = saved_settings(wave)
        wave.analysis_settings = settings.query()
        record(session, "wave_settings", "wave", wave.id,
               {"old": settings_text(before) if before else "未保存（默认设置）",
                "new": settings_text(settings)})  # fmt: skip
    return settings
