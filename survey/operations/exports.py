"""Microdata and estimates exports of a wave (audited)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, func, select

from survey.exports import writers
from survey.exports.codebook import EXCLUDED_WEIGHT_NOTE, variables
from survey.extensions import db
from survey.models import Response, Wave
from survey.operations.analysis_settings import (
    provenance,
    settings_text,
    settings_used,
    wave_settings,
    weight_about,
)
from survey.operations.audit import record
from survey.operations.errors import OperationError
from survey.operations.estimates import (
    CellWeights,
    Settings,
    WaveEstimates,
    cell_weights,
    margin_names,
)
from survey.operations.questionnaires import questionnaire_of

FORMATS = ("csv", "xlsx", "sav", "dta")
#: Data rows of one Excel sheet (1,048,576 rows, one of them the header).
XLSX_MAX_ROWS = 1_048_575


def method_note(
    wave: Wave, settings: Settings | None, weighted: bool, why_not: str | None = None
) -> str:
    lines = [
        f"{wave.city.name} {wave.name} 公众对生态文明建设满意度与参与度调查",
        f"调查单位：{wave.organizer or wave.city.name}",
        "有效数据：不含组织者剔除的答卷和受访者撤回的答卷。",
    ]
    if weighted and settings:
        method = {"raking": f"按区县内的{margin_names(settings)}边际迭代加权（raking）",
                  "poststratify": f"按区县 × {margin_names(settings, ' × ')}事后分层",
                  "none": "仅设计权数"}  # fmt: skip
        merged = (f"；少于 {settings.min_cell} 人的加权单元与同区县相邻单元合并"
                  if settings.min_cell > 1 and settings.weighting != "none" else "")  # fmt: skip
        lines.append(
            f"权数：{method[settings.weighting]}{merged}，基础权数 = 区县人口 / 区县样本量。"
        )
        lines.append(
            f"权数口径：{provenance(wave, settings)}。完整设置：{settings_text(settings)}。"
        )
        lines.append(
            "假设：配额/扫码样本不是概率样本，加权假定每个加权单元内作答者与未作答者相似。"
        )
    else:
        lines.append(f"权数：未导出（{why_not or '本轮尚未导入人口数据'}）。")
    return "\n".join(lines)


#: Each interval method as the estimates table's note names it. R's svyciprop
#: has logit and beta (ours equal them: tests/analysis/reference), not Wilson.
CI_NOTES = {
    "logit": "logit（与 R survey 包 svyciprop(method = 'logit') 一致）",
    "beta": "beta，即 Korn–Graubard（与 R survey 包 svyciprop(method = 'beta') 一致）",
    "wilson": "Wilson，按有效样本量计算（R survey 包的 svyciprop 没有此方法）",
}


def _items_note(wave: Wave, name: str) -> str:
    """What the satisfaction items' rows of the estimates table are (*name*: the
    satisfaction indicator), in the questionnaire's words."""
    q = questionnaire_of(wave.questionnaire)
    ind = q.indicator(name)
    options = q.question(ind.items[0]).options if ind.items else ()
    positive = "”或“".join(o.label for o in options if o.value in ind.positive)
    left_out = "、".join(f"“{o.label}”" for o in options if o.excluded_from_scoring)
    return (
        f"\n各项满意度（指标 {name}.题号，如 {name}.{ind.items[0]}）：构成“{ind.label}”的各题中"
        f"回答“{positive}”的比例"
        + (f"，{left_out}不计入分母" if left_out else "")
        + "，样本量为该题的有效回答数；即估计结果页“各项满意度”表的数字，附置信区间。"
        "目标只针对各题合成的指标，各题不与目标比较（目标值、状态为空）。"
    )


