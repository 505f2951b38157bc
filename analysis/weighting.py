"""Weighting to the population frame: post-stratification and raking within
each domain (district), with reported cell collapsing and weight trimming.

The design: respondents are independent units, stratified by district; the
base weight of a respondent is the district population over the district
sample size. Calibration is done within districts, so every district's
weights add up to its population.

Collapsing rule (stated in every result): within a district, a weighting cell
with fewer than ``min_cell`` respondents (or with respondents but no
population) is merged with its neighbour in frame order that differs only in
the last weighting variable (e.g. the next age group of the same sex),
choosing the neighbour with fewer respondents; when no such neighbour is left,
with a neighbour that differs in the previous variable, and so on. For raking
each margin is collapsed the same way, separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.errors import AnalysisError
from analysis.frame import Frame


@dataclass
class CalibrationModel:
    """Calibration variables as factor codes: respondent i has a 1 in column
    ``factors[k][i]`` for each k. Columns never span two districts."""

    factors: list[np.ndarray]
    n_columns: int


@dataclass
class Weighting:
    """Weights and what it took to get them."""

    method: str
    weights: np.ndarray
    base_weights: np.ndarray
    model: CalibrationModel | None
    collapsed: list[str] = field(default_factory=list)
    iterations: int = 0
    converged: bool = True
    trimmed: int = 0
    rule: str = ""

    def small_cells(self, below: int = 3) -> int:
        """How many weighting cells, as calibrated (after merging), have respondents
        but fewer than *below*: post-stratification cells, or for raking each
        margin's categories within a district. A respondent alone in a cell adds
        no variance, so with such cells standard errors come out too small."""
        if self.model is None:
            return 0
        count = 0
        for factor in self.model.factors:
            sizes = np.bincount(factor[factor >= 0])
            count += int(np.count_nonzero((sizes > 0) & (sizes < below)))
        return count

    def diagnostics(self, domains: np.ndarray, labels: list[str]) -> dict:
        w = self.weights
        per = {}
        for d, label in enumerate(labels):
            wd = w[domains == d]
            per[label] = _weight_summary(wd)
        return {
            "method": self.method,
            "iterations": self.iterations,
            "converged": self.converged,
            "collapsed_cells": list(self.collapsed),
            "collapsing_rule": self.rule,
            "small_cells": self.small_cells(),
            "trimmed_weights": self.trimmed,
            **_weight_summary(w),
            "by_domain": per,
        }


def _weight_summary(w: np.ndarray) -> dict:
    if len(w) == 0:
        return {"n": 0}
    kish = float(len(w) * np.sum(w**2) / np.sum(w) ** 2)
    return {
        "n": int(len(w)),
        "weight_min": float(w.min()),
        "weight_max": float(w.max()),
        "weight_ratio": float(w.max() / w.min()) if w.min() > 0 else float("inf"),
        "kish_deff": kish,
        "n_eff": float(len(w) / kish),
    }


#: The collapsing rule as shown to users (diagnostics["collapsing_rule"]).
RULE = (
    "同一区县内，样本少于 {k} 人（或有样本而人口数为 0）的加权单元，与最后一个加权变量的"
    "相邻类别合并（两侧都可合并时选样本较少的一侧，仍不够时再按前面的变量合并）；"
    "迭代加权时各加权变量分别合并"
)

#: Chinese names of the usual weighting variables, for the diagnostics.
VARIABLE_NAMES = {"sex": "性别", "age_group": "年龄组", "urban_rural": "城乡"}


def _merged(district: str, names: list[str], n: int, variable: str = "") -> str:
    """A collapsed cell as shown to users: 嘉鱼县：年龄组 50-59岁、60岁及以上 合并（共 5 人）."""
    what = f"{VARIABLE_NAMES.get(variable, variable)} " if variable else ""
    return f"{district}：{what}{'、'.join(names)} 合并（共 {n} 人）"


def base_weights(domains: np.ndarray, frame: Frame) -> np.ndarray:
    """District population / district sample size, per respondent."""
    n_d = np.bincount(domains, minlength=len(frame.domains))
    totals = frame.domain_totals()
    for d, label in enumerate(frame.domains):
        if n_d[d] == 0 and totals[d] > 0:
            raise AnalysisError(
                f"district '{label}' has no respondents: it cannot be estimated or weighted / "
                "该区县没有样本"
            )
    return (totals / np.maximum(n_d, 1))[domains]


def _collapse(
    keys: list[tuple[int, ...]], n: np.ndarray, pop: np.ndarray, min_cell: int
) -> list[list[int]]:
    """Group sorted cell keys of one district so that every group is usable.

    ``min_cell = 0`` switches collapsing off (an empty cell is then an error).
    """
    groups = [[i] for i in range(len(keys))]
    if min_cell <= 0:
        return groups

    def usable(g):
        nn, pp = n[g].sum(), pop[g].sum()
        return (nn >= min_cell and pp > 0) or (nn == 0 and pp == 0)

    def shares(g, h, level):
        first = keys[g[0]][:level]
        return all(keys[i][:level] == first for i in g + h)

    width = len(keys[0]) if keys else 0
    for level in range(width - 1, -1, -1):
        changed = True
        while changed:
            changed = False
            for gi, g in enumerate(groups):
                if usable(g):
                    continue
                cands = [
                    h
                    for h in (gi + 1, gi - 1)
                    if 0 <= h < len(groups) and shares(g, groups[h], level)
                ]
                if not cands:
                    continue
                h = min(cands, key=lambda h: (n[groups[h]].sum(), h))
                lo, hi = min(gi, h), max(gi, h)
                groups[lo : hi + 1] = [groups[lo] + groups[hi]]
                changed = True
                break
    return groups


def _label(frame: Frame, variables: list[str], key: tuple[int, ...]) -> str:
    return "/".join(frame.categories[v][c] for v, c in zip(variables, key, strict=True))


def poststratify_weights(
    domains: np.ndarray, margin_codes: list[np.ndarray], frame: Frame, min_cell: int = 1
) -> Weighting:
    """Post-stratify to the cross of domain and all margins (with collapsing)."""
    if frame.has_partial_rows:
        raise AnalysisError(
            "post-stratification needs the full cross of the weighting variables: some "
            "population rows leave a column empty / 事后分层需要完整的交叉人口数据"
        )
    w0 = base_weights(domains, frame)
    n_resp = len(domains)
    dims = [len(frame.categories[m]) for m in frame.margins]

    # Integer cell id of each respondent and each frame cell (margins only).
    def cell_of(codes_list):
        cid = np.zeros(len(codes_list[0]) if codes_list else 0, dtype=np.int64)
        for codes, k in zip(codes_list, dims, strict=True):
            cid = cid * k + codes
        return cid

    resp_cell = cell_of(margin_codes) if margin_codes else np.zeros(n_resp, dtype=np.int64)
    frame_cell = (
        cell_of([frame.cells[:, 1 + j] for j in range(len(dims))])
        if dims
        else np.zeros(len(frame.population), dtype=np.int64)
    )
    group_of = np.full(n_resp, -1, dtype=np.int64)
    targets: list[float] = []
    collapsed: list[str] = []
    for d, label in enumerate(frame.domains):
        in_d = domains == d
        fmask = frame.cells[:, 0] == d
        cells = sorted(set(frame_cell[fmask].tolist()) | set(resp_cell[in_d].tolist()))
        index = {c: i for i, c in enumerate(cells)}
        pop = np.zeros(len(cells))
        np.add.at(pop, [index[c] for c in frame_cell[fmask].tolist()], frame.population[fmask])
        n = np.bincount([index[c] for c in resp_cell[in_d].tolist()], minlength=len(cells))
        keys = [tuple(np.unravel_index(c, dims)) if dims else () for c in cells]
        groups = _collapse(keys, n, pop, min_cell)
        cell_group = np.empty(len(cells), dtype=np.int64)
        for g in groups:
            if n[g].sum() == 0:
                if pop[g].sum() > 0:
                    raise AnalysisError(
                        f"district '{label}': no respondents to carry population "
                        f"{pop[g].sum():.0f} even after collapsing / 无法加权"
                    )
                cell_group[g] = -1
                continue
            gid = len(targets)
            targets.append(float(pop[g].sum()))
            cell_group[g] = gid
            if len(g) > 1:
                names = [_label(frame, list(frame.margins), keys[i]) for i in g]
                collapsed.append(_merged(label, names, int(n[g].sum())))
        idx = np.array([index[c] for c in resp_cell[in_d].tolist()], dtype=np.int64)
        group_of[in_d] = cell_group[idx] if len(idx) else idx
    t = np.array(targets)
    sums = np.bincount(group_of, w0, minlength=len(t))
    weights = w0 * (t / sums)[group_of]
    model = CalibrationModel([group_of], len(t))
    return Weighting(
        "poststratify", weights, w0, model, collapsed, 1, True, rule=RULE.format(k=min_cell)
    )


def rake_weights(
    domains: np.ndarray,
    margin_codes: list[np.ndarray],
    frame: Frame,
    min_cell: int = 1,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> Weighting:
    """Rake within each district to the margins district × each variable.

    Iterative proportional fitting to convergence (max relative error of any
    margin total below *tol*); this is the raking solution that R's
    ``calibrate(calfun = "raking")`` and ``rake()`` converge to.
    """
    if not margin_codes:
        raise AnalysisError("raking needs at least one margin / 请指定至少一个加权变量")
    _check_margin_totals(frame)
    w0 = base_weights(domains, frame)
    factors, targets_all, collapsed = [], [], []
    offset = 0
    for j, codes in enumerate(margin_codes):
        k = len(frame.categories[frame.margins[j]])
        totals = frame.margin_totals(j)
        group_of = np.full(len(domains), -1, dtype=np.int64)
        targets = []
        for d, label in enumerate(frame.domains):
            in_d = domains == d
            n = np.bincount(codes[in_d], minlength=k)
            pop = totals[d]
            groups = _collapse([(c,) for c in range(k)], n, pop, min_cell)
            cat_group = np.full(k, -1, dtype=np.int64)
            for g in groups:
                if n[g].sum() == 0:
                    if pop[g].sum() > 0:
                        names = ", ".join(frame.categories[frame.margins[j]][c] for c in g)
                        raise AnalysisError(
                            f"district '{label}': no respondents in margin "
                            f"'{frame.margins[j]}' category {names} / 该类别没有样本，无法加权"
                        )
                    continue
                cat_group[g] = offset + len(targets)
                targets.append(float(pop[g].sum()))
                if len(g) > 1:
                    names = [frame.categories[frame.margins[j]][c] for c in g]
                    collapsed.append(_merged(label, names, int(n[g].sum()), frame.margins[j]))
            group_of[in_d] = cat_group[codes[in_d]]
        offset += len(targets)
        factors.append(group_of)
        targets_all.append(np.array(targets))
    weights = w0.copy()
    t_cat = [t for t in targets_all]
    converged, iteration, worst = False, 0, float("inf")
    base = 0
    starts = []
    for t in t_cat:
        starts.append(base)
        base += len(t)
    while iteration < max_iter:
        iteration += 1
        worst = 0.0
        for f, t, s in zip(factors, t_cat, starts, strict=True):
            sums = np.bincount(f - s, weights, minlength=len(t))
            ratio = t / sums
            worst = max(worst, float(np.max(np.abs(ratio - 1.0))))
            weights *= ratio[f - s]
        if worst < tol:
            converged = True
            break
    if not converged:
        raise AnalysisError(
            f"raking did not converge in {max_iter} iterations (worst relative error {worst:.2e}) "
            "/ 迭代未收敛，请检查人口数据或合并类别"
        )
    model = CalibrationModel(factors, base)
    return Weighting(
        "raking", weights, w0, model, collapsed, iteration, converged, rule=RULE.format(k=min_cell)
    )


def _check_margin_totals(frame: Frame) -> None:
    """Margins must agree on each district's total (always true for one full cross)."""
    totals = [frame.margin_totals(j).sum(axis=1) for j in range(len(frame.margins))]
    for j in range(1, len(totals)):
        bad = np.abs(totals[j] - totals[0]) > 1e-6 * np.maximum(totals[0], 1)
        for d in np.flatnonzero(bad):
            raise AnalysisError(
                f"district '{frame.domains[d]}': the margins disagree on its total "
                f"({frame.margins[0]}: {totals[0][d]:.0f}, {frame.margins[j]}: "
                f"{totals[j][d]:.0f}) / 各边际合计不一致，无法加权"
            )


