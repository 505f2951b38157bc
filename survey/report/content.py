"""Everything the report section says, computed from the data (no fixed text about results)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from analysis import compare_waves
from survey.extensions import db
from survey.models import Channel, ChannelStats, QuotaPlan, Response, Wave
from survey.operations.analysis_settings import wave_settings
from survey.operations.comparison import previous_of
from survey.operations.errors import OperationError
from survey.operations.estimates import Settings, WaveEstimates, margin_names, wave_estimates
from survey.operations.questionnaires import questionnaire_of
from survey.operations.quotas import cells_label


def pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def printed(x: float) -> float:
    """A share in percent as :func:`pct` prints it (0.433349 → 43.33). A change
    is the difference of the two printed figures, so that a reader subtracting
    them finds the change the report states."""
    return float(f"{x * 100:.2f}")


def share(x: float) -> str:
    """A level or target as people write it: 0.95 → "95%", 0.975 → "97.5%" (not
    int(57.99…) = 57 for 0.58)."""
    return f"{round(x * 100, 4):g}%"


def verdict(*rows) -> str:
    """The table's verdict of a district from its indicators' rows (None: an
    indicator not estimated): 达标 only when every one is."""
    statuses = [r.status if r else None for r in rows]
    if "未达标" in statuses:
        return "未达标"
    return "达标" if all(s == "达标" for s in statuses) else "待定"


@dataclass
class ReportContent:
    wave: Wave
    title: str = "公众对生态文明建设满意度和参与度调查情况"
    method: list[str] = field(default_factory=list)
    scoring: list[str] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)  # per domain: satisfaction & participation rows
    #: The results table as both renderers print it: header and rows of text.
    table_header: list[str] = field(default_factory=list)
    table_cells: list[list[str]] = field(default_factory=list)
    #: The chart's caption (its target line).
    chart_caption: str = ""
    findings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    #: The satisfaction items the 薄弱环节 section names: those whose city
    #: estimate is below the target, else the lowest three (each "name（全市 x%）").
    weakest: list[str] = field(default_factory=list)
    #: The 薄弱环节 section's text, from the figures: corrective measures only for
    #: items below the target; when every item reaches it, it says so.
    weakness: list[str] = field(default_factory=list)
    appendix: list[tuple[str, list[str]]] = field(default_factory=list)
    estimates: WaveEstimates | None = None


def _item_name(text: str) -> str:
    """A satisfaction question as an item of a sentence: "总体来看，您对当地政府开展
    生态文明建设工作是否满意？" → "政府开展生态文明建设工作"."""
    name = re.sub(r"^.*?您对(本地|当地)", "", text)
    return re.sub(r"(是否满意)?[？?]$", "", name).strip() or text


def _published_changes(est: WaveEstimates, previous, roles: dict[str, str]) -> list[str]:
    """Lines comparing this year's estimates with last year's published figures
    (percentages without standard errors: no statement on sampling error)."""
    lines = []
    for r in est.rows:
        role = roles.get(r.indicator)
        where = "全市" if r.domain == "ALL" else r.domain
        before = previous.figures.get(where, {}).get(role) if role else None
        if before is None:
            continue
        label = "满意度" if role == "satisfaction" else "参与度"
        diff = printed(r.estimate) - before
        word = "上升" if diff > 0.005 else "下降" if diff < -0.005 else ""
        change = f"比上年{word}{abs(diff):.2f}个百分点" if word else "与上年持平"
        lines.append(f"{where}{label}{pct(r.estimate)}，{change}（上年 {before:.2f}%）。")
    if not lines:
        return [f"上年数据：{previous.source}。其中没有与本年估计对应的全市或区县结果，无法比较。"]
    lines.insert(
        0, f"上年数据：{previous.source}（公布值，未附抽样误差，故不判断变化是否超出抽样误差）。"
    )
    return lines


