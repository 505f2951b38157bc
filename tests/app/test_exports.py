"""Exports: CSV (BOM), XLSX with codebook, SPSS and Stata with Chinese labels,
formula injection neutralised, excluded responses absent, audited."""

from __future__ import annotations

import csv
import io
import os
import tempfile

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from survey.extensions import db
from survey.models import AuditEvent, Channel, Response
from survey.operations.quality import set_excluded
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete
from tests.staff import log_in, make_user

INJECTION = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def filled(app, demo_wave):
    with app.app_context():
        with db.write() as session:
            session.execute(update(Channel).values(label="+cmd|' /C calc'!A0"))
    for i, district in enumerate(("咸安区", "嘉鱼县", "赤壁市")):
        pages = [dict(p) for p in STANDARD_PAGES]
        pages[0]["district"] = district
        pages[-1]["suggestion"] = INJECTION if i == 0 else "多种树"
        complete(app.test_client(), channel_token(app, district), pages=pages)
    with app.app_context():
        excluded = db.session.scalar(select(Response).order_by(Response.id.desc()).limit(1))
        set_excluded(excluded.id, True, "test")
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    csrf = form_tokens(client.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True))
    return client, csrf["csrf_token"], str(excluded.id)  # its respondent_id


def _post(client, demo_wave, what, csrf, **extra):
    response = client.post(
        f"/staff/waves/{demo_wave}/exports/{what}", data={"csrf_token": csrf, **extra}
    )
    assert response.status_code == 200, response.status_code
    data = response.get_data()
    response.close()
    return data


def test_csv_has_bom_weights_and_safe_cells(app, demo_wave, filled):
    client, csrf, excluded = filled
    raw = _post(client, demo_wave, "microdata.csv", csrf)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2 and excluded not in {r["respondent_id"] for r in rows}
    injected = next(r for r in rows if r["district"] == "咸安区")
    assert injected["suggestion"] == "'" + INJECTION
    assert injected["channel"].startswith("'+cmd")
    assert float(injected["weight"]) > 0
    assert injected["activities_sorting"] == "1" and injected["activities_none"] == "0"
    labelled = _post(client, demo_wave, "microdata.csv", csrf, labels="1").decode("utf-8-sig")
    assert "比较满意" in labelled
    with_excluded = _post(client, demo_wave, "microdata.csv", csrf, include_excluded="1")
    assert len(list(csv.DictReader(io.StringIO(with_excluded.decode("utf-8-sig"))))) == 3


def test_xlsx_codebook_and_text_cells(app, demo_wave, filled):
    """Text that looks like a formula is written as typed, in a string cell (an
    inline string, no <f> anywhere): the spreadsheet shows it and never evaluates
    it, with no apostrophe added (the CSV keeps the apostrophe: it has no types)."""
    import re
    import zipfile

    client, csrf, _ = filled
    raw = _post(client, demo_wave, "microdata.xlsx", csrf)
    book = load_workbook(io.BytesIO(raw))
    data, codebook = book["数据"], book["变量说明"]
    header = [c.value for c in data[1]]
    suggestion = [row[header.index("suggestion")].value for row in data.iter_rows(min_row=2)]
    assert INJECTION in suggestion and "'" + INJECTION not in suggestion
    channels = {row[header.index("channel")].value for row in data.iter_rows(min_row=2)}
    assert channels == {"+cmd|' /C calc'!A0"}
    assert all(
        row[header.index(name)].data_type == "s"
        for row in data.iter_rows(min_row=2)
        for name in ("suggestion", "channel")
    )
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = {n: archive.read(n).decode() for n in sheets}
    assert not any("<f>" in text or "<f " in text for text in xml.values())
    cell = re.search(r'<c r="[A-Z]+\d+" t="inlineStr"><is><t>=HYPERLINK\(', xml[sheets[0]])
    assert cell, "the formula-like answer is an inline string cell"
    entries = {row[0].value: row for row in codebook.iter_rows(min_row=2)}
    assert "5=满意" in entries["s_air"][3].value
    assert "说明" in book.sheetnames


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_keep_chinese_labels(app, demo_wave, filled, tmp_path, fmt):
    client, csrf, _ = filled
    path = tmp_path / f"x.{fmt}"
    path.write_bytes(_post(client, demo_wave, f"microdata.{fmt}", csrf))
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = reader(str(path))
    assert len(frame) == 2
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["s_air"] == "您对本地空气质量是否满意？"
    value_labels = meta.variable_value_labels["s_air"]
    assert "满意" in value_labels.values() and "说不清/不了解" in value_labels.values()
    code = frame["s_air"].iloc[0]
    assert value_labels[code] in ("满意", "比较满意")
    assert set(frame["district"]) == {"咸安区", "嘉鱼县"}
    assert set(frame["activities_sorting"]) == {1} and set(frame["activities_none"]) == {0}
    assert INJECTION in set(frame["suggestion"])  # text as typed: no spreadsheet to protect
    assert frame["weight"].min() > 0


def test_estimates_table_and_audit(app, demo_wave, filled):
    client, csrf, _ = filled
    text = _post(client, demo_wave, "estimates.csv", csrf).decode("utf-8-sig")
    assert text.startswith("# ") and "domain,indicator,n,estimate" in text and "ALL" in text
    # The workbook is for people: Chinese headings, 全市, each indicator's name.
    sheet = load_workbook(io.BytesIO(_post(client, demo_wave, "estimates.xlsx", csrf))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("区县", "指标", "指标名称", "样本量", "估计值")
    named = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert named[("全市", "satisfied")] == "满意度"
    assert named[("全市", "participated")] == "参与度"
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).filter_by(action="export")))
        assert {e.detail["what"] for e in events} == {"estimates"}


