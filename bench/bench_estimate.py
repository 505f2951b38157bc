#!/usr/bin/env python3
"""Benchmark of analysis/: raking + estimates + intervals for every district.

    python bench/bench_estimate.py            # 200,000 respondents vs R, then 1,000,000
    python bench/bench_estimate.py --skip-r   # without R

Case 1 (issue 4): 200,000 respondents in 20 districts, raking on district × sex and
district × age group, two indicators, logit intervals for all districts and the city.
Runs R's survey package on the same files in the same run when Rscript is there
(calibrate(calfun = "raking") + svyby(svymean) + svyciprop per district) and prints
the ratio (target ≥ 50×).
Case 2: 1,000,000 respondents, in a child process: wall time (target < 10 s) and
peak resident memory (target < 1 GB).  Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEXES = ["男", "女"]
AGES = ["18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(TRUE)
t0 <- Sys.time()
d <- read.csv(args[1], stringsAsFactors = FALSE, encoding = "UTF-8")
pop <- read.csv(args[2], stringsAsFactors = FALSE, encoding = "UTF-8")
popd <- tapply(pop$population, pop$district, sum)
nd <- table(d$district)
d$w0 <- as.numeric(popd[d$district] / nd[d$district])
d$ds <- factor(paste(d$district, d$sex, sep = "|"))
d$da <- factor(paste(d$district, d$age_group, sep = "|"))
tds <- tapply(pop$population, paste(pop$district, pop$sex, sep = "|"), sum)
tda <- tapply(pop$population, paste(pop$district, pop$age_group, sep = "|"), sum)
des <- svydesign(ids = ~1, strata = ~district, weights = ~w0, data = d)
mm <- model.matrix(~ 0 + ds + da, d)
tot <- sapply(colnames(mm), function(cn)
  if (startsWith(cn, "ds")) tds[[sub("^ds", "", cn)]] else tda[[sub("^da", "", cn)]])
cal <- calibrate(des, ~ 0 + ds + da, population = tot, calfun = "raking")
for (y in c("satisfied", "participated")) {
  f <- as.formula(paste0("~", y))
  by <- svyby(f, ~district, cal, svymean, deff = TRUE)
  for (k in unique(d$district)) svyciprop(f, subset(cal, district == k), method = "logit")
  svyciprop(f, cal, method = "logit")
}
cat(as.numeric(difftime(Sys.time(), t0, units = "secs")), "\n")
"""


def make_files(n: int, districts: int, folder: Path, seed: int = 7) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    names = [f"区县{i + 1:02d}" for i in range(districts)]
    d = rng.integers(0, districts, n)
    s = rng.integers(0, 2, n)
    a = rng.choice(5, n, p=[0.15, 0.18, 0.2, 0.22, 0.25])
    sat = (rng.random(n) < 0.8 + 0.02 * a).astype(int)
    part = (rng.random(n) < 0.85).astype(int)
    responses = folder / f"responses_{n}.csv"
    with responses.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["respondent_id", "district", "sex", "age_group", "satisfied", "participated"])
        for i in range(n):
            w.writerow([i + 1, names[d[i]], SEXES[s[i]], AGES[a[i]], sat[i], part[i]])
    population = folder / f"population_{n}.csv"
    with population.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["district", "sex", "age_group", "population"])
        for name in names:
            for sex in SEXES:
                for age, share in zip(AGES, (0.17, 0.17, 0.2, 0.21, 0.25), strict=True):
                    w.writerow([name, sex, age, int(rng.integers(200_000, 400_000) * share)])
    return responses, population


def run_ours(responses: Path, population: Path, out: Path) -> tuple[float, float]:
    """Run survey-estimate in a child process: (seconds, peak RSS in MB)."""
    code = (
        "import resource, sys, time; t=time.perf_counter();"
        "from analysis.cli import main;"
        f"rc=main([{str(responses)!r}, '--population', {str(population)!r}, '--output', {str(out)!r}]);"
        # VmHWM: the child's own peak (ru_maxrss would include the parent's at fork time)
        "peak=[int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')];"
        "print(time.perf_counter()-t, peak[0]/1024 if peak else "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024);"
        "sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    seconds, peak = result.stdout.split()
    return float(seconds), float(peak)


def run_r(responses: Path, population: Path, folder: Path) -> float | None:
    if not shutil.which("Rscript"):
        return None
    script = folder / "bench.R"
    script.write_text(R_SCRIPT, encoding="utf-8")
    start = time.perf_counter()
    subprocess.run(["Rscript", str(script), str(responses), str(population)], check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-r", action="store_true", help="do not run R")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        responses, population = make_files(args.n, 20, folder)
        ours, peak = run_ours(responses, population, folder / "out.csv")
        print(f"case 1: {args.n:,} respondents, 20 districts, raking, 2 indicators, logit CIs")
        print(
            f"  ours (survey-estimate, whole run incl. CSV read): {ours:.2f} s, peak {peak:.0f} MB"
        )
        if not args.skip_r:
            r_time = run_r(responses, population, folder)
            if r_time is None:
                print("  R: Rscript not installed (apt-get install r-base-core r-cran-survey)")
            else:
                ratio = r_time / ours
                ok = ratio >= 50
                failed |= not ok
                print(f"  R survey (same files, same run): {r_time:.1f} s -> {ratio:.0f}x faster "
                      f"{'ok' if ok else 'BELOW TARGET 50x'}")  # fmt: skip
        responses, population = make_files(args.big, 20, folder, seed=8)
        seconds, peak = run_ours(responses, population, folder / "big.csv")
        ok = seconds < 10 and peak < 1024
        failed |= not ok
        print(f"case 2: {args.big:,} respondents: {seconds:.2f} s, peak {peak:.0f} MB "
              f"(targets < 10 s, < 1024 MB) {'ok' if ok else 'MISSED'}")  # fmt: skip
    _ = resource  # imported for the child process code above
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
