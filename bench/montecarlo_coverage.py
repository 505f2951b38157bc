#!/usr/bin/env python3
"""Monte Carlo check of interval coverage and weighting bias (not part of the fast suite).

    python bench/montecarlo_coverage.py [--reps 1000] [--per-district 300] [--ci logit]

A synthetic city of six districts whose residents' satisfaction depends on sex
and age, and whose response propensity also depends on sex and age (older
people and women answer more often), as in QR-code fieldwork. Each replicate
draws a sample, weights it (raking and post-stratification) and records whether
each district's nominal 95% interval covers the true district share. Prints the
coverage per district (expected 93–97%) and the bias of weighted and unweighted
estimates; exits 1 if any weighted coverage falls outside 92–98%.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import estimate_domains  # noqa: E402

DISTRICTS = ["咸安区", "赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"]
SEXES = ["男", "女"]
AGES = ["18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"]


def city(seed: int = 2026):
    rng = np.random.default_rng(seed)
    cells, pop, p_sat, propensity = [], [], [], []
    for k, d in enumerate(DISTRICTS):
        size = rng.integers(250_000, 650_000)
        for s, sex in enumerate(SEXES):
            for a, age in enumerate(AGES):
                cells.append((d, sex, age))
                pop.append(size * (0.5 + 0.01 * s) * (0.15 + 0.03 * a))
                # additive on the logit scale: raking can remove the bias
                eta = 0.6 + 0.15 * k + 0.35 * a - 0.4 * s
                p_sat.append(1 / (1 + np.exp(-eta)))
                propensity.append((1 + 0.6 * a) * (1.5 if s else 1.0))
    pop, p_sat, propensity = map(np.array, (pop, p_sat, propensity))
    truth = {
        d: float(np.sum(pop[i * 10 : i * 10 + 10] * p_sat[i * 10 : i * 10 + 10]) / pop[i * 10 : i * 10 + 10].sum())
        for i, d in enumerate(DISTRICTS)
    }  # fmt: skip
    return cells, pop, p_sat, propensity, truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--per-district", type=int, default=300)
    parser.add_argument("--ci", default="logit", choices=["logit", "beta", "wilson"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cells, pop, p_sat, propensity, truth = city()
    frame = [{"district": d, "sex": s, "age_group": a, "population": n}
             for (d, s, a), n in zip(cells, pop, strict=True)]  # fmt: skip
    rng = np.random.default_rng(args.seed)
    methods = ("raking", "poststratify", "none")
    cover = {m: {d: 0 for d in DISTRICTS} for m in methods}
    error = {m: {d: 0.0 for d in DISTRICTS} for m in methods}
    unweighted_error = {d: 0.0 for d in DISTRICTS}
    for rep in range(args.reps):
        groups = {"district": [], "sex": [], "age_group": []}
        y = []
        for i in range(len(DISTRICTS)):
            block = slice(i * 10, i * 10 + 10)
            share = pop[block] * propensity[block]
            counts = rng.multinomial(args.per_district, share / share.sum())
            counts = np.maximum(counts, 1)  # keep every cell non-empty
            for c, n in enumerate(counts):
                d_, s_, a_ = cells[i * 10 + c]
                groups["district"] += [d_] * n
                groups["sex"] += [s_] * n
                groups["age_group"] += [a_] * n
                y += list((rng.random(n) < p_sat[i * 10 + c]).astype(float))
        y_arr = np.array(y)
        dist = np.array(groups["district"])
        for d in DISTRICTS:
            unweighted_error[d] += y_arr[dist == d].mean() - truth[d]
        for method in methods:
            result = estimate_domains(groups, {"satisfied": y}, frame, weighting=method, ci=args.ci)
            for d in DISTRICTS:
                row = result.row(d, "satisfied")
                cover[method][d] += row.ci_low <= truth[d] <= row.ci_high
                error[method][d] += row.estimate - truth[d]
        if (rep + 1) % max(1, args.reps // 10) == 0:
            print(f"  {rep + 1}/{args.reps} samples", file=sys.stderr)
    print(f"{args.reps} samples, {args.per_district} respondents per district, {args.ci} intervals")
    print(f"{'district':<8}{'truth':>8}" + "".join(f"{m + ' cover':>20}{m + ' bias':>20}" for m in methods)
          + f"{'unweighted bias':>18}")  # fmt: skip
    failed = False
    for d in DISTRICTS:
        line = f"{d:<8}{truth[d]:>8.4f}"
        for m in methods:
            c = cover[m][d] / args.reps
            line += f"{c:>20.3f}{error[m][d] / args.reps:>+20.4f}"
            if m != "none" and args.reps >= 200 and not 0.92 <= c <= 0.98:
                failed = True
        line += f"{unweighted_error[d] / args.reps:>+18.4f}"
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
