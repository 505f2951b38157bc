"""``survey-estimate``: weighted estimates per district from two CSV files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from analysis.errors import AnalysisError
from analysis.estimate import COLUMNS, estimate_domains, indicator_kind
from analysis.io import (
    InputError,
    population_rows,
    read_csv_columns,
    rows_to_csv,
    to_json,
    write_atomic,
)

DESCRIPTION = """\
Estimate satisfaction and participation per district, with confidence intervals,
weighted to the population frame.  按区县估计满意度、参与度及其置信区间。

RESPONSES.csv has one row per respondent: a respondent_id column, the --by column
(district), every --margins column (e.g. sex, age_group) and the indicator columns
(0/1, shares between 0 and 1, or 0-100 scores; an empty cell = not applicable).
An indicator is a proportion when all its values lie in 0-1 and a score when most
do not; most in 0-1 but some not (e.g. a 2 in a 0/1 column) is an error: correct
the values, or state the kind with --proportion / --score.
POPULATION.csv has the same grouping columns and a population column (residents
aged 18+ per cell); each cell once (two rows that agree on every column but
population are an error; rows that differ only in a column not weighted on, e.g.
urban_rural, are added up).  Both files UTF-8 (with or without BOM) or GB18030/GBK
(what Excel on Chinese Windows writes); Chinese labels are fine.

Design: respondents are independent, stratified by district; base weight =
district population / district sample size.  Weighting (--weighting):
  raking        rake within each district to district x each margin (default)
  poststratify  post-stratify to district x all margins crossed
  none          design weights only
Assumption: a quota or QR sample is not a probability sample; weighting assumes
that, within each weighting cell, those who answered resemble those who did not.
Small or empty cells are merged with a neighbouring category (reported).

