"""Estimates per domain (district) and for the whole city, with intervals,
design effects and a verdict against the target."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.errors import AnalysisError
from analysis.frame import build_frame, encode
from analysis.intervals import ci_mean, ci_proportion, negligible_se
from analysis.targets import MIN_RESPONDENTS, UNDECIDED, prob_below_target, target_status
from analysis.variance import Projection, stratified_variance
from analysis.weighting import (
    Weighting,
    no_weighting,
    poststratify_weights,
    rake_weights,
    trim_and_recalibrate,
)

ALL = "ALL"
COLUMNS = (
    "domain", "indicator", "n", "estimate", "se", "ci_low", "ci_high", "ci_method",
    "deff", "n_eff", "df", "target", "status",
)  # fmt: skip


@dataclass
class EstimateRow:
    domain: str
    indicator: str
    n: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str
    deff: float
    n_eff: float
    df: int
    target: float
    status: str
    #: One-sided p-value of "below the target" (small = evidence of reaching it).
    p_below_target: float = float("nan")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class EstimateResult:
    rows: list[EstimateRow]
    weights: np.ndarray
    diagnostics: dict
    kinds: dict[str, str] = field(default_factory=dict)

    def row(self, domain: str, indicator: str) -> EstimateRow:
        for r in self.rows:
            if r.domain == domain and r.indicator == indicator:
                return r
        raise KeyError((domain, indicator))


def _as_float(values: Sequence, name: str) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(float)
    if values and isinstance(values[0], str):
        try:  # fast path for CSV text: numpy parses the strings in C
            text = np.array(values, dtype=str)
            text[text == ""] = "nan"
            return text.astype(float)
        except ValueError:
            pass
    try:  # fast path: numbers, or numeric strings with "" for missing
        return np.fromiter(
            (np.nan if v is None or v == "" else float(v) for v in values),
            dtype=float,
            count=len(values),
        )
    except (TypeError, ValueError):
        pass
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and v.strip() == ""):
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError) as exc:
            raise AnalysisError(
                f"indicator '{name}', row {i + 1}: {v!r} is not a number / 指标值不是数字"
            ) from exc
    return out


KINDS = ("proportion", "mean")


def indicator_kind(
    y: np.ndarray,
    name: str,
    kind: str | None = None,
    first_line: int | None = None,
    hint: str | None = None,
) -> str:
    """The kind of indicator *name* (``"proportion"`` or ``"mean"``), checked
    against its values *y* (NaN = not applicable).

    Without *kind*: proportion when every value lies in [0, 1], mean (a 0–100
    score) when most values lie outside. When most lie in [0, 1] but some do not
    (a 0/1 column with a typo such as 2), guessing either way is wrong (one 2 made
    every row a score with target 80), so it is an error naming the values, as is
    a proportion with a value outside [0, 1]. *first_line* is the file line of the
    first value for the message (default: the values are counted from 1); *hint*
    says how to declare a score (default: ``kinds={name: "mean"}``).
    """
    if kind == "mean":
        return kind
    if kind not in (None, "proportion"):
        raise AnalysisError(
            f"indicator '{name}': unknown kind {kind!r} / 指标类型应为 proportion 或 mean"
        )
    valid = ~np.isnan(y)
    bad = np.flatnonzero(valid & ((y < -1e-9) | (y > 1 + 1e-9)))
    if len(bad) == 0:
        return "proportion"
    if kind is None and len(bad) > np.count_nonzero(valid) / 2:
        return "mean"
    where = (
        (lambda i: f"第 {first_line + i} 行为 {y[i]:g}")
        if first_line is not None
        else (lambda i: f"第 {i + 1} 个值为 {y[i]:g}")
    )
    shown = "，".join(where(int(i)) for i in bad[:5]) + ("，……" if len(bad) > 5 else "")
    declared = (
        "已声明为比例" if kind else f"其余 {np.count_nonzero(valid) - len(bad)} 个值都在 0–1 之间"
    )
    hint = hint or f"kinds={{'{name}': 'mean'}}"
    raise AnalysisError(
        f"indicator '{name}': {len(bad)} value(s) outside 0-1 / 指标“{name}”应为 0/1 或 "
        f"0–1 之间的比例（{declared}），但有 {len(bad)} 个值超出 0–1：{shown}。"
        f"请更正这些值；如果该列确实是 0–100 分的得分，请用 {hint} 指明"
    )


def make_weights(
    domains: np.ndarray,
    margin_codes: list[np.ndarray],
    frame,
    weighting: str,
    min_cell: int = 1,
    trim: float | None = None,
) -> Weighting:
    if weighting == "raking":
        result = rake_weights(domains, margin_codes, frame, min_cell=min_cell)
    elif weighting == "poststratify":
        result = poststratify_weights(domains, margin_codes, frame, min_cell=min_cell)
    elif weighting == "none":
        result = no_weighting(domains, frame)
    else:
        raise AnalysisError(f"unknown weighting {weighting!r} (raking, poststratify, none)")
    if trim and result.model is not None:
        result = trim_and_recalibrate(result, domains, upper=trim)
    return result


def weight_cells(
    counts: Sequence[Mapping[str, object]],
    population: Sequence[Mapping[str, object]],
    by: str = "district",
    margins: Sequence[str] = ("sex", "age_group"),
    weighting: str = "raking",
    min_cell: int = 1,
    trim: float | None = None,
) -> list[float]:
    """The weight of a respondent in each cell, from the cells' sample counts.

    Raking, post-stratification and trimming on the cell variables give every
    respondent of a cell (*by* × *margins*) the same weight, so a wave of any
    size is weighted from its cell counts: ``counts`` rows hold *by*, the
    margins and ``n``. Returns one weight per row of ``counts``, equal to the
    respondent-level weights of :func:`estimate_domains` (checked here).
    """
    margins = tuple(margins)
    sizes = np.array([int(r["n"]) for r in counts], dtype=np.int64)
    if len(sizes) == 0 or np.any(sizes < 1):
        raise AnalysisError("cell counts must be positive / 每个单元格的样本数应为正数")
    frame = build_frame(population, by, margins)
    domains = np.repeat(encode([r[by] for r in counts], frame.domains, by), sizes)
    margin_codes = [
        np.repeat(encode([r[m] for r in counts], frame.categories[m], m), sizes) for m in margins
    ]
    weights = make_weights(domains, margin_codes, frame, weighting, min_cell, trim).weights
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    spread = np.maximum.reduceat(weights, starts) - np.minimum.reduceat(weights, starts)
    if np.any(spread > 1e-9 * np.maximum.reduceat(weights, starts)):
        raise AnalysisError("weights differ within a cell / 同一单元格内权数不同")
    return [float(w) for w in weights[starts]]


class _Estimator:
    """Holds the weights and the calibration projection (computed once)."""

    def __init__(self, domains, weighting: Weighting, n_domains: int):
        self.domains = domains
        self.w = weighting.weights
        self.w0 = weighting.base_weights
        self.model = weighting.model
        self.n_domains = n_domains
        self.projection = Projection(self.w, self.w0, self.model)

    def mean_and_variance(self, y: np.ndarray, rows: np.ndarray, scope: np.ndarray | None = None):
        """Weighted mean over *rows* (indices; y not NaN) and its linearised variance.

        *scope* (sorted indices) limits the computation to the rows of one
        district: calibration blocks never span districts, so the influence
        values of a district's estimate are zero elsewhere.
        A variance that is zero up to rounding (:func:`negligible_se`, e.g. every
        respondent alone in a calibration cell, so all residuals are ~1e-17) is 0.
        """
        w = self.w[rows]
        total = w.sum()
        values = y[rows]
        n = len(rows)
        if values.min() == values.max():
            # Everyone gave the same value: no sampling variance, no design effect.
            return _Moments(float(values[0]), 0.0, float("nan"), n)
        est = float(np.dot(w, values) / total)
        if scope is None:
            scope = np.arange(len(self.w))
        x = np.zeros(len(scope))
        x[np.searchsorted(scope, rows)] = w * (values - est) / total
        z = self.projection.residuals(x, scope)
        var = stratified_variance(z, self.domains[scope], self.n_domains)
        spread = float(np.dot(w, (values - est) ** 2) / total)  # weighted variance of y
        degenerate = negligible_se(math.sqrt(max(var, 0.0)), math.sqrt(spread), n)
        s2 = n / (n - 1) * spread if n > 1 else 0.0
        vsrs = s2 * (total - n) / (total * n) if total > n else float("nan")
        return _Moments(est, 0.0 if degenerate else var, vsrs, n)


@dataclass
class _Moments:
    """A domain's weighted mean and linearised variance (see mean_and_variance)."""

    estimate: float
    variance: float
    #: Variance of a simple random sample of the same size (for the design effect).
    srs_variance: float
    n: int

    @property
    def estimable(self) -> bool:
        """Enough respondents to estimate a variance at all."""
        return self.n >= MIN_RESPONDENTS


