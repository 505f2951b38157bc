"""The cells of an uploaded spreadsheet (population frame, districts), read within
bounds.

A workbook is a zip file: an upload of a few KB can expand to gigabytes of XML,
and openpyxl fills every row and column missing between the cells it finds up to
the farthest one, so a 1.5 KB workbook with a cell at A1 and one at XFD1048576
became 1,048,576 rows of 16,384 cells (25 s and more than 1.5 GB before the
process ran out of memory). A frame needs a few hundred to a few thousand rows of
five columns; these limits leave room for a workbook's other sheets (notes, the
census tables the frame was taken from).
"""

from __future__ import annotations

import io
import zipfile

#: The most a workbook's parts may hold once decompressed (bytes): bounds the time
#: spent parsing the XML.
MAX_UNCOMPRESSED = 64 * 1024 * 1024
#: The most cells kept from a file (its sheets together, a blank row inside the data
#: counting one): bounds the memory.
MAX_CELLS = 1_000_000
#: Columns read from each sheet; cells to their right are not read.
MAX_COLUMNS = 50

_ADVICE = "请删去不需要的工作表和行，或另存为 CSV（UTF-8）后重新上传。"


class WorkbookError(ValueError):
    """The file cannot be read; the message says why and what to do (Chinese)."""


def too_many_cells() -> WorkbookError:
    return WorkbookError(
        f"文件中的单元格过多（超过 {MAX_CELLS:,} 个）：人口数据只需几百到几千行。" + _ADVICE
    )


def read_sheets(data: bytes) -> list[tuple[str, list[list[str]]]]:
    """Every sheet of the workbook *data*, by name, as rows of cell texts ("" for an
    empty cell): at most :data:`MAX_COLUMNS` columns, no blank rows after the last
    row with a value (a blank row before it is ``[]``), so a row's index is still
    its line in the sheet. Raises :class:`WorkbookError` for a file that is not a
    workbook or is beyond the limits."""
    from openpyxl import load_workbook

    _check_expanded_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise WorkbookError(
            "无法读取 Excel 文件：它不是有效的 .xlsx（可能是旧的 .xls 格式或文件已损坏）。"
            f"请在 Excel 中另存为 .xlsx 或 CSV（UTF-8）后重新上传。（技术信息：{exc}）"
        ) from exc
    budget = [MAX_CELLS]
    try:
        return [(sheet.title, _rows(sheet, budget)) for sheet in book.worksheets]
    finally:
        book.close()


def _check_expanded_size(data: bytes) -> None:
    """Refuse a workbook whose parts would expand beyond :data:`MAX_UNCOMPRESSED`.
    The sizes the zip file declares bound what is read: Python's zipfile reads a
    part no further than its declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip file: openpyxl says so
    if expanded > MAX_UNCOMPRESSED:
        raise WorkbookError(
            f"Excel 文件解压后超过 {MAX_UNCOMPRESSED // (1024 * 1024)} MB，无法读取："
            "人口数据只需几百到几千行。" + _ADVICE
        )


def _rows(sheet, budget: list[int]) -> list[list[str]]:
    """The sheet's rows within :data:`MAX_COLUMNS`, counting their cells against
    *budget* (``[cells left]``, shared by the file's sheets)."""
    rows: list[list[str]] = []
    blank = 0  # blank rows seen since the last row with a value
    for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
        if values.count(None) == len(values):  # openpyxl's filler rows too: no list made
            blank += 1
            continue
        last = max(i for i, v in enumerate(values) if v is not None)
        budget[0] -= blank + last + 1
        if budget[0] < 0:
            raise too_many_cells()
        rows.extend([] for _ in range(blank))
        blank = 0
        rows.append(["" if v is None else str(v) for v in values[: last + 1]])
    return rows