def _weakness(est: WaveEstimates, target: float) -> tuple[list[str], list[str]]:
    """The items the 薄弱环节 section names, and its text. Only items whose city
    estimate is below *target* call for corrective measures; when none is, the
    section says so and names the lowest ones as relatively weaker, not failing."""
    city = [(text, by["ALL"]) for text, by in est.items if "ALL" in by]  # lowest first
    named = lambda rows: [f"{_item_name(t)}（全市 {pct(r.estimate)}）" for t, r in rows]  # noqa: E731
    goal = share(target)
    below = [(t, r) for t, r in city if r.estimate < target]
    if below:
        items = named(below)
        return items, [f"全市满意度低于 {goal} 的项目：{'；'.join(items)}。"
                       "建议针对这些方面制定整改措施。"]  # fmt: skip
    if not city:
        return [], []
    items = named(city[:3])
    return items, [f"全市各项满意度均不低于 {goal}，没有低于目标的项目。相对较低的几项："
                   f"{'；'.join(items)}，可作为今后巩固提升的方向。"]  # fmt: skip


def build_content(wave: Wave, settings: Settings | None = None) -> ReportContent:
    """The report of *wave*, weighted and estimated with *settings* (by default
    the wave's saved settings, else the defaults)."""
    settings = settings or wave_settings(wave)
    est = wave_estimates(wave, settings)
    q = questionnaire_of(wave.questionnaire)
    out = ReportContent(wave=wave, estimates=est)
    sat, part = est.headline.get("satisfaction"), est.headline.get("participation")
    if not sat or not part:
        if est.headline_scores:
            role, name = next(iter(est.headline_scores.items()))
            what = {"satisfaction": "满意度", "participation": "参与度"}.get(role, role)
            raise OperationError(
                f"问卷把{what}指标设为“{est.labels.get(name, name)}”，它是 0–100 分的得分，"
                f"不是比例；报告按比例与目标（如 {share(settings.target)}）比较撰写，无法生成。"
                f"请在问卷的 headline 中把{what}指向比例指标（如 satisfied），"
                "得分可在估计结果页查看。"
            )
        raise OperationError("问卷没有同时定义满意度和参与度指标，无法生成报告。")

    counts = db.session.execute(
        select(func.sum(ChannelStats.visits), func.sum(ChannelStats.starts),
               func.sum(ChannelStats.screen_outs), func.sum(ChannelStats.quota_full),
               func.sum(ChannelStats.completions))
        .join(Channel, Channel.id == ChannelStats.channel_id)
        .where(Channel.wave_id == wave.id)
    ).one()  # fmt: skip
    visits, starts, screen, full, done = (int(c or 0) for c in counts)
    withdrawn = db.session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == wave.id, Response.withdrawn_at.is_not(None)
        )
    )
    excluded = db.session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == wave.id,
            Response.excluded.is_(True),
            Response.withdrawn_at.is_(None),
        )
    )
    level, goal = share(settings.level), share(settings.target)
    plan = db.session.get(QuotaPlan, wave.id)
    all_sat = next(r for r in est.rows if r.domain == "ALL" and r.indicator == sat)
    dates = f"{wave.starts_on or '—'} 至 {wave.ends_on or '—'}"
    margins = margin_names(settings)
    method = {"raking": f"在各区县内按{margins}边际进行迭代加权（raking）",
              "poststratify": f"按区县 × {margin_names(settings, ' × ')}事后分层加权",
              "none": "仅使用设计权数（区县人口 / 区县样本量）"}[settings.weighting]  # fmt: skip
    # Visits count a device once per 10 minutes and an address at most 60 times
    # (survey/respond/visits.py): behind a carrier's shared address they can be
    # fewer than the starts, and are then no count of people reached.
    reached = f"访问问卷首页 {visits} 人次，" if visits >= starts else ""
    dropped = f"经质量核查剔除 {excluded} 份" + (
        f"，受访者凭回执码撤回 {withdrawn} 份" if withdrawn else ""
    )
    out.method = [
        f"调查组织：{wave.organizer or wave.city.name}。实地调查时间：{dates}。",
        "调查方式：在各区县张贴二维码海报、由调查员出示二维码等方式，居民用手机扫码匿名在线填答。",
        "调查对象：在本地居住满 6 个月、年满 18 周岁的城乡居民；生态环境部门工作人员不参加调查（问卷首页甄别）。",
        "抽样设计：以第七次全国人口普查常住人口为抽样框，"
        f"按{cells_label(bool(plan and plan.by_urban_rural))}设置配额（最大余数法分配）。"
        + (f"计划样本量 {plan.total} 份。" if plan else ""),
        f"样本情况：{reached}开始填答 {starts} 人，甄别退出 {screen} 人，"
        f"因配额已满结束 {full} 人，提交问卷 {done} 份；{dropped}，有效问卷 {est.n} 份。",
        f"加权方法：{method}"
        + {
            "raking": f"，使各区县加权后的{margins}结构与人口普查一致。",
            "poststratify": f"，使各区县加权后{margins}各组合的人口比例与人口普查一致。",
            "none": "，未按性别、年龄结构校准。",
        }[settings.weighting]  # fmt: skip
        + (
            f"少于 {settings.min_cell} 人的加权单元与同区县相邻单元合并。"
            if settings.min_cell > 1 and settings.weighting != "none"
            else ""
        )
        + "配额和扫码样本不是概率样本，加权假定在每个加权单元内作答者与未作答者相似。"
        + (
            f"全市满意度的设计效应为 {all_sat.deff:.2f}，有效样本量约 {all_sat.n_eff:.0f}。"
            if all_sat.se > 0 and all_sat.deff == all_sat.deff
            else ""
        ),
        f"置信区间：{level} 置信区间（{settings.ci} 方法，标准误按线性化方法计算并考虑分层与加权），"
        f"下限不低于 {goal} 为“达标”，上限低于 {goal} 为“未达标”，否则为“待定”（尚不能下结论）。"
        + (
            f"注意：有 {est.small_cells} 个加权单元只有 1–2 名受访者且未合并，"
            "这些单元几乎不贡献方差，标准误和置信区间可能偏窄。"
            if est.small_cells
            else ""
        ),
    ]
    for ind in q.scoring:
        if ind.name == sat:
            items = "；".join(_item_name(q.question(i).text) for i in ind.items)
            out.scoring.append(
                f"满意度：对{items}等 {len(ind.items)} 项的评价中，回答“满意”或“比较满意”的比例"
                "（“说不清/不了解”不计入分母），先计算每位受访者的比例，再加权平均。"
            )
        elif ind.name == part:
            out.scoring.append(
                "参与度：过去一年参加过所列生态文明建设活动中至少一项的受访者所占比例（加权）。"
            )
    by_domain: dict[str, dict] = {}
    for r in (r for r in est.rows if r.indicator in (sat, part)):
        slot = by_domain.setdefault(r.domain, {"domain": "全市" if r.domain == "ALL" else r.domain})
        slot["sat" if r.indicator == sat else "part"] = r
    out.table = list(by_domain.values())
    out.table_header = ["区县", "有效样本", "满意度", f"{level}置信区间", "参与度",
                        f"{level}置信区间", f"是否达到{goal}"]  # fmt: skip
    out.chart_caption = f"图：各区县满意度、参与度估计值及置信区间（虚线为 {goal} 目标）"

    def said(label: str, r) -> str:
        if r is None:
            return f"{label}没有可计入的回答，未作估计"
        return f"{label} {pct(r.estimate)}（{pct(r.ci_low)}–{pct(r.ci_high)}，{r.status}）"

    for row in out.table:
        s, p = row.get("sat"), row.get("part")
        out.findings.append(f"{row['domain']}：{said('满意度', s)}，{said('参与度', p)}。")
        cells = [row["domain"], str(max(r.n for r in (s, p) if r))]
        for r in (s, p):
            cells += [pct(r.estimate), f"{pct(r.ci_low)}–{pct(r.ci_high)}"] if r else ["—", "—"]
        row["verdict"] = verdict(s, p)
        out.table_cells.append([*cells, row["verdict"]])
    # A district without valid answers keeps its row, before the city's: the table
    # lists every district, and its city row covers the others only (待定).
    city = next((i for i, cells in enumerate(out.table_cells) if cells[0] == "全市"), None)
    for district in est.missing_districts:
        cells = [district, "0", "—", "—", "—", "—", "待定"]
        out.table_cells.insert(len(out.table_cells) if city is None else city, cells)
        city = None if city is None else city + 1
    failing = [r["domain"] for r in out.table if r["verdict"] == "未达标"]
    undecided = [r["domain"] for r in out.table if r["verdict"] == "待定"]
    if failing:
        out.findings.append(f"未达到 {goal} 要求的：{'、'.join(failing)}，须针对薄弱环节加强工作。")
    if undecided:
        out.findings.append(
            f"尚不能判定是否达标的：{'、'.join(undecided)}（结果在抽样误差范围内，或样本不全），"
            "建议扩大样本复核。"
        )
    if not failing and not undecided:
        out.findings.append(f"各区县和全市的满意度、参与度均达到 {goal} 的要求。")
    if est.missing_districts:
        out.findings.append(f"以下区县尚无有效问卷，未作估计：{'、'.join(est.missing_districts)}。")
    for name, label in ((sat, "满意度"), (part, "参与度")):
        lacking = [d for d in est.unestimated.get(name, []) if d not in est.missing_districts]
        if lacking:
            out.findings.append(
                f"以下区县的受访者对{label}相关题目全部回答“说不清/不了解”，{label}未作估计："
                f"{'、'.join(lacking)}。"
            )
        if est.unestimated.get(name):
            out.findings.append(
                f"全市{label}只包括有估计值的区县，不代表全市，因此不作达标判定（待定）。"
            )

    previous = previous_of(wave)
    if previous is not None and previous.figures:
        out.changes = _published_changes(
            est, previous, {sat: "satisfaction", part: "participation"}
        )
    elif previous is not None and previous.wave is not None:
        name = previous.wave.name
        try:
            before = wave_estimates(previous.wave, settings)
        except OperationError as exc:
            # Said, not left to read as "no earlier survey" (the page's fallback).
            why = str(exc).rstrip("。").replace("本轮", "该轮")
            out.changes = [f"上年数据：本平台{name}调查。按本报告的设置无法估计该轮结果"
                           f"（{why}），未作比较。"]  # fmt: skip
            before = None
        if before:
            # The change is judged at the report's confidence level, as its intervals are.
            for change in compare_waves(est.rows, before.rows, level=settings.level):
                label = {sat: "满意度", part: "参与度"}.get(change.indicator)
                if label:
                    where = "全市" if change.domain == "ALL" else change.domain
                    # The change printed is that of the printed figures; whether it
                    # exceeds sampling error is judged on the unrounded ones.
                    points = (printed(change.current) - printed(change.previous)) / 100
                    said = replace(change, difference=points).describe()
                    line = (f"{where}{label}{pct(change.current)}（上年 {pct(change.previous)}），"
                            f"{said}。")  # fmt: skip
                    partial = (est.unestimated.get(change.indicator) or
                               before.unestimated.get(change.indicator))  # fmt: skip
                    if change.domain == "ALL" and partial:
                        line += "注意：两轮中至少一轮的全市结果不包括所有区县，两者不宜直接比较。"
                    out.changes.append(line)
            if out.changes:
                out.changes.insert(0, f"上年数据：本平台{name}调查，按相同的加权和估计设置计算；"
                                      f"变化是否超出抽样误差按 {level} 置信水平判断。")  # fmt: skip
            else:
                out.changes = [f"上年数据：本平台{name}调查。两轮没有可对应的满意度、参与度估计，"
                               "无法比较。"]  # fmt: skip
    out.weakest, out.weakness = _weakness(est, settings.target)
    for page in q.pages:
        lines = []
        for number, question in enumerate(page.questions, 1):
            opts = "；".join(o.label for o in question.options) if question.options else (
                "（本市各区县）" if question.options_from else "（填写）")  # fmt: skip
            lines.append(f"{number}. {question.text}  {opts}")
        out.appendix.append((page.title, lines))
    return out
