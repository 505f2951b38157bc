#!/usr/bin/env python3
"""Make the synthetic cities used as R reference inputs (fixed seed; committed output).

    python tests/analysis/data/make_synthetic.py

Each city: ``<city>_responses.csv`` (respondent_id, district, sex, age_group,
satisfied, participated, share, score) and ``<city>_population.csv``
(district, sex, age_group, population). Response propensity depends on sex and
age, so weighting matters. Every district × sex × age cell has respondents,
so post-stratification needs no collapsing (collapsing is tested separately).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SEXES = ["M", "F"]
AGES = ["A18_29", "A30_39", "A40_49", "A50_59", "A60p"]
CITIES = {
    # name: (districts, respondents per district range, seed)
    "city4": (4, (120, 260), 11),
    "city6": (6, (150, 600), 22),
    "city10": (10, (80, 400), 33),
}


def make(name: str, n_districts: int, size: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    districts = [f"D{i + 1:02d}" for i in range(n_districts)]
    pop_rows, resp_rows = [], []
    rid = 0
    for k, d in enumerate(districts):
        total = rng.integers(150_000, 700_000)
        age_share = rng.dirichlet([4, 4, 5, 5, 6])
        for s, sex in enumerate(SEXES):
            for a, age in enumerate(AGES):
                pop = int(total * (0.49 + 0.02 * s) * age_share[a])
                pop_rows.append({"district": d, "sex": sex, "age_group": age, "population": pop})
        n = int(rng.integers(*size))
        # Older people and women answer more often: the sample is unbalanced.
        cell_p = np.array(
            [
                [age_share[a] * (1 + 0.4 * a) * (1.3 if s else 1.0) for a in range(5)]
                for s in range(2)
            ]
        ).ravel()
        cells = rng.choice(10, size=n, p=cell_p / cell_p.sum())
        cells[:10] = np.arange(10)  # every cell has at least one respondent
        cells[10:20] = np.arange(10)  # ... and at least two
        base_sat = 0.70 + 0.05 * (k % 5)
        for c in cells:
            s, a = divmod(int(c), 5)
            rid += 1
            p_sat = min(0.99, base_sat + 0.04 * a - 0.05 * s)
            satisfied = int(rng.random() < p_sat)
            p_part = 1.0 if (name == "city6" and k == 2) else min(0.98, 0.75 + 0.03 * a)
            participated = int(rng.random() < p_part)
            items = rng.random(6) < p_sat
            valid = rng.random(6) > 0.1
            share = float(items[valid].mean()) if valid.any() else ""
            score = (
                ""
                if rng.random() < 0.05
                else float(np.clip(rng.normal(60 + 25 * p_sat, 15), 0, 100).round(1))
            )
            resp_rows.append(
                {
                    "respondent_id": f"{name}-{rid:05d}",
                    "district": d,
                    "sex": SEXES[s],
                    "age_group": AGES[a],
                    "satisfied": satisfied,
                    "participated": participated,
                    "share": share if share == "" else round(share, 6),
                    "score": score,
                }
            )
    for suffix, rows in (("responses", resp_rows), ("population", pop_rows)):
        with (HERE / f"{name}_{suffix}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    for city, (k, size, seed) in CITIES.items():
        make(city, k, size, seed)
