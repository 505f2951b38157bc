"""The streaming Stata writer, read back by two independent readers (pandas'
own .dta reader and ReadStat via pyreadstat)."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pyreadstat

from survey.exports.stata import write_dta

LONG_TEXT = "很长的意见，" * 400 + "完"  # 7,203 bytes: beyond str2045, a strL


def _batches():
    yield pl.DataFrame(
        {
            "id": ["A-1", "B-2"],
            "share": [0.75, None],
            "count": pl.Series([12, None], dtype=pl.Int32),
            "s_air": pl.Series([5, None], dtype=pl.Int16),
            "note": ['=HYPERLINK("x")', LONG_TEXT],
            "district": pl.Series(["咸安区", ""], dtype=pl.Categorical),
        }
    )
    yield pl.DataFrame(
        {
            "id": ["C-3"],
            "share": [float("nan")],
            "count": pl.Series([-7], dtype=pl.Int32),
            "s_air": pl.Series([1], dtype=pl.Int16),
            "note": [""],
            "district": pl.Series(["赤壁市"], dtype=pl.Categorical),
        }
    )


COLUMNS = [("id", "回执码"), ("share", "满意率"), ("count", "年数"), ("s_air", "您对本地空气质量是否满意？"),
           ("note", "意见建议"), ("district", "区县")]  # fmt: skip
LABELS = {"s_air": {1: "非常不满意", 5: "非常满意"}}


def counting(calls: list):
    """The sample batches, noting each pass over them in *calls*."""

    def batches():
        calls.append(1)
        return _batches()

    return batches


def check_sample(frame, meta) -> None:
    """The sample, as ReadStat reads it back from either file."""
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


def test_written_in_passes_and_read_back_by_two_readers(tmp_path):
    path = tmp_path / "x.dta"
    calls = []
    assert write_dta(path, COLUMNS, counting(calls), LABELS, label="咸宁市 2026") == 3
    assert len(calls) == 3  # widths, rows, long texts: the data is read again, not kept
    check_sample(*pyreadstat.read_dta(str(path)))

    other = pd.read_stata(path, convert_categoricals=False)
    assert list(other["note"]) == ['=HYPERLINK("x")', LONG_TEXT, ""]
    assert other["s_air"].tolist()[0] == 5 and pd.isna(other["s_air"][1])
    with pd.io.stata.StataReader(path) as reader:
        assert reader.variable_labels()["s_air"] == "您对本地空气质量是否满意？"
        assert reader.value_labels()["s_air"] == {1: "非常不满意", 5: "非常满意"}


def test_extended_missing_values_in_every_numeric_type(tmp_path):
    """Codes named missing are written as .a, .b (int, long and double alike) and
    keep their value labels, keyed by the long form of .a/.b; "." stays ".";
    ReadStat and pandas read them as missing, and tell .a from . when asked."""

    def batches():
        return [pl.DataFrame({
            "i": pl.Series([5, 99, 98, None], dtype=pl.Int16),
            "l": pl.Series([5, 99, 98, None], dtype=pl.Int32),
            "d": pl.Series([5.0, 99.0, 98.0, None], dtype=pl.Float64),
        })]  # fmt: skip

    labels = {n: {5: "满意", 99: "说不清", 98: "拒答"} for n in "ild"}
    missing = {n: [99, 98] for n in "ild"}
    path = tmp_path / "m.dta"
    write_dta(path, [(n, n) for n in "ild"], batches, labels, missing=missing)
    frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
    for n in "ild":
        # ("." is checked by pandas below: pyreadstat 1.3.8 with user_missing=True gives
        # a raw number for "." in an int or long column; R haven reads it as NA)
        assert list(frame[n])[:3] == [5, "a", "b"]
        assert meta.variable_value_labels[n] == {5: "满意", "a": "说不清", "b": "拒答"}
    plain, _ = pyreadstat.read_dta(str(path))
    assert all(plain[n][0] == 5 and plain[n][1:].isna().all() for n in "ild")
    other = pd.read_stata(path, convert_categoricals=False, convert_missing=True)
    for n in "ild":
        assert other[n][0] == 5
        assert [m.string for m in other[n][1:]] == [".a", ".b", "."]
