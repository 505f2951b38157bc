"""The streaming SPSS writer, read back by ReadStat (pyreadstat): numbers and
system-missing, value labels, Chinese labels, short, long (> 8) and very long
(> 255 bytes) text."""

from __future__ import annotations

import polars as pl
import pyreadstat
import pytest

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


def test_user_missing_values_discrete_a_range_and_a_range_with_a_value(tmp_path):
    """The variable record's missing-values field: up to three values; more as a
    range that holds no answer; or a range and one value when an answer lies
    between them. ReadStat reads each back as SPSS declares it."""
    codes = {"one": [99], "three": [97, 98, 99], "range": [96, 97, 98, 99],
             "mixed": [9, 97, 98, 99]}  # fmt: skip
    names = list(codes)

    def batches():
        return [pl.DataFrame({n: pl.Series([1, 99, None], dtype=pl.Int16) for n in names})]

    labels = {n: {1: "满意", 50: "五十", **{c: f"缺失{c}" for c in codes[n]}} for n in names}
    write_sav(tmp_path / "m.sav", [(n, n) for n in names], batches, labels, missing=codes)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "m.sav"), user_missing=True)
    ranges = meta.missing_ranges
    assert ranges["one"] == [{"lo": 99.0, "hi": 99.0}]
    assert ranges["three"] == [{"lo": c, "hi": c} for c in (97.0, 98.0, 99.0)]
    assert ranges["range"] == [{"lo": 96.0, "hi": 99.0}]
    # 50 is an answer: 97–99 as a range, 9 as a value
    assert ranges["mixed"] == [{"lo": 97.0, "hi": 99.0}, {"lo": 9.0, "hi": 9.0}]
    assert list(frame["one"])[:2] == [1, 99] and meta.variable_value_labels["one"][99] == "缺失99"
    plain, _ = pyreadstat.read_sav(str(tmp_path / "m.sav"))
    for n in names:
        assert plain[n][0] == 1 and plain[n][1:].isna().all()  # 99 missing as declared


def test_missing_values_that_spss_cannot_declare_are_refused():
    from survey.exports.spss import _missing_values

    assert _missing_values("x", [99], [1, 2]) == (1, [99.0])
    with pytest.raises(ValueError, match="cannot declare"):
        _missing_values("x", [1, 3, 5, 7], [2, 6])


def test_measurement_levels_are_declared(tmp_path):
    """SPSS showed every variable's measurement level as unknown: the file now
    declares nominal, ordinal and scale (the display parameters record, one entry
    per variable record, each segment of a very long text too)."""
    columns = [("code", "编码"), ("scale", "满意度"), ("x", "数值"), ("long", "长文本"),
               ("after", "其后")]  # fmt: skip

    def batches():
        return [pl.DataFrame({"code": pl.Series([1, 2], dtype=pl.Int16),
                              "scale": pl.Series([5, 4], dtype=pl.Int16),
                              "x": [0.5, 1.5], "long": ["长" * 200, ""], "after": ["a", "b"]})]  # fmt: skip

    measures = {"code": "nominal", "scale": "ordinal", "x": "scale", "long": "nominal",
                "after": "nominal"}  # fmt: skip
    write_sav(tmp_path / "m.sav", columns, batches, {}, measures=measures)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "m.sav"))
    assert meta.variable_measure == measures
    assert list(frame["long"]) == ["长" * 200, ""] and list(frame["after"]) == ["a", "b"]