def test_estimates_table_has_each_satisfaction_item_with_its_interval(app, demo_wave):
    """The estimates page shows each satisfaction item by district (各项满意度); the
    estimates table had only the indicators. It now has every item's rows too,
    with the page's figures and their intervals; an item is not judged against
    the target (that is the satisfaction indicator's), so target and status are
    empty; an item's n counts its answers other than 说不清."""
    import html as html_lib
    import re

    from tests.app.test_report import _fill_varied

    _fill_varied(app)  # s_air varies; s_drinking is 说不清 but in 2 answers per district
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    page = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    csrf = form_tokens(page)["csrf_token"]
    text = _post(client, demo_wave, "estimates.csv", csrf).decode("utf-8-sig")
    assert "# 各项满意度（指标 satisfied.题号，如 satisfied.s_air）" in text
    assert "回答“满意”或“比较满意”的比例，“说不清/不了解”不计入分母" in text
    table = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    items = [r for r in table if r["indicator"].startswith("satisfied.")]
    assert list(dict.fromkeys(r["indicator"] for r in items)) == [
        f"satisfied.{i}" for i in ("s_air", "s_water", "s_drinking", "s_green", "s_sanitation",
                                   "s_noise", "s_government")]  # fmt: skip
    drinking = [r for r in items if r["indicator"] == "satisfied.s_drinking"]
    assert [r["n"] for r in drinking] == ["2"] * 6 + ["12"]
    air = [r for r in items if r["indicator"] == "satisfied.s_air"]
    districts = ["咸安区", "赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"]
    assert [r["domain"] for r in air] == [*districts, "ALL"]
    for r in air:
        assert r["n"] == "12" or (r["domain"] == "ALL" and r["n"] == "72")
        assert float(r["ci_low"]) < float(r["estimate"]) < float(r["ci_high"])
        assert float(r["se"]) > 0 and r["ci_method"] == "logit"
        assert r["target"] == "" and r["status"] == ""
    # The page's 各项满意度 row of the item: the city, then the districts.
    row = re.search(r"<tr><td>您对本地空气质量是否满意？</td>(.*?)</tr>", page, re.S).group(1)
    shown = [html_lib.unescape(c) for c in re.findall(r'<td class="num">([^<]*)</td>', row)]
    by_domain = {r["domain"]: r for r in air}
    assert shown == [f"{float(by_domain[d]['estimate']) * 100:.2f}%" for d in ["ALL", *districts]]
    # The workbook names each item as the microdata's codebook does.
    sheet = load_workbook(io.BytesIO(_post(client, demo_wave, "estimates.xlsx", csrf))).active
    rows = list(sheet.iter_rows(values_only=True))
    city_air = next(r for r in rows if r[:2] == ("全市", "satisfied.s_air"))
    assert city_air[2] == "满意度：您对本地空气质量是否满意？"
    assert city_air[4] == pytest.approx(float(by_domain["ALL"]["estimate"]), rel=1e-12)
    assert city_air[12] is None and city_air[13] is None  # 目标值, 状态
    with app.app_context():
        audited = db.session.scalar(select(AuditEvent).filter_by(action="export")).detail
    assert audited["rows"] == len(table)
    exports_page = client.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True)
    assert "和各项满意度按区县及全市的估计值" in exports_page  # it says what the table holds


def test_cli_export_with_progress(app, runner, demo_wave, filled, tmp_path):
    out = tmp_path / "d.csv"
    old_umask = os.umask(0o022)
    try:
        result = runner.invoke(args=["export", "--wave-id", str(demo_wave), "--output", str(out)])
    finally:
        os.umask(old_umask)
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o077 == 0  # microdata: the owner's only
    assert "已导出 2 份答卷" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    bad = runner.invoke(args=["export", "--wave-id", "999", "--output", str(out)])
    assert bad.exit_code != 0 and "没有编号为 999" in bad.output


def test_estimates_table_says_what_the_page_warns_of(app, demo_wave):
    """The page says which districts have no estimate (so the city row covers the
    others only and gets no verdict) and warns of weighting cells of one or two;
    the estimates table, read without the page, said neither: its 全市 rows
    looked like the whole city's, and 待定 had no reason."""
    satisfaction = {k: "dk" for k in STANDARD_PAGES[1]}
    for district in ("赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"):
        for i in range(4):
            pages = [dict(p) for p in STANDARD_PAGES]
            pages[0].update(district=district, sex="男女"[i % 2], age_group="30-39岁")
            if district == "通城县":
                pages[1] = satisfaction
            assert complete(app.test_client(), channel_token(app, district),
                            pages=pages).status_code == 303  # fmt: skip
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    query = "weighting=poststratify&min_cell=1"
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{query}").get_data(as_text=True)
    assert "未合并" in page and "咸安区" in page
    csrf = form_tokens(page)["csrf_token"]
    for fmt in ("csv", "xlsx"):
        raw = _post(client, demo_wave, f"estimates.{fmt}", csrf, weighting="poststratify",
                    min_cell="1")  # fmt: skip
        if fmt == "csv":
            lines = raw.decode("utf-8-sig").splitlines()
            note = "\n".join(line for line in lines if line.startswith("#"))
            table = list(csv.DictReader(line for line in lines if not line.startswith("#")))
            city = next(r for r in table if r["domain"] == "ALL" and r["indicator"] == "satisfied")
            assert city["status"] == "待定"
        else:
            book = load_workbook(io.BytesIO(raw))
            note = "\n".join(str(r[0]) for r in book["方法说明"].iter_rows(values_only=True))
        assert ("以下区县还没有有效答卷，未作估计：咸安区；全市各行只包括其余区县，"
                "因此不作达标判定（状态为待定）。") in note  # fmt: skip
        assert "“满意度”在以下区县没有可计入的回答" in note
        assert "未作估计：通城县；全市一行只包括其余区县" in note
        assert "“参与度”在以下区县" not in note  # 通城县's participation is estimated
        assert "个加权单元只有 1–2 名受访者且未合并（加权单元最少人数为 1）" in note
    # Cells merged (at least 3 respondents each): no warning.
    raw = _post(client, demo_wave, "estimates.csv", csrf, weighting="poststratify", min_cell="5")
    assert "名受访者且未合并" not in raw.decode("utf-8-sig")