def estimates_note(wave: Wave, settings: Settings, result: WaveEstimates) -> str:
    """The estimates table's note: the method note, the intervals and the target,
    what the satisfaction items' rows are, and what the estimates page warns of
    (districts not estimated, so a city row of the others only; weighting cells
    of one or two): the file is read without the page."""
    scores = [name for name, kind in result.kinds.items() if kind == "mean"]
    scores = ("；0–100 分的得分用 t 分布区间" if scores else "") + (
        "，目标按分数比较" if set(scores) & set(result.binding) else ""
    )
    note = (
        method_note(wave, settings, True)
        + f"\n置信区间：{CI_NOTES.get(settings.ci, settings.ci)}，{settings.level * 100:g}%"
        + f"{scores}；目标 {settings.target * 100:g}%。"
    )
    if unjudged := [n for n in result.kinds if n not in result.binding]:
        names = "、".join(f"“{result.labels.get(n, n)}”" for n in unjudged)
        note += (f"\n{names}不是创建考核的约束性指标（约束性指标只有满意度和参与度），"
                 "只报告估计值，不与目标比较（目标值、状态为空）。")  # fmt: skip
    if result.item_rows:
        note += _items_note(wave, result.headline["satisfaction"])
    missing = result.missing_districts
    if missing:
        note += (f"\n以下区县还没有有效答卷，未作估计：{'、'.join(missing)}；"
                 "全市各行只包括其余区县，因此不作达标判定（状态为待定）。")  # fmt: skip
    for name, lacking in result.unestimated.items():
        if others := [d for d in lacking if d not in missing]:
            note += (f"\n“{result.labels.get(name, name)}”在以下区县没有可计入的回答"
                     f"（相关题目全部回答“说不清/不了解”等），未作估计：{'、'.join(others)}；"
                     "全市一行只包括其余区县"
                     + ("，因此不作达标判定（状态为待定）。" if name in result.binding else "。"))  # fmt: skip
    if result.small_cells:
        note += (f"\n注意：有 {result.small_cells} 个加权单元只有 1–2 名受访者且未合并"
                 f"（加权单元最少人数为 {settings.min_cell}），这些单元几乎不贡献方差，"
                 "标准误和置信区间可能偏窄。")  # fmt: skip
    return note


def count_rows(wave: Wave, include_excluded: bool) -> int:
    # Withdrawn answers are never exported, not even with the excluded ones.
    stmt = select(func.count(Response.id)).where(
        Response.wave_id == wave.id, Response.withdrawn_at.is_(None)
    )
    if not include_excluded:
        stmt = stmt.where(Response.excluded.is_(False))
    return db.session.scalar(stmt)


@dataclass
class ExportWeights:
    """A microdata export's weights: by cell, or none and why."""

    cells: CellWeights | None
    #: Why there are none (no frame, no valid response, raking failed).
    why_not: str | None = None


def export_weights(wave: Wave, settings: Settings) -> ExportWeights:
    """The weights a microdata export of *wave* carries with *settings*: worked
    out once and handed to :func:`write_file` by whoever needs them before (the
    command says when there are none)."""
    try:
        return ExportWeights(cell_weights(wave, settings))
    except OperationError as exc:
        return ExportWeights(None, str(exc).rstrip("。"))


def prepare(wave: Wave, include_excluded: bool, weighted: bool = True,
            settings: Settings | None = None, weights: ExportWeights | None = None):  # fmt: skip
    """Variables, weights (if the frame allows; with *settings*' weighting, by
    default the wave's saved settings; *weights* when worked out already) and the
    method note."""
    q = questionnaire_of(wave.questionnaire)
    settings = settings or wave_settings(wave)
    found = (weights or export_weights(wave, settings)) if weighted else ExportWeights(None)
    weights, why_not = found.cells, found.why_not
    note = method_note(wave, settings, weights is not None, why_not)
    if weights is not None and weights.missing_districts:
        note += (f"\n以下区县还没有有效答卷，没有权数：{'、'.join(weights.missing_districts)}；"
                 "权数之和是其余区县的人口数，不是全市人口。")  # fmt: skip
    if include_excluded and weights is not None:
        note += "\n" + EXCLUDED_WEIGHT_NOTE
    about = weight_about(wave, settings)
    return q, variables(q, weights is not None, include_excluded, about), weights, note


def audit_export(wave: Wave, fmt: str, rows: int, what: str = "microdata", actor_name=None,
                 settings: Settings | None = None):  # fmt: skip
    """Record an export, with the settings it was weighted with (and whether they
    are the wave's saved ones): what was handed out can be told afterwards."""
    detail = {"format": fmt, "rows": rows, "what": what}
    if settings is not None:
        detail["settings"] = settings_used(wave, settings)
    with db.write() as session:
        record(session, "export", "wave", wave.id, detail, actor_name=actor_name)


