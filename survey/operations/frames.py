"""Importing a wave's population frame from CSV or XLSX, all or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from survey.extensions import db
from survey.models import District, PopulationCell, Wave
from survey.operations.audit import record
from survey.operations.cities import district_names
from survey.operations.questionnaires import questionnaire_of
from survey.operations.workbook import MAX_CELLS, WorkbookError, read_sheets, too_many_cells

ALIASES = {
    "district": "district", "区县": "district", "区县名称": "district",
    "sex": "sex", "性别": "sex",
    "age_group": "age_group", "年龄组": "age_group", "年龄段": "age_group",
    "urban_rural": "urban_rural", "城乡": "urban_rural",
    "population": "population", "人口数": "population", "人口": "population",
}  # fmt: skip
REQUIRED = ("district", "sex", "age_group", "population")
ENCODINGS = ("utf-8-sig", "gb18030")


class FrameError(ValueError):
    """The file cannot be imported; ``problems`` lists every reason (Chinese)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class FrameFile:
    rows: list[dict]  # {"line": n, district, sex, age_group, urban_rural, population(str)}
    encoding: str
    has_urban_rural: bool


def _table_from_csv(data: bytes) -> tuple[list[list[str]], str]:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:  # newline="": the csv module handles CR, LF and quoted line breaks itself
            return _bounded(csv.reader(io.StringIO(text, newline=""))), encoding
        except csv.Error as exc:
            raise FrameError(
                [f"CSV 文件格式有误（{exc}）：请用 Excel 或 WPS 另存为 CSV 后重试。"]
            ) from exc
    raise FrameError(["文件编码无法识别：请保存为 UTF-8 或 GB18030（GBK）编码的 CSV。"])


def _table_from_xlsx(data: bytes) -> list[list[str]]:
    return _sheets_from_xlsx(data)[0][1]


def _sheets_from_xlsx(data: bytes) -> list[tuple[str, list[list[str]]]]:
    """Every sheet of a workbook, by name, as cells of text (within the limits of
    :mod:`survey.operations.workbook`)."""
    try:
        return read_sheets(data)
    except WorkbookError as exc:
        raise FrameError([str(exc)]) from exc


def _bounded(rows) -> list[list[str]]:
    """The rows of a CSV file, refused beyond ``workbook.MAX_CELLS`` cells (a row
    counting one at least): a 4 MB file of short lines made millions of rows."""
    table, left = [], MAX_CELLS
    for row in rows:
        left -= len(row) or 1
        if left < 0:
            raise FrameError([str(too_many_cells())])
        table.append(row)
    return table


def read_table(data: bytes, filename: str) -> tuple[list[list[str]], str]:
    """The cells of an uploaded CSV (UTF-8 or GB18030/GBK) or the first sheet of an
    XLSX (by the file's name), and the encoding found ("xlsx" for a workbook);
    an unreadable file raises :class:`FrameError`."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _table_from_xlsx(data), "xlsx"
    return _table_from_csv(data)


def _nonblank(table: list[list[str]]) -> list[list[str]]:
    return [row for row in table if any(cell.strip() for cell in row)]


def _header(table: list[list[str]]) -> list[str]:
    """The first row's column names, aliases (区县, 性别 …) made canonical."""
    return [ALIASES.get(h.strip().lower(), ALIASES.get(h.strip(), h.strip())) for h in table[0]]


def _missing(header: list[str]) -> list[str]:
    return [c for c in REQUIRED if c not in header]


def read_frame_file(data: bytes, filename: str) -> FrameFile:
    """Parse the upload into rows; structural problems raise :class:`FrameError`."""
    if not data.strip():
        raise FrameError(["文件为空。"])
    if filename.lower().endswith((".xlsx", ".xlsm")):
        # The sheet that has the columns: a workbook often starts with a sheet of
        # notes (说明) before the data.
        sheets = [(name, _nonblank(table)) for name, table in _sheets_from_xlsx(data)]
        found = next((t for _, t in sheets if t and not _missing(_header(t))), None)
        table, encoding = found or sheets[0][1], "xlsx"
        where = "、".join(f"“{name}”" for name, _ in sheets)
        where = f"（已查看工作表：{where}；请把人口数据放在其中一个工作表，第一行为表头）"
    else:
        table, encoding = read_table(data, filename)
        table, where = _nonblank(table), ""
    if not table:
        raise FrameError(["文件中没有数据。"])
    header = _header(table)
    missing = _missing(header)
    if missing:
        raise FrameError(
            [
                f"缺少列：{', '.join(missing)}（需要 district/区县、sex/性别、age_group/年龄组、population/人口数）"
                + where
            ]
        )
    index = {name: header.index(name) for name in (*REQUIRED, "urban_rural") if name in header}
    rows = []
    for line, row in enumerate(table[1:], 2):
        cells = {k: (row[i].strip() if i < len(row) else "") for k, i in index.items()}
        cells["line"] = line
        rows.append(cells)
    if not rows:
        raise FrameError(["文件只有表头，没有人口数据。"])
    return FrameFile(rows, encoding, "urban_rural" in index)


