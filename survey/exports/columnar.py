"""Microdata built column by column (polars): the export path for waves of any size.

The database hands over a batch of responses as newline-delimited JSON, one
object per response (``RAW_COLUMNS``); polars reads it, derives the export
variables (in the order of :func:`survey.exports.codebook.variables`),
neutralises formula-like text for spreadsheets and writes CSV, a batch at a
time, so memory stays bounded by the batch size whatever the size of the wave.
The same batches feed the SPSS and Stata writers (without the neutralising).

The CSV is the same as the row-by-row writer's (``writers.csv_chunks`` over
``codebook.fast_row_builder``); a test holds the two together.
"""

from __future__ import annotations

import ctypes
import functools
import io
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from questionnaires import Questionnaire
from survey.exports.codebook import SOMETIMES, Variable, export_names
from survey.operations.estimates import CellWeights
from survey.operations.quality import BEIJING  # what staff pages and the audit log show

#: The fields of each row's JSON text from the database. Timestamps come as the
#: database's text of UTC ("2026-11-01 08:00:00[.ffffff]"), exported in Beijing
#: time (UTC+8, as staff pages show them); booleans as 0/1.
RAW_COLUMNS = (
    "id", "district", "sex", "age_group", "urban_rural", "channel_id",
    "started_at", "submitted_at", "duration_seconds", "device_class", "over_quota",
    "excluded", "flags", "answers", "indicators",
)  # fmt: skip

_RAW_TYPES = {
    **{name: pl.String for name in RAW_COLUMNS},
    "channel_id": pl.Int64,
    "duration_seconds": pl.Float64,
    "over_quota": pl.Int64,
    "excluded": pl.Int64,
    "flags": pl.List(pl.String),
}

#: Text a spreadsheet would read as a formula: neutralised with a leading apostrophe.
FORMULA_START = r"^[=+\-@\t\r]"


