"""Confidence intervals for proportions from complex samples.

``logit`` and ``beta`` follow R's ``svyciprop`` (survey package):

- logit: ``expit(logit(p) ± t_{df} · se / (p (1 - p)))`` — the Wald interval of
  an intercept-only quasibinomial ``svyglm`` on the logit scale.
- beta (Korn & Graubard 1998): Clopper–Pearson with the effective sample size
  ``n_eff = p (1 - p) / se² · (t_{n-1} / t_{df})²`` (``n`` = respondents in the domain).
  For a district ``df = n_d - 1``, so the factor is 1. This is R's
  ``svyciprop(~y, d, method = "beta")`` on a design ``d`` built and calibrated from
  that district's respondents alone (``nrow(d) - 1 = degf(d) = n_d - 1``), and on the
  whole design for the city (``n - 1`` and ``n - H``). It is *not*
  ``svyby(~y, ~district, design, svyciprop, method = "beta")`` (nor ``svyciprop`` on
  ``subset(design, district == ...)``): a subset of a calibrated design keeps all n
  rows, so R scales by ``(t_{n-1} / t_{n_d-1})²`` < 1 and its interval is slightly
  wider (city4, D01, raking: lower bound 0.68762 there, 0.68830 here and on the
  district's own design; survey 4.1.1).
- wilson: Wilson's score interval with the effective sample size ``p(1-p)/se²``
  and the normal quantile.

At p = 0 or 1 the design variance is zero and these formulas degenerate; we then
return the exact Clopper–Pearson interval with the domain's sample size (never NaN).
The same holds when the standard error is zero only up to rounding (see
:func:`negligible_se`): e.g. a district of two respondents, each alone in a raking
cell, has calibration residuals of about 1e-17 and "se" of about 2e-17, which is not
a measure of precision but floating-point noise.
"""

from __future__ import annotations

import math

#: A standard error at most this fraction of ``sd / sqrt(n)`` (the simple random
#: sampling standard error; ``sd = sqrt(p (1 - p))`` for a proportion) is zero up to
#: rounding. Real design effects are nowhere near 1e-16 = SE_TOLERANCE².
SE_TOLERANCE = 1e-8


def negligible_se(se: float, sd: float, n: float) -> bool:
    """True when *se* is zero up to floating-point rounding (or not a number).

    *sd* is the standard deviation of one response (``sqrt(p (1 - p))`` for a
    proportion) and *n* the number of respondents: *se* counts as zero when it is
    at most ``SE_TOLERANCE · sd / sqrt(n)``.
    """
    if not se > 0:  # zero, negative or NaN
        return True
    return se <= SE_TOLERANCE * sd / math.sqrt(max(n, 1.0))


def _clopper_pearson(p: float, n: float, level: float) -> tuple[float, float]:
    from scipy import stats  # lazy: scipy is heavy to import

    alpha = 1 - level
    x = p * n
    low = 0.0 if x <= 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    high = 1.0 if x >= n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return low, high


def ci_proportion(
    p: float, se: float, n: float, df: float, method: str = "logit", level: float = 0.95
) -> tuple[float, float]:
    """Interval for a proportion *p* with design-based standard error *se*.

    Parameters
    ----------
    p, se : float
        Estimate and its standard error.
    n : float
        Respondents in the domain (used by ``beta`` and at the boundaries).
    df : float
        Degrees of freedom of the design for this domain.
    method : {"logit", "beta", "wilson"}
    level : float
        Confidence level, e.g. 0.95.
    """
    from scipy import stats  # lazy: scipy is heavy to import

    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    if p <= 0 or p >= 1 or negligible_se(se, math.sqrt(p * (1 - p)), n):
        return _clopper_pearson(min(max(p, 0.0), 1.0), max(n, 1.0), level)
    alpha = 1 - level
    if method == "logit":
        t = stats.t.ppf(1 - alpha / 2, df)
        eta = math.log(p / (1 - p))
        half = t * se / (p * (1 - p))
        return _expit(eta - half), _expit(eta + half)
    if method == "beta":
        n_eff = p * (1 - p) / se**2
        n_eff *= (stats.t.ppf(alpha / 2, n - 1) / stats.t.ppf(alpha / 2, df)) ** 2
        low = float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
        high = float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
        return low, high
    if method == "wilson":
        n_eff = p * (1 - p) / se**2
        z = stats.norm.ppf(1 - alpha / 2)
        centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
        half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff**2)) / (1 + z * z / n_eff)
        return centre - half, centre + half
    raise ValueError(f"unknown interval method {method!r} (logit, beta, wilson)")


def ci_mean(estimate: float, se: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """t interval for a mean (e.g. a 0–100 score)."""
    from scipy import stats  # lazy: scipy is heavy to import

    t = stats.t.ppf(1 - (1 - level) / 2, df)
    return estimate - t * se, estimate + t * se


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
