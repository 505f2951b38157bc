"""Weighting and estimation for satisfaction and participation surveys.

Pure numpy/scipy (no Flask, no database), checked against R's ``survey`` package.

    from analysis import estimate_domains
    result = estimate_domains(
        groups={"district": d, "sex": s, "age_group": a},
        indicators={"satisfied": y1, "participated": y2},
        population=frame_rows,  # [{"district": ..., "sex": ..., "age_group": ..., "population": N}]
        weighting="raking", ci="logit", level=0.95, target=0.80,
    )
    for row in result.rows: print(row.domain, row.indicator, row.estimate, row.ci_low, row.status)
    result.weights            # one weight per respondent
    result.diagnostics        # iterations, collapsed cells, weight range, Kish deff, n_eff

Also: :func:`sample_size_for_margin`, :func:`sample_size_for_target` (planning),
:func:`compare_waves` (year-over-year change), :func:`ci_proportion`.
The command-line program is ``survey-estimate`` (``python -m analysis``).
"""

from analysis.compare import compare_waves
from analysis.errors import AnalysisError
from analysis.estimate import ALL, COLUMNS, EstimateResult, EstimateRow, estimate_domains
from analysis.intervals import ci_mean, ci_proportion
from analysis.samplesize import sample_size_for_margin, sample_size_for_target
from analysis.targets import prob_below_target, target_status

__all__ = [
    "ALL",
    "COLUMNS",
    "AnalysisError",
    "EstimateResult",
    "EstimateRow",
    "ci_mean",
    "ci_proportion",
    "compare_waves",
    "estimate_domains",
    "prob_below_target",
    "sample_size_for_margin",
    "sample_size_for_target",
    "target_status",
]
