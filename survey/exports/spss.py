"""SPSS .sav files (uncompressed, UTF-8) written as a stream.

Like ``survey.exports.stata``: the data comes in batches, twice (a first pass
for the number of cases and the width of every text variable, a second for the
cases), so memory is that of one batch. The layout follows the SPSS system file
format as ReadStat (pyreadstat, haven) writes and reads it: header, variable
records (text longer than 255 bytes split into 255-byte segments), value
labels, machine information (UTF-8), long variable names, very long strings,
dictionary end, then the cases: 8 bytes a number (system-missing for none),
text padded with spaces. A numeric variable may declare user-missing values
(说不清): its variable record then holds up to three values, or a range (and
one value), after its label.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from survey.exports.binary import MONTHS, NUMERIC, cut_utf8, double_bits, scan

SYSMIS = 0xFFEFFFFFFFFFFFFF  # -DBL_MAX
HIGHEST = 0x7FEFFFFFFFFFFFFF
LOWEST = 0xFFEFFFFFFFFFFFFE
UTF8 = 65001
#: SPSS's codes of the measurement levels (0: unknown).
MEASURES = {"nominal": 1, "ordinal": 2, "scale": 3}


def _format(kind: int, width: int, decimals: int) -> int:
    return (kind << 16) | (width << 8) | decimals


class _Var:
    def __init__(self, index: int, name: str, label: str, dtype: pl.DataType, width: int):
        self.index, self.name, self.label = index, name, label
        self.short = f"VAR{index}"
        self.text = dtype not in NUMERIC
        self.decimals = 2 if dtype == pl.Float64 else 0
        self.width = width  # bytes of the longest text

    @property
    def segments(self) -> int:
        return (self.width + 251) // 252 if self.width > 255 else 1

    @property
    def storage(self) -> int:
        """Bytes in a case."""
        if not self.text:
            return 8
        if self.width > 255:
            last = self.width - (self.segments - 1) * 252
            return (self.segments - 1) * 256 + (last + 7) // 8 * 8
        return (self.width + 7) // 8 * 8


def _variable_record(var_type: int, name: str, label: bytes | None, fmt: int, units: int,
                     missing: tuple[int, list[float]] = (0, [])) -> bytes:  # fmt: skip
    kind, values = missing  # n_missing_values: 1–3 values, -2 a range, -3 a range and a value
    out = struct.pack("<iiiiii8s", 2, var_type, label is not None, kind, fmt, fmt,
                      name.encode().ljust(8))  # fmt: skip
    if label is not None:
        out += struct.pack("<i", len(label)) + label.ljust((len(label) + 3) // 4 * 4, b" ")
    out += struct.pack(f"<{len(values)}d", *values)
    for _ in range(min(units - 1, 31)):  # continuation records of a text variable
        out += struct.pack("<iiiiii8s", 2, -1, 0, 0, 0, 0, b"\0" * 8)
    return out


def _missing_values(name: str, codes: Sequence[float],
                    others: Iterable[float]) -> tuple[int, list[float]]:  # fmt: skip
    """The missing-values field of a numeric variable whose *codes* are user-missing:
    up to three values, else a range holding none of the *others* (the variable's
    other labelled values), with one value outside it if need be."""
    codes = sorted(set(codes))
    if len(codes) <= 3:
        return len(codes), [float(c) for c in codes]
    others = [x for x in others if x not in codes]

    def clear(low, high):
        return not any(low <= x <= high for x in others)

    if clear(codes[0], codes[-1]):
        return -2, [float(codes[0]), float(codes[-1])]
    for single, rest in ((codes[0], codes[1:]), (codes[-1], codes[:-1])):
        if clear(rest[0], rest[-1]):
            return -3, [float(rest[0]), float(rest[-1]), float(single)]
    raise ValueError(f"{name}: SPSS cannot declare these missing values: {codes}")


def _info(subtype: int, size: int, data: bytes) -> bytes:
    return struct.pack("<iiii", 7, subtype, size, len(data) // size) + data


def write_sav(
    path: Path,
    columns: list[tuple[str, str]],
    batches: Callable[[], Iterable[pl.DataFrame]],
    value_labels: Mapping[str, Mapping[int, str]],
    label: str = "",
    missing: Mapping[str, Sequence[int]] | None = None,
    measures: Mapping[str, str] | None = None,
) -> int:
    """Write *path*; ``columns`` are (name, label) in order; ``batches()`` returns a
    fresh iterable of frames with those columns (Float64, Int32, Int16 or text)
    each time it is called; ``missing`` names the user-missing values of numeric
    variables; ``measures`` their measurement levels (nominal, ordinal, scale;
    else SPSS's "unknown"). Returns the number of cases."""
    missing, measures = missing or {}, measures or {}
    n, schema, widths = scan([name for name, _ in columns], batches())  # pass 1
    variables = [_Var(i, name, text, schema[name], widths.get(name, 1))
                 for i, (name, text) in enumerate(columns)]  # fmt: skip
    now = datetime.now()
    with open(path, "wb") as fh:
        fh.write(struct.pack(
            "<4s60siiiiid9s8s64s3s", b"$FL2", b"@(#) SPSS DATA FILE - survey".ljust(60),
            2, sum(v.storage for v in variables) // 8, 0, 0, n, 100.0,
            f"{now.day:02d} {MONTHS[now.month - 1]} {now:%y}".encode(), now.strftime("%H:%M:%S").encode(),
            cut_utf8(label, 64).ljust(64), b"\0\0\0",
        ))  # fmt: skip
        offsets = {}
        at = 0
        for var in variables:
            offsets[var.name] = at
            title = cut_utf8(var.label, 255) if var.label else None
            if not var.text:
                declared = (_missing_values(var.name, missing[var.name],
                                            value_labels.get(var.name, {}))
                            if missing.get(var.name) else (0, []))  # fmt: skip
                fh.write(_variable_record(0, var.short, title, _format(5, 8, var.decimals), 1,
                                          declared))  # fmt: skip
            else:
                first = min(var.width, 255)
                fmt = _format(1, first, 0)
                units = (var.storage if var.segments == 1 else 256) // 8
                fh.write(_variable_record(first, var.short, title, fmt, units))
                for s in range(1, var.segments):  # 255-byte segments of a very long text
                    width = 255 if s < var.segments - 1 else var.width - s * 252
                    fh.write(_variable_record(width, var.short, None, _format(1, width, 0),
                                              (width + 7) // 8))  # fmt: skip
            at += var.storage
        for var in variables:
            labels = value_labels.get(var.name)
            if not labels or var.text:
                continue
            body = b""
            for value, text in labels.items():
                raw = cut_utf8(str(text), 120)
                body += struct.pack("<dB", float(value), len(raw))
                body += raw.ljust((len(raw) + 1 + 7) // 8 * 8 - 1, b" ")
            fh.write(struct.pack("<ii", 3, len(labels)) + body)
            fh.write(struct.pack("<iii", 4, 1, 1 + offsets[var.name] // 8))
        fh.write(_info(3, 4, struct.pack("<8i", 1, 0, 0, -1, 1, 1, 2, UTF8)))
        fh.write(_info(4, 8, struct.pack("<3Q", SYSMIS, HIGHEST, LOWEST)))
        # Variable display parameters: measurement level, width and alignment,
        # one entry per variable record (each segment of a very long text).
        display = b""
        for var in variables:
            level = MEASURES.get(measures.get(var.name, ""), 0)
            width, align = (8, 1) if not var.text else (min(max(var.width, 8), 40), 0)
            display += struct.pack("<3i", level, width, align) * var.segments
        fh.write(_info(11, 4, display))
        names = "\t".join(f"{v.short}={v.name}" for v in variables).encode()
        fh.write(_info(13, 1, names))
        very_long = b"".join(f"{v.short}={v.width:05d}".encode() + b"\0\t"
                             for v in variables if v.text and v.width > 255)  # fmt: skip
        if very_long:
            fh.write(_info(14, 1, very_long))
        fh.write(struct.pack("<ii", 999, 0))
        row_type = np.dtype([(f"c{v.index}", "<u8" if not v.text else f"S{v.storage}")
                             for v in variables])  # fmt: skip
        for frame in batches():  # pass 2: the cases
            rows = np.zeros(frame.height, dtype=row_type)
            for var in variables:
                rows[f"c{var.index}"] = _values(var, frame[var.name])
            fh.write(rows.tobytes())
    return n


def _values(var: _Var, series: pl.Series) -> np.ndarray:
    if not var.text:
        return double_bits(series, SYSMIS)
    texts = [t.encode("utf-8") for t in series.cast(pl.String).fill_null("").to_list()]
    if var.width > 255:  # a pad byte after every 255 bytes: each segment is 256 wide
        texts = [b" ".join(t[i : i + 255] for i in range(0, len(t), 255)) for t in texts]
    return np.array([t.ljust(var.storage, b" ") for t in texts], dtype=f"S{var.storage}")
