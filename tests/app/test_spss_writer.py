"""The streaming SPSS writer, read back by ReadStat (pyreadstat): numbers and
system-missing, value labels, Chinese labels, short, long (> 8) and very long
(> 255 bytes) text."""

from __future__ import annotations

import polars as pl
import pyreadstat

from survey.exports.spss import write_sav
from tests.app.test_stata_writer import COLUMNS, LABELS, check_sample, counting


def test_written_in_passes_and_read_back(tmp_path):
    path = tmp_path / "x.sav"
    calls = []
    assert write_sav(path, COLUMNS, counting(calls), LABELS, label="咸宁市 2026") == 3
    assert len(calls) == 2  # widths, then cases: the data is read again, not kept
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == [name for name, _ in COLUMNS]
    assert meta.number_rows == 3
    check_sample(frame, meta)


def test_text_of_every_length_around_the_segment_sizes(tmp_path):
    lengths = [0, 1, 7, 8, 9, 252, 253, 254, 255, 256, 504, 505, 510, 511, 765, 1000]
    texts = ["x" * k for k in lengths] + ["中" * 300]

    def batches():
        return [pl.DataFrame({"t": texts})]

    write_sav(tmp_path / "t.sav", [("t", "文本")], batches, {})
    frame, _ = pyreadstat.read_sav(str(tmp_path / "t.sav"))
    assert list(frame["t"]) == texts
