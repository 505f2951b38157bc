"""Year-over-year comparison of two independent waves."""

from __future__ import annotations

import math
from dataclasses import dataclass


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
    significant: bool

    def describe(self, unit: str = "个百分点", scale: float = 100.0) -> str:
        """比上年上升/下降 x.xx 个百分点（并说明是否超出抽样误差）."""
        word = "上升" if self.difference > 0 else "下降" if self.difference < 0 else "持平"
        amount = abs(self.difference) * scale
        note = "，变化超出抽样误差" if self.significant else "，变化在抽样误差范围内"
        if word == "持平":
            return "与上年持平" + note
        return f"比上年{word}{amount:.2f}{unit}{note}"


def compare_waves(current_rows, previous_rows, level: float = 0.95) -> list[Change]:
    """Differences current − previous per (domain, indicator), independent samples.

    Rows are :class:`analysis.EstimateRow` (or objects with domain, indicator,
    estimate, se). ``se = sqrt(se1² + se0²)``; the interval uses the normal quantile.
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
        low, high = diff - z * se, diff + z * se
        out.append(
            Change(r.domain, r.indicator, old.estimate, r.estimate, diff, se, low, high,
                   significant=low > 0 or high < 0)
        )  # fmt: skip
    return out
