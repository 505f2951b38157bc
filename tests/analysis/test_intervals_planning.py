"""Intervals, status, sample size and year-over-year against outside references."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    ci_proportion,
    compare_waves,
    sample_size_for_margin,
    sample_size_for_target,
    target_status,
)
from analysis.estimate import EstimateRow


def test_wilson_with_srs_variance_equals_statsmodels():
    # With a simple random sample, se² = p(1-p)/n, so n_eff = n.
    x, n = 199, 240
    p = x / n
    se = math.sqrt(p * (1 - p) / n)
    low, high = ci_proportion(p, se, n, n - 1, "wilson")
    ref_low, ref_high = proportion_confint(x, n, method="wilson")
    assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-9)


def test_beta_at_srs_is_clopper_pearson():
    p, n = 0.75, 120
    se = math.sqrt(p * (1 - p) / n)
    low, high = ci_proportion(p, se, n, n - 1, "beta")
    ref = proportion_confint(90, 120, method="beta")
    assert (low, high) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("method", ["logit", "beta", "wilson"])
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_boundaries_never_give_nan(method, p):
    low, high = ci_proportion(p, 0.0, 50, 49, method)
    assert not math.isnan(low) and not math.isnan(high)
    assert 0.0 <= low <= p <= high <= 1.0


def test_other_levels():
    wide = ci_proportion(0.8, 0.03, 200, 199, "logit", level=0.99)
    narrow = ci_proportion(0.8, 0.03, 200, 199, "logit", level=0.90)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]


def test_status_rule():
    assert target_status(0.81, 0.9, 0.8) == "达标"
    assert target_status(0.80, 0.9, 0.8) == "达标"
    assert target_status(0.70, 0.79, 0.8) == "未达标"
    assert target_status(0.75, 0.85, 0.8) == "待定"


def test_sample_size_textbook_values():
    assert sample_size_for_margin(p=0.5, margin=0.05, deff=1.0) == 385  # Cochran
    assert sample_size_for_margin(p=0.8, margin=0.05, deff=1.0) == 246
    assert sample_size_for_margin(p=0.8, margin=0.05, deff=1.5) == 369
    assert sample_size_for_margin(p=0.5, margin=0.05, deff=1.0, population=1000) == 278
    # One-sided test of 0.85 vs 0.80, 5%, power 80%: the textbook normal formula.
    n = sample_size_for_target(p_true=0.85, target=0.80, power=0.8, alpha=0.05, deff=1.0)
    assert n == math.ceil(((1.6448536 * 0.4 + 0.8416212 * math.sqrt(0.1275)) / 0.05) ** 2)


def _row(domain, est, se):
    return EstimateRow(domain, "satisfied", 100, est, se, 0, 1, "logit", 1, 100, 99, 0.8, "待定")


def test_year_over_year_wording():
    changes = compare_waves([_row("咸安区", 0.9806, 0.01)], [_row("咸安区", 0.9780, 0.012)])
    (change,) = changes
    assert change.difference == pytest.approx(0.0026)
    assert change.describe() == "比上年上升0.26个百分点，变化在抽样误差范围内"
    big = compare_waves([_row("A", 0.90, 0.01)], [_row("A", 0.80, 0.01)])[0]
    assert big.significant and "下降" not in big.describe()


def _sized(domain, est, se, n):
    return EstimateRow(domain, "satisfied", n, est, se, 0, 1, "logit", 1, n, n - 1, 0.8, "待定")


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        # 30 of 30 satisfied (se 0): its Clopper–Pearson interval contains last year's 89.8%.
        (_sized("A", 1.0, 0.0, 30), _sized("A", 0.898, 0.02, 400)),
        (_sized("A", 0.5, 0.0, 2), _sized("A", 0.898, 0.02, 400)),  # raking noise, set to 0
        (_sized("A", 0.5, 6e-17, 2), _sized("A", 0.898, 0.02, 400)),  # the noise itself
        (_sized("A", 0.898, 0.02, 400), _sized("A", 0.0, 0.0, 1)),  # one respondent last year
        (_sized("A", 0.95, 0.01, 1), _sized("A", 0.80, 0.02, 400)),  # n = 1 with an se
    ],
)
def test_change_without_a_usable_se_is_inconclusive(current, previous):
    """The old code called all of these 变化超出抽样误差 (se of the difference ≈ 0.02)."""
    low, high = proportion_confint(30, 30, method="beta")
    assert low < 0.898 < high  # why 30 of 30 is no evidence of a change from 89.8%
    (change,) = compare_waves([current], [previous])
    assert not change.significant and not change.conclusive
    text = change.describe()
    assert "无法判断变化是否超出抽样误差" in text and "超出抽样误差，" not in text
    assert text.startswith("比上年上升" if change.difference > 0 else "比上年下降")


def test_change_with_usable_se_is_conclusive():
    change = compare_waves([_sized("A", 0.95, 0.01, 200)], [_sized("A", 0.80, 0.02, 400)])[0]
    assert change.conclusive and change.significant
    assert type(change.significant) is bool and type(change.conclusive) is bool
    assert change.describe() == "比上年上升15.00个百分点，变化超出抽样误差"
