"""Sample-size planning for a district."""

from __future__ import annotations

import math


def sample_size_for_margin(
    p: float = 0.8,
    margin: float = 0.05,
    deff: float = 1.5,
    level: float = 0.95,
    population: float | None = None,
) -> int:
    """Respondents needed for a margin of error *margin* at proportion *p*.

    ``n = z² p (1 - p) deff / margin²``, with the finite population correction
    ``n / (1 + (n - 1) / N)`` when *population* is given (Cochran 1977, 4.2).
    Cochran's textbook case p = 0.5, margin = 0.05, 95%, deff = 1 gives 385.
    """
    from scipy import stats  # lazy: scipy is heavy to import

    if not (0 < p < 1 and 0 < margin < 1 and deff > 0 and 0 < level < 1):
        raise ValueError("p, margin and level must lie in (0, 1) and deff must be positive")
    z = stats.norm.ppf(1 - (1 - level) / 2)
    n = z * z * p * (1 - p) * deff / margin**2
    if population:
        n = n / (1 + (n - 1) / population)
    return math.ceil(n - 1e-9)


def sample_size_for_target(
    p_true: float = 0.85,
    target: float = 0.80,
    power: float = 0.8,
    alpha: float = 0.05,
    deff: float = 1.5,
) -> int:
    """Respondents needed to show a district is at or above *target* (one-sided
    test at level *alpha*) with probability *power* when the true share is *p_true*.

    ``n = deff (z_{1-α} sqrt(t(1-t)) + z_{power} sqrt(p(1-p)))² / (p - t)²``
    (the normal-approximation formula for a one-sample test of a proportion).
    """
    from scipy import stats  # lazy: scipy is heavy to import

    if not p_true > target:
        raise ValueError("the true share must exceed the target to demonstrate it")
    za = stats.norm.ppf(1 - alpha)
    zb = stats.norm.ppf(power)
    num = za * math.sqrt(target * (1 - target)) + zb * math.sqrt(p_true * (1 - p_true))
    return math.ceil(deff * num * num / (p_true - target) ** 2 - 1e-9)