def test_microdata_note_says_the_weights_leave_out_districts_without_answers(app, demo_wave):
    """Mid-fieldwork a district without valid answers has no weight, so the weights
    add up to the other districts' population; the workbook's note said nothing
    (with the excluded ones it even said the sum was the population). The districts
    are listed in the city's order (the frame's), not by character code."""
    complete(app.test_client(), channel_token(app, "咸安区"), district="咸安区")
    complete(app.test_client(), channel_token(app, "嘉鱼县"), district="嘉鱼县")
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    csrf = form_tokens(client.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True))
    book = load_workbook(io.BytesIO(_post(client, demo_wave, "microdata.xlsx",
                                          csrf["csrf_token"], weighting="none")))  # fmt: skip
    note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
    assert ("以下区县还没有有效答卷，没有权数：赤壁市、崇阳县、通城县、通山县；"
            "权数之和是其余区县的人口数，不是全市人口。") in note  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta"])
def test_cli_export_works_out_the_weights_once(app, runner, demo_wave, filled, tmp_path,
                                               monkeypatch, fmt):  # fmt: skip
    """``survey export`` worked out the weights to say when the file has none, and
    the export worked them out again: now once, handed to the writer."""
    from survey.operations import estimates, exports

    calls = []
    original = estimates.cell_weights

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(estimates, "cell_weights", counting)
    monkeypatch.setattr(exports, "cell_weights", counting)
    out = tmp_path / f"d.{fmt}"
    args = ["export", "--wave-id", str(demo_wave), "--format", fmt, "--output", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    if fmt == "csv":  # and the file has them
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        assert len(rows) == 2 and all(float(r["weight"]) > 0 for r in rows)


def test_cli_export_and_report_never_write_through_a_link_at_the_part_file(
    app, runner, demo_wave, filled, tmp_path
):
    """The commands write beside the target (``<name>.part``) and rename at the end.
    A symbolic link found there (planted, or left over) was followed: the export's
    microdata went into the file it pointed to. It is now removed, not followed."""
    victim = tmp_path / "victim.txt"
    for name, args in (("d.csv", ["export"]), ("r.docx", ["report"])):
        victim.write_text("untouched")
        out = tmp_path / name
        (tmp_path / f"{name}.part").symlink_to(victim)
        result = runner.invoke(args=[*args, "--wave-id", str(demo_wave), "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert victim.read_text() == "untouched"
        assert out.is_file() and not out.is_symlink() and out.stat().st_size > 0
        assert not (tmp_path / f"{name}.part").exists()


@pytest.mark.parametrize("labels,include_excluded,weighted",
                         [(False, False, True), (True, True, True), (False, True, False)])  # fmt: skip
def test_columnar_csv_equals_the_row_by_row_writer(app, demo_wave, filled, labels,
                                                   include_excluded, weighted):  # fmt: skip
    """The fast columnar CSV (polars) and the plain csv-module writer agree cell
    for cell, including quoting, formula neutralisation, labels and missing values."""
    from survey.exports import writers
    from survey.models import Wave
    from survey.operations.exports import _fast_rows, csv_stream, prepare
    from survey.operations.responses import withdraw_response

    awkward = dict(STANDARD_PAGES[-1], suggestion='a,b "c"\r\n第二行')
    pages = [dict(p) for p in STANDARD_PAGES[:-1]] + [awkward]
    assert complete(app.test_client(), channel_token(app, "通山县"), pages=pages).status_code == 303
    assert complete(app.test_client(), channel_token(app, "崇阳县")).status_code == 303
    with app.app_context():
        with db.write() as session:
            session.execute(update(Channel).where(Channel.id == 1).values(label='-1 采集点, "甲"'))
        last = db.session.scalar(
            select(Response.receipt_code).order_by(Response.id.desc()).limit(1)
        )
        assert withdraw_response(last)
        wave = db.session.get(Wave, demo_wave)
        q, vars_, weights, _ = prepare(wave, include_excluded, weighted)
        rows = _fast_rows(wave, q, vars_, weights, include_excluded, None)
        expected = b"".join(writers.csv_chunks(vars_, rows, labels))
        actual = b"".join(csv_stream(wave, labels, include_excluded, weighted=weighted))
    exp = list(csv.reader(io.StringIO(expected.decode("utf-8-sig"))))
    act = list(csv.reader(io.StringIO(actual.decode("utf-8-sig"))))
    assert len(act) == len(exp) >= 4
    assert act[0] == exp[0]
    for got, want in zip(act[1:], exp[1:], strict=True):
        for name, g, w in zip(act[0], got, want, strict=True):
            if g != w:  # numbers may be spelled differently (1 vs 1.0), never differ
                assert float(g) == float(w), (name, g, w)
    assert actual.count(b"\r\n") == expected.count(b"\r\n")
    assert any('a,b "c"\n第二行' in row for row in act)  # the form sends LF
    assert any('\'-1 采集点, "甲"' in row for row in act)


def test_exported_weights_are_the_estimates_weights(app, demo_wave, filled):
    """Exports weight from cell counts; the estimates page weights respondent by
    respondent: the two give each respondent the same weight."""
    from survey.models import Wave
    from survey.operations.estimates import Settings, wave_estimates

    client, csrf, _ = filled
    for district in ("咸安区", "嘉鱼县"):
        complete(app.test_client(), channel_token(app, district), district=district)
    rows = list(csv.DictReader(io.StringIO(
        _post(client, demo_wave, "microdata.csv", csrf).decode("utf-8-sig"))))  # fmt: skip
    with app.app_context():
        by_receipt = wave_estimates(db.session.get(Wave, demo_wave), Settings()).weights
        ids = dict(db.session.execute(select(Response.receipt_code, Response.id)).all())
    expected = {str(ids[code]): weight for code, weight in by_receipt.items()}
    assert len(rows) == len(expected) == 4
    for row in rows:
        assert float(row["weight"]) == pytest.approx(expected[row["respondent_id"]], rel=1e-9)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta"])
def test_excluded_responses_have_no_weight(app, demo_wave, filled, tmp_path, fmt):
    """With 包含已剔除 the excluded rows kept their cell's weight, so a district's
    weights added up to more than its population. An excluded row's weight is
    empty: the weights of the file add up to the frame's totals."""
    import pandas as pd

    from survey.operations.dataset import population_rows

    client, csrf, excluded = filled
    for _ in range(2):
        complete(app.test_client(), channel_token(app, "咸安区"), district="咸安区")
    with app.app_context():
        last = db.session.scalar(select(Response).order_by(Response.id.desc()).limit(1))
        set_excluded(last.id, True, "test")
        population = {}
        for row in population_rows(demo_wave):
            population[row["district"]] = population.get(row["district"], 0) + row["population"]
    raw = _post(client, demo_wave, f"microdata.{fmt}", csrf, include_excluded="1")
    if fmt == "csv":
        frame = pd.read_csv(io.StringIO(raw.decode("utf-8-sig")), dtype={"respondent_id": str})
    elif fmt == "xlsx":
        frame = pd.read_excel(io.BytesIO(raw), sheet_name="数据", dtype={"respondent_id": str})
    else:
        (tmp_path / f"x.{fmt}").write_bytes(raw)
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        frame = reader(str(tmp_path / f"x.{fmt}"))[0]
    assert len(frame) == 5 and frame["excluded"].sum() == 2
    assert frame.loc[frame["excluded"] == 1, "weight"].isna().all()
    assert frame.loc[frame["excluded"] == 0, "weight"].notna().all()
    assert {str(last.id), excluded} == set(frame.loc[frame["excluded"] == 1, "respondent_id"])
    totals = frame.groupby("district")["weight"].sum()
    assert totals["咸安区"] == pytest.approx(population["咸安区"], rel=1e-9)
    assert totals["嘉鱼县"] == pytest.approx(population["嘉鱼县"], rel=1e-9)
    assert totals["赤壁市"] == 0  # its only response is excluded
    if fmt == "xlsx":  # and the codebook says so
        book = load_workbook(io.BytesIO(raw))
        note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
        assert "已剔除的答卷（excluded=1）权数为空" in note
        labels = {r[0]: r[1] for r in book["变量说明"].iter_rows(values_only=True)}
        assert (
            labels["weight"]
            == "加权权数（边际迭代：性别、年龄组；默认设置，本轮未保存发布口径；已剔除的答卷为空）"
        )


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta"])
def test_times_are_beijing_time(app, demo_wave, filled, tmp_path, fmt):
    """Exports gave the stored UTC while staff pages and the audit log show Beijing
    time: a response submitted at 04:30 on 2 November (Beijing) read 20:30 on
    1 November. Every format now gives Beijing time, and says so."""
    import datetime as dt

    import pandas as pd

    client, csrf, _ = filled
    with app.app_context():
        with db.write() as session:
            session.execute(update(Response).values(
                started_at=dt.datetime(2026, 11, 1, 20, 25, 10, 500000),
                submitted_at=dt.datetime(2026, 11, 1, 20, 30, 0, 123456)))  # fmt: skip
    raw = _post(client, demo_wave, f"microdata.{fmt}", csrf)
    labels = {}
    if fmt == "csv":
        frame = pd.read_csv(io.StringIO(raw.decode("utf-8-sig")), dtype=str)
    elif fmt == "xlsx":
        frame = pd.read_excel(io.BytesIO(raw), sheet_name="数据", dtype=str)
        codebook = pd.read_excel(io.BytesIO(raw), sheet_name="变量说明")
        labels = dict(zip(codebook["变量"], codebook["说明"], strict=True))
    else:
        (tmp_path / f"x.{fmt}").write_bytes(raw)
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        frame, meta = reader(str(tmp_path / f"x.{fmt}"))
        labels = meta.column_names_to_labels
    assert set(frame["started_at"]) == {"2026-11-02T04:25:10"}
    assert set(frame["submitted_at"]) == {"2026-11-02T04:30:00"}
    if labels:
        assert labels["started_at"] == "开始时间（北京时间）"
        assert labels["submitted_at"] == "提交时间（北京时间）"


def test_xlsx_beyond_the_sheet_limit_is_refused_clearly(app, demo_wave, filled, monkeypatch):
    """More rows than an Excel sheet holds: a clear message pointing to CSV/SAV/DTA,
    no file and no audit record of an export that did not happen."""
    from survey.operations import exports

    client, csrf, _ = filled
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post(f"/staff/waves/{demo_wave}/exports/microdata.xlsx",
                           data={"csrf_token": csrf})  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "超过 Excel 工作表的上限" in text and "CSV" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    assert _post(client, demo_wave, "microdata.sav", csrf)[:4] == b"$FL2"


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_hold_the_csv_values(app, demo_wave, filled, tmp_path, fmt):
    """Every variable of every row in the .sav/.dta equals the CSV export (numbers
    mapped back to the answer codes by the codebook; 说不清 read as the declared
    missing value); read by ReadStat, and .dta also by pandas."""
    import pandas as pd

    from survey.exports.codebook import numeric_codes, stata_missing
    from survey.models import Wave
    from survey.operations.exports import prepare, write_file

    client, csrf, _ = filled
    rows = list(csv.DictReader(io.StringIO(
        _post(client, demo_wave, "microdata.csv", csrf).decode("utf-8-sig"))))  # fmt: skip
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        variables = prepare(wave, False)[1]
        write_file(wave, fmt, tmp_path / f"x.{fmt}")
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frames = [reader(str(tmp_path / f"x.{fmt}"), user_missing=True)[0]]
    if fmt == "dta":
        frames.append(pd.read_stata(tmp_path / "x.dta", convert_categoricals=False,
                                    convert_missing=True))  # fmt: skip
    for frame in frames:
        assert len(frame) == len(rows) == 2
        for v in variables:
            for got, row in zip(frame[v.name], rows, strict=True):
                want = row[v.name]
                if isinstance(got, pd.io.stata.StataMissingValue):  # pandas: ".", ".a"
                    got = None if got.string == "." else got.string[1:]
                if v.values and v.kind == "str":
                    back = {n: code for code, n in numeric_codes(v).items()}
                    back.update({k: code for code, k in stata_missing(v).items()})
                    got = "" if not isinstance(got, str) and pd.isna(got) else back[got]
                elif v.kind in ("num", "int"):
                    got, want = (
                        (None if pd.isna(got) else float(got)),
                        (float(want) if want else None),
                    )
                elif want.startswith("'") and not str(got).startswith("'"):
                    want = want[
                        1:
                    ]  # the CSV neutralises formulas for spreadsheets; SPSS/Stata do not
                assert got == want, (fmt, v.name, got, want)


SATISFACTION = {5: "满意", 4: "比较满意", 3: "一般", 2: "不太满意", 1: "不满意"}


def test_spss_keeps_the_questionnaire_codes_and_declares_dont_know_missing(
    app, demo_wave, filled, tmp_path
):
    """The .sav numbered the options by position (5=满意 became 1, 说不清 6) and
    declared nothing missing: SPSS counted 说不清 as the worst score. Now 5 stays
    5, dk is 99 and user-missing, with its value label."""
    client, csrf, _ = filled
    path = tmp_path / "x.sav"
    path.write_bytes(_post(client, demo_wave, "microdata.sav", csrf))
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert list(frame["s_air"]) == [5, 5] and list(frame["s_green"]) == [2, 2]
    assert list(frame["s_drinking"]) == [99, 99]
    assert meta.variable_value_labels["s_air"] == {**SATISFACTION, 99: "说不清/不了解"}
    assert meta.missing_ranges["s_drinking"] == [{"lo": 99.0, "hi": 99.0}]
    assert "activities_none" not in meta.missing_ranges  # 0/1 and text: nothing declared
    # Text codes only (know/heard/unknown): numbered 1, 2, 3 as before.
    assert list(frame["awareness"]) == [2, 2]
    assert meta.variable_value_labels["awareness"] == {1: "知道", 2: "听说过", 3: "不知道"}
    plain, _ = pyreadstat.read_sav(str(path))  # without user_missing: 说不清 is missing
    assert plain["s_drinking"].isna().all() and plain["s_air"].mean() == 5


def test_stata_keeps_the_questionnaire_codes_and_dont_know_is_extended_missing(
    app, demo_wave, filled, tmp_path
):
    """In the .dta 5 stays 5 and 说不清 is .a with its value label: missing for
    Stata's means, told apart from an unanswered question (.)."""
    import pandas as pd

    client, csrf, _ = filled
    path = tmp_path / "x.dta"
    path.write_bytes(_post(client, demo_wave, "microdata.dta", csrf))
    frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
    assert list(frame["s_air"]) == [5, 5] and list(frame["s_green"]) == [2, 2]
    assert list(frame["s_drinking"]) == ["a", "a"]
    assert meta.variable_value_labels["s_air"] == {**SATISFACTION, "a": "说不清/不了解"}
    assert meta.missing_user_values["s_drinking"] == ["a"]
    plain, _ = pyreadstat.read_dta(str(path))
    assert plain["s_drinking"].isna().all() and plain["s_air"].mean() == 5
    other = pd.read_stata(path, convert_categoricals=False, convert_missing=True)
    assert [m.string for m in other["s_drinking"]] == [".a", ".a"]
    with pd.io.stata.StataReader(path) as reader:
        # pandas shows the raw key of .a: its `long` form, 2,147,483,621 + 1
        assert reader.value_labels()["s_air"] == {**SATISFACTION, 2_147_483_622: "说不清/不了解"}


def test_xlsx_codebook_gives_the_codes_of_every_format(app, demo_wave, filled):
    client, csrf, _ = filled
    book = load_workbook(io.BytesIO(_post(client, demo_wave, "microdata.xlsx", csrf)))
    rows = list(book["变量说明"].iter_rows(values_only=True))
    assert rows[0][3:] == (
        "值标签（CSV、Excel 的代码）",
        "SPSS（.sav）的代码",
        "Stata（.dta）的代码",
    )
    entries = {row[0]: row for row in rows[1:]}
    csv_codes, sav_codes, dta_codes = entries["s_air"][3:]
    assert csv_codes.startswith("5=满意; 4=比较满意") and csv_codes.endswith("; dk=说不清/不了解")
    assert sav_codes.startswith("5=满意; 4=比较满意")
    assert sav_codes.endswith("; 99=说不清/不了解（用户缺失值）")
    assert dta_codes.endswith("; .a=说不清/不了解（扩展缺失值）")
    assert entries["awareness"][4] == "1=知道; 2=听说过; 3=不知道"
    note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
    assert "用户缺失值" in note and "扩展缺失值" in note


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_file_downloads_leave_no_descriptor_and_no_file(app, demo_wave, filled, monkeypatch,
                                                       tmp_path):  # fmt: skip
    """XLSX, SAV and DTA are written to a temporary file and sent from it: once the
    response is closed the file is gone and no descriptor of it stays open (one
    leaked descriptor per download would exhaust a long-running worker's limit);
    a refused export (too many rows for a sheet) leaves no file either."""
    from survey.operations import exports

    client, csrf, _ = filled
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "downloads"))
    (tmp_path / "downloads").mkdir()
    for what in ("microdata.xlsx", "microdata.sav", "estimates.xlsx"):  # warm up imports
        _post(client, demo_wave, what, csrf)
    before = _open_descriptors()
    for what in ("microdata.xlsx", "microdata.sav", "microdata.dta", "estimates.xlsx") * 3:
        _post(client, demo_wave, what, csrf)
    assert _open_descriptors() == before
    assert list((tmp_path / "downloads").iterdir()) == []
    # sent as any file: with its length (a browser shows the download's progress)
    response = client.post(f"/staff/waves/{demo_wave}/exports/microdata.sav",
                           data={"csrf_token": csrf})  # fmt: skip
    assert list((tmp_path / "downloads").iterdir()) == []  # gone before it is even read
    assert response.content_length == len(response.get_data()) > 0
    response.close()
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    refused = client.post(f"/staff/waves/{demo_wave}/exports/microdata.xlsx",
                          data={"csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 409
    refused.close()
    assert list((tmp_path / "downloads").iterdir()) == []
    assert _open_descriptors() == before


def test_where_an_open_file_cannot_be_removed_it_is_removed_once_sent(app, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    """Windows refuses to remove an open file: the download is then removed when the
    server closes the response, after its file."""
    from pathlib import Path

    from werkzeug.test import create_environ

    from survey.web import TemporaryDownload

    downloads = tmp_path / "downloads"  # (tmp_path holds the test's database)
    downloads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(downloads))
    real_unlink, refused = Path.unlink, []

    def unlink(self, missing_ok=False):
        if not refused:
            refused.append(self)
            raise PermissionError("the file is open")  # as on Windows
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with app.test_request_context():
        with TemporaryDownload(".sav") as download:
            download.path.write_bytes(b"$FL2 data")
            response = download.send(mimetype="application/octet-stream", download_name="a.sav")
    assert refused == [download.path] and download.path.exists()
    body = response.get_app_iter(create_environ())  # what the server gets and closes
    assert b"".join(body) == b"$FL2 data"
    body.close()
    assert not download.path.exists() and list(downloads.iterdir()) == []


def test_exports_and_dashboard_never_show_the_receipt_code(app, demo_wave, filled):
    """The receipt code alone withdraws (erases) an answer: it was every export's
    respondent_id and on the organizers' dashboard, so anyone holding a file could
    erase answers. Exports carry the response's number; a withdrawal is audited."""
    from survey.models import Wave
    from survey.operations.responses import withdraw_response

    client, csrf, _ = filled
    with app.app_context():
        codes = set(db.session.scalars(select(Response.receipt_code)))
        first = db.session.scalar(select(Response).order_by(Response.id).limit(1))
    raw = _post(client, demo_wave, "microdata.csv", csrf, include_excluded="1").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert {r["respondent_id"] for r in rows} == {str(i) for i in range(1, 4)}
    xlsx = _post(client, demo_wave, "microdata.xlsx", csrf)
    sheet = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    cells = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert not codes & cells and not any(code in raw for code in codes)
    organizer = app.test_client()
    log_in(organizer, make_user(app, "org-receipt", "organizer"))
    dashboard = organizer.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    data = organizer.get(f"/staff/waves/{demo_wave}/dashboard.json").get_data(as_text=True)
    assert not any(code in dashboard or code in data for code in codes)
    with app.app_context():
        assert withdraw_response(first.receipt_code)
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "response_withdraw")
        )
        assert event.object_id == str(first.id) and event.actor_name == "respondent"
        assert event.detail == {"wave_id": db.session.get(Wave, demo_wave).id}


def test_spss_and_stata_of_a_wave_without_answers_say_so(app, runner, demo_wave, tmp_path):
    client = app.test_client()
    log_in(client, make_user(app, "stat-empty", "statistician"))
    page = f"/staff/waves/{demo_wave}/exports"
    csrf = form_tokens(client.get(page).get_data(as_text=True))["csrf_token"]
    for fmt in ("sav", "dta"):
        response = client.post(f"{page}/microdata.{fmt}", data={"csrf_token": csrf})
        assert response.status_code == 409
        assert "还没有可导出的答卷" in response.get_data(as_text=True)
    assert client.post(f"{page}/microdata.csv", data={"csrf_token": csrf}).status_code == 200
    # The command line says so too (it printed a traceback), and leaves no file.
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.sav"
    result = runner.invoke(args=["export", "--wave-id", str(demo_wave), "--format", "sav",
                                 "--output", str(out)])  # fmt: skip
    assert result.exit_code == 1 and "未导出：本轮还没有可导出的答卷" in result.output
    assert not list((tmp_path / "out").iterdir())
    purge = runner.invoke(args=["purge-paradata", "--days", "-1"])
    assert purge.exit_code == 1 and "保留天数" in purge.output


def test_the_method_note_says_why_there_are_no_weights(app, demo_wave, filled):
    """Raking that fails (sparse early data) left the weight column out with the
    note "本轮尚未导入人口数据", which was false: the frame was there."""
    from survey.models import Wave
    from survey.operations import exports

    def fail(wave, settings):
        raise exports.OperationError("无法加权：raking did not converge")

    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        _, variables, weights, note = exports.prepare(wave, False)
        assert weights is not None and "weight" in {v.name for v in variables}
        real, exports.cell_weights = exports.cell_weights, fail
        try:
            _, variables, weights, note = exports.prepare(wave, False)
        finally:
            exports.cell_weights = real
    assert weights is None and "weight" not in {v.name for v in variables}
    assert "权数：未导出（无法加权：raking did not converge）" in note
    assert "尚未导入人口数据" not in note


def test_microdata_weights_follow_the_estimates_page_settings(app, demo_wave, filled):
    """The microdata always carried raking weights on sex × age, whatever the
    estimates page used; early in fieldwork, when raking does not converge, no
    weights at all. Sent with the page's settings (its 带本页权数的微观数据 buttons),
    the file's weights are that page's."""
    from survey.models import Wave
    from survey.operations.estimates import Settings, wave_estimates

    client, csrf, _ = filled
    for sex, age in (("男", "18-29岁"), ("女", "30-39岁"), ("男", "30-39岁"), ("男", "18-29岁"),
                     ("女", "60岁及以上")):  # fmt: skip
        complete(app.test_client(), channel_token(app, "咸安区"), district="咸安区", sex=sex,
                 age_group=age)  # fmt: skip
    chosen = Settings(weighting="poststratify", margins=("age_group",))
    page = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=poststratify"
                      "&margins=age_group").get_data(as_text=True)  # fmt: skip
    assert f"/staff/waves/{demo_wave}/exports/microdata.csv" in page
    rows = list(csv.DictReader(io.StringIO(_post(
        client, demo_wave, "microdata.csv", csrf, weighting="poststratify", margins="age_group"
    ).decode("utf-8-sig"))))  # fmt: skip
    with app.app_context():
        by_receipt = wave_estimates(db.session.get(Wave, demo_wave), chosen).weights
        ids = dict(db.session.execute(select(Response.receipt_code, Response.id)).all())
    expected = {str(ids[code]): weight for code, weight in by_receipt.items()}
    plain = _post(client, demo_wave, "microdata.csv", csrf).decode("utf-8-sig")
    assert "weight" not in plain.splitlines()[0].split(",")  # raking does not converge here
    assert len(rows) == len(expected) == 7
    for row in rows:
        assert float(row["weight"]) == pytest.approx(expected[row["respondent_id"]], rel=1e-9)


