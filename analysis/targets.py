"""Judging an estimate against a target (default 80%)."""

from __future__ import annotations

PASS, FAIL, UNDECIDED = "达标", "未达标", "待定"

#: The fewest respondents that allow a verdict. With one respondent the sampling
#: variance cannot be estimated at all (R's survey package refuses such a stratum:
#: ``options(survey.lonely.psu = "fail")``), so the interval says nothing and the
#: status is 待定 whatever the interval. Two is the least that gives a variance;
#: with so few respondents the interval is wide (t with 1 degree of freedom) and
#: usually gives 待定 by itself.
MIN_RESPONDENTS = 2


def target_status(ci_low: float, ci_high: float, target: float, n: int | None = None) -> str:
    """达标 when the lower bound ≥ target, 未达标 when the upper bound < target, else 待定.

    With *n* (respondents) below :data:`MIN_RESPONDENTS` it is always 待定.
    """
    if n is not None and n < MIN_RESPONDENTS:
        return UNDECIDED
    if ci_low >= target:
        return PASS
    if ci_high < target:
        return FAIL
    return UNDECIDED


def prob_below_target(estimate: float, se: float, target: float, df: float) -> float:
    """One-sided p-value of H0: true value < target (t approximation).

    Small values support "at or above the target". With se = 0 it is 0 or 1.
    """
    from scipy import stats  # lazy: scipy is heavy to import

    if se <= 0:
        return 0.0 if estimate >= target else 1.0
    return float(stats.t.sf((estimate - target) / se, df))