@functools.cache  # a process-wide setting: once is enough
def _return_large_blocks_to_the_system() -> None:
    """Keep memory bounded by the batch size. glibc raises its mmap threshold
    once a large block is freed, so later batch-sized blocks (the database's
    text of a batch) stay on the heap and pile up; pinning the threshold at
    1 MiB hands each batch's memory back when the batch is done."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to do
        return
    libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD


class ColumnarExport:
    """The batches of one export, and its CSV; see the module docstring."""

    def __init__(
        self,
        q: Questionnaire,
        variables: list[Variable],
        *,
        include_excluded: bool,
        channel_labels: Mapping[int, str],
        weights: CellWeights | None,
        labels: bool = False,
        neutralise: bool = True,
    ):
        self.variables = variables
        #: Formula-like text gets a leading apostrophe (the CSV, for spreadsheets).
        self.neutralise = neutralise
        self.weights = weights
        self.channel_labels = {int(k): str(v) for k, v in channel_labels.items()}
        self._raw_schema, self._exprs = self._plan(q, include_excluded)
        if weights is not None:
            keys, values = zip(*weights.weights.items(), strict=True)
            self._weights = pl.DataFrame(
                {**{c: [k[i] for k in keys] for i, c in enumerate(weights.columns)},
                 "weight": list(values)},
                schema={**{c: pl.String for c in weights.columns}, "weight": pl.Float64},
            )  # fmt: skip
        expected = [v.name for v in variables]
        absent = [name for name in SOMETIMES if name not in expected]
        names = export_names([e.meta.output_name() for e in self._exprs], absent)
        if names != expected:  # the plan must follow codebook.variables exactly
            raise ValueError(
                f"columnar export out of step with the codebook: {names} != {expected}"
            )
        self._exprs = [e.alias(name) for e, name in zip(self._exprs, names, strict=True)]
        self._coded = {v.name: v.values for v in variables if v.values and labels}

    def _plan(self, q: Questionnaire, include_excluded: bool):
        qlabel = f"{q.id} v{q.version}"
        a, ind = pl.col("answers"), pl.col("indicators")
        exprs = [
            pl.col("id").alias("respondent_id"),  # never the receipt code: it withdraws
            pl.col("district"), pl.col("sex"), pl.col("age_group"), pl.col("urban_rural"),
            pl.lit(qlabel, dtype=pl.String).alias("questionnaire"),
            pl.col("channel_id"),
            pl.col("channel_id")
            .replace_strict(self.channel_labels, default="", return_dtype=pl.String)
            .alias("channel"),
            *((pl.col(c).str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S") + BEIJING)
              .dt.strftime("%Y-%m-%dT%H:%M:%S") for c in ("started_at", "submitted_at")),
            pl.col("duration_seconds").round(1),
            pl.col("device_class"),
            pl.col("over_quota"),
            pl.col("flags").list.join(","),
        ]  # fmt: skip
        if include_excluded:
            exprs.append(pl.col("excluded"))
        if self.weights is not None:  # an excluded response has no weight
            exprs.append(pl.when(pl.col("excluded") == 1).then(None)
                         .otherwise(pl.col("weight")).alias("weight"))  # fmt: skip
        indicator_fields = {}
        for scoring in q.scoring:
            keys = [(scoring.name, scoring.name)]
            if scoring.method in ("top_two_box", "score"):
                keys += [(f"{scoring.name}_{item}"[:32], f"{scoring.name}.{item}")
                         for item in scoring.items]  # fmt: skip
            for name, key in keys:
                indicator_fields[key] = pl.Float64
                exprs.append(ind.struct.field(key).alias(name))
        answer_fields = {}
        for question in q.questions:
            if question.role or question.options_from:
                continue
            if question.type == "multiple_choice":
                answer_fields[question.id] = pl.List(pl.String)
                chosen = a.struct.field(question.id)
                for option in question.options:
                    exprs.append(
                        pl.when(chosen.is_null())
                        .then(None)
                        .otherwise(chosen.list.contains(option.value).cast(pl.Int64))
                        .alias(f"{question.id}_{option.value}"[:32])
                    )
            else:
                answer_fields[question.id] = pl.String
                exprs.append(a.struct.field(question.id).alias(question.id))
        raw = {**_RAW_TYPES, "answers": pl.Struct(answer_fields),
               "indicators": pl.Struct(indicator_fields)}  # fmt: skip
        return raw, exprs

    def header(self) -> bytes:
        frame = pl.DataFrame(schema={v.name: pl.String for v in self.variables})
        buf = io.BytesIO()
        buf.write("\ufeff".encode())
        frame.write_csv(buf, line_terminator="\r\n")
        return buf.getvalue()

    def frame(self, ndjson: bytes) -> pl.DataFrame:
        """The export variables of a batch of responses (newline-delimited JSON
        objects with the fields of ``RAW_COLUMNS``)."""
        raw = pl.read_ndjson(io.BytesIO(ndjson), schema=self._raw_schema)
        if self.weights is not None:
            raw = raw.join(self._weights, on=list(self.weights.columns), how="left",
                           maintain_order="left", nulls_equal=True)  # fmt: skip
        out = raw.select(self._exprs)
        if self._coded:
            out = out.with_columns(
                pl.col(name).cast(pl.String).replace(values) for name, values in self._coded.items()
            )
        if not self.neutralise:
            return out
        text = [name for name, dtype in out.schema.items() if dtype == pl.String]
        return out.with_columns(
            pl.when(pl.col(name).str.contains(FORMULA_START))
            .then(pl.lit("'") + pl.col(name))
            .otherwise(pl.col(name))
            .alias(name)
            for name in text
        )

    def frames(self, jobs: Iterable[Callable[[], bytes]], progress=None,
               limit_rows: int | None = None, workers: int = 2) -> Iterator[pl.DataFrame]:  # fmt: skip
        """One frame of export variables per job (a function returning a batch of
        newline-delimited JSON), in order, at most *limit_rows* rows in all.
        Fetching and converting run in *workers* threads (the database and
        polars release the GIL), with at most *workers* batches in memory."""

        def convert(job) -> pl.DataFrame:
            data = job()
            return self.frame(data) if data else pl.DataFrame()

        left = limit_rows
        _return_large_blocks_to_the_system()
        with ThreadPoolExecutor(workers) as pool:
            pending: deque = deque()
            jobs = iter(jobs)
            while left != 0:
                for job in jobs:
                    pending.append(pool.submit(convert, job))
                    if len(pending) >= workers:
                        break
                if not pending:
                    break
                frame = pending.popleft().result()
                if left is not None:
                    frame = frame.head(left)
                    left -= frame.height
                if frame.height:
                    yield frame
                    if progress:
                        progress(frame.height)
            for rest in pending:
                rest.cancel()

    def chunks(self, jobs: Iterable[Callable[[], bytes]], progress=None,
               limit_rows: int | None = None) -> Iterator[bytes]:  # fmt: skip
        """The CSV file: header, then one chunk per batch (see :meth:`frames`)."""
        yield self.header()
        for frame in self.frames(jobs, progress, limit_rows):
            buf = io.BytesIO()
            frame.write_csv(buf, include_header=False, line_terminator="\r\n")
            yield buf.getvalue()