def test_estimates_without_a_design_effect_leave_the_cell_empty(app, demo_wave, filled):
    """A district whose answers are all the same has no design effect (NaN). The
    estimates CSV said "nan", which Excel, Stata and SPSS read as text, turning
    the whole deff column into text; the workbook held an empty number."""
    import zipfile

    client, csrf, _ = filled
    text = _post(client, demo_wave, "estimates.csv", csrf).decode("utf-8-sig")
    table = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert any(r["deff"] == "" for r in table)
    assert not any(value.lower() == "nan" for r in table for value in r.values())
    raw = _post(client, demo_wave, "estimates.xlsx", csrf)
    sheet = zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml")
    assert b"<v></v>" not in sheet and b"<v/>" not in sheet
    rows = list(load_workbook(io.BytesIO(raw)).active.iter_rows(values_only=True))
    deff = rows[0].index("设计效应")
    assert any(r[deff] is None for r in rows[1:])


def test_estimates_note_does_not_credit_r_with_wilson_intervals(app, demo_wave, filled):
    """The note said every method agreed with R's svyciprop, Wilson too, which
    svyciprop does not have: a statistician checking it in R found no such method."""
    client, csrf, _ = filled
    notes = {}
    for ci in ("wilson", "logit", "beta"):
        data = {"weighting": "none", "margins": "sex", "ci": ci, "level": "0.9", "target": "0.8"}
        text = _post(client, demo_wave, "estimates.csv", csrf, **data).decode("utf-8-sig")
        notes[ci] = next(line for line in text.splitlines() if line.startswith("# 置信区间"))
    assert "svyciprop 没有此方法" in notes["wilson"] and "一致" not in notes["wilson"]
    assert "svyciprop(method = 'logit') 一致" in notes["logit"]
    assert "Korn–Graubard" in notes["beta"] and "90%" in notes["beta"]
    assert "0–100 分的得分用 t 分布区间" in notes["beta"]


