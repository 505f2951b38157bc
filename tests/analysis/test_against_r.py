"""Agreement with R's survey package (reference values committed beside the
script that produced them: reference/make_reference.R; inputs from
data/make_synthetic.py). R is not needed to run these tests."""

from __future__ import annotations

import csv
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from analysis import estimate_domains
from analysis.estimate import ALL

HERE = Path(__file__).parent
INDICATORS = ("satisfied", "participated", "share", "score")


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(lines)]


@cache
def reference() -> dict:
    out = {}
    for row in _read(HERE / "reference" / "r_estimates.csv"):
        out[(row["city"], row["method"], row["indicator"], row["domain"])] = row
    return out


@cache
def r_weights() -> dict:
    return {
        (r["city"], r["method"], r["respondent_id"]): float(r["weight"])
        for r in _read(HERE / "reference" / "r_weights.csv")
    }


@cache
def ours(city: str, method: str, ci: str):
    rows = _read(HERE / "data" / f"{city}_responses.csv")
    population = _read(HERE / "data" / f"{city}_population.csv")
    groups = {k: [r[k] for r in rows] for k in ("district", "sex", "age_group")}
    indicators = {k: [r[k] for r in rows] for k in INDICATORS}
    result = estimate_domains(
        groups, indicators, population, weighting=method, ci=ci,
        kinds={"share": "proportion", "score": "mean"},
    )  # fmt: skip
    return result, [r["respondent_id"] for r in rows]


CASES = [(c, m) for c in ("city4", "city6", "city10") for m in ("raking", "poststratify")]


def _num(text: str) -> float:
    return float("nan") if text in ("", "NA") else float(text)


@pytest.mark.parametrize(("city", "method"), CASES)
def test_weights_match_r(city, method):
    result, ids = ours(city, method, "logit")
    reference_weights = r_weights()
    expected = np.array([reference_weights[(city, method, i)] for i in ids])
    np.testing.assert_allclose(result.weights, expected, rtol=1e-8)


@pytest.mark.parametrize(("city", "method"), CASES)
def test_estimates_se_deff_match_r(city, method):
    result, _ = ours(city, method, "logit")
    checked = 0
    for row in result.rows:
        ref = reference()[(city, method, row.indicator, row.domain)]
        assert row.n == int(ref["n"])
        assert row.estimate == pytest.approx(_num(ref["estimate"]), rel=1e-6)
        assert row.se == pytest.approx(_num(ref["se"]), rel=1e-5, abs=1e-12)
        if not math.isnan(_num(ref["deff"])) and _num(ref["se"]) > 1e-12:
            assert row.deff == pytest.approx(_num(ref["deff"]), rel=1e-5)
        checked += 1
    assert checked == len(reference_rows(city, method))


def reference_rows(city, method):
    return [k for k in reference() if k[0] == city and k[1] == method]


@pytest.mark.parametrize(("city", "method"), CASES)
@pytest.mark.parametrize("ci", ["logit", "beta"])
def test_intervals_match_svyciprop(city, method, ci):
    result, _ = ours(city, method, ci)
    compared = 0
    for row in result.rows:
        ref = reference()[(city, method, row.indicator, row.domain)]
        low, high = _num(ref[f"{ci}_low"]), _num(ref[f"{ci}_high"])
        if math.isnan(low):
            continue
        assert row.ci_low == pytest.approx(low, abs=1e-5)
        assert row.ci_high == pytest.approx(high, abs=1e-5)
        compared += 1
    assert compared > 0


def test_degenerate_district_has_no_nan():
    """city6's district D03 participates 100%: estimate 1, a finite interval."""
    result, _ = ours("city6", "raking", "logit")
    row = result.row("D03", "participated")
    assert row.estimate == 1.0 and row.se == pytest.approx(0.0, abs=1e-12)
    assert 0.9 < row.ci_low < 1.0 and row.ci_high == 1.0
    assert row.status == "达标"


@pytest.mark.parametrize(("city", "method"), CASES)
def test_cell_weights_match_r(city, method):
    """Weights from cell counts alone (what exports of large waves use) equal R's
    respondent-level weights."""
    from collections import Counter

    from analysis.estimate import weight_cells

    rows = _read(HERE / "data" / f"{city}_responses.csv")
    population = _read(HERE / "data" / f"{city}_population.csv")
    counts = Counter((r["district"], r["sex"], r["age_group"]) for r in rows)
    cells = [{"district": d, "sex": s, "age_group": a, "n": n} for (d, s, a), n in counts.items()]
    by_cell = dict(zip(counts, weight_cells(cells, population, weighting=method), strict=True))
    reference_weights = r_weights()
    for r in rows:
        expected = reference_weights[(city, method, r["respondent_id"])]
        got = by_cell[(r["district"], r["sex"], r["age_group"])]
        assert got == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("city", "method"), CASES)
def test_beta_convention_against_svyby(city, method):
    """Our district beta intervals are R's svyciprop on the district's own design
    (checked above), not svyby's on the whole design, which uses n = all respondents
    in t(n - 1) (analysis/intervals.py). Plugging that n in reproduces svyby."""
    from analysis import ci_proportion

    result, _ = ours(city, method, "beta")
    n_all = {row.indicator: row.n for row in result.rows if row.domain == "ALL"}
    compared = 0
    for row in result.rows:
        ref = reference()[(city, method, row.indicator, row.domain)]
        low, high = _num(ref["svyby_beta_low"]), _num(ref["svyby_beta_high"])
        if math.isnan(low):
            continue
        assert low < row.ci_low and high > row.ci_high  # svyby's is slightly wider
        as_svyby = ci_proportion(row.estimate, row.se, n_all[row.indicator], row.df, "beta")
        assert as_svyby == pytest.approx((low, high), abs=1e-5)
        compared += 1
    assert compared > 0


@pytest.mark.parametrize(("city", "method"), CASES)
@pytest.mark.parametrize("ci", ["logit", "beta"])
def test_answers_left_out_are_a_domain_as_r_estimates_one(city, method, ci):
    """An item's 说不清 answers are left out (NaN: no weight for that item, still
    in the design), as the satisfaction items of the estimates table are. A
    column left out everywhere but in district d is R's domain estimate of d:
    svyby's (and svyciprop's) row of d, with the same degrees of freedom n_d - 1.
    So the whole-city row of that column reproduces R's numbers for d: the
    estimate, the linearised standard error with calibration residuals computed
    over every respondent (those left out too), the design effect and the interval."""
    rows = _read(HERE / "data" / f"{city}_responses.csv")
    population = _read(HERE / "data" / f"{city}_population.csv")
    groups = {k: [r[k] for r in rows] for k in ("district", "sex", "age_group")}
    districts = sorted({r["district"] for r in rows})
    indicators = {d: [r["satisfied"] if r["district"] == d else None for r in rows]
                  for d in districts}  # fmt: skip
    result = estimate_domains(groups, indicators, population, weighting=method, ci=ci)
    for d in districts:
        ref = reference()[(city, method, "satisfied", d)]
        row = result.row(ALL, d)
        assert row.n == int(ref["n"]) and row.df == row.n - 1
        assert row.estimate == pytest.approx(_num(ref["estimate"]), rel=1e-6)
        assert row.se == pytest.approx(_num(ref["se"]), rel=1e-5)
        assert row.deff == pytest.approx(_num(ref["deff"]), rel=1e-5)
        assert row.ci_low == pytest.approx(_num(ref[f"{ci}_low"]), abs=1e-5)
        assert row.ci_high == pytest.approx(_num(ref[f"{ci}_high"]), abs=1e-5)
