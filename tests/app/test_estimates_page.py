"""The statistician's estimates page uses analysis/ on valid responses only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from analysis import estimate_domains
from survey.extensions import db
from survey.models import Response, Wave
from survey.operations.dataset import population_rows, wave_columns
from survey.operations.estimates import Settings, wave_estimates
from survey.operations.quality import set_excluded
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete
from tests.staff import log_in, make_user


def _fill(app, n_per_district=10):
    for district in ("咸安区", "赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"):
        token = channel_token(app, district)
        for i in range(n_per_district):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(district=district, sex="男女"[i % 2],
                            age_group=["18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"][i % 5])  # fmt: skip
            pages[1]["s_air"] = "54321"[i % 5]
            complete(app.test_client(), token, pages=pages)


def test_page_matches_analysis_and_ignores_excluded(app, demo_wave):
    _fill(app)
    with app.app_context():
        excluded = db.session.scalar(select(Response).limit(1))
        set_excluded(excluded.id, True, "test")
        wave = db.session.get(Wave, demo_wave)
        ours = wave_estimates(wave, Settings(weighting="raking", margins=("sex",)))
        columns = wave_columns(demo_wave, ["satisfied"])
        assert len(columns) == 59 and excluded.receipt_code not in columns.respondent_id
        direct = estimate_domains(
            {"district": columns.cells["district"], "sex": columns.cells["sex"]},
            {"satisfied": columns.indicators["satisfied"]},
            population_rows(demo_wave), margins=["sex"], kinds={"satisfied": "proportion"},
        )  # fmt: skip
    row = next(r for r in ours.rows if r.domain == "ALL" and r.indicator == "satisfied")
    assert row.estimate == pytest.approx(direct.row("ALL", "satisfied").estimate, rel=1e-12)
    assert ours.items[0][0]  # weakest item first
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    html = client.get(f"/staff/waves/{demo_wave}/estimates?margins=sex").get_data(as_text=True)
    assert "满意度" in html and "参与度" in html and "加权诊断" in html and "<svg" in html
    assert f"{row.estimate * 100:.2f}%" in html


def test_page_explains_missing_frame_or_data(app, demo_wave):
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    html = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    assert "还没有有效答卷" in html


def test_weighting_failures_and_methods_read_in_chinese(app, demo_wave, monkeypatch):
    """A raking failure was shown as analysis/'s English sentence first, and the
    diagnostics said "方法：none"."""
    from analysis import AnalysisError
    from survey.operations import estimates

    _fill(app)
    client = app.test_client()
    log_in(client, make_user(app, "stat-cn", "statistician"))
    page = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none").get_data(as_text=True)
    assert "方法：不加权（仅设计权数）" in page and "方法：none" not in page

    def fail(*args, **kwargs):
        raise AnalysisError(
            "raking did not converge in 1000 iterations (worst relative error 2.09e+00) "
            "/ 迭代未收敛，请检查人口数据或合并类别"
        )

    monkeypatch.setattr(estimates, "estimate_domains", fail)
    page = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    assert "无法加权估计：迭代未收敛，请检查人口数据或合并类别。样本还少" in page
    assert "改用事后分层或不加权（技术信息：raking did not converge" in page


def test_the_score_and_awareness_are_estimated_on_the_web_too(app, demo_wave):
    """满意度得分（0–100）and 知晓度 are defined in the questionnaire and exported per
    respondent; the CLI estimated them, the estimates page and table did not."""
    _fill(app)
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        est = wave_estimates(wave, Settings(weighting="none"))
        columns = wave_columns(demo_wave, ["satisfaction_score", "aware"])
        population = population_rows(demo_wave)
    assert est.others == ["satisfaction_score", "aware"]
    assert est.kinds["satisfaction_score"] == "mean" and est.kinds["aware"] == "proportion"
    score = next(r for r in est.rows if r.domain == "ALL" and r.indicator == "satisfaction_score")
    direct = estimate_domains(
        {"district": columns.cells["district"]},
        {"satisfaction_score": columns.indicators["satisfaction_score"]},
        population, margins=[], weighting="none", kinds={"satisfaction_score": "mean"},
    )  # fmt: skip
    assert score.estimate == pytest.approx(direct.row("ALL", "satisfaction_score").estimate)
    assert 0 < score.estimate <= 100
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    html = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none").get_data(as_text=True)
    assert "满意度得分（0–100）" in html and "知晓度" in html
    assert f"{score.estimate:.2f}" in html
    csrf = form_tokens(html)["csrf_token"]
    table = client.post(f"/staff/waves/{demo_wave}/exports/estimates.csv",
                        data={"csrf_token": csrf, "weighting": "none"}).get_data(as_text=True)  # fmt: skip
    assert "satisfaction_score" in table and "aware" in table


def test_small_weighting_cells_can_be_merged_from_the_page(app, demo_wave):
    """Post-stratification with cells of one or two respondents gave standard
    errors far too small (咸安区 62.4–73.3% from n = 10): each such cell adds no
    variance. The page now takes a minimum number of respondents per cell
    (smaller cells are merged with a neighbour), passed on to the report and
    the exports like the other settings."""
    from survey.report.content import build_content

    _fill(app, n_per_district=10)
    plain = Settings(weighting="poststratify", margins=("sex", "age_group"))
    merged = Settings(weighting="poststratify", margins=("sex", "age_group"), min_cell=5)
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        before, after = wave_estimates(wave, plain), wave_estimates(wave, merged)
        columns = wave_columns(demo_wave, ["satisfied"])
        population = population_rows(demo_wave)
        report = "".join(build_content(wave, merged).method)
    se = {r.domain: r.se for r in before.rows if r.indicator == "satisfied"}
    se5 = {r.domain: r.se for r in after.rows if r.indicator == "satisfied"}
    assert se5["咸安区"] > se["咸安区"] and after.diagnostics["collapsed_cells"]
    direct = estimate_domains(
        {k: columns.cells[k] for k in ("district", "sex", "age_group")},
        {"satisfied": columns.indicators["satisfied"]},
        population, margins=["sex", "age_group"], weighting="poststratify", min_cell=5,
        kinds={"satisfied": "proportion"},
    )  # fmt: skip
    assert se5["ALL"] == pytest.approx(direct.row("ALL", "satisfied").se, rel=1e-12)
    assert "少于 5 人的加权单元与同区县相邻单元合并" in report
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    query = "weighting=poststratify&margins=sex&margins=age_group&min_cell=5"
    html = client.get(f"/staff/waves/{demo_wave}/estimates?{query}").get_data(as_text=True)
    assert 'name="min_cell" value="5"' in html and "min_cell=5" in html  # kept for exports
    huge = client.get(f"/staff/waves/{demo_wave}/estimates?min_cell=1e9").get_data(as_text=True)
    assert 'name="min_cell" value="50"' in huge  # clamped, no error


def test_the_page_warns_of_weighting_cells_of_one_or_two(app, demo_wave):
    """With the default 加权单元最少人数 of 1, post-stratification cells of one
    respondent (each adding no variance) gave intervals far too narrow, and the
    page said nothing: a 达标 could rest on them. It now says how many cells are
    that small and what to set."""
    _fill(app, n_per_district=10)  # one respondent per district × sex × age group
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    base = (
        f"/staff/waves/{demo_wave}/estimates?weighting=poststratify&margins=sex&margins=age_group"
    )
    page = client.get(f"{base}&min_cell=1").get_data(as_text=True)
    assert "有 60 个加权单元只有 1–2 名受访者" in page and "设为 5 或更多" in page
    # Raking by age group alone: each district has 2 per age group (30 categories).
    page = client.get(f"{base.replace('poststratify', 'raking')}&min_cell=2")
    assert "有 30 个加权单元只有 1–2 名受访者" in page.get_data(as_text=True)
    for merged in (f"{base}&min_cell=5", f"/staff/waves/{demo_wave}/estimates?weighting=none"):
        assert "名受访者，而" not in client.get(merged).get_data(as_text=True)


def test_the_small_cell_warning_counts_the_cells_as_weighted(app, demo_wave):
    """加权单元最少人数 2 merges the cells of one: the warning counted the cells
    before merging (60, every cell of one), saying they were left unmerged; it
    now counts the cells the weights were made with that still have 1–2."""
    from analysis import estimate_domains

    _fill(app, n_per_district=10)  # one respondent per district × sex × age group
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    query = "weighting=poststratify&margins=sex&margins=age_group&min_cell=2"
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{query}").get_data(as_text=True)
    # Per district and sex, five cells of one merge into cells of 2 and 3.
    assert "有 12 个加权单元只有 1–2 名受访者" in page
    with app.app_context():
        columns = wave_columns(demo_wave, ["satisfied"])
        result = estimate_domains(
            {k: columns.cells[k] for k in ("district", "sex", "age_group")},
            {"satisfied": columns.indicators["satisfied"]}, population_rows(demo_wave),
            weighting="poststratify", min_cell=2, kinds={"satisfied": "proportion"},
        )  # fmt: skip
    merged = result.diagnostics["collapsed_cells"]
    assert len(merged) == 24 and sum("（共 2 人）" in m for m in merged) == 12


def test_only_the_binding_indicators_are_judged_against_the_target(app, demo_wave):
    """知晓度 got 达标/未达标 against 80% and the 0–100 score against 80 points on
    the page and in the estimates table, though the demonstration zone's binding
    indicators are satisfaction and participation only (DOMAIN.md). The others
    are reported without a target: status "—" on the page, target and status
    empty in the table, and a note saying so."""
    import csv
    import io
    import re

    from openpyxl import load_workbook

    _fill(app)
    with app.app_context():
        est = wave_estimates(db.session.get(Wave, demo_wave), Settings(weighting="none"))
    assert est.binding == ["satisfied", "participated"]
    for r in est.rows:
        if r.indicator in ("aware", "satisfaction_score"):
            assert r.status == "" and r.target != r.target
        else:
            assert r.status in ("达标", "未达标", "待定") and r.target == 0.8
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    html = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none").get_data(as_text=True)
    for label in ("知晓度", "满意度得分（0–100）"):
        section = html.split(f"<h2>{label}</h2>", 1)[1].split("<h2>", 1)[0]
        assert "不是创建考核的约束性指标" in section and "不与目标比较" in section
        assert not re.search("达标|待定", section.replace("不作达标判定", ""))
        assert section.count("<td>—</td>") == 7  # six districts and the city
    assert "目标值按 80 分比较" not in html
    csrf = form_tokens(html)["csrf_token"]
    data = {"csrf_token": csrf, "weighting": "none"}
    text = client.post(f"/staff/waves/{demo_wave}/exports/estimates.csv", data=data).get_data(
        as_text=True
    )
    assert "“满意度得分（0–100）”、“知晓度”不是创建考核的约束性指标" in text
    assert "目标按分数比较" not in text
    table = list(csv.DictReader(line for line in text.lstrip("\ufeff").splitlines()
                                if not line.startswith("#")))  # fmt: skip
    for r in table:
        if r["indicator"] in ("aware", "satisfaction_score"):
            assert r["status"] == "" and r["target"] == ""
    response = client.post(f"/staff/waves/{demo_wave}/exports/estimates.xlsx", data=data)
    raw = response.get_data()
    response.close()
    rows = list(load_workbook(io.BytesIO(raw)).active.iter_rows(values_only=True))
    aware = [r for r in rows if r[1] == "aware"]
    assert len(aware) == 7 and all(r[12] is None and r[13] is None for r in aware)


def test_the_standard_error_column_says_its_unit(app, demo_wave):
    """The 标准误 column showed SE × 100 with no unit, while the files hold
    fractions (0.012): a reader took 1.20 for a fraction. Its heading says
    百分点 (分 for a 0–100 score), and the page says what the files hold."""
    import re

    _fill(app)
    with app.app_context():
        est = wave_estimates(db.session.get(Wave, demo_wave), Settings(weighting="none"))
    city = next(r for r in est.rows if r.domain == "ALL" and r.indicator == "satisfied")
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    html = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none").get_data(as_text=True)
    section = html.split("<h2>满意度</h2>", 1)[1].split("<h2>", 1)[0]
    assert '<th class="num">标准误（百分点）</th>' in section
    row = re.search(r"<tr><td>全市</td>(.*?)</tr>", section, re.S).group(1)
    assert f'<td class="num">{city.se * 100:.2f}</td>' in row
    score = html.split("<h2>满意度得分（0–100）</h2>", 1)[1].split("<h2>", 1)[0]
    assert '<th class="num">标准误（分）</th>' in score
    assert "下载的估计结果表中比例均为 0–1 的小数（如 0.85 即 85%，" in html
    assert '<th class="num">标准误</th>' not in html


def test_districts_without_answers_are_listed_in_the_city_order(app, demo_wave):
    """Districts without valid answers were listed by character code (嘉鱼县、崇阳县、
    赤壁市…), not in the city's order of the frame and the quota table (赤壁市、
    崇阳县…、嘉鱼县): on the page, in the estimates table's note and the report."""
    from survey.report.content import build_content

    complete(app.test_client(), channel_token(app, "咸安区"), district="咸安区")
    complete(app.test_client(), channel_token(app, "咸安区"), district="咸安区", sex="女")
    in_order = "赤壁市、崇阳县、通城县、通山县、嘉鱼县"
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        est = wave_estimates(wave, Settings(weighting="none"))
        assert est.missing_districts == in_order.split("、")
        assert est.unestimated["satisfied"] == in_order.split("、")
        content = build_content(wave, Settings(weighting="none"))
    assert f"以下区县尚无有效问卷，未作估计：{in_order}。" in content.findings
    assert [cells[0] for cells in content.table_cells] == ["咸安区", *in_order.split("、"), "全市"]
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    html = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none").get_data(as_text=True)
    assert f"（全市结果只包括其余区县）：{in_order}" in html
    csrf = form_tokens(html)["csrf_token"]
    text = client.post(f"/staff/waves/{demo_wave}/exports/estimates.csv",
                       data={"csrf_token": csrf, "weighting": "none"}).get_data(as_text=True)  # fmt: skip
    assert f"以下区县还没有有效答卷，未作估计：{in_order}；" in text