def trim_and_recalibrate(
    weighting: Weighting,
    domains: np.ndarray,
    upper: float = 5.0,
    max_rounds: int = 50,
) -> Weighting:
    """Cap weights at *upper* × the district's mean weight and re-calibrate.

    Alternates capping and raking (all calibration factors) until the weights
    respect the cap and the calibration totals within 0.1%, or *max_rounds*.
    The cap always holds in the result; the remaining relative error of the
    calibration totals is reported as ``trim_total_error``.
    """
    model = weighting.model
    w = weighting.weights.copy()
    targets = [
        np.bincount(f[f >= 0], weighting.weights[f >= 0], minlength=model.n_columns)
        for f in model.factors
    ]
    n_d = np.bincount(domains)
    trimmed = np.zeros(len(w), dtype=bool)
    error = 0.0
    for _ in range(max_rounds):
        cap = upper * (np.bincount(domains, w) / n_d)[domains]
        over = w > cap
        trimmed |= over
        w = np.minimum(w, cap)
        error = 0.0
        for f, t in zip(model.factors, targets, strict=True):
            ok = f >= 0
            sums = np.bincount(f[ok], w[ok], minlength=model.n_columns)
            ratio = np.divide(t, sums, out=np.ones_like(t), where=sums > 0)
            error = max(error, float(np.max(np.abs(ratio - 1))))
            w[ok] *= ratio[f[ok]]
        if error < 1e-3 and not (w > upper * (np.bincount(domains, w) / n_d)[domains]).any():
            break
    cap = upper * (np.bincount(domains, w) / n_d)[domains]
    w = np.minimum(w, cap)
    result = Weighting(
        weighting.method + "+trim",
        w,
        weighting.base_weights,
        model,
        weighting.collapsed,
        weighting.iterations,
        weighting.converged,
        int(trimmed.sum()),
        weighting.rule,
    )
    result.trim_total_error = error
    return result


def no_weighting(domains: np.ndarray, frame: Frame) -> Weighting:
    """Only the design weights: district population / district sample size."""
    w0 = base_weights(domains, frame)
    return Weighting("none", w0, w0, None, rule="")
