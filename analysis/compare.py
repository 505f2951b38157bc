"""Year-over-year comparison of two independent waves."""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.intervals import negligible_se
from analysis.targets import MIN_RESPONDENTS


@dataclass
class Change:
    domain: str
    indicator: str
    previous: float
    current: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    #: The interval of the difference excludes 0 (only when *conclusive*).
    significant: bool
    #: Both waves have a usable standard error and at least MIN_RESPONDENTS
    #: respondents; otherwise whether the change exceeds sampling error is unknown.
    conclusive: bool = True

    def describe(self, unit: str = "个百分点", scale: float = 100.0) -> str:
        """比上年上升/下降 x.xx 个百分点（并说明是否超出抽样误差）."""
        word = "上升" if self.difference > 0 else "下降" if self.difference < 0 else "持平"
        amount = abs(self.difference) * scale
        if not self.conclusive:
            note = "，但样本过少或答案全部相同，无法判断变化是否超出抽样误差"
        elif self.significant:
            note = "，变化超出抽样误差"
        else:
            note = "，变化在抽样误差范围内"
        if word == "持平":
            return "与上年持平" + note
        return f"比上年{word}{amount:.2f}{unit}{note}"


def _usable(row) -> bool:
    """A standard error that measures precision: not zero (n = 1, identical answers,
    rounding noise) and from at least MIN_RESPONDENTS respondents (when *row* has n)."""
    n = getattr(row, "n", None)
    if n is not None and n < MIN_RESPONDENTS:
        return False
    p = row.estimate
    sd = math.sqrt(p * (1 - p)) if 0 < p < 1 else 0.0
    return not negligible_se(row.se, sd, n or 1)


def compare_waves(current_rows, previous_rows, level: float = 0.95) -> list[Change]:
    """Differences current − previous per (domain, indicator), independent samples.

    Rows are :class:`analysis.EstimateRow` (or objects with domain, indicator,
    estimate, se and optionally n). ``se = sqrt(se1² + se0²)``; the interval uses
    the normal quantile. A change is called beyond sampling error (``significant``)
    only when it is ``conclusive``: both waves have a standard error above zero
    (not n = 1, not every answer the same, not rounding noise) and at least
    ``MIN_RESPONDENTS`` respondents. A zero standard error does not mean no
    sampling error (30 of 30 satisfied has a Clopper–Pearson interval of
    88.4%–100%), so with one the change is inconclusive.
    """
    from scipy import stats  # lazy: scipy is heavy to import

    z = stats.norm.ppf(1 - (1 - level) / 2)
    before = {(r.domain, r.indicator): r for r in previous_rows}
    out = []
    for r in current_rows:
        old = before.get((r.domain, r.indicator))
        if old is None:
            continue
        diff = r.estimate - old.estimate
        se = math.sqrt(r.se**2 + old.se**2)
        low, high = float(diff - z * se), float(diff + z * se)
        conclusive = _usable(r) and _usable(old)
        out.append(
            Change(r.domain, r.indicator, old.estimate, r.estimate, diff, se, low, high,
                   significant=bool(conclusive and (low > 0 or high < 0)), conclusive=conclusive)
        )  # fmt: skip
    return out
