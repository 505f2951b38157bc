"""What the streaming SPSS and Stata writers share: the first pass over the
batches, numbers with a missing-value code, and text cut to a byte budget."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

#: English month names: the files want them whatever the process locale.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: The numeric types of the compact batches (``writers.compact_columns``); others are text.
NUMERIC = (pl.Float64, pl.Int32, pl.Int16)


def cut_utf8(text: str, size: int) -> bytes:
    """UTF-8 of *text*, cut on a character boundary to at most *size* bytes."""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore").encode("utf-8")


def scan(names: list[str], batches: Iterable[pl.DataFrame]):
    """The first pass: (number of rows, schema, bytes of the longest text of each
    text column (at least 1)). Raises ValueError when there is no batch."""
    rows, schema, widths = 0, None, {}
    for frame in batches:
        if schema is None:
            schema = frame.schema
            widths = {name: 1 for name in names if schema[name] not in NUMERIC}
        rows += frame.height
        for name in widths:
            if frame.height:
                longest = frame[name].cast(pl.String).str.len_bytes().max()
                widths[name] = max(widths[name], int(longest or 0))
    if schema is None:
        raise ValueError("no batches")
    return rows, schema, widths


def double_bits(series: pl.Series, missing: int) -> np.ndarray:
    """The column as IEEE doubles (as uint64 bits), *missing* where null or NaN."""
    numbers = series.cast(pl.Float64).fill_nan(None)
    bits = numbers.fill_null(0.0).to_numpy().view("<u8").copy()
    bits[numbers.is_null().to_numpy()] = missing
    return bits