Standard errors: linearisation with calibration residuals (as R's survey package).
Degrees of freedom: n_d - 1 per district, n - (number of districts) for the city.
Intervals (--ci) for proportions: logit and beta (Korn-Graubard) as R's svyciprop,
or wilson with the effective sample size; scores get a t interval.
Status against --target: 达标 when the lower bound >= target, 未达标 when the upper
bound < target, otherwise 待定 (inconclusive).  For 0-100 scores the target is x100.
Always 待定: a district with fewer than 2 respondents for the indicator, the city
when some district has fewer than 2, and a score whose se is 0.  A standard error
that is zero up to rounding (e.g. each respondent alone in a raking cell) counts as
0, as when all answers are the same: Clopper-Pearson interval with n, deff empty,
n_eff = n.

Exit status: 0 success, 2 bad input (nothing written).
"""


METHODS = {
    "raking": "边际迭代（raking）",
    "poststratify": "事后分层",
    "none": "不加权（仅设计权数）",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="survey-estimate",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("responses", type=Path, metavar="RESPONSES.csv")
    p.add_argument("--population", type=Path, required=True, metavar="POPULATION.csv")
    p.add_argument("--by", default="district", help="domain column (default: district)")
    p.add_argument("--weighting", choices=["raking", "poststratify", "none"], default="raking")
    p.add_argument(
        "--margins", default="sex,age_group",
        help="comma-separated weighting variables (default: sex,age_group)",
    )  # fmt: skip
    p.add_argument(
        "--indicators", default="satisfied,participated",
        help="comma-separated indicator columns (default: satisfied,participated)",
    )  # fmt: skip
    p.add_argument(
        "--proportion", default="", metavar="COLUMNS",
        help="comma-separated indicators that are 0/1 or shares (values must lie in 0-1)",
    )  # fmt: skip
    p.add_argument(
        "--score", default="", metavar="COLUMNS",
        help="comma-separated indicators that are 0-100 scores (t interval, target x100)",
    )  # fmt: skip
    p.add_argument("--ci", choices=["logit", "beta", "wilson"], default="logit")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--target", type=float, default=0.80, help="target share (default 0.80)")
    p.add_argument(
        "--min-cell", type=int, default=1,
        help="merge weighting cells with fewer respondents than this (default 1: empty cells)",
    )  # fmt: skip
    p.add_argument(
        "--no-collapse", action="store_true",
        help="never merge cells: an empty weighting cell is then an error",
    )  # fmt: skip
    p.add_argument("--trim", type=float, help="cap weights at this multiple of the district mean")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--output", type=Path, help="write results here (default: standard output)")
    p.add_argument("--weights-output", type=Path, help="write respondent_id,weight here")
    p.add_argument("--progress", action="store_true", help="show progress on standard error")
    return p


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    show = args.progress or sys.stderr.isatty()

    def progress(message: str) -> None:
        if show:
            print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr)

    if not 0 < args.level < 1:
        raise InputError(f"--level must be between 0 and 1, got {args.level}")
    margins = [m.strip() for m in args.margins.split(",") if m.strip()]
    indicators = [i.strip() for i in args.indicators.split(",") if i.strip()]
    progress(f"读取 {args.responses}")
    columns, count = read_csv_columns(
        args.responses, ["respondent_id", args.by, *margins, *indicators]
    )
    if count == 0:
        raise InputError(f"{args.responses}: no respondents / 没有样本")
    progress(f"{count} 份答卷；读取 {args.population}")
    frame = population_rows(args.population, [args.by, *margins])
    for column in (args.by, *margins):
        known = {str(r[column]) for r in frame}
        unknown = set(columns[column]) - known
        if unknown:
            line = next(i for i, v in enumerate(columns[column], 2) if v in unknown)
            value = columns[column][line - 2]
            raise InputError(
                f"{args.responses}: column '{column}', line {line}: value {value!r} is not "
                f"in {args.population} / 该类别不在人口数据中"
            )
    for name in indicators:
        bad = {v for v in set(columns[name]) if v != "" and not _is_number(v)}
        if bad:
            line = next(i for i, v in enumerate(columns[name], 2) if v in bad)
            raise InputError(
                f"{args.responses}: column '{name}', line {line}: "
                f"{columns[name][line - 2]!r} is not a number / 指标值必须是数字"
            )
    kinds = _kinds(args, indicators, columns)
    result = estimate_domains(
        {k: columns[k] for k in (args.by, *margins)},
        {k: columns[k] for k in indicators},
        frame,
        by=args.by,
        margins=margins,
        weighting=args.weighting,
        ci=args.ci,
        level=args.level,
        target=args.target,
        min_cell=0 if args.no_collapse else args.min_cell,
        trim=args.trim,
        kinds=kinds,
        progress=progress,
    )
    diag = result.diagnostics
    method = METHODS.get(diag["method"].removesuffix("+trim"), diag["method"])
    if diag["method"].endswith("+trim"):
        method += f"，截尾 {diag['trimmed_weights']} 个权数"
    print(
        f"加权：{method}，迭代 {diag['iterations']} 次，{'已收敛' if diag['converged'] else '未收敛'}，"
        f"权数 {diag['weight_min']:.1f}–{diag['weight_max']:.1f}，"
        f"Kish 设计效应 {diag['kish_deff']:.3f}，有效样本量 {diag['n_eff']:.0f}",
        file=sys.stderr,
    )
    for cell in diag["collapsed_cells"]:
        print(f"合并单元：{cell}", file=sys.stderr)
    if diag["collapsed_cells"]:
        print(f"合并规则：{diag['collapsing_rule']}", file=sys.stderr)
    if diag.get("small_cells"):  # as the estimates page warns
        print(
            f"注意：有 {diag['small_cells']} 个加权单元只有 1–2 名受访者，这些单元几乎不贡献方差，"
            "标准误和置信区间会偏窄；可用 --min-cell 5 把它们与相邻单元合并。",
            file=sys.stderr,
        )
    if args.format == "csv":
        text = rows_to_csv(result.rows, COLUMNS)
    else:
        text = to_json(
            {
                "rows": [r.as_dict() for r in result.rows],
                "weighting": diag,
                "kinds": result.kinds,
                "settings": {
                    k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                },
            }
        )
    if args.weights_output:
        lines = ["respondent_id,weight"] + [
            f"{rid},{float(w)!r}"
            for rid, w in zip(columns["respondent_id"], result.weights, strict=True)
        ]
        write_atomic(args.weights_output, "\n".join(lines) + "\n")
    if args.output:
        write_atomic(args.output, text)
        progress(f"已写入 {args.output}")
    else:
        sys.stdout.write(text)
    progress("完成")
    return 0


def _kinds(args: argparse.Namespace, indicators: list[str], columns: dict) -> dict[str, str]:
    """Each indicator's kind: as stated with --proportion/--score, else from its
    values (:func:`indicator_kind`: a 0/1 column with a stray 2 is an error)."""
    stated: dict[str, str] = {}
    for option, kind in (("--proportion", "proportion"), ("--score", "mean")):
        for name in (c.strip() for c in getattr(args, option[2:]).split(",")):
            if not name:
                continue
            if name not in indicators:
                raise InputError(
                    f"{option} {name}: not an indicator / “{name}”不在 --indicators 中"
                    f"（指标：{', '.join(indicators)}）"
                )
            if stated.get(name, kind) != kind:
                raise InputError(
                    f"{name}: both --proportion and --score / 指标“{name}”不能同时是比例和得分"
                )
            stated[name] = kind
    kinds = {}
    for name in indicators:
        text = np.array(columns[name], dtype=str)
        text[text == ""] = "nan"
        y = text.astype(float)  # every value was checked to be a number
        try:
            kinds[name] = indicator_kind(
                y, name, stated.get(name), first_line=2, hint=f"--score {name}"
            )
        except AnalysisError as exc:
            raise InputError(f"{args.responses}: {exc}") from exc
    return kinds


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except AnalysisError as exc:
        print(f"survey-estimate: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
