"""Microdata and estimates exports of a wave (audited)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import func, select

from survey.exports import writers
from survey.exports.codebook import variables
from survey.extensions import db
from survey.models import Response, Wave
from survey.operations.audit import record
from survey.operations.errors import OperationError
from survey.operations.estimates import Settings, wave_estimates
from survey.operations.questionnaires import questionnaire_of

FORMATS = ("csv", "xlsx", "sav", "dta")


def method_note(wave: Wave, settings: Settings | None, weighted: bool) -> str:
    lines = [
        f"{wave.city.name} {wave.name} 公众对生态文明建设满意度与参与度调查",
        f"调查单位：{wave.organizer or wave.city.name}",
        "有效数据：不含组织者剔除的答卷和受访者撤回的答卷。",
    ]
    if weighted and settings:
        method = {"raking": "按区县内的性别、年龄组边际迭代加权（raking）",
                  "poststratify": "按区县 × 性别 × 年龄组事后分层", "none": "仅设计权数"}  # fmt: skip
        lines.append(f"权数：{method[settings.weighting]}，基础权数 = 区县人口 / 区县样本量。")
        lines.append(
            "假设：配额/扫码样本不是概率样本，加权假定每个加权单元内作答者与未作答者相似。"
        )
    else:
        lines.append("权数：未导出（本轮尚未导入人口数据）。")
    return "\n".join(lines)


def count_rows(wave: Wave, include_excluded: bool) -> int:
    stmt = select(func.count(Response.id)).where(Response.wave_id == wave.id)
    if not include_excluded:
        stmt = stmt.where(Response.excluded.is_(False))
    return db.session.scalar(stmt)


def prepare(wave: Wave, include_excluded: bool, weighted: bool = True):
    """Variables, weights (if the frame allows) and the method note."""
    q = questionnaire_of(wave.questionnaire)
    settings, weights = Settings(), None
    if weighted:
        try:
            weights = wave_estimates(wave, settings).weights
        except OperationError:
            weights = None
    note = method_note(wave, settings, weights is not None)
    return q, variables(q, weights is not None, include_excluded), weights, note


def audit_export(wave: Wave, fmt: str, rows: int, what: str = "microdata", actor_name=None):
    with db.write() as session:
        record(session, "export", "wave", wave.id, {"format": fmt, "rows": rows, "what": what},
               actor_name=actor_name)  # fmt: skip


def _fast_rows(wave: Wave, q, vars_, weights, include_excluded: bool, progress,
               limit_rows: int | None = None) -> Iterator[list]:  # fmt: skip
    """Rows as value lists straight from Core rows (no ORM objects): bounded memory."""
    from survey.exports.codebook import fast_row_builder
    from survey.models import Channel

    labels = dict(
        db.session.execute(select(Channel.id, Channel.label).filter_by(wave_id=wave.id)).all()
    )
    build = fast_row_builder(q, include_excluded)
    table = Response.__table__
    stmt = select(table).where(table.c.wave_id == wave.id).order_by(table.c.id)
    if not include_excluded:
        stmt = stmt.where(table.c.excluded.is_(False))
    if limit_rows:
        stmt = stmt.limit(limit_rows)
    result = db.session.execute(stmt.execution_options(yield_per=5000, stream_results=True))
    for i, r in enumerate(result, 1):
        weight = False if weights is None else weights.get(r.receipt_code)
        yield build(r, weight, labels.get(r.channel_id, ""))
        if progress and i % 5000 == 0:
            progress(5000)


def csv_stream(wave: Wave, labels=False, include_excluded=False, progress=None, weighted=True):
    q, vars_, weights, _note = prepare(wave, include_excluded, weighted)
    rows = _fast_rows(wave, q, vars_, weights, include_excluded, progress)
    return writers.csv_chunks(vars_, rows, labels)


def write_file(wave: Wave, fmt: str, path: Path, include_excluded=False,
               progress: Callable[[int], None] | None = None,
               limit_rows: int | None = None) -> int:  # fmt: skip
    """Write a microdata file; returns the number of rows."""
    if fmt not in FORMATS:
        raise OperationError(f"未知的导出格式 {fmt}（可用：{', '.join(FORMATS)}）")
    q, vars_, weights, note = prepare(wave, include_excluded)
    names = [v.name for v in vars_]
    rows = (
        dict(zip(names, values, strict=True))
        for values in _fast_rows(wave, q, vars_, weights, include_excluded, progress, limit_rows)
    )
    if fmt == "csv":
        with open(path, "wb") as fh:
            for chunk in writers.csv_chunks(
                vars_, _fast_rows(wave, q, vars_, weights, include_excluded, progress, limit_rows)
            ):
                fh.write(chunk)
        n = count_rows(wave, include_excluded)
        n = min(n, limit_rows) if limit_rows else n
    elif fmt == "xlsx":
        n = writers.write_xlsx(path, vars_, rows, note)
    elif fmt == "sav":
        n = writers.write_sav(path, vars_, rows)
    else:
        n = writers.write_dta(path, vars_, rows)
    return n
