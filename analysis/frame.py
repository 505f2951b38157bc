"""Respondent groups and the population frame, encoded as integer codes.

Everything downstream works on numpy integer codes, so a million respondents
cost a few arrays, never a Python object per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.errors import AnalysisError


@dataclass
class Frame:
    """Population counts by domain (``by``) and margin variables.

    Attributes
    ----------
    by : str
        The domain variable (district).
    margins : tuple of str
        The weighting variables (sex, age group, ...).
    categories : dict
        Category labels per variable, in frame order (first appearance).
    cells : numpy.ndarray
        Integer codes, shape (n_cells, 1 + len(margins)), domain first.
    population : numpy.ndarray
        Population of each cell (float).
    """

    by: str
    margins: tuple[str, ...]
    categories: dict[str, list[str]]
    cells: np.ndarray
    population: np.ndarray

    @property
    def domains(self) -> list[str]:
        return self.categories[self.by]

    @property
    def has_partial_rows(self) -> bool:
        """True when some rows give only one margin (separate margin tables)."""
        return bool((self.cells[:, 1:] < 0).any())

    def domain_totals(self) -> np.ndarray:
        """Population per domain (from the first margin when margins are given separately)."""
        rows = self.cells[:, 1] >= 0 if self.margins else np.ones(len(self.population), bool)
        return np.bincount(self.cells[rows, 0], self.population[rows], minlength=len(self.domains))

    def margin_totals(self, j: int) -> np.ndarray:
        """Totals of margin *j* by domain: shape (n_domains, n_categories)."""
        k = len(self.categories[self.margins[j]])
        rows = self.cells[:, 1 + j] >= 0
        flat = self.cells[rows, 0] * k + self.cells[rows, 1 + j]
        return np.bincount(flat, self.population[rows], minlength=len(self.domains) * k).reshape(
            -1, k
        )


def build_frame(
    rows: Sequence[Mapping[str, object]],
    by: str,
    margins: Sequence[str],
    population_key: str = "population",
) -> Frame:
    """Aggregate frame rows to the cross of *by* and *margins*.

    Other columns in the rows (e.g. urban/rural when not weighted on) are summed over.
    For raking, margins may also come as separate tables: a row that leaves a
    margin column empty counts only towards the margins it gives.
    """
    variables = [by, *margins]
    categories: dict[str, list[str]] = {v: [] for v in variables}
    index: dict[str, dict[str, int]] = {v: {} for v in variables}
    totals: dict[tuple[int, ...], float] = {}
    for number, row in enumerate(rows, 1):
        key = []
        for v in variables:
            if v not in row:
                raise AnalysisError(f"population row {number}: column '{v}' is missing / 缺少列")
            label = str(row[v]).strip()
            if label == "" and v != by:
                # A separate margin table: this row does not split by variable v.
                key.append(-1)
                continue
            if label not in index[v]:
                index[v][label] = len(categories[v])
                categories[v].append(label)
            key.append(index[v][label])
        try:
            value = float(row[population_key])
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(
                f"population row {number}: '{population_key}' must be a number, "
                f"got {row.get(population_key)!r} / 人口数必须是数字"
            ) from exc
        if not np.isfinite(value) or value < 0:
            raise AnalysisError(
                f"population row {number}: population {value} must be ≥ 0 / 人口数不能为负"
            )
        totals[tuple(key)] = totals.get(tuple(key), 0.0) + value
    if not totals:
        raise AnalysisError("the population frame is empty / 人口数据为空")
    cells = np.array(list(totals), dtype=np.int64).reshape(len(totals), len(variables))
    return Frame(by, tuple(margins), categories, cells, np.array(list(totals.values())))


def encode(
    values: Sequence[object], categories: list[str], variable: str, source: str = "responses"
) -> np.ndarray:
    """Integer codes of *values* in *categories*; unknown labels are an error."""
    lookup = {c: i for i, c in enumerate(categories)}
    try:  # fast path: clean labels
        return np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))
    except (KeyError, TypeError):
        pass
    codes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        code = lookup.get(str(value).strip() if value is not None else None)
        if code is None:
            raise AnalysisError(
                f"{source}: column '{variable}', row {i + 1}: value {value!r} is not in the "
                f"population frame / 该类别不在人口数据中（可用：{', '.join(categories)}）"
            )
        codes[i] = code
    return codes