def test_long_item_ids_give_names_stata_and_spss_take(tmp_path):
    """Two items whose ids begin alike (s_drinking_water_safety_in_town / …_in_
    villages) were both cut to satisfied_s_drinking_water_safet: the export failed
    on the duplicate name, and an id longer than 32 characters made a .dta that
    Stata refuses. Names are now at most 32 characters and unique; the data
    stays with its variable."""
    import json

    from questionnaires import STANDARD_PATH, load_questionnaire_text
    from survey.exports import writers
    from survey.exports.codebook import variables
    from survey.exports.columnar import ColumnarExport

    town, villages = "s_drinking_water_safety_in_town", "s_drinking_water_safety_in_villages"
    text = STANDARD_PATH.read_text(encoding="utf-8")
    q = load_questionnaire_text(text.replace("s_drinking", town).replace("s_green", villages))
    vars_ = variables(q, False, False)
    names = [v.name for v in vars_]
    assert len({n.lower() for n in names}) == len(names) and max(map(len, names)) <= 32
    assert (
        "satisfied_s_drinking_water_safet" in names and "satisfied_s_drinking_water_saf_2" in names
    )
    export = ColumnarExport(q, vars_, include_excluded=False, channel_labels={1: "海报"},
                            weights=None, neutralise=False)  # fmt: skip
    record = {
        "id": "7", "district": "咸安区", "sex": "男", "age_group": "18-29岁",
        "urban_rural": "城镇", "channel_id": 1, "started_at": "2026-11-01 08:00:00",
        "submitted_at": "2026-11-01 08:05:00", "duration_seconds": 300.0,
        "device_class": "phone", "over_quota": 0, "excluded": 0, "flags": [],
        "answers": {town: "5", villages: "1"},
        "indicators": {f"satisfied.{town}": 1.0, f"satisfied.{villages}": 0.0},
    }  # fmt: skip
    line = json.dumps(record).encode()
    frame = export.frame(line)
    assert frame.columns == names
    assert frame["satisfied_s_drinking_water_safet"][0] == 1.0
    assert frame["satisfied_s_drinking_water_saf_2"][0] == 0.0
    assert frame[town][0] == "5" and frame["s_drinking_water_safety_in_villa"][0] == "1"
    for fmt, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        path = tmp_path / f"long.{fmt}"
        writers.write_labelled(fmt, path, export.variables, lambda: [export.frame(line)])
        data, meta = read(str(path))
        assert list(data.columns) == names, fmt
        assert data["satisfied_s_drinking_water_saf_2"][0] == 0.0
        assert data["s_drinking_water_safety_in_villa"][0] == 1  # 不满意 keeps its code
        assert meta.column_names_to_labels["satisfied_s_drinking_water_saf_2"].startswith("满意度")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta"])
