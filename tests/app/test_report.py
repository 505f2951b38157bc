"""The report section: generated from the data, numbers equal to the estimates export."""

from __future__ import annotations

import csv
import io
import math
import re

import pytest
from docx import Document
from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditEvent, District, Wave
from survey.operations.cities import create_channel, create_wave
from survey.operations.frames import import_frame
from survey.paths import DEMO_DIR
from survey.report.content import build_content, pct
from tests.app.test_estimates_page import _fill
from tests.conftest import form_tokens
from tests.staff import log_in, make_user


def _client(app):
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    return client


def _fill_varied(app):
    """_fill's answers, where satisfaction follows the age group exactly (raking on
    age then explains it all: a standard error of 0), plus answers that differ
    within age groups, as real ones do."""
    from tests.resident import STANDARD_PAGES, channel_token, complete

    _fill(app)
    for district in ("咸安区", "赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"):
        for sex, age in (("男", "18-29岁"), ("女", "30-39岁")):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(district=district, sex=sex, age_group=age)
            pages[1] = {k: "1" for k in pages[1]}
            complete(app.test_client(), channel_token(app, district), pages=pages)


def test_docx_numbers_equal_the_estimates_export(app, demo_wave, tmp_path):
    _fill_varied(app)
    client = _client(app)
    response = client.get(f"/staff/waves/{demo_wave}/report.docx")
    assert response.status_code == 200
    path = tmp_path / "r.docx"
    path.write_bytes(response.get_data())
    response.close()
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "公众对生态文明建设满意度和参与度调查情况" in text
    assert "调查方法" in text and "计分方法" in text and "附录：调查问卷" in text
    assert "说不清/不了解" in text and "设计效应" in text
    table = doc.tables[0]
    cells = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows[1:]}
    csrf = form_tokens(client.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True))
    exported = client.post(f"/staff/waves/{demo_wave}/exports/estimates.csv", data=csrf).get_data()
    lines = [line for line in exported.decode("utf-8-sig").splitlines() if not line.startswith("#")]
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        name = "全市" if row["domain"] == "ALL" else row["domain"]
        column = 2 if row["indicator"] == "satisfied" else 4
        if row["indicator"] in ("satisfied", "participated"):
            assert cells[name][column] == pct(float(row["estimate"])), (name, row["indicator"])
            assert (
                cells[name][column + 1]
                == f"{pct(float(row['ci_low']))}–{pct(float(row['ci_high']))}"
            )
    with app.app_context():
        detail = db.session.scalar(select(AuditEvent).filter_by(action="report")).detail
    assert detail["format"] == "docx"  # and with the settings used (the defaults: none saved)
    assert detail["settings"].startswith("默认设置（本轮尚未保存发布口径）：边际迭代（raking）")


def test_text_follows_the_data_and_compares_with_last_year(app, demo_wave):
    _fill(app)
    with app.app_context():
        old = db.session.get(Wave, demo_wave)
        new = create_wave(old.city, "2027年度", old.questionnaire, organizer="咸宁市统计局")
        import_frame(new, (DEMO_DIR / "xianning_frame.csv").read_bytes(), "f.csv")
        for district in db.session.scalars(select(District).filter_by(city_id=old.city_id)):
            create_channel(new, district, f"{district.name}2027")
        new_id = new.id
    from survey.models import Channel
    from tests.resident import STANDARD_PAGES, complete

    with app.app_context():
        channels = [(c.token, c.district.name)
                    for c in db.session.scalars(select(Channel).filter_by(wave_id=new_id))]  # fmt: skip
    for token, district in channels:
        for sex in ("男", "女"):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(sex=sex, district=district)
            assert complete(app.test_client(), token, pages=pages).status_code == 303
    with app.app_context():
        content = build_content(db.session.get(Wave, new_id))
    assert any("比上年" in line or "与上年持平" in line for line in content.changes)
    assert any("满意度" in line for line in content.findings)
    verdicts = " ".join(content.findings)
    assert ("未达到" in verdicts) or ("尚不能判定" in verdicts) or ("均达到" in verdicts)
    assert content.weakest


