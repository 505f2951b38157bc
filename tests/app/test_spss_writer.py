"""The streaming SPSS writer, read back by ReadStat (pyreadstat): numbers and
system-missing, value labels, Chinese labels, short, long (> 8) and very long
(> 255 bytes) text."""

from __future__ import annotations

import math

import polars as pl
import pyreadstat

from survey.exports.spss import write_sav
from tests.app.test_stata_writer import COLUMNS, LABELS, LONG_TEXT, _batches


def test_written_in_passes_and_read_back(tmp_path):
    path = tmp_path / "x.sav"
    calls = []

    def batches():
        calls.append(1)
        return _batches()

    assert write_sav(path, COLUMNS, batches, LABELS, label="咸宁市 2026") == 3
    assert len(calls) == 2  # widths, then cases: the data is read again, not kept
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == [name for name, _ in COLUMNS]
    assert list(frame["id"]) == ["A-1", "B-2", "C-3"]
    assert (
        frame["share"][0] == 0.75
        and math.isnan(frame["share"][1])
        and math.isnan(frame["share"][2])
    )
    assert frame["count"][0] == 12 and math.isnan(frame["count"][1]) and frame["count"][2] == -7
    assert list(frame["note"]) == ['=HYPERLINK("x")', LONG_TEXT, ""]
    assert list(frame["district"]) == ["咸安区", "", "赤壁市"]
    assert meta.column_names_to_labels["s_air"] == "您对本地空气质量是否满意？"
    assert meta.variable_value_labels["s_air"] == {1: "非常不满意", 5: "非常满意"}
    assert meta.file_label == "咸宁市 2026"
    assert meta.number_rows == 3


def test_text_of_every_length_around_the_segment_sizes(tmp_path):
    lengths = [0, 1, 7, 8, 9, 252, 253, 254, 255, 256, 504, 505, 510, 511, 765, 1000]
    texts = ["x" * k for k in lengths] + ["中" * 300]

    def batches():
        return [pl.DataFrame({"t": texts})]

    write_sav(tmp_path / "t.sav", [("t", "文本")], batches, {})
    frame, _ = pyreadstat.read_sav(str(tmp_path / "t.sav"))
    assert list(frame["t"]) == texts
