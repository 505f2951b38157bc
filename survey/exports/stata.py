"""Stata .dta files (format 118: Stata 14 and later, UTF-8) written as a stream.

pyreadstat wants the whole table in memory; a million-response wave then needs
hundreds of megabytes. This writer takes the data in batches, several times
(the database is read again rather than the data kept): a first pass finds the
number of rows and the width of every text variable, a second writes the rows,
and a third (only when some text is longer than Stata's 2,045-byte ``str#``)
writes those long texts as ``strL``. Memory is that of one batch.

Layout (Stata's "dta_118" description): header, map of section offsets,
variable types, names, sort list, formats, value-label names, variable labels,
characteristics, data, strLs, value labels. Little-endian throughout.

Missing values: "." for none; a numeric variable's codes that are not answers
(说不清) become the extended missing values .a, .b, … (Stata's "missing values"
section: for ``int`` 32,742 on, for ``long`` 2,147,483,622 on, for ``double``
2^1023 plus k·2^(1023-12)); their value labels are keyed by the ``long`` form.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from survey.exports.binary import MONTHS, cut_utf8, double_bits, scan

DOUBLE, LONG, INT = 65526, 65528, 65529
STRL = 32768
MAX_STR = 2045
MISSING_DOUBLE_BITS = 0x7FE0000000000000  # Stata's "." for doubles (2^1023)
MISSING_LONG = 2_147_483_621
MISSING_INT = 32_741
#: Extended missing values .a … .z: k = 1 … 26 added to ".".
EXTENDED = 26

SECTIONS = ("stata_dta", "map", "variable_types", "varnames", "sortlist", "formats",
            "value_label_names", "variable_labels", "characteristics", "data", "strls",
            "value_labels", "/stata_dta", "eof")  # fmt: skip


def _fixed(text: str, size: int) -> bytes:
    """UTF-8, cut on a character boundary to fit *size* - 1 bytes, null-padded."""
    return cut_utf8(text, size - 1).ljust(size, b"\0")


class _Column:
    def __init__(self, name: str, label: str, dtype: pl.DataType, width: int):
        self.name, self.label = name, label
        if dtype == pl.Float64:
            self.kind, self.code, self.fmt = "double", DOUBLE, "%10.0g"
        elif dtype == pl.Int32:
            self.kind, self.code, self.fmt = "long", LONG, "%12.0g"
        elif dtype == pl.Int16:
            self.kind, self.code, self.fmt = "int", INT, "%8.0g"
        elif width > MAX_STR:
            self.kind, self.code, self.fmt = "strl", STRL, "%9s"
        else:
            self.kind, self.code, self.fmt = "str", width, f"%{min(width, 244)}s"
        self.width = width  # bytes of the longest text

    @property
    def numpy(self) -> str:
        return {"double": "<u8", "long": "<i4", "int": "<i2", "strl": "<u8"}.get(
            self.kind, f"S{self.width}"
        )


def write_dta(
    path: Path,
    columns: list[tuple[str, str]],
    batches: Callable[[], Iterable[pl.DataFrame]],
    value_labels: Mapping[str, Mapping[int, str]],
    label: str = "",
    missing: Mapping[str, Sequence[int]] | None = None,
) -> int:
    """Write *path*; ``columns`` are (name, label) in order; ``batches()`` returns a
    fresh iterable of frames with those columns (Float64, Int32, Int16 or text)
    each time it is called; ``missing[name]`` are values of a numeric column
    written as .a, .b, … (in that order; their value labels follow them).
    Returns the number of rows."""
    n, schema, widths = scan([name for name, _ in columns], batches())  # pass 1
    cols = [_Column(name, text, schema[name], widths.get(name, 1)) for name, text in columns]
    extended = {}  # column name -> {value: k} for .a (k = 1), .b, …
    for c in cols:
        codes = (missing or {}).get(c.name) or ()
        if codes and c.kind not in ("double", "long", "int"):
            raise ValueError(f"{c.name}: only numbers have extended missing values")
        if len(codes) > EXTENDED:
            raise ValueError(f"{c.name}: more than {EXTENDED} extended missing values")
        if codes:
            extended[c.name] = {int(code): k for k, code in enumerate(codes, 1)}
    offsets: dict[str, int] = {}
    with open(path, "wb") as fh:

        def mark(section: str) -> None:
            offsets[section] = fh.tell()

        mark("stata_dta")
        now = datetime.now()
        stamp = f"{now.day:02d} {MONTHS[now.month - 1]} {now.year} {now:%H:%M}".encode()
        title = cut_utf8(label, 320)  # whole characters only
        fh.write(b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>")
        fh.write(b"<K>" + struct.pack("<H", len(cols)) + b"</K>")
        fh.write(b"<N>" + struct.pack("<Q", n) + b"</N>")
        fh.write(b"<label>" + struct.pack("<H", len(title)) + title + b"</label>")
        fh.write(b"<timestamp>" + bytes([len(stamp)]) + stamp + b"</timestamp></header>")
        mark("map")
        fh.write(b"<map>" + b"\0" * 8 * len(SECTIONS) + b"</map>")  # filled in at the end
        mark("variable_types")
        fh.write(b"<variable_types>" + b"".join(struct.pack("<H", c.code) for c in cols)
                 + b"</variable_types>")  # fmt: skip
        mark("varnames")
        fh.write(b"<varnames>" + b"".join(_fixed(c.name, 129) for c in cols) + b"</varnames>")
        mark("sortlist")
        fh.write(b"<sortlist>" + b"\0" * 2 * (len(cols) + 1) + b"</sortlist>")
        mark("formats")
        fh.write(b"<formats>" + b"".join(_fixed(c.fmt, 57) for c in cols) + b"</formats>")
        mark("value_label_names")
        fh.write(b"<value_label_names>" + b"".join(
            _fixed(c.name if c.name in value_labels else "", 129) for c in cols)
            + b"</value_label_names>")  # fmt: skip
        mark("variable_labels")
        fh.write(b"<variable_labels>" + b"".join(_fixed(c.label, 321) for c in cols)
                 + b"</variable_labels>")  # fmt: skip
        mark("characteristics")
        fh.write(b"<characteristics></characteristics>")
        mark("data")
        fh.write(b"<data>")
        row_type = np.dtype([(f"c{i}", c.numpy) for i, c in enumerate(cols)])
        first = 1
        for frame in batches():  # pass 2: the rows
            rows = np.zeros(frame.height, dtype=row_type)
            for i, c in enumerate(cols):
                rows[f"c{i}"] = _values(c, frame[c.name], i + 1, first, extended.get(c.name))
            fh.write(rows.tobytes())
            first += frame.height
        fh.write(b"</data>")
        mark("strls")
        fh.write(b"<strls>")
        long_text = [(i + 1, c) for i, c in enumerate(cols) if c.kind == "strl"]
        if long_text:
            first = 1
            for frame in batches():  # pass 3: texts longer than a str# holds
                for v, c in long_text:
                    for o, text in enumerate(frame[c.name].cast(pl.String).to_list(), first):
                        if text:
                            raw = text.encode("utf-8") + b"\0"
                            fh.write(b"GSO" + struct.pack("<IQBI", v, o, 130, len(raw)) + raw)
                first += frame.height
        fh.write(b"</strls>")
        mark("value_labels")
        fh.write(b"<value_labels>")
        for name, labels in value_labels.items():
            table = _label_table(labels, extended.get(name, {}))
            fh.write(b"<lbl>" + struct.pack("<I", len(table)) + _fixed(name, 129) + b"\0" * 3
                     + table + b"</lbl>")  # fmt: skip
        fh.write(b"</value_labels>")
        mark("/stata_dta")
        fh.write(b"</stata_dta>")
        mark("eof")
        fh.seek(offsets["map"] + len(b"<map>"))
        fh.write(b"".join(struct.pack("<Q", offsets[s]) for s in SECTIONS))
    return n


def _values(col: _Column, series: pl.Series, v: int, first: int,
            extended: Mapping[int, int] | None = None) -> np.ndarray:  # fmt: skip
    if col.kind in ("double", "long", "int"):
        if col.kind == "double":
            out = double_bits(series, MISSING_DOUBLE_BITS)
        else:
            none = MISSING_LONG if col.kind == "long" else MISSING_INT
            out = series.fill_null(none).to_numpy().astype("<i4" if col.kind == "long" else "<i2")
        if extended:  # .a, .b, … in place of the codes that are not answers
            numbers = series.cast(pl.Float64).to_numpy()
            for code, k in extended.items():
                if col.kind == "double":
                    out[numbers == code] = MISSING_DOUBLE_BITS + (k << 40)
                else:
                    out[numbers == code] = none + k
        return out
    texts = series.cast(pl.String).fill_null("")
    if col.kind == "strl":  # (v, o): variable and observation of the GSO, (0, 0) when empty
        filled = (texts.str.len_bytes() > 0).to_numpy()
        o = np.arange(first, first + len(texts), dtype="<u8")
        return np.where(filled, np.uint64(v) | (o << np.uint64(16)), np.uint64(0))
    return np.array([t.encode("utf-8") for t in texts.to_list()], dtype=f"S{col.width}")


def _label_table(labels: Mapping[int, str], extended: Mapping[int, int]) -> bytes:
    """A value-label table, in ascending order of value (as Stata keeps them); a
    value written as .a, .b, … is keyed by its ``long`` form (after every number)."""
    pairs = sorted((MISSING_LONG + extended[int(k)] if int(k) in extended else int(k), text)
                   for k, text in labels.items())  # fmt: skip
    keys = [key for key, _ in pairs]
    texts = [str(text).encode("utf-8") + b"\0" for _, text in pairs]
    offsets, at = [], 0
    for raw in texts:
        offsets.append(at)
        at += len(raw)
    n = len(texts)
    return (struct.pack("<ii", n, at) + struct.pack(f"<{n}i", *offsets)
            + struct.pack(f"<{n}i", *keys) + b"".join(texts))  # fmt: skip