def test_a_tampered_weighting_is_refused_by_the_microdata_download(app, demo_wave, filled, fmt):
    """An edited form's weighting (or interval method, level) gave a microdata
    file without weights, its note saying 加权方法无效, while the estimates table
    refused it with 409: the microdata download refuses it the same way, and
    nothing is handed out or audited."""
    client, csrf, _ = filled
    for bad in ({"weighting": "bogus"}, {"ci": "bogus"}, {"level": "1.5"}):
        response = client.post(f"/staff/waves/{demo_wave}/exports/microdata.{fmt}",
                                data={"csrf_token": csrf, **bad})  # fmt: skip
        page = response.get_data(as_text=True)
        response.close()
        assert response.status_code == 409 and "attachment" not in str(response.headers)
        assert "无效" in page or "置信水平应在" in page
        assert "未导出文件。" in page
    with app.app_context():
        assert not db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="export"))
    table = client.post(f"/staff/waves/{demo_wave}/exports/estimates.csv",
                        data={"csrf_token": csrf, "weighting": "bogus"})  # fmt: skip
    assert table.status_code == 409 and "加权方法或置信区间方法无效" in table.get_data(as_text=True)


def test_estimates_workbook_formats_its_numbers(app, demo_wave, filled):
    """The estimates workbook held raw fractions with 15 digits (0.851234567…):
    shares, their intervals and the target now show as percentages with two
    decimals while the cells keep the fractions; standard errors, design
    effects and the 0–100 score have formats of their own."""
    client, csrf, _ = filled
    raw = _post(client, demo_wave, "estimates.xlsx", csrf, weighting="none")
    sheet = load_workbook(io.BytesIO(raw)).active
    heading = [c.value for c in sheet[1]]
    col = {name: heading.index(name) for name in heading}
    rows = list(sheet.iter_rows(min_row=2))
    share = next(r for r in rows if r[1].value == "satisfied" and r[0].value == "全市")
    for name in ("估计值", "置信区间下限", "置信区间上限", "目标值"):
        assert share[col[name]].number_format == "0.00%"
    assert 0 <= share[col["估计值"]].value <= 1 and share[col["目标值"]].value == 0.8
    assert share[col["标准误"]].number_format == "0.0000"
    assert share[col["样本量"]].number_format == "0"
    item = next(r for r in rows if r[1].value == "satisfied.s_air")
    assert item[col["估计值"]].number_format == "0.00%"
    score = next(r for r in rows if r[1].value == "satisfaction_score" and r[0].value == "全市")
    assert score[col["估计值"]].number_format == "0.00" and score[col["估计值"]].value > 1
    assert score[col["标准误"]].number_format == "0.00"
    deffs = [r[col["设计效应"]] for r in rows if r[col["设计效应"]].value is not None]
    assert all(c.number_format == "0.00" for c in deffs)