def test_html_report_page(app, demo_wave):
    _fill(app)
    html = _client(app).get(f"/staff/waves/{demo_wave}/report").get_data(as_text=True)
    assert "<h1>公众对生态文明建设满意度和参与度调查情况</h1>" in html
    assert "data:image/png;base64," in html and "是否达到80%" in html


def test_report_without_data_explains(app, demo_wave):
    response = _client(app).get(f"/staff/waves/{demo_wave}/report")
    assert response.status_code == 409 and "还没有有效答卷" in response.get_data(as_text=True)


def test_a_chart_drawn_without_chinese_gets_a_key(app, demo_wave, tmp_path, monkeypatch):
    """Without a CJK font the chart shows D1, D2 … and English panel titles: the
    report then says which district each is (it promised to and did not)."""
    import survey.report.render as render

    _fill(app)
    client = _client(app)
    monkeypatch.setattr(render, "_cjk_font", lambda: None)
    response = client.get(f"/staff/waves/{demo_wave}/report.docx")
    path = tmp_path / "r.docx"
    path.write_bytes(response.get_data())
    response.close()
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "D1 = " in text and "Satisfaction 为满意度" in text
    html = client.get(f"/staff/waves/{demo_wave}/report").get_data(as_text=True)
    assert "D1 = " in html


def test_a_cjk_font_installed_after_the_font_cache_is_found(monkeypatch):
    """matplotlib's font cache does not see fonts installed after it was written
    (a tester's report came out in English for that reason): the first chart
    without a CJK font looks for one on the system once."""
    import pytest
    from matplotlib import font_manager

    import survey.report.render as render

    if not any("cjk" in p.lower() for p in font_manager.findSystemFonts()):
        pytest.skip("no CJK font installed on this machine (.ci/run installs fonts-noto-cjk)")
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in render.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(render, "_rescanned", False)
    assert render._cjk_font() in render.CJK_FONTS


def test_report_and_estimates_export_use_the_estimates_page_settings(app, demo_wave, tmp_path):
    """The report and the estimates table always used raking on sex × age: with
    sparse early data (raking not converging) they could not be made at all,
    while the estimates page worked with 事后分层 or 不加权."""
    from survey.operations.estimates import Settings, wave_estimates

    _fill(app)
    client = _client(app)
    page = client.get(
        f"/staff/waves/{demo_wave}/estimates?weighting=none&ci=wilson&level=0.9&target=0.7"
    ).get_data(as_text=True)
    assert "weighting=none" in page and "level=0.9" in page
    report = client.get(f"/staff/waves/{demo_wave}/report.docx?weighting=none&level=0.9")
    path = tmp_path / "r.docx"
    path.write_bytes(report.get_data())
    report.close()
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "仅使用设计权数" in text and "90% 置信区间" in text and "未按性别" in text
    csrf = form_tokens(page)["csrf_token"]
    exported = client.post(f"/staff/waves/{demo_wave}/exports/estimates.csv",
                           data={"csrf_token": csrf, "weighting": "none", "ci": "wilson",
                                 "level": "0.9", "target": "0.7"}).get_data(as_text=True)  # fmt: skip
    assert "仅设计权数" in exported and "wilson" in exported and "90%" in exported
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        chosen = wave_estimates(wave, Settings(weighting="none", ci="wilson", level=0.9,
                                               target=0.7))  # fmt: skip
    city = next(r for r in chosen.rows if r.domain == "ALL")
    lines = [line for line in exported.lstrip("\ufeff").splitlines() if not line.startswith("#")]
    row = next(r for r in csv.DictReader(io.StringIO("\n".join(lines)))
               if r["domain"] == "ALL" and r["indicator"] == city.indicator)  # fmt: skip
    assert float(row["ci_low"]) == pytest.approx(city.ci_low)
    refused = client.get(f"/staff/waves/{demo_wave}/report?weighting=bogus")
    assert refused.status_code == 409 and "估计结果页" in refused.get_data(as_text=True)