def frame_categories(wave: Wave) -> dict[str, list[str]]:
    """The labels residents' answers use: districts of the city, and the options of
    the questionnaire's sex, age group and urban/rural questions."""
    q = questionnaire_of(wave.questionnaire)
    out = {"district": district_names(wave.city_id)}
    for role in ("sex", "age_group", "urban_rural"):
        qid = q.roles.get(role)
        out[role] = [o.label for o in q.question(qid).options if not o.screen_out] if qid else []
    return out


def validate_frame(
    frame: FrameFile, categories: dict[str, list[str]], census: dict[str, int | None] | None = None
) -> list[dict]:
    """Check every row; return clean rows or raise FrameError with every problem.

    When every row is right, each district's adults must add up to more than 0
    and, given the districts' resident populations (*census*, entered with the
    city), to no more than that: a frame with a digit too many (or a district
    left at 0) had been imported, and the quota plan and the weights followed it.
    """
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    clean = []
    variables = ["district", "sex", "age_group"] + (
        ["urban_rural"] if frame.has_urban_rural else []
    )
    names = {"district": "区县", "sex": "性别", "age_group": "年龄组", "urban_rural": "城乡"}
    for row in frame.rows:
        line = row["line"]
        ok = True
        for v in variables:
            if row[v] not in categories[v]:
                ok = False
                allowed = "、".join(categories[v]) or "（问卷中没有此题）"
                problems.append(f"第 {line} 行：{names[v]}“{row[v]}”不认识（可用：{allowed}）")
        text = row["population"].replace(",", "")
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or number != number:
            ok = False
            problems.append(f"第 {line} 行：人口数“{row['population']}”不是数字")
        elif number < 0:
            ok = False
            problems.append(f"第 {line} 行：人口数 {row['population']} 不能为负数")
        elif number != int(number):
            ok = False
            problems.append(f"第 {line} 行：人口数 {row['population']} 应为整数")
        key = tuple(row[v] for v in variables)
        if key in seen:
            ok = False
            problems.append(f"第 {line} 行：与第 {seen[key]} 行重复（{' / '.join(key)}）")
        else:
            seen[key] = line
        if ok:
            clean.append(
                {**{v: row[v] for v in variables}, "urban_rural": row.get("urban_rural", ""),
                 "population": int(number)}
            )  # fmt: skip
    expected = [()]
    for v in variables:
        expected = [e + (c,) for e in expected for c in categories[v]]
    for key in expected:
        if key not in seen:
            problems.append(f"缺少单元：{' / '.join(key)}")
    if not problems:
        problems = _district_totals_problems(clean, categories["district"], census or {})
    if problems:
        raise FrameError(problems)
    return clean


def _district_totals_problems(
    rows: list[dict], districts: list[str], census: dict[str, int | None]
) -> list[str]:
    """Each district's adults, added up: more than 0, at most its residents."""
    totals = dict.fromkeys(districts, 0)
    for row in rows:
        totals[row["district"]] += row["population"]
    problems = []
    for district, total in totals.items():
        residents = census.get(district)
        if total == 0:
            problems.append(f"{district}：各单元人口数合计为 0，无法按人口分配配额和加权。")
        elif residents and total > residents:
            problems.append(
                f"{district}：成年人口合计 {total:,} 超过该区县常住人口 {residents:,}"
                "（创建城市时填写的人口数）。请检查是否多写了数字（例如多了一个 0），或把其他区县的数字填到了"
                "这里；人口数的单位是“人”。"
            )
    return problems


def import_frame(wave: Wave, data: bytes, filename: str, actor_name: str | None = None) -> int:
    """Validate the whole file, then replace the wave's frame in one transaction."""
    frame = read_frame_file(data, filename)
    census = dict(
        db.session.execute(
            select(District.name, District.census_population).where(
                District.city_id == wave.city_id
            )
        ).all()
    )
    rows = validate_frame(frame, frame_categories(wave), census)
    with db.write() as session:
        session.execute(delete(PopulationCell).where(PopulationCell.wave_id == wave.id))
        session.add_all(PopulationCell(wave_id=wave.id, **row) for row in rows)
        record(session, "frame_import", "wave", wave.id,
               {"file": Path(filename).name[:100], "rows": len(rows), "encoding": frame.encoding,
                "population": sum(r["population"] for r in rows)},
               actor_name=actor_name)  # fmt: skip
    return len(rows)


def frame_summary(wave_id: int) -> dict[str, int]:
    """Population per district (for display)."""
    out: dict[str, int] = {}
    for cell in db.session.scalars(select(PopulationCell).filter_by(wave_id=wave_id)):
        out[cell.district] = out.get(cell.district, 0) + cell.population
    return out
