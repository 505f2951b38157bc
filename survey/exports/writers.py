"""File writers. In CSV every text cell that a spreadsheet could read as a
formula (starting with =, +, -, @, tab or CR) is neutralised with a leading
apostrophe; the microdata workbook (XLSX) instead writes every text as a typed
string cell (``t="inlineStr"``, never a formula ``<f>``), so the text stays as
typed; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from survey.exports.codebook import CODING_NOTE, Variable, code_table, numeric_codes

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


#: Characters a worksheet (XML 1.0) cannot hold: openpyxl refuses the whole
#: workbook for one of them (a channel label pasted from Word: Shift+Enter is \x0b).
NOT_IN_SHEETS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sheet_text(value):
    """*value* as a worksheet can hold it: control characters become spaces."""
    if isinstance(value, str):
        return NOT_IN_SHEETS.sub(" ", value)
    return value


def safe_text(value):
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def csv_chunks(variables: list[Variable], rows: Iterable[list], labels: bool = False,
                    batch: int = 5000) -> Iterator[bytes]:  # fmt: skip
    """UTF-8 CSV with a BOM (Excel on Chinese Windows), streamed in chunks; rows are
    value lists in variable order. The row-by-row writer: exports use the columnar
    one (``survey.exports.columnar``), which must produce the same file."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow([v.name for v in variables])
    coded = [(i, v.values) for i, v in enumerate(variables) if v.values and labels]
    # labels come from the questionnaire (staff-edited): neutralised like answers
    text_cols = [i for i, v in enumerate(variables) if v.kind == "str" or (v.values and labels)]
    pending = []
    for row in rows:
        for i, values in coded:
            if row[i] is not None:
                row[i] = values.get(str(row[i]), row[i])
        for i in text_cols:
            value = row[i]
            if value and isinstance(value, str) and value[0] in "=+-@\t\r":
                row[i] = "'" + value
        pending.append(row)
        if len(pending) == batch:
            writer.writerows(pending)
            pending.clear()
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    writer.writerows(pending)
    yield buf.getvalue().encode("utf-8")


def write_xlsx(path: Path, variables: list[Variable], rows: Iterable[dict], note: str) -> int:
    """XLSX (streaming write-only) with a data sheet, a codebook and a note."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)

    def cells(sheet, values: Iterable) -> list:
        """Text as typed string cells: openpyxl makes a str starting with "=" a
        formula; a cell of type "s" is written as an inline string, as typed,
        which Excel and LibreOffice show and never evaluate (no apostrophe)."""
        out = []
        for value in values:
            if isinstance(value, str):
                value = WriteOnlyCell(sheet, value=sheet_text(value))
                value.data_type = "s"
            out.append(value)
        return out

    data = book.create_sheet("数据")
    data.append(cells(data, [v.name for v in variables]))
    count = 0
    for row in rows:
        data.append(cells(data, [row.get(v.name) for v in variables]))
        count += 1
    book_sheet = book.create_sheet("变量说明")
    book_sheet.append(cells(book_sheet, ["变量", "说明", "类型", "值标签（CSV、Excel 的代码）",
                                         "SPSS（.sav）的代码", "Stata（.dta）的代码"]))  # fmt: skip
    for v in variables:
        book_sheet.append(cells(book_sheet, [v.name, v.label, v.kind,
                                             *(code_table(v, fmt) for fmt in ("xlsx", "sav", "dta"))]))  # fmt: skip
    info = book.create_sheet("说明")
    for line in [*note.splitlines(), *CODING_NOTE.splitlines()]:
        info.append(cells(info, [line]))
    book.save(path)
    return count


def compact_columns(variables: list[Variable]):
    """Expressions that turn a columnar batch into what SPSS and Stata store:
    coded text → the numbers of ``codebook.numeric_codes`` with value labels,
    0/1 and counts as integers, text as text ("" for missing); the value labels;
    and the numbers that are missing values (说不清), by variable."""
    import polars as pl

    value_labels, casts, missing = {}, [], {}
    for v in variables:
        col = pl.col(v.name)
        if v.values and v.kind == "str":
            codes = numeric_codes(v)
            small = all(-32767 <= n <= 32740 for n in codes.values())  # Stata's int
            casts.append(col.cast(pl.String).replace_strict(
                codes, default=None, return_dtype=pl.Int16 if small else pl.Int32))  # fmt: skip
            value_labels[v.name] = {codes[k]: lab for k, lab in v.values.items()}
            if v.missing:
                missing[v.name] = [codes[k] for k in v.missing]
        elif v.values:
            casts.append(col.cast(pl.Int16, strict=False))
            value_labels[v.name] = {int(k): lab for k, lab in v.values.items()}
        elif v.kind == "int":
            casts.append(col.cast(pl.Int32, strict=False))
        elif v.kind == "num":
            casts.append(col.cast(pl.Float64, strict=False))
        else:
            casts.append(col.cast(pl.String).fill_null(""))
    return casts, value_labels, missing


def write_labelled(fmt: str, path: Path, variables: list[Variable],
                   batches: Callable[[], Iterable], label: str = "") -> int:  # fmt: skip
    """SPSS .sav or Stata .dta (UTF-8), streamed in batches by our own writers
    (``survey.exports.spss`` / ``stata``); ``batches()`` returns a fresh iterable
    of columnar frames each time. Returns the number of rows."""
    from survey.exports import spss, stata

    casts, value_labels, missing = compact_columns(variables)
    extra = {"measures": {v.name: v.measurement() for v in variables}} if fmt == "sav" else {}
    write = spss.write_sav if fmt == "sav" else stata.write_dta
    return write(
        path, [(v.name, v.label) for v in variables],
        lambda: (frame.select(casts) for frame in batches()), value_labels, label,
        missing=missing, **extra,
    )  # fmt: skip


ESTIMATE_COLUMNS = ("domain", "indicator", "n", "estimate", "se", "ci_low", "ci_high",
                    "ci_method", "deff", "n_eff", "df", "target", "status")  # fmt: skip


def _cell(value):
    """An estimate's value for a table cell: text neutralised, a number that is
    not one (a design effect where every answer is the same) empty, as every
    spreadsheet and statistics package reads a missing value, not "nan" (text to
    Excel, Stata and SPSS, which then read the whole column as text)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def estimates_csv(rows, note: str) -> bytes:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    for line in note.splitlines():
        writer.writerow([safe_text("# " + line)])
    writer.writerow(ESTIMATE_COLUMNS)
    for r in rows:
        writer.writerow([_cell(getattr(r, c)) for c in ESTIMATE_COLUMNS])
    return buf.getvalue().encode("utf-8")