def test_scoring_names_the_items_as_a_sentence_would(app, demo_wave):
    """二、计分方法 listed the question texts cut short: "…声环境（噪声情况）、总体
    来看，您对当地政府开展生态文明建设工作等 7 项"."""
    _fill(app)
    with app.app_context():
        text = "".join(build_content(db.session.get(Wave, demo_wave)).scoring)
    assert "对空气质量；" in text and "；政府开展生态文明建设工作等 7 项" in text
    assert "总体来看" not in text and "您对" not in text


def test_a_link_from_another_site_does_not_make_a_report(app, demo_wave):
    """A report is computed and audited on a GET; another site's link (cookies
    go along with a top-level GET) made one (security review)."""
    _fill(app)
    client = _client(app)
    url = f"/staff/waves/{demo_wave}/report.docx"
    page = client.get(url, headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and "来自其他网站" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).filter_by(action="report")) is None
    made = client.get(url, headers={"Sec-Fetch-Site": "same-origin"})
    assert made.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    made.close()


def _docx_text(client, url, tmp_path) -> tuple[str, Document]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    path = tmp_path / "r.docx"
    path.write_bytes(response.get_data())
    response.close()
    doc = Document(str(path))
    return "\n".join(p.text for p in doc.paragraphs), doc


def test_level_and_target_chosen_are_the_ones_the_report_names(app, demo_wave, tmp_path):
    """The table said "95%置信区间" and "是否达到80%", and the findings "未达到 80% 要求",
    whatever level and target the intervals and statuses were made with; a level of
    0.58 was printed as 57%."""
    _fill(app)
    client = _client(app)
    query = "weighting=none&level=0.9&target=0.85"
    text, doc = _docx_text(client, f"/staff/waves/{demo_wave}/report.docx?{query}", tmp_path)
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert header == ["区县", "有效样本", "满意度", "90%置信区间", "参与度", "90%置信区间",
                      "是否达到85%"]  # fmt: skip
    assert "虚线为 85% 目标" in text and "80%" not in text
    assert "85% 要求" in text or "尚不能判定" in text
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4
    html = client.get(f"/staff/waves/{demo_wave}/report?{query}").get_data(as_text=True)
    assert "<th>90%置信区间</th>" in html and "<th>是否达到85%</th>" in html
    assert "95%" not in html and "80%" not in html
    odd = client.get(f"/staff/waves/{demo_wave}/report?weighting=none&level=0.58")
    assert "58% 置信区间" in odd.get_data(as_text=True)


def test_post_stratification_is_described_by_its_own_cells(app, demo_wave):
    """事后分层 was always described as 区县 × 性别 × 年龄组, whatever the cells."""
    from survey.operations.estimates import Settings

    _fill(app)
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        settings = Settings(weighting="poststratify", margins=("age_group",))
        text = "".join(build_content(wave, settings).method)
    assert "按区县 × 年龄组事后分层加权" in text
    assert (
        "年龄组各组合的人口比例与人口普查一致" in text and "性别" not in text.split("加权方法")[1]
    )


def test_a_district_without_countable_answers_keeps_its_row_and_the_city_no_verdict(app, demo_wave):
    """A district whose respondents all answered 说不清 to every satisfaction item had
    no row in the table (yet was listed as undecided), and the city, which then
    left out its population, was still declared 达标 or not."""
    from tests.resident import STANDARD_PAGES, channel_token, complete

    _fill(app)
    token = channel_token(app, "崇阳县")
    with app.app_context():
        from survey.models import Response

        for response in db.session.scalars(select(Response).filter_by(district="崇阳县")):
            response.excluded = True
        db.session.commit()
    for sex in ("男", "女"):
        pages = [dict(p) for p in STANDARD_PAGES]
        pages[0].update(district="崇阳县", sex=sex)
        pages[1] = {k: "dk" for k in pages[1]}
        assert complete(app.test_client(), token, pages=pages).status_code == 303
    from survey.operations.estimates import Settings, wave_estimates

    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        est = wave_estimates(wave, Settings(weighting="none"))
        content = build_content(wave, Settings(weighting="none"))
    assert est.unestimated == {"satisfied": ["崇阳县"], "satisfaction_score": ["崇阳县"]}
    city = {r.indicator: r for r in est.rows if r.domain == "ALL"}
    assert city["satisfied"].status == "待定" and city["participated"].status != "待定"
    row = next(cells for cells in content.table_cells if cells[0] == "崇阳县")
    assert row[2:4] == ["—", "—"] and row[-1] != "达标"
    text = "".join(content.findings)
    assert "崇阳县：满意度没有可计入的回答，未作估计" in text
    assert "全市满意度只包括有估计值的区县" in text
    client = _client(app)
    page = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=none").get_data(as_text=True)
    assert "没有可计入本指标的回答" in page and "崇阳县" in page