def estimate_domains(
    groups: Mapping[str, Sequence],
    indicators: Mapping[str, Sequence],
    population: Sequence[Mapping[str, object]],
    by: str = "district",
    margins: Sequence[str] = ("sex", "age_group"),
    weighting: str = "raking",
    ci: str = "logit",
    level: float = 0.95,
    target: float = 0.80,
    min_cell: int = 1,
    trim: float | None = None,
    kinds: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EstimateResult:
    """Weight respondents to the frame and estimate every indicator by domain.

    Parameters
    ----------
    groups : mapping of str to sequence
        Respondent columns: the domain variable *by* and every margin.
    indicators : mapping of str to sequence
        Per-respondent values: 0/1, shares in [0, 1], or 0–100 scores; None/NaN
        = not applicable (domain estimation: the respondent gets no weight for
        that indicator but stays in the design).
    population : sequence of mappings
        Frame rows with *by*, the margins and ``population``.
    weighting : {"raking", "poststratify", "none"}
    ci : {"logit", "beta", "wilson"}
        Interval for proportions; means (scores) get a t interval.
    target : float
        Target share (0.80). For 0–100 scores the target is 100 × target.
    kinds : mapping, optional
        ``"proportion"`` or ``"mean"`` per indicator; by default proportion when
        every value lies in [0, 1], mean when most do not, and an error when most
        values lie in [0, 1] but some do not (see :func:`indicator_kind`).

    Returns
    -------
    EstimateResult
        ``rows`` (one per domain and indicator, then the city as ``ALL``),
        ``weights`` aligned with the input, and weighting ``diagnostics``.

    Notes
    -----
    Degrees of freedom: n_d − 1 for a district, n − H for the city (H districts).
    The design effect is R's ``svymean(deff = TRUE)``: the design variance over
    the variance of a simple random sample of the same size without replacement.

    A variance that is zero up to rounding (e.g. a district's respondents each alone
    in a raking cell, so that every calibration residual is ~1e-17) is 0, as when
    every answer is the same: ``se`` 0, a proportion's interval Clopper–Pearson with
    n, ``deff`` NaN and ``n_eff`` = n. No verdict (status 待定, ``p_below_target``
    NaN) for a domain with fewer than ``MIN_RESPONDENTS`` (2) respondents, for a
    score with ``se`` 0, and for the city when some district has fewer than 2
    respondents (its share of the city's variance cannot be estimated; R's survey
    package refuses such a stratum: ``lonely.psu = "fail"``).
    """
    margins = tuple(margins)
    say = progress or (lambda _msg: None)
    for column in (by, *margins):
        if column not in groups:
            raise AnalysisError(f"responses: column '{column}' is missing / 缺少列")
    frame = build_frame(population, by, margins)
    domains = encode(groups[by], frame.domains, by)
    margin_codes = [encode(groups[m], frame.categories[m], m) for m in margins]
    say("加权")
    weighting_result = make_weights(domains, margin_codes, frame, weighting, min_cell, trim)
    n_domains = len(frame.domains)
    estimator = _Estimator(domains, weighting_result, n_domains)
    rows: list[EstimateRow] = []
    kinds_out: dict[str, str] = {}
    order = np.argsort(domains, kind="stable")
    bounds = np.searchsorted(domains[order], np.arange(n_domains + 1))
    for name, values in indicators.items():
        say(f"估计 {name}")
        y = _as_float(values, name)
        if len(y) != len(domains):
            raise AnalysisError(f"indicator '{name}' has {len(y)} values for {len(domains)} rows")
        valid = ~np.isnan(y)
        kind = indicator_kind(y, name, (kinds or {}).get(name))
        kinds_out[name] = kind
        goal = target if kind == "proportion" else 100 * target
        # A district with fewer than 2 respondents leaves the city's variance without
        # its share: the city then gets no verdict either (R: lonely.psu = "fail").
        city_estimable = True
        for d, label in enumerate(frame.domains):
            scope = np.sort(order[bounds[d] : bounds[d + 1]])
            idx = scope[valid[scope]]
            if len(idx) == 0:
                continue
            row, moments = _row(
                estimator, y, idx, label, name, kind, len(idx) - 1, ci, level, goal, scope
            )
            rows.append(row)
            city_estimable &= moments.estimable
        idx = np.flatnonzero(valid)
        if len(idx):
            h = len(np.unique(domains[idx]))
            row, _ = _row(
                estimator, y, idx, ALL, name, kind, len(idx) - h, ci, level, goal,
                verdict=city_estimable,
            )  # fmt: skip
            rows.append(row)
    diagnostics = weighting_result.diagnostics(domains, frame.domains)
    return EstimateResult(rows, weighting_result.weights, diagnostics, kinds_out)


def _row(
    estimator, y, idx, domain, name, kind, df, ci, level, goal, scope=None, verdict=True
) -> tuple[EstimateRow, _Moments]:
    """One estimate row, and the moments it came from.

    A variance that is zero up to rounding is 0, as when every answer is the same:
    the interval of a proportion is then Clopper–Pearson with n (see
    :func:`ci_proportion`), the design effect NaN and the effective sample size n
    (what that interval uses). The status is 待定 (no verdict) when the domain has
    fewer than ``MIN_RESPONDENTS`` respondents, for a mean (score) whose variance
    is 0 (its t interval is a single point), and when *verdict* is False (the city
    with a district of fewer than ``MIN_RESPONDENTS`` respondents).
    """
    m = estimator.mean_and_variance(y, idx, scope)
    se = math.sqrt(max(m.variance, 0.0))
    n = len(idx)
    df = max(df, 1)
    if kind == "proportion":
        low, high = ci_proportion(m.estimate, se, n, df, ci, level)
        method = ci
    else:
        low, high = ci_mean(m.estimate, se, df, level)
        method = "t"
    vsrs = m.srs_variance
    usable = m.variance > 0 and vsrs > 0 and not math.isnan(vsrs)
    deff = float(m.variance / vsrs) if usable else float("nan")
    n_eff = float(n / deff) if usable else float(n)
    verdict = verdict and m.estimable and (kind == "proportion" or se > 0)
    row = EstimateRow(
        domain=domain,
        indicator=name,
        n=n,
        estimate=float(m.estimate),
        se=float(se),
        ci_low=float(low),
        ci_high=float(high),
        ci_method=method,
        deff=deff,
        n_eff=n_eff,
        df=df,
        target=goal,
        status=target_status(low, high, goal, n) if verdict else UNDECIDED,
        p_below_target=prob_below_target(m.estimate, se, goal, df) if verdict else float("nan"),
    )
    return row, m