def audit_report(wave: Wave, fmt: str, settings: Settings, actor_name=None) -> None:
    """Record a report handed out (page, Word file, CLI) with the settings it was
    estimated with, as :func:`audit_export` does for data."""
    with db.write() as session:
        record(session, "report", "wave", wave.id,
               {"format": fmt, "settings": settings_used(wave, settings)},
               actor_name=actor_name)  # fmt: skip


def _channel_labels(wave: Wave) -> dict[int, str]:
    from survey.models import Channel

    rows = db.session.execute(select(Channel.id, Channel.label).filter_by(wave_id=wave.id))
    return dict(rows.all())


def _fast_rows(wave: Wave, q, vars_, weights, include_excluded: bool, progress,
               limit_rows: int | None = None) -> Iterator[list]:  # fmt: skip
    """Rows as value lists straight from Core rows (no ORM objects): bounded memory."""
    from survey.exports.codebook import fast_row_builder

    labels = _channel_labels(wave)
    build = fast_row_builder(q, include_excluded)
    key = weights.columns if weights is not None else ()
    table = Response.__table__
    stmt = (
        select(table)
        .where(table.c.wave_id == wave.id, table.c.withdrawn_at.is_(None))
        .order_by(table.c.id)
    )
    if not include_excluded:
        stmt = stmt.where(table.c.excluded.is_(False))
    if limit_rows:
        stmt = stmt.limit(limit_rows)
    result = db.session.execute(stmt.execution_options(yield_per=5000, stream_results=True))
    for i, r in enumerate(result, 1):
        weight = (
            False if weights is None else weights.weights.get(tuple(getattr(r, c) for c in key))
        )
        yield build(r, weight, labels.get(r.channel_id, ""))
        if progress and i % 5000 == 0:
            progress(5000)


def _ndjson_jobs(wave: Wave, include_excluded: bool, batch: int = 10_000):
    """Functions that each fetch one range of the wave's responses as newline-
    delimited JSON (bytes), one object per response with the fields of
    ``columnar.RAW_COLUMNS``. The database builds the text, with the stored
    answers and indicators embedded as they are, so nothing is parsed row by row
    in Python. Each job opens its own connection, so ranges can be fetched in
    parallel. Responses stored after the export began are left out."""
    from sqlalchemy import LargeBinary, String, bindparam, cast, literal

    from survey.exports.columnar import RAW_COLUMNS

    t = Response.__table__
    valid = [t.c.wave_id == wave.id, t.c.withdrawn_at.is_(None)]
    if not include_excluded:
        valid.append(t.c.excluded.is_(False))
    low, high = db.session.execute(select(func.min(t.c.id), func.max(t.c.id)).where(*valid)).one()
    if low is None:
        return []
    engine = db.engine
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        quote, embed = (lambda c: cast(func.to_json(c), String)), (lambda c: cast(c, String))  # noqa: E731
    else:
        quote, embed = func.json_quote, (lambda c: c)  # noqa: E731
    value = {
        # the stored text ("2026-11-01 08:00:00[.ffffff]"): polars formats it
        "started_at": quote(cast(t.c.started_at, String)),
        "submitted_at": quote(cast(t.c.submitted_at, String)),
        "id": quote(cast(t.c.id, String)),
        "channel_id": cast(t.c.channel_id, String),
        "duration_seconds": cast(t.c.duration_seconds, String),
        "over_quota": cast(cast(t.c.over_quota, Integer), String),
        "excluded": cast(cast(t.c.excluded, Integer), String),
        **{c: func.coalesce(embed(t.c[c]), "null") for c in ("flags", "answers", "indicators")},
    }
    parts = []
    for i, name in enumerate(RAW_COLUMNS):
        parts.append(("{" if i == 0 else ",") + f'"{name}":')
        parts.append(func.coalesce(value.get(name, quote(t.c.get(name))), "null"))
    line = literal(parts[0], String)
    for part in [*parts[1:], "}"]:
        line = line.op("||")(part)
    inner = (
        select(t.c.id, line.label("line"))
        .where(*valid, t.c.id.between(bindparam("lo"), bindparam("hi")))
        .order_by(t.c.id)
        .subquery()
    )
    if postgres:
        joined = func.convert_to(func.string_agg(inner.c.line, "\n"), "UTF8")
    else:
        joined = cast(func.group_concat(inner.c.line, "\n"), LargeBinary)
    stmt = select(joined)

    def job(lo: int, hi: int):
        def run() -> bytes:
            with engine.connect() as conn:
                return conn.execute(stmt, {"lo": lo, "hi": hi}).scalar() or b""

        return run

    return [job(lo, min(lo + batch - 1, high)) for lo in range(low, high + 1, batch)]