def test_sample_funnel_reads_true_and_tells_withdrawals_from_exclusions(app, demo_wave):
    """访问问卷首页 60 人次，开始填答 710 人: visits are counted once per device and at
    most 60 per address in 10 minutes, so behind a shared address they were fewer
    than the starts; and withdrawals were counted as exclusions by 质量核查."""
    from survey.models import ChannelStats, Response
    from survey.operations.quality import set_excluded
    from survey.operations.responses import withdraw_response

    _fill(app, n_per_district=3)
    with app.app_context():
        responses = list(db.session.scalars(select(Response).order_by(Response.id)))
        set_excluded(responses[0].id, True, "test")
        withdraw_response(responses[1].receipt_code)
        for stats in db.session.scalars(select(ChannelStats)):
            stats.visits = 1
        db.session.commit()
        from survey.operations.estimates import Settings

        wave = db.session.get(Wave, demo_wave)
        text = "".join(build_content(wave, Settings(weighting="none")).method)
    assert "访问问卷首页" not in text and "开始填答 18 人" in text
    assert "经质量核查剔除 1 份，受访者凭回执码撤回 1 份，有效问卷 16 份" in text


def test_weakest_items_are_named_as_items(app, demo_wave):
    _fill(app)
    with app.app_context():
        weakest = build_content(db.session.get(Wave, demo_wave)).weakest
    assert weakest and all("您对" not in w and "？" not in w for w in weakest)