def test_estimates_workbook_formats_design_effects(tmp_path):
    from types import SimpleNamespace

    from survey.exports import writers

    row = SimpleNamespace(domain="ALL", indicator="satisfied", n=120, estimate=0.8512345678,
                          se=0.0123456, ci_low=0.82, ci_high=0.88, ci_method="logit",
                          deff=1.23456, n_eff=97.2345, df=114, target=0.8, status="达标")  # fmt: skip
    writers.estimates_xlsx(tmp_path / "e.xlsx", [row], "note", {"satisfied": "满意度"})
    cells = list(load_workbook(tmp_path / "e.xlsx").active.iter_rows(min_row=2))[0]
    formats = {h: c.number_format for h, c in zip(writers.ESTIMATE_HEADINGS, cells, strict=True)}
    assert formats["设计效应"] == "0.00" and formats["有效样本量"] == "0.0"
    assert formats["估计值"] == "0.00%" and formats["自由度"] == "0"
    assert cells[4].value == 0.8512345678  # the fraction, unrounded


def test_spss_file_declares_measurement_levels(app, demo_wave, filled, tmp_path):
    """Every variable of the microdata .sav was of unknown measurement level."""
    client, csrf, _ = filled
    path = tmp_path / "m.sav"
    path.write_bytes(_post(client, demo_wave, "microdata.sav", csrf))
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    level = meta.variable_measure
    assert "unknown" not in level.values()
    assert level["district"] == "nominal" and level["age_group"] == "ordinal"
    assert level["s_air"] == "ordinal" and level["activities_sorting"] == "nominal"
    assert level["satisfied"] == "scale" and level["weight"] == "scale"
    assert level["duration_seconds"] == "scale" and level["suggestion"] == "nominal"
