"""Degenerate domains: a standard error that is zero up to rounding, and domains
too small to estimate a variance, get no verdict (待定) and no absurd n_eff."""

from __future__ import annotations

import itertools
import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import ci_proportion, estimate_domains, target_status

#: Population of each cell; sex and age margins of district B agree (1520 each), so
#: B's two respondents, (M, Y) and (F, O), can each carry one sex and one age total.
CELLS = {("M", "Y"): 1000, ("M", "O"): 520, ("F", "Y"): 520, ("F", "O"): 1000}


def _city(b_answers=(("M", "Y", 1), ("F", "O", 0)), a_values=None):
    """District A: 40 respondents in all four cells; district B: *b_answers*."""
    groups = {"district": [], "sex": [], "age_group": []}
    y = []
    for i in range(40):
        groups["district"].append("A")
        groups["sex"].append("M" if i % 2 else "F")
        groups["age_group"].append("Y" if i % 4 < 2 else "O")
        y.append(a_values(i) if a_values else int(i % 5 != 0))
    for s, a, v in b_answers:
        groups["district"].append("B")
        groups["sex"].append(s)
        groups["age_group"].append(a)
        y.append(v)
    population = [
        {
            "district": d,
            "sex": s,
            "age_group": a,
            "population": CELLS[s, a] + (37 if d == "A" else 0),
        }
        for d, s, a in itertools.product("AB", "MF", "YO")
    ]
    return groups, y, population


@pytest.mark.parametrize("ci", ["logit", "beta", "wilson"])
def test_rounding_noise_se_from_raking_is_zero_not_a_zero_width_interval(ci):
    """Each of B's respondents is alone in its raking cells: the calibration residuals
    are ~1e-17 (R: SE 0). The old code took se ≈ 6e-17 at face value: interval
    50.0%–50.0%, deff 1e-32, n_eff 1.6e32, status 未达标."""
    groups, y, population = _city()
    result = estimate_domains(groups, {"satisfied": y}, population, ci=ci)
    b = result.row("B", "satisfied")
    assert b.se == 0.0
    assert math.isnan(b.deff) and b.n_eff == 2.0
    # Clopper–Pearson with n = 2, x = 1 (statsmodels, not our code).
    assert (b.ci_low, b.ci_high) == pytest.approx(proportion_confint(1, 2, method="beta"))
    assert b.status == "待定"  # the interval is wide
    assert result.row("A", "satisfied").status == "待定"  # 80% ± 15%
    city = result.row("ALL", "satisfied")
    assert city.status == "未达标" and city.ci_high < 0.75


@pytest.mark.parametrize("method", ["logit", "beta", "wilson"])
def test_rounding_noise_se_falls_back_to_clopper_pearson(method):
    low, high = ci_proportion(0.5, 2e-17, 2, 1, method)
    assert (low, high) == pytest.approx(proportion_confint(1, 2, method="beta"), abs=1e-12)
    # A small but real se is used as it is.
    low, high = ci_proportion(0.5, 1e-4, 2, 1, "logit")
    assert high - low < 0.01


def test_one_respondent_never_gets_a_verdict():
    """One satisfied respondent in B, target 1%: Clopper–Pearson (2.5%, 100%) lies
    above the target, and the old code said 达标 for B and for the city."""
    groups, y, population = _city(b_answers=(("M", "Y", 1),), a_values=lambda i: int(i % 10 != 0))
    population = [
        r for r in population if r["district"] == "A" or (r["sex"], r["age_group"]) == ("M", "Y")
    ]
    result = estimate_domains(groups, {"satisfied": y}, population, target=0.01)
    assert result.row("B", "satisfied").status == "待定"
    assert result.row("A", "satisfied").status == "达标"
    assert result.row("ALL", "satisfied").status == "待定"
    assert target_status(0.9, 1.0, 0.8, n=1) == "待定"
    assert target_status(0.9, 1.0, 0.8, n=2) == "达标"


def test_identical_scores_get_no_verdict():
    """Every score in B is 90: the t interval is the single point 90–90, which the
    old code judged 达标 against 80."""
    groups, y, population = _city(
        b_answers=[(s, a, 90.0) for s, a in CELLS for _ in range(3)],
        a_values=lambda i: 60.0 + i,
    )
    result = estimate_domains(groups, {"score": y}, population, kinds={"score": "mean"})
    b = result.row("B", "score")
    assert b.se == 0.0 and b.status == "待定"
    # 30 of 30 satisfied (a proportion) keeps its Clopper–Pearson verdict.
    groups, y, population = _city(b_answers=[(s, a, 1) for s, a in CELLS for _ in range(8)])
    b = estimate_domains(groups, {"satisfied": y}, population, target=0.8).row("B", "satisfied")
    assert (b.ci_low, b.status) == (
        pytest.approx(proportion_confint(32, 32, method="beta")[0]),
        "达标",
    )
