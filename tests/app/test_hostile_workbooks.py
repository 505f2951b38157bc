"""Hostile spreadsheets: a small upload that would expand to gigabytes of cells
(openpyxl fills every missing row and column up to the sheet's far corner) or
of XML is refused with a clear Chinese message, quickly, and nothing is stored.

A 1.5 KB workbook with one cell at A1 and one at XFD1048576 took 25 s and more
than 1.5 GB of memory in ``read_frame_file`` before these limits (measured).
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import PopulationCell
from survey.operations.cities import CityError
from survey.operations.district_file import read_districts_file
from survey.operations.frames import FrameError, read_frame_file
from tests.conftest import form_tokens
from tests.staff import log_in, make_user

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def xlsx(sheet_data: str, dimension: str = "", pad: int = 0) -> bytes:
    """A minimal workbook whose only sheet holds *sheet_data* (``<row>`` elements),
    with the ``<dimension>`` *dimension* and *pad* bytes of blank space in the
    sheet's XML (it compresses to almost nothing)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}">{dim}'
             f"<sheetData>{sheet_data}</sheetData>{' ' * pad}</worksheet>")  # fmt: skip
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets><sheet name="人口" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buf.getvalue()


def cell(row: int, column: int, text: str) -> str:
    return f'<c r="{get_column_letter(column)}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


#: The limits (survey.operations.workbook), written out: a frame needs a few
#: hundred to a few thousand rows of five columns.
MAX_UNCOMPRESSED, MAX_CELLS, MAX_COLUMNS = 64 * 1024 * 1024, 1_000_000, 50


def read_sheets(data: bytes):
    from survey.operations.workbook import read_sheets

    return read_sheets(data)


def test_the_limits_are_those_documented():
    from survey.operations import workbook

    assert (workbook.MAX_UNCOMPRESSED, workbook.MAX_CELLS, workbook.MAX_COLUMNS) == (
        MAX_UNCOMPRESSED, MAX_CELLS, MAX_COLUMNS)  # fmt: skip


HEADER = row(1, *(cell(1, i + 1, name) for i, name in
                  enumerate(["district", "sex", "age_group", "population"])))  # fmt: skip


def test_a_cell_in_the_far_corner_is_read_quickly_and_in_bounds():
    """One cell at XFD1048576 made openpyxl hand over 1,048,576 rows of 16,384
    cells each; columns beyond the limit are not read at all, and blank rows at
    the end are no rows."""
    far = row(1_048_576, '<c r="XFD1048576"><v>1</v></c>')
    began = time.monotonic()
    sheets = read_sheets(xlsx(HEADER + far, "A1:XFD1048576"))
    assert time.monotonic() - began < 20  # about 1 s here; before: 25 s and > 1.5 GB
    assert sheets == [("人口", [["district", "sex", "age_group", "population"]])]


def test_a_sheet_with_too_many_rows_is_refused_with_a_clear_message():
    far = row(MAX_CELLS + 5, cell(MAX_CELLS + 5, 1, "咸安区"))
    with pytest.raises(FrameError) as refused:
        read_frame_file(xlsx(HEADER + far, f"A1:D{MAX_CELLS + 5}"), "frame.xlsx")
    (message,) = refused.value.problems
    assert "单元格过多" in message and "CSV" in message


def test_a_workbook_that_expands_to_too_much_xml_is_refused_before_it_is_read():
    bomb = xlsx(HEADER, pad=MAX_UNCOMPRESSED + 1)
    assert len(bomb) < 200_000  # the upload itself is small
    with pytest.raises(FrameError) as refused:
        read_frame_file(bomb, "frame.xlsx")
    (message,) = refused.value.problems
    assert "解压后超过" in message and "CSV" in message
    with pytest.raises(CityError) as refused_city:  # the districts file is read alike
        read_districts_file(bomb, "districts.xlsx")
    assert "解压后超过" in refused_city.value.problems[0]


def test_a_csv_with_too_many_cells_is_refused_with_a_clear_message():
    body = "district,sex,age_group,population\n" + "咸安区,男,18-29岁,1\n" * (MAX_CELLS // 4 + 1)
    with pytest.raises(FrameError) as refused:
        read_frame_file(body.encode(), "frame.csv")
    (message,) = refused.value.problems
    assert "单元格过多" in message


@settings(max_examples=15, deadline=None)
@given(
    cells=st.lists(
        st.tuples(st.integers(2, 3000), st.integers(1, 300), st.sampled_from(["1", "男", "="])),
        max_size=6,
    )
)
def test_scattered_cells_are_read_within_the_limits(cells):
    """Wherever the cells are, a sheet is read as at most MAX_COLUMNS columns,
    without blank rows at its end, each cell where it was (or refused clearly)."""
    rows = {}
    for r, c, text in cells:
        rows.setdefault(r, {})[c] = text
    data = HEADER + "".join(
        row(r, *(cell(r, c, text) for c, text in sorted(found.items())))
        for r, found in sorted(rows.items())
    )
    ((_, table),) = read_sheets(xlsx(data, "A1:KN3000"))
    assert all(len(line) <= MAX_COLUMNS for line in table)
    assert not table or any(table[-1])
    for r, c, _ in cells:
        if c <= MAX_COLUMNS:
            assert table[r - 1][c - 1] == rows[r][c]


def test_the_staff_page_refuses_a_workbook_bomb_and_stores_nothing(app, client, demo_wave):
    log_in(client, make_user(app, "org-bomb", "organizer"))
    url = f"/staff/waves/{demo_wave}/frame"
    with app.app_context():
        before = db.session.scalar(select(func.count(PopulationCell.id)))
    csrf = form_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    bomb = xlsx(HEADER, pad=MAX_UNCOMPRESSED + 1)
    response = client.post(url, data={"csrf_token": csrf, "file": (io.BytesIO(bomb), "f.xlsx")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert "解压后超过" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(PopulationCell.id))) == before
