"""Reading respondent and population CSV files; writing results atomically."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from analysis.errors import AnalysisError


class InputError(AnalysisError):
    """Bad input file: the message names the file, column and value."""


#: What Excel writes: UTF-8 (with a BOM or not), or GB18030/GBK on Chinese Windows;
#: tried in this order, as the web app's frame import does.
ENCODINGS = ("utf-8-sig", "gb18030")


def read_csv_columns(path: Path, required: Iterable[str]) -> tuple[dict[str, list[str]], int]:
    """Columns of a CSV file as lists of strings; checks required columns.

    The file may be UTF-8 (BOM or not) or GB18030 (GBK), see :data:`ENCODINGS`.
    pandas' C parser reads a million rows in about a second (pandas comes with
    statsmodels); every value is kept as text, empty cells as "".
    """
    import pandas as pd

    for encoding in ENCODINGS:
        try:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding=encoding, skip_blank_lines=True
            )
            break
        except UnicodeDecodeError:
            continue
        except FileNotFoundError as exc:
            raise InputError(f"{path}: no such file / 文件不存在") from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror}) / 无法打开文件") from exc
        except pd.errors.EmptyDataError as exc:
            raise InputError(f"{path}: the file is empty / 文件为空") from exc
        except pd.errors.ParserError as exc:
            raise InputError(
                f"{path}: malformed CSV ({exc}) / CSV 格式错误（列数不一致？）"
            ) from exc
    else:
        raise InputError(
            f"{path}: neither UTF-8 nor GB18030 text / 文件编码无法识别："
            "请保存为 UTF-8 或 GB18030（GBK）编码的 CSV"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: column(s) {', '.join(missing)} missing / 缺少列 "
            f"(found: {', '.join(frame.columns)})"
        )
    columns = {c: frame[c].tolist() for c in frame.columns}
    return columns, len(frame)


def population_rows(path: Path, variables: list[str]) -> list[dict]:
    """The frame's rows with *variables* and ``population`` (a number ≥ 0).

    Two rows that agree on every column but ``population`` describe the same cell
    twice: an error naming both lines (summing them would shift the estimates;
    the web app's frame import refuses such a file too). Rows that differ in a
    column that is not weighted on (e.g. urban/rural) are different cells and are
    added up by :func:`analysis.frame.build_frame`.
    """
    columns, count = read_csv_columns(path, [*variables, "population"])
    if count == 0:
        raise InputError(f"{path}: no population rows / 没有人口数据")
    keys = [c for c in columns if c != "population"]
    seen: dict[tuple, int] = {}
    rows = []
    for i in range(count):
        value = columns["population"][i]
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not math.isfinite(number) or number < 0:
            raise InputError(
                f"{path}: column 'population', line {i + 2}: {value!r} is not a non-negative "
                "number / 人口数必须是非负数字"
            )
        key = tuple(columns[c][i].strip() for c in keys)
        if key in seen:
            raise InputError(
                f"{path}: line {i + 2} repeats line {seen[key]} / 第 {i + 2} 行与第 "
                f"{seen[key]} 行重复（{'、'.join(key)}），同一单元格只能有一行：请删除或合并重复的行"
            )
        seen[key] = i + 2
        row = {v: columns[v][i] for v in variables}
        row["population"] = number
        rows.append(row)
    return rows


def write_atomic(path: Path, text: str) -> None:
    """Write *text* to *path* via a temporary file: no partial output on failure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rows_to_csv(rows, columns) -> str:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_fmt(getattr(row, c)) for c in columns])
    return buf.getvalue()


def _fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(round(float(value), 12))
    return str(value)


def to_json(obj) -> str:
    def clean(o):
        if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        if hasattr(o, "item"):
            return clean(o.item())
        return o

    return json.dumps(clean(obj), ensure_ascii=False, indent=2)
