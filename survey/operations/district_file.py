"""Reading a city's districts and their populations from a small CSV or XLSX file.

The file is read as the population frame is (:mod:`survey.operations.frames`):
CSV in UTF-8 (with or without BOM) or GB18030/GBK, or the first sheet of an XLSX
workbook. Two columns, district and population, with or without a header row
(``district``/``区县``/``区县名称``, ``population``/``人口数``/``人口``).
"""

from __future__ import annotations

from survey.operations.cities import CityError, DistrictEntry
from survey.operations.frames import ALIASES, FrameError, read_table


def _table(data: bytes, filename: str) -> list[list[str]]:
    try:
        return read_table(data, filename)[0]
    except FrameError as exc:
        raise CityError(exc.problems) from exc


def read_districts_file(data: bytes, filename: str) -> list[DistrictEntry]:
    """The districts listed in the file, in its order; unreadable files raise CityError."""
    if not data.strip():
        raise CityError([f"文件 {filename} 为空。"])
    table = [[cell.strip() for cell in row] for row in _table(data, filename)]
    numbered = [(line, row) for line, row in enumerate(table, 1) if any(row)]
    if not numbered:
        raise CityError([f"文件 {filename} 中没有数据。"])
    header = [ALIASES.get(cell.lower(), ALIASES.get(cell)) for cell in numbered[0][1]]
    if "district" in header and "population" in header:
        columns = header.index("district"), header.index("population")
        numbered = numbered[1:]
    elif any(h in ("district", "population") for h in header):
        raise CityError(
            [f"文件 {filename} 的表头需要两列：区县（district）和人口数（population）。"]
        )
    else:  # no header: district in the first column, population in the second
        columns = 0, 1
    entries = []
    for line, row in numbered:
        name, population = (row[i] if i < len(row) else "" for i in columns)
        entries.append(DistrictEntry(f"第 {line} 行", name, population))
    if not entries:
        raise CityError([f"文件 {filename} 只有表头，没有区县。"])
    return entries
