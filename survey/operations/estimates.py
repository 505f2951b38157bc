"""Estimates of a wave: valid responses + population frame → analysis/."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from analysis import AnalysisError, estimate_domains
from analysis.estimate import ALL, weight_cells
from analysis.targets import UNDECIDED
from survey.extensions import db
from survey.models import Response, Wave
from survey.operations.dataset import CELL_COLUMNS, population_rows, wave_columns
from survey.operations.errors import OperationError
from survey.operations.questionnaires import questionnaire_of

WEIGHTINGS = ("raking", "poststratify", "none")
CI_METHODS = ("logit", "beta", "wilson")


@dataclass
class Settings:
    weighting: str = "raking"
    margins: tuple[str, ...] = ("sex", "age_group")
    ci: str = "logit"
    level: float = 0.95
    target: float = 0.80
    #: Weighting cells with fewer respondents are merged with a neighbour (within
    #: the district). With cells of one or two respondents, post-stratification's
    #: standard errors come out too small (each such cell adds no variance).
    min_cell: int = 1
    #: Where the settings were chosen when they are not the wave's saved ones
    #: ("page": the estimates page; "cli": a command's options), for the method
    #: note and the audit log. Not part of what the settings are.
    chosen_on: str = "page"

    def weighting_margins(self) -> tuple[str, ...]:
        """The margins the weights are made with: none without weighting."""
        return () if self.weighting == "none" else self.margins

    def _meaning(self) -> tuple:
        # Without weighting the margins and the smallest cell change nothing
        # (no weights are calibrated): settings that differ only there are the same.
        cells = (self.weighting_margins(), self.min_cell if self.weighting != "none" else 1)
        return (self.weighting, *cells, self.ci, self.level, self.target)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return self._meaning() == other._meaning()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def query(self) -> dict:
        """The settings as URL parameters (the estimates page's form fields), for
        the exports and the report made with the same settings."""
        return {"weighting": self.weighting, "margins": list(self.margins), "ci": self.ci,
                "level": self.level, "target": self.target, "min_cell": self.min_cell}  # fmt: skip


#: The largest 加权单元最少人数 the page takes.
MAX_MIN_CELL = 50


def level_ok(level: float) -> bool:
    """A confidence level the page takes (0.5 ≤ level < 1; its field: 0.5–0.999)."""
    return 0.5 <= level < 1


def target_ok(target: float) -> bool:
    """A target the page takes (strictly between 0 and 1)."""
    return 0 < target < 1


MARGINS = ("sex", "age_group", "urban_rural")
MARGIN_LABELS = {"sex": "性别", "age_group": "年龄组", "urban_rural": "城乡"}


def margin_names(settings: Settings, sep: str = "、") -> str:
    """The weighting margins in words: 性别、年龄组 (or joined by *sep*)."""
    return sep.join(MARGIN_LABELS.get(m, m) for m in settings.margins)


def _in_chinese(exc: AnalysisError, settings: Settings) -> str:
    """analysis/'s message ("English detail / 中文") for staff: the Chinese first,
    what to do, and the English detail as technical information."""
    english, _, chinese = str(exc).rpartition(" / ")
    text = chinese if english else str(exc)
    if settings.weighting == "raking" and "converge" in english:
        text += "。样本还少、或有区县缺少某些性别/年龄组的答卷时常会这样：可改用事后分层或不加权"
    return f"{text}（技术信息：{english}）" if english else text


#: The settings' fields in a request (the estimates page's form).
FIELDS = ("weighting", "margins", "ci", "level", "target", "min_cell")


def margins_unticked(values) -> bool:
    """Whether the estimates form was sent weighting by margins with none of
    them ticked (:func:`settings_from` then keeps *base*'s margins)."""
    return values.get("weighting") in ("raking", "poststratify") and not values.getlist("margins")


def settings_from(values, base: Settings | None = None) -> Settings:
    """Settings from the estimates form's fields (*values*: a request's args or
    form); what is missing, unknown or not a finite number takes *base*'s value
    (the wave's saved settings; by default the defaults). Methods and ranges are
    checked by :func:`wave_estimates`."""
    default = base or Settings()

    def number(name: str, fallback: float) -> float:
        try:
            value = float(values.get(name, fallback))
        except (TypeError, ValueError):
            return fallback
        return value if math.isfinite(value) else fallback

    margins = tuple(m for m in MARGINS if m in values.getlist("margins"))
    return Settings(
        weighting=values.get("weighting") or default.weighting,
        margins=margins or default.margins,
        ci=values.get("ci") or default.ci,
        level=number("level", default.level),
        target=number("target", default.target),
        min_cell=int(min(max(number("min_cell", default.min_cell), 1), MAX_MIN_CELL)),
    )


@dataclass
class WaveEstimates:
    settings: Settings
    headline: dict[str, str]
    labels: dict[str, str]
    rows: list = field(default_factory=list)
    items: list = field(default_factory=list)  # (item label, {district: row})
    #: The satisfaction items' rows, item by item in the questionnaire's order
    #: (each: the districts, then the city): the figures of :attr:`items` with
    #: their intervals, for the estimates table. An item is not judged against
    #: the target, which applies to the indicator the items make up: its
    #: target and status are empty.
    item_rows: list = field(default_factory=list)
    #: Each item's indicator code (``satisfied.s_air``) → its name, as the
    #: microdata's codebook labels the item (满意度：您对本地空气质量是否满意？).
    item_labels: dict[str, str] = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    n: int = 0
    weights: dict[str, float] = field(default_factory=dict)
    #: Districts of the frame without any valid response (not estimated).
    missing_districts: list[str] = field(default_factory=list)
    #: Per headline indicator: the districts of the frame it has no estimate for
    #: (no valid response, or no answer that counts, e.g. every item 说不清). The
    #: city row of such an indicator covers the other districts only, so it is
    #: given no verdict: its status is 待定 whatever its interval.
    unestimated: dict[str, list[str]] = field(default_factory=dict)
    #: The questionnaire's indicators besides the headline ones, in its order.
    others: list[str] = field(default_factory=list)
    #: Each indicator's kind: "proportion" (0–1) or "mean" (a 0–100 score).
    kinds: dict[str, str] = field(default_factory=dict)
    #: Weighting cells (post-stratification: district × margins; raking: a
    #: district's category of one margin) with 1 or 2 respondents after the
    #: settings' merging, which leaves such cells (see :func:`small_cells`).
    small_cells: int = 0
    #: Headline roles (satisfaction, participation) the questionnaire gives a
    #: 0–100 score: not estimated as headline shares (shown with the others).
    headline_scores: dict[str, str] = field(default_factory=dict)
    #: The indicators judged against the target: the binding ones of the
    #: demonstration zone, satisfaction and participation (the questionnaire's
    #: headline roles, a 0–100 score named as one included). The others (知晓度,
    #: a score the headline does not name) are reported without a target: their
    #: rows' target and status are empty.
    binding: list[str] = field(default_factory=list)


def _unjudged(row):
    """*row* without a target: its target, status and p-value empty."""
    return replace(row, target=math.nan, status="", p_below_target=math.nan)


#: Weighting cells with fewer respondents make standard errors too small: a
#: respondent alone in a post-stratification cell adds no variance at all.
SMALL_CELL = 3


def small_cells(diagnostics: dict, settings: Settings) -> int:
    """How many weighting cells, as weighted (after the settings' merging), have 1
    or 2 respondents while the settings leave such cells unmerged (加权单元最少人数
    below :data:`SMALL_CELL`; analysis/ counts them below 3). Counted as the
    weights were made: with 2, cells of one are merged, often into cells of two,
    which count; the cells of one, gone, do not (they were counted before)."""
    if settings.weighting == "none" or settings.min_cell >= SMALL_CELL:
        return 0
    return diagnostics.get("small_cells", 0)


def check_settings(settings: Settings) -> None:
    """Refuse settings the page cannot have sent (an edited address or form): an
    unknown method, a level or target out of range."""
    if settings.weighting not in WEIGHTINGS or settings.ci not in CI_METHODS:
        raise OperationError("加权方法或置信区间方法无效。")
    if not level_ok(settings.level) or not target_ok(settings.target):
        raise OperationError("置信水平应在 0.5–0.999 之间，目标值应在 0–1 之间。")


def wave_estimates(wave: Wave, settings: Settings) -> WaveEstimates:
    """Weight the wave's valid responses and estimate the headline indicators and
    every satisfaction item per district and for the city."""
    check_settings(settings)
    q = questionnaire_of(wave.questionnaire)
    kinds = {ind.name: "mean" if ind.kind == "mean" else "proportion" for ind in q.scoring}
    # The headline indicators are shares judged against the target (80%), with
    # the satisfaction items as shares. A 0–100 score named as one (its items
    # 0–100 too) failed every estimate: it is shown with the other indicators,
    # as a score, and the report says why it cannot be written.
    headline = {k: v for k, v in q.headline.items() if v in q.indicators}
    scores = {k: v for k, v in headline.items() if kinds.get(v) == "mean"}
    headline = {k: v for k, v in headline.items() if k not in scores}
    # The headline indicators first, then the questionnaire's others (a 0–100
    # score, 知晓度 …): the CLI estimated them, the web did not.
    names = list(dict.fromkeys([*headline.values(), *(ind.name for ind in q.scoring)]))
    sat = headline.get("satisfaction")
    item_names = [f"{sat}.{item}" for item in q.indicator(sat).items] if sat else []
    columns = wave_columns(wave.id, names + item_names)
    if len(columns) == 0:
        raise OperationError("本轮还没有有效答卷。")
    population = population_rows(wave.id)
    if not population:
        raise OperationError("请先导入本轮的人口数据（抽样框），才能加权估计。")
    margins = [m for m in settings.weighting_margins() if m in columns.cells]
    # Mid-fieldwork some districts may have no valid response yet: estimate the
    # others and say which were left out (the city row then covers those only).
    answered = set(columns.cells["district"])
    # In the city's order (the frame's, as the quota table lists them), not by
    # character code: lists of districts read as the city's other tables do.
    districts = list(dict.fromkeys(row["district"] for row in population))
    missing = [d for d in districts if d not in answered]
    population = [row for row in population if row["district"] in answered]
    try:
        result = estimate_domains(
            {k: columns.cells[k] for k in ("district", *margins)},
            {k: columns.indicators[k] for k in names + item_names},
            population,
            by="district",
            margins=margins,
            weighting=settings.weighting,
            ci=settings.ci,
            level=settings.level,
            target=settings.target,
            min_cell=settings.min_cell,
            kinds={k: kinds.get(k, "proportion") for k in names + item_names},
        )
    except AnalysisError as exc:
        raise OperationError(f"无法加权估计：{_in_chinese(exc, settings)}") from exc
    labels = {ind.name: ind.label for ind in q.scoring}
    out = WaveEstimates(settings, headline, labels, n=len(columns), diagnostics=result.diagnostics)
    out.headline_scores = scores
    out.others = [name for name in names if name not in headline.values()]
    out.kinds = {name: kinds.get(name, "proportion") for name in names}
    out.missing_districts = missing
    out.small_cells = small_cells(result.diagnostics, settings)
    out.rows = [r for r in result.rows if r.indicator in names]
    for name in names:
        have = {r.domain for r in out.rows if r.indicator == name}
        lacking = [d for d in districts if d not in have]
        if lacking:
            out.unestimated[name] = lacking
            out.rows = [replace(r, status=UNDECIDED)
                        if r.domain == ALL and r.indicator == name else r
                        for r in out.rows]  # fmt: skip
    # Only the binding indicators have a target (DOMAIN.md): 知晓度 at 80%, or a
    # score the headline does not name at 80 points, is no requirement of anyone's.
    out.binding = [name for name in names if name in {*headline.values(), *scores.values()}]
    out.rows = [r if r.indicator in out.binding else _unjudged(r) for r in out.rows]
    for item, name in zip(q.indicator(sat).items if sat else [], item_names, strict=True):
        by_domain = {r.domain: r for r in result.rows if r.indicator == name}
        out.items.append((q.question(item).text, by_domain))
        out.item_labels[name] = f"{labels.get(sat, sat)}：{q.question(item).text}"
        out.item_rows += [_unjudged(r) for r in by_domain.values()]
    out.items.sort(key=lambda pair: pair[1]["ALL"].estimate if "ALL" in pair[1] else 1)
    out.weights = dict(zip(columns.respondent_id, map(float, result.weights), strict=True))
    return out


@dataclass
class CellWeights:
    """Weights by cell: every respondent of a cell has the same weight."""

    columns: tuple[str, ...]  # ("district", *margins)
    weights: dict[tuple, float]
    #: Districts of the frame without any valid response: no weight adds up to
    #: their population.
    missing_districts: list[str] = field(default_factory=list)


def cell_weights(wave: Wave, settings: Settings) -> CellWeights:
    """The wave's weights from its cell counts (one query, whatever the wave's
    size): what exports use. Same weights as :func:`wave_estimates`."""
    if settings.weighting not in WEIGHTINGS:
        raise OperationError("加权方法无效。")
    population = population_rows(wave.id)
    if not population:
        raise OperationError("请先导入本轮的人口数据（抽样框），才能加权估计。")
    columns = ("district", *(m for m in settings.weighting_margins() if m in CELL_COLUMNS))
    key = [Response.__table__.c[c] for c in columns]
    rows = db.session.execute(
        select(*key, func.count())
        .where(Response.wave_id == wave.id, Response.excluded.is_(False))
        .group_by(*key)
    ).all()
    if not rows:
        raise OperationError("本轮还没有有效答卷。")
    answered = {r[0] for r in rows}
    districts = dict.fromkeys(row["district"] for row in population)  # the city's order
    missing = [d for d in districts if d not in answered]
    population = [row for row in population if row["district"] in answered]
    counts = [{**dict(zip(columns, r[:-1], strict=True)), "n": r[-1]} for r in rows]
    try:
        weights = weight_cells(counts, population, margins=columns[1:],
                               weighting=settings.weighting, min_cell=settings.min_cell)  # fmt: skip
    except AnalysisError as exc:
        raise OperationError(f"无法加权：{_in_chinese(exc, settings)}") from exc
    by_cell = {tuple(r[:-1]): w for r, w in zip(rows, weights, strict=True)}
    return CellWeights(columns, by_cell, missing)