#: The estimates workbook's column headings (the CSV keeps ESTIMATE_COLUMNS, for programs).
ESTIMATE_HEADINGS = ("区县", "指标", "指标名称", "样本量", "估计值", "标准误", "置信区间下限",
                     "置信区间上限", "置信区间方法", "设计效应", "有效样本量", "自由度", "目标值",
                     "状态")  # fmt: skip


#: Number formats of the estimates workbook's columns (by heading): a share and
#: its interval and target as percentages with two decimals (the cells keep the
#: fractions, 0.8512 shows as 85.12%); its standard error as a fraction to four
#: decimals (0.0123: 1.23 percentage points). A 0–100 score: two decimals.
SHARE_FORMATS = {"估计值": "0.00%", "置信区间下限": "0.00%", "置信区间上限": "0.00%",
                 "目标值": "0.00%", "标准误": "0.0000"}  # fmt: skip
SCORE_FORMATS = {"估计值": "0.00", "置信区间下限": "0.00", "置信区间上限": "0.00",
                 "目标值": "0.00", "标准误": "0.00"}  # fmt: skip
COMMON_FORMATS = {"样本量": "0", "设计效应": "0.00", "有效样本量": "0.0", "自由度": "0"}


def estimates_xlsx(path: Path, rows, note: str, labels: dict[str, str] | None = None,
                   kinds: dict[str, str] | None = None) -> None:  # fmt: skip
    """The estimates for people: Chinese headings, 全市 for the city, and each
    indicator's name (*labels*: indicator code → name) beside its code; numbers
    formatted by the indicator's kind (*kinds*: code → "mean" for a 0–100 score;
    others are shares)."""
    from openpyxl import Workbook

    labels, kinds = labels or {}, kinds or {}
    book = Workbook()
    sheet = book.active
    sheet.title = "估计结果"
    sheet.append(list(ESTIMATE_HEADINGS))
    sheet.freeze_panes = "A2"
    for r in rows:
        values = [getattr(r, c) for c in ESTIMATE_COLUMNS]
        values[0] = "全市" if r.domain == "ALL" else r.domain
        values.insert(2, labels.get(r.indicator, ""))
        sheet.append([_cell(sheet_text(v)) for v in values])
        formats = {**COMMON_FORMATS,
                   **(SCORE_FORMATS if kinds.get(r.indicator) == "mean" else SHARE_FORMATS)}  # fmt: skip
        for cell, heading in zip(sheet[sheet.max_row], ESTIMATE_HEADINGS, strict=True):
            if heading in formats and isinstance(cell.value, int | float):
                cell.number_format = formats[heading]
    info = book.create_sheet("方法说明")
    for line in note.splitlines():
        info.append([safe_text(sheet_text(line))])
    book.save(path)