def test_first_year_on_the_platform_compares_with_published_figures(app, demo_wave, tmp_path):
    """A city whose earlier surveys were run elsewhere had no 与上年比较 at all
    ("本市尚无上一轮调查数据"), though the change is always reported: last year's
    published figures can be entered, and the report compares with them."""
    _fill(app)
    client = _client(app)
    url = f"/staff/waves/{demo_wave}/comparison"
    page = client.get(url).get_data(as_text=True)
    assert "上年公布的结果" in page
    csrf = form_tokens(page)["csrf_token"]
    bad = client.post(url, data={"csrf_token": csrf, "previous_source": "2025年度报告",
                                 "previous_figures": "全市, 97.8, 94.18\n武汉市, 90, 90\n咸安区, 120, x"},
                      follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "第 2 行：“武汉市”不是本市的区县" in bad and "不在 0–100 之间" in bad
    assert "不是数字" in bad and "武汉市, 90, 90" in bad  # what was typed stays in the form
    with app.app_context():
        assert db.session.get(Wave, demo_wave).previous_figures is None  # nothing half saved
    no_source = client.post(url, data={"csrf_token": csrf, "previous_figures": "全市, 97.8, 94.18"},
                            follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "请填写上年结果的来源" in no_source
    saved = client.post(url, data={"csrf_token": csrf, "previous_source": "2025年度调查报告",
                                   "previous_figures": "全市，97.80%，94.18\n咸安区\t98.06\t—"},
                        follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "已保存" in saved and "全市, 97.8, 94.18" in saved and "咸安区, 98.06, " in saved
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        content = build_content(wave)
        city = next(r for r in content.estimates.rows
                    if r.domain == "ALL" and r.indicator == "satisfied")  # fmt: skip
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "wave_comparison" in actions
    text = "".join(content.changes)
    assert "上年数据：2025年度调查报告（公布值" in text
    diff = float(pct(city.estimate).rstrip("%")) - 97.80  # the printed figures' difference
    word = "上升" if diff > 0 else "下降"
    assert (
        f"全市满意度{pct(city.estimate)}，比上年{word}{abs(diff):.2f}个百分点（上年 97.80%）"
        in text
    )
    assert "咸安区满意度" in text and "咸安区参与度" not in text  # not published: not compared
    assert "超出抽样误差" not in text.replace("不判断变化是否超出抽样误差", "")
    docx, _ = _docx_text(client, f"/staff/waves/{demo_wave}/report.docx", tmp_path)
    assert "比上年" in docx and "本市尚无上一轮调查数据" not in docx


def test_the_wave_compared_with_can_be_chosen(app, demo_wave):
    """The report compared with the city's latest earlier wave: a pilot created
    after last year's survey became 上年. The earlier wave can be chosen."""
    from survey.operations.comparison import previous_of

    with app.app_context():
        old = db.session.get(Wave, demo_wave)
        pilot = create_wave(old.city, "2026年度试点", old.questionnaire)
        new = create_wave(old.city, "2027年度", old.questionnaire)
        new_id, pilot_id = new.id, pilot.id
        assert previous_of(new).wave.id == pilot_id  # the default: the latest before
    client = _client(app)
    url = f"/staff/waves/{new_id}/comparison"
    csrf = form_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    client.post(url, data={"csrf_token": csrf, "previous_wave_id": str(demo_wave)})
    with app.app_context():
        assert previous_of(db.session.get(Wave, new_id)).wave.id == demo_wave
    later = client.post(f"/staff/waves/{demo_wave}/comparison",
                        data={"csrf_token": csrf, "previous_wave_id": str(new_id)},
                        follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "只能选择本市在本轮之前的调查轮次" in later


def test_a_source_pasted_from_word_does_not_break_the_word_report(app, demo_wave, tmp_path):
    """A comparison source with Word's Shift+Enter (\\x0b) was saved as typed, and
    python-docx then refused every Word report of the wave (500)."""
    _fill(app)
    client = _client(app)
    url = f"/staff/waves/{demo_wave}/comparison"
    csrf = form_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    client.post(url, data={"csrf_token": csrf, "previous_figures": "全市, 90, 90",
                           "previous_source": "<b>2025年度</b>\x0b报告\x00"})  # fmt: skip
    with app.app_context():
        assert db.session.get(Wave, demo_wave).previous_source == "<b>2025年度</b> 报告"
    text, _ = _docx_text(client, f"/staff/waves/{demo_wave}/report.docx", tmp_path)
    assert "上年数据：<b>2025年度</b> 报告" in text
    html = client.get(f"/staff/waves/{demo_wave}/report").get_data(as_text=True)
    assert "&lt;b&gt;2025年度&lt;/b&gt; 报告" in html and "<b>2025" not in html
    from survey.report.render import xml_text

    assert xml_text("组织\x0b单位\x1f") == "组织 单位 "  # the other typed fields too


def test_published_figures_that_match_nothing_say_so(app, demo_wave):
    """Figures given only for a district without any valid response this year
    gave 本市尚无上一轮调查数据, as if none had been entered."""
    from werkzeug.datastructures import MultiDict

    from survey.models import Response
    from survey.operations.comparison import set_comparison
    from survey.operations.estimates import Settings

    _fill(app)
    with app.app_context():
        for response in db.session.scalars(select(Response).filter_by(district="咸安区")):
            response.excluded = True
        db.session.commit()
        set_comparison(db.session.get(Wave, demo_wave),
                       MultiDict({"previous_figures": "咸安区, 90, 90",
                                  "previous_source": "2025年度报告"}))  # fmt: skip
        wave = db.session.get(Wave, demo_wave)
        changes = build_content(wave, Settings(weighting="none")).changes
    assert changes == ["上年数据：2025年度报告。其中没有与本年估计对应的全市或区县结果，无法比较。"]


def _second_wave(app, demo_wave, answers_per_district: int = 2) -> int:
    """A 2027 wave of the demo city, with a frame and answers (the demo wave is
    then 上年)."""
    from survey.models import Channel
    from tests.resident import STANDARD_PAGES, complete

    with app.app_context():
        old = db.session.get(Wave, demo_wave)
        new = create_wave(old.city, "2027年度", old.questionnaire, organizer="咸宁市统计局")
        import_frame(new, (DEMO_DIR / "xianning_frame.csv").read_bytes(), "f.csv")
        for district in db.session.scalars(select(District).filter_by(city_id=old.city_id)):
            create_channel(new, district, f"{district.name}2027")
        new_id = new.id
        channels = [(c.token, c.district.name)
                    for c in db.session.scalars(select(Channel).filter_by(wave_id=new_id))]  # fmt: skip
    for token, district in channels:
        for i in range(answers_per_district):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(sex="男女"[i % 2], district=district,
                            age_group=["18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"][i % 5])  # fmt: skip
            pages[1]["s_air"] = "5421"[i % 4]
            assert complete(app.test_client(), token, pages=pages).status_code == 303
    return new_id


def test_an_earlier_wave_that_cannot_be_estimated_is_not_called_missing(app, demo_wave):
    """The latest earlier wave had no valid answer (or its weighting failed): the
    report said 本市尚无上一轮调查数据 although there was one; it now says which
    wave and why there is no comparison."""
    new_id = _second_wave(app, demo_wave, answers_per_district=10)
    client = _client(app)
    with app.app_context():
        content = build_content(db.session.get(Wave, new_id))
    assert content.changes == [
        "上年数据：本平台2026年度调查。按本报告的设置无法估计该轮结果（该轮还没有有效答卷），"
        "未作比较。"
    ]
    page = client.get(f"/staff/waves/{new_id}/report").get_data(as_text=True)
    assert "本市尚无上一轮调查数据" not in page and "无法估计该轮结果" in page


def test_the_change_is_judged_at_the_reports_confidence_level(app, demo_wave):
    """The report's intervals used the chosen level, its 变化超出抽样误差 always
    95%: at 50% a change of more than 0.674 standard errors is beyond sampling
    error, at 95% one of more than 1.96."""
    from scipy import stats

    from survey.operations.estimates import Settings, wave_estimates

    _fill(app)
    new_id = _second_wave(app, demo_wave, answers_per_district=10)
    settings = Settings(weighting="none", level=0.5)
    with app.app_context():
        content = build_content(db.session.get(Wave, new_id), settings)
        now = wave_estimates(db.session.get(Wave, new_id), settings)
        before = wave_estimates(db.session.get(Wave, demo_wave), settings)
    old = {(r.domain, r.indicator): r for r in before.rows}
    z50, z95 = stats.norm.ppf(0.75), stats.norm.ppf(0.975)
    told = {}
    for r in now.rows:
        if r.indicator != "satisfied" or r.se == 0 or old[(r.domain, r.indicator)].se == 0:
            continue
        o = old[(r.domain, r.indicator)]
        ratio = abs(r.estimate - o.estimate) / math.hypot(r.se, o.se)
        where = "全市" if r.domain == "ALL" else r.domain
        line = next(x for x in content.changes if x.startswith(f"{where}满意度"))
        told[where] = ratio
        assert ("变化超出抽样误差" in line) == (ratio > z50), (line, ratio)
    assert any(z50 < ratio < z95 for ratio in told.values()), told
    assert content.changes[0].endswith("变化是否超出抽样误差按 50% 置信水平判断。")


def test_the_estimates_page_shows_the_reports_numbers(app, demo_wave):
    """The page rounded to one decimal, the report to two: 33.3% beside 33.34%,
    and an upper bound of 79.97% showed as 80.0% beside 未达标 (upper bound below
    80%). The page now shows the report's figures."""
    import html as html_module
    import re

    _fill_varied(app)
    client = _client(app)
    page = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    cells = [html_module.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)]  # fmt: skip
    with app.app_context():
        content = build_content(db.session.get(Wave, demo_wave))
    for row in content.table_cells:
        domain, n, sat, sat_ci = row[:4]
        at = cells.index(domain)  # the satisfaction table comes first
        assert cells[at + 1 : at + 3] == [n, sat], (cells[at : at + 5], row)
        assert cells[at + 4].replace(" ", "") == sat_ci, (cells[at + 4], sat_ci)


def test_the_change_is_that_of_the_printed_figures_and_names_last_year(app, demo_wave):
    """Wave against wave, the line gave this year's figure and a change computed
    from unrounded estimates, not last year's figure: a reader could not check
    it, and this year's printed figure less last year's could differ from the
    stated change by 0.01. It now names last year's figure, and the change is
    the difference of the two printed figures."""
    _fill(app)
    new_id = _second_wave(app, demo_wave, answers_per_district=10)
    with app.app_context():
        content = build_content(db.session.get(Wave, new_id))
    lines = [x for x in content.changes if not x.startswith("上年数据")]
    assert lines
    for line in lines:
        found = re.fullmatch(
            r"\w+?(满意度|参与度)([\d.]+)%（上年 ([\d.]+)%），(比上年(上升|下降)([\d.]+)个百分点|与上年持平)"
            r"，.*。",
            line,
        )
        assert found, line
        now, before = float(found.group(2)), float(found.group(3))
        stated = float(found.group(6) or 0) * (-1 if found.group(5) == "下降" else 1)
        assert stated == pytest.approx(round(now - before, 2), abs=1e-9), line


def test_the_report_discloses_weighting_cells_of_one_or_two(app, demo_wave):
    """The estimates page warns of unmerged cells of one or two respondents; the
    report, which the expert panel reads, said nothing of its too narrow intervals."""
    from survey.operations.estimates import Settings

    _fill(app, n_per_district=10)  # one respondent per district × sex × age group
    small = Settings(weighting="poststratify", margins=("sex", "age_group"))
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        plain = "".join(build_content(wave, small).method)
        merged = "".join(build_content(wave, Settings(**{**small.query(), "min_cell": 5})).method)
    assert "有 60 个加权单元只有 1–2 名受访者且未合并" in plain and "可能偏窄" in plain
    assert "名受访者且未合并" not in merged


def test_a_score_named_as_the_headline_satisfaction_is_not_printed_as_a_share(app, demo_wave):
    """A questionnaire may name its 0–100 score as the headline 满意度 (the loader
    accepts it). Its items were then estimated as shares, and the estimates page
    and the report failed for every wave of it with 无法加权估计：指标
    “satisfaction_score.s_air”应为 0/1 …, blaming the data. The page now shows the
    score as a score, and the report says what in the questionnaire to change."""
    import re as re_module

    from questionnaires import STANDARD_PATH, load_questionnaire_text
    from survey.operations.estimates import Settings, wave_estimates
    from survey.operations.questionnaires import register_questionnaire

    text = STANDARD_PATH.read_text(encoding="utf-8")
    text = re_module.sub(r"(?m)^version: 1$", "version: 2", text)
    text = text.replace("  satisfaction: satisfied", "  satisfaction: satisfaction_score")
    with app.app_context():
        stored = register_questionnaire(load_questionnaire_text(text))
        with db.write() as session:
            session.get(Wave, demo_wave).questionnaire_id = stored.id
    _fill(app)
    client = _client(app)
    page = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    with app.app_context():
        est = wave_estimates(db.session.get(Wave, demo_wave), Settings())
    city = next(r for r in est.rows if r.domain == "ALL" and r.indicator == "satisfaction_score")
    assert 1 < city.estimate < 100
    assert f"{city.estimate:.2f}" in page and f"{city.estimate * 100:.2f}%" not in page
    assert est.headline == {"participation": "participated"}
    assert "问卷把满意度指标设为“满意度得分（0–100）”，它是 0–100 分的得分，不是比例" in page
    report = client.get(f"/staff/waves/{demo_wave}/report")
    shown = report.get_data(as_text=True)
    assert report.status_code == 409
    assert "问卷把满意度指标设为“满意度得分（0–100）”，它是 0–100 分的得分，不是比例" in shown


def test_a_district_without_answers_keeps_its_row_in_the_table(app, demo_wave, tmp_path):
    """A district with no valid questionnaire yet had no row in the results table
    (only a sentence below it), so the table read as if the city had five
    districts; a district whose answers were all 说不清 kept its row. Both now do."""
    from survey.report.render import render_docx
    from tests.resident import STANDARD_PAGES, channel_token, complete

    for district in ("赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"):
        for i in range(3):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(district=district, sex="男女"[i % 2])
            assert complete(app.test_client(), channel_token(app, district),
                            pages=pages).status_code == 303  # fmt: skip
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        content = build_content(wave)
        render_docx(content, tmp_path / "r.docx")
    names = [cells[0] for cells in content.table_cells]
    assert names == ["赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县", "咸安区", "全市"]
    assert content.table_cells[5] == ["咸安区", "0", "—", "—", "—", "—", "待定"]
    assert content.table_cells[6][-1] == "待定"  # the city covers the others only
    assert "以下区县尚无有效问卷，未作估计：咸安区。" in content.findings
    table = Document(str(tmp_path / "r.docx")).tables[0]
    assert [row.cells[0].text for row in table.rows[1:]] == names


def _fill_satisfied(app, low_item: str | None = None):
    """Two answers per district, every item 满意 (or *low_item* 不满意)."""
    from tests.resident import STANDARD_PAGES, channel_token, complete

    for district in ("咸安区", "赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"):
        for sex in ("男", "女"):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(district=district, sex=sex)
            pages[1] = {k: "1" if k == low_item else "5" for k in pages[1]}
            complete(app.test_client(), channel_token(app, district), pages=pages)


def _weakness_section(app, demo_wave, tmp_path) -> tuple[str, str, list[str]]:
    client = _client(app)
    html = client.get(f"/staff/waves/{demo_wave}/report?weighting=none").get_data(as_text=True)
    html = html.split("<h2>五、薄弱环节</h2>", 1)[1].split("<h2>", 1)[0]
    response = client.get(f"/staff/waves/{demo_wave}/report.docx?weighting=none")
    path = tmp_path / "r.docx"
    path.write_bytes(response.get_data())
    response.close()
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    docx = text.split("五、薄弱环节", 1)[1].split("附录：调查问卷", 1)[0]
    with app.app_context():
        from survey.operations.estimates import Settings

        content = build_content(db.session.get(Wave, demo_wave), Settings(weighting="none"))
    return html, docx, content.weakness


def test_the_weakness_section_asks_for_measures_only_below_the_target(app, demo_wave, tmp_path):
    """薄弱环节 always said "建议针对这些方面制定整改措施" of the three lowest items,
    even with every item at 100%. When every item reaches the target it says so
    and names the relatively lower ones without calling for corrective measures."""
    _fill_satisfied(app)
    html, docx, weakness = _weakness_section(app, demo_wave, tmp_path)
    assert weakness and weakness[0].startswith("全市各项满意度均不低于 80%，没有低于目标的项目")
    for text in (html, docx):
        assert "整改" not in text and "没有低于目标的项目" in text


def test_the_weakness_section_names_the_items_below_the_target(app, demo_wave, tmp_path):
    _fill_satisfied(app, low_item="s_noise")
    html, docx, weakness = _weakness_section(app, demo_wave, tmp_path)
    assert weakness == [
        "全市满意度低于 80% 的项目：声环境（噪声情况）（全市 0.00%）。"
        "建议针对这些方面制定整改措施。"
    ]
    for text in (html, docx):
        assert weakness[0] in text and "空气质量" not in text