def columnar_export(wave: Wave, labels=False, include_excluded=False, weighted=True,
                    neutralise=True, settings: Settings | None = None,
                    weights: ExportWeights | None = None):  # fmt: skip
    """The columnar batches of a wave's microdata (see ``survey.exports.columnar``)."""
    from survey.exports.columnar import ColumnarExport

    q, vars_, weights, _note = prepare(wave, include_excluded, weighted, settings, weights)
    return ColumnarExport(q, vars_, include_excluded=include_excluded, labels=labels,
                          channel_labels=_channel_labels(wave), weights=weights,
                          neutralise=neutralise)  # fmt: skip


def csv_stream(wave: Wave, labels=False, include_excluded=False, progress=None, weighted=True,
               limit_rows: int | None = None, settings: Settings | None = None,
               weights: ExportWeights | None = None) -> Iterator[bytes]:  # fmt: skip
    """The CSV file in chunks; *progress* gets the number of rows of each chunk."""
    writer = columnar_export(wave, labels, include_excluded, weighted, settings=settings,
                             weights=weights)  # fmt: skip
    return writer.chunks(_ndjson_jobs(wave, include_excluded), progress, limit_rows)


def write_file(wave: Wave, fmt: str, path: Path, include_excluded=False,
               progress: Callable[[int], None] | None = None,
               limit_rows: int | None = None, settings: Settings | None = None,
               weights: ExportWeights | None = None) -> int:  # fmt: skip
    """Write a microdata file; returns the number of rows. *weights*: those of
    :func:`export_weights` with *settings*, when worked out already."""
    if fmt not in FORMATS:
        raise OperationError(f"未知的导出格式 {fmt}（可用：{', '.join(FORMATS)}）")
    if fmt == "xlsx":
        rows_out = count_rows(wave, include_excluded)
        rows_out = min(rows_out, limit_rows) if limit_rows else rows_out
        if rows_out > XLSX_MAX_ROWS:
            raise OperationError(
                f"本轮有 {rows_out:,} 份答卷，超过 Excel 工作表的上限 {XLSX_MAX_ROWS:,} 行；"
                "请改用 CSV、SPSS（.sav）或 Stata（.dta）格式导出。"
            )
    if fmt == "csv":
        n = 0

        def counting(done: int) -> None:
            nonlocal n
            n += done
            if progress:
                progress(done)

        with open(path, "wb") as fh:
            for chunk in csv_stream(wave, False, include_excluded, counting, True, limit_rows,
                                    settings, weights):  # fmt: skip
                fh.write(chunk)
    elif fmt == "xlsx":
        q, vars_, cells, note = prepare(wave, include_excluded, settings=settings, weights=weights)
        names = [v.name for v in vars_]
        rows = (
            dict(zip(names, values, strict=True))
            for values in _fast_rows(wave, q, vars_, cells, include_excluded, progress, limit_rows)
        )
        n = writers.write_xlsx(path, vars_, rows, note)
    else:  # SPSS / Stata: streamed, the batches read again for each pass (bounded memory)
        if not count_rows(wave, include_excluded):
            raise OperationError(
                "本轮还没有可导出的答卷，无法生成 SPSS/Stata 文件（它的变量类型取自数据）；"
                "请等有答卷后再导出，或先导出 CSV/Excel 查看变量。"
            )
        writer = columnar_export(wave, include_excluded=include_excluded, neutralise=False,
                                 settings=settings, weights=weights)  # fmt: skip
        passes = iter([None, progress, None])  # progress while the rows are written

        def batches():
            jobs = _ndjson_jobs(wave, include_excluded)
            return writer.frames(jobs, next(passes, None), limit_rows)

        n = writers.write_labelled(fmt, path, writer.variables, batches,
                                   label=f"{wave.city.name} {wave.name}")  # fmt: skip
    return n
