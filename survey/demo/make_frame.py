#!/usr/bin/env python3
"""Build the demo population frame of 咸宁市 (residents aged 18+).

    python survey/demo/make_frame.py

District totals: the 2020 census resident population (DOMAIN.md) × an adult share.
The adult share and the sex × age × urban/rural split are ILLUSTRATIVE, set to
round figures close to Hubei's 2020 census structure, and are the same in every
district:
  adults (18+): 82% of residents
  sex: 男 50.5%, 女 49.5%
  age: 18-29岁 16%, 30-39岁 17%, 40-49岁 19%, 50-59岁 21%, 60岁及以上 27%
  residence: 城镇 55%, 农村 45%
Rounding uses the largest-remainder rule at every step, so each district's adult
total is preserved exactly.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from analysis.allocation import largest_remainder  # noqa: E402

CENSUS_2020 = [
    ("咸安区", 657_600),
    ("赤壁市", 470_400),
    ("崇阳县", 427_100),
    ("通城县", 426_300),
    ("通山县", 391_300),
    ("嘉鱼县", 285_600),
]
ADULT_SHARE = 0.82
SEX = [("男", 50.5), ("女", 49.5)]
AGE = [("18-29岁", 16), ("30-39岁", 17), ("40-49岁", 19), ("50-59岁", 21), ("60岁及以上", 27)]
RESIDENCE = [("城镇", 55), ("农村", 45)]


def rows():
    for district, residents in CENSUS_2020:
        adults = round(residents * ADULT_SHARE)
        keys = [(s, a, r) for s, _ in SEX for a, _ in AGE for r, _ in RESIDENCE]
        weights = [ws * wa * wr for _, ws in SEX for _, wa in AGE for _, wr in RESIDENCE]
        for (sex, age, res), n in zip(keys, largest_remainder(adults, weights), strict=True):
            yield {"district": district, "sex": sex, "age_group": age, "urban_rural": res,
                   "population": n}  # fmt: skip


def main() -> None:
    target = Path(__file__).with_name("xianning_frame.csv")
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["district", "sex", "age_group", "urban_rural", "population"])
        writer.writeheader()
        writer.writerows(rows())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
