"""A wave's analysis settings for publication (发布口径): saved from the estimates
page, used by the exports page, the CLI and the report.

Before them the exports page, ``survey export`` and the report weighted with the
defaults (raking on sex × age) whatever the estimates page showed: one wave's
microdata weights differed by where they were downloaded."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent, Wave
from survey.operations.errors import OperationError
from survey.operations.estimates import Settings, wave_estimates
from survey.paths import DEMO_DIR
from tests.app.test_estimates_page import _fill
from tests.conftest import form_tokens
from tests.staff import log_in, make_user

#: Settings other than the defaults, whose weights differ from the defaults'.
CHOSEN = "weighting=poststratify&margins=age_group&ci=beta&level=0.9&target=0.85&min_cell=3"
CHOSEN_SETTINGS = Settings(weighting="poststratify", margins=("age_group",), ci="beta",
                           level=0.9, target=0.85, min_cell=3)  # fmt: skip


def _download(client, url: str, data) -> bytes:
    """A download's bytes, its response closed (a file-backed body left open is
    an unclosed file, an error under CI's warnings)."""
    response = client.post(url, data=data)
    assert response.status_code == 200, response.status_code
    body = response.get_data()
    response.close()
    return body


def _statistician(app):
    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    return client


def _form(page: str, action: str) -> dict[str, list[str]]:
    """The fields of the page's form posting to *action* (as a browser sends them)."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>',
                     page, re.S)  # fmt: skip
    assert form, action
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                  form.group(1)):  # fmt: skip
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def _save_from_page(client, wave_id: int, query: str):
    page = client.get(f"/staff/waves/{wave_id}/estimates?{query}").get_data(as_text=True)
    fields = _form(page, f"/staff/waves/{wave_id}/estimates/settings")
    return client.post(f"/staff/waves/{wave_id}/estimates/settings", data=fields)


def _weights(raw: bytes) -> dict[str, float]:
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows and "weight" in rows[0], "no weight column"
    return {r["respondent_id"]: float(r["weight"]) for r in rows}


def _page_weights(app, wave_id: int, settings: Settings) -> dict[str, float]:
    """The estimates page's own weights (respondent by respondent), by 答卷编号."""
    from survey.models import Response

    with app.app_context():
        by_receipt = wave_estimates(db.session.get(Wave, wave_id), settings).weights
        ids = dict(db.session.execute(select(Response.receipt_code, Response.id)).all())
    return {str(ids[code]): weight for code, weight in by_receipt.items()}


def _assert_same(got: dict[str, float], want: dict[str, float]) -> None:
    assert got.keys() == want.keys()
    for key, weight in want.items():
        assert got[key] == pytest.approx(weight, rel=1e-9), key


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


def test_saving_the_page_settings_is_audited_and_the_page_opens_with_them(app, demo_wave):
    _fill(app)
    client = _statistician(app)
    first = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    assert "本轮尚未保存发布口径" in first
    saved = _save_from_page(client, demo_wave, CHOSEN)
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert (
        "已保存为本轮的发布口径：事后分层，按年龄组；加权单元最少 3 人；beta 置信区间，90%" in page
    )
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        assert wave.analysis_settings == {"weighting": "poststratify", "margins": ["age_group"],
                                          "ci": "beta", "level": 0.9, "target": 0.85,
                                          "min_cell": 3}  # fmt: skip
    # The page opens with the saved settings, and says so.
    assert "本页显示的是本轮保存的发布口径" in page
    assert '<option value="poststratify" selected>' in page
    assert 'name="min_cell" value="3"' in page and 'name="level" value="0.9"' in page
    assert 'value="age_group" checked' in page and 'value="sex" checked' not in page
    assert "将当前设置保存为发布口径" not in page  # nothing to save
    other = client.get(f"/staff/waves/{demo_wave}/estimates?weighting=raking&margins=sex")
    other = other.get_data(as_text=True)
    assert "本页当前的设置与本轮保存的发布口径不同" in other
    assert "将当前设置保存为发布口径" in other
    # Saving again: the audit log has the settings before and after.
    _save_from_page(client, demo_wave, "weighting=none&margins=sex&ci=logit&level=0.95"
                    "&target=0.8&min_cell=1")  # fmt: skip
    events = _events(app, "wave_settings")
    assert [e.detail for e in events] == [
        {"old": "未保存（默认设置）",
         "new": "事后分层，按年龄组；加权单元最少 3 人；beta 置信区间，90%；目标 85%"},
        {"old": "事后分层，按年龄组；加权单元最少 3 人；beta 置信区间，90%；目标 85%",
         "new": "不加权（仅设计权数）；logit 置信区间，95%；目标 80%"},
    ]  # fmt: skip
    assert all(e.actor_name == "stat" and e.object_id == str(demo_wave) for e in events)
    admin = app.test_client()
    log_in(admin, make_user(app, "admin", "administrator"))
    log = admin.get("/staff/audit").get_data(as_text=True)
    assert "保存发布口径" in log and "不加权（仅设计权数）" in log


@pytest.mark.parametrize(
    "change,message",
    [
        ({"weighting": "evil"}, "加权方法“evil”无效"),
        ({"margins": ["sex", "income"]}, "加权变量“income”无效"),
        ({"ci": "<script>"}, "置信区间方法“&lt;script&gt;”无效"),
        ({"level": "1.5"}, "置信水平“1.5”应在 0.5–0.999 之间"),
        ({"level": "nan"}, "置信水平“nan”应在 0.5–0.999 之间"),
        ({"target": "0"}, "目标值“0”应在 0–1 之间"),
        ({"target": "80"}, "目标值“80”应在 0–1 之间"),
        ({"min_cell": "0"}, "加权单元最少人数“0”应为 1–50 的整数"),
        ({"min_cell": "51"}, "加权单元最少人数“51”应为 1–50 的整数"),
        ({"min_cell": "2.5"}, "加权单元最少人数“2.5”应为 1–50 的整数"),
        ({"margins": []}, "设置不完整，缺少加权变量"),
        ({"weighting": None}, "设置不完整，缺少加权方法"),
    ],
)
def test_tampered_or_out_of_range_settings_are_refused(app, demo_wave, change, message):
    """The page's own form cannot send these; a hand-made request can. Refused with
    a Chinese message, nothing saved (the page's settings_from would have quietly
    shown the defaults or clamped the value instead)."""
    client = _statistician(app)
    good = _save_from_page(client, demo_wave, CHOSEN)
    assert good.status_code == 302
    page = client.get(f"/staff/waves/{demo_wave}/estimates").get_data(as_text=True)
    fields = {**CHOSEN_SETTINGS.query(), **form_tokens(page)}
    fields.update({k: v for k, v in change.items() if v is not None})
    for name in (k for k, v in change.items() if v is None):
        del fields[name]
    refused = client.post(f"/staff/waves/{demo_wave}/estimates/settings", data=fields)
    assert refused.status_code == 302
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert message in shown and "未保存" in shown
    with app.app_context():
        assert db.session.get(Wave, demo_wave).analysis_settings == CHOSEN_SETTINGS.query()
    assert len(_events(app, "wave_settings")) == 1


def test_parse_settings_takes_exactly_what_the_page_shows():
    from werkzeug.datastructures import MultiDict

    from survey.operations.analysis_settings import parse_settings

    form = MultiDict([("weighting", "raking"), ("margins", "urban_rural"), ("margins", "sex"),
                      ("ci", "wilson"), ("level", "0.999"), ("target", "0.5"),
                      ("min_cell", "50")])  # fmt: skip
    settings = parse_settings(form)
    assert settings == Settings("raking", ("sex", "urban_rural"), "wilson", 0.999, 0.5, 50)
    assert parse_settings(settings.query()) == settings  # as stored
    with pytest.raises(OperationError) as refused:
        parse_settings(MultiDict([*form.items(multi=True), ("margins", "x")]).to_dict(flat=False)
                       | {"level": "inf"})  # fmt: skip
    assert "加权变量“x”无效" in str(refused.value) and "置信水平“inf”" in str(refused.value)


def test_exports_page_cli_and_report_use_the_saved_weighting(app, runner, demo_wave, tmp_path):
    _fill(app)
    client = _statistician(app)
    assert _save_from_page(client, demo_wave, CHOSEN).status_code == 302
    # What the estimates page's own microdata button downloads, with the same settings.
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{CHOSEN}").get_data(as_text=True)
    own = _form(page, f"/staff/waves/{demo_wave}/exports/microdata.csv")
    from_page = _weights(_download(client, f"/staff/waves/{demo_wave}/exports/microdata.csv", own))
    _assert_same(from_page, _page_weights(app, demo_wave, CHOSEN_SETTINGS))
    defaults = _page_weights(app, demo_wave, Settings())
    assert any(from_page[k] != pytest.approx(w, rel=1e-6) for k, w in defaults.items())

    exports = client.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True)
    assert "权数和估计结果按本轮保存的发布口径计算：事后分层，按年龄组" in exports
    csrf = form_tokens(exports)["csrf_token"]
    url = f"/staff/waves/{demo_wave}/exports/microdata"
    _assert_same(_weights(_download(client, f"{url}.csv", {"csrf_token": csrf})),
                 from_page)  # fmt: skip
    book = load_workbook(io.BytesIO(_download(client, f"{url}.xlsx", {"csrf_token": csrf})))
    note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
    assert "权数：按区县 × 年龄组事后分层；少于 3 人的加权单元与同区县相邻单元合并" in note
    assert "权数口径：本轮保存的发布口径。" in note
    labels = {r[0]: r[1] for r in book["变量说明"].iter_rows(values_only=True)}
    assert labels["weight"] == "加权权数（事后分层：年龄组；本轮发布口径）"
    data = book.worksheets[0]
    header = next(data.iter_rows(values_only=True))
    xlsx = {str(r[header.index("respondent_id")]): r[header.index("weight")]
            for r in data.iter_rows(min_row=2, values_only=True)}  # fmt: skip
    _assert_same(xlsx, from_page)
    table = _download(client, f"/staff/waves/{demo_wave}/exports/estimates.csv",
                      {"csrf_token": csrf}).decode("utf-8-sig")  # fmt: skip
    assert "权数口径：本轮保存的发布口径" in table and "置信区间：beta" in table

    out = tmp_path / "cli.csv"
    result = runner.invoke(args=["export", "--wave-id", str(demo_wave), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "权数：本轮保存的发布口径：事后分层，按年龄组" in result.output
    _assert_same(_weights(out.read_bytes()), from_page)
    exported = [e.detail for e in _events(app, "export")]
    assert all(d["settings"].startswith("本轮保存的发布口径：事后分层") for d in exported)

    report = client.get(f"/staff/waves/{demo_wave}/report").get_data(as_text=True)
    assert "按区县 × 年龄组事后分层加权" in report and "少于 3 人的加权单元" in report
    assert "90%置信区间" in report and "是否达到85%" in report
    docx = tmp_path / "report.docx"
    result = runner.invoke(args=["report", "--wave-id", str(demo_wave), "--output", str(docx)])
    assert result.exit_code == 0, result.output
    assert "加权和估计：本轮保存的发布口径" in result.output
    text = "\n".join(p.text for p in Document(str(docx)).paragraphs)
    assert "按区县 × 年龄组事后分层加权" in text
    reports = [e for e in _events(app, "report")]
    assert {e.actor_name for e in reports} == {"stat", "cli"}
    assert all(e.detail["settings"].startswith("本轮保存的发布口径") for e in reports)


def test_explicit_settings_win_and_say_they_are_not_the_saved_ones(app, demo_wave, tmp_path):
    """What is on screen is what is downloaded: the estimates page's buttons send
    its settings, and those win over the saved ones."""
    _fill(app)
    client = _statistician(app)
    assert _save_from_page(client, demo_wave, CHOSEN).status_code == 302
    query = "weighting=raking&margins=sex&margins=age_group&ci=logit&level=0.95&target=0.8"
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{query}&min_cell=1").get_data(
        as_text=True
    )
    own = _form(page, f"/staff/waves/{demo_wave}/exports/microdata.csv")
    assert own["weighting"] == ["raking"] and own["margins"] == ["sex", "age_group"]
    raw = _download(client, f"/staff/waves/{demo_wave}/exports/microdata.csv", own)
    _assert_same(_weights(raw), _page_weights(app, demo_wave, Settings()))
    xlsx = _download(client, f"/staff/waves/{demo_wave}/exports/microdata.xlsx", own)
    note = "\n".join(str(r[0]) for r in load_workbook(io.BytesIO(xlsx))["说明"].iter_rows(
        values_only=True))  # fmt: skip
    assert "权数口径：估计结果页当前选择的设置（与本轮保存的发布口径不同）" in note
    report = client.get(f"/staff/waves/{demo_wave}/report?weighting=none").get_data(as_text=True)
    assert "仅使用设计权数" in report
    assert "90%置信区间" in report  # the rest of the saved settings, not the defaults


def test_only_statisticians_save_and_only_with_the_csrf_token(app, demo_wave):
    client = _statistician(app)
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{CHOSEN}").get_data(as_text=True)
    fields = _form(page, f"/staff/waves/{demo_wave}/estimates/settings")
    url = f"/staff/waves/{demo_wave}/estimates/settings"
    organizer = app.test_client()
    log_in(organizer, make_user(app, "org", "organizer"))
    token = form_tokens(organizer.get("/staff/password").get_data(as_text=True))
    assert organizer.post(url, data={**fields, **token}).status_code == 403
    anonymous = app.test_client().post(url, data=fields)
    assert anonymous.status_code == 400  # no session, so no valid token: refused first
    no_token = {k: v for k, v in fields.items() if k != "csrf_token"}
    assert client.post(url, data=no_token).status_code == 400
    with app.app_context():
        assert db.session.get(Wave, demo_wave).analysis_settings is None
        assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(
            action="wave_settings")) == 0  # fmt: skip
    assert client.post(url, data=fields).status_code == 302  # the statistician may


def test_a_margin_the_frame_lacks_is_saved_and_the_pages_say_why(app, demo_wave):
    """A frame without 城乡: settings weighting by it are saved all the same (the
    frame may be replaced later); the pages say why there are no weights."""
    from survey.operations.frames import import_frame

    lines = (DEMO_DIR / "xianning_frame.csv").read_text(encoding="utf-8").splitlines()
    totals: dict[tuple, int] = {}
    for row in csv.DictReader(lines):
        key = (row["district"], row["sex"], row["age_group"])
        totals[key] = totals.get(key, 0) + int(row["population"])
    frame = "district,sex,age_group,population\n" + "".join(
        f"{d},{s},{a},{n}\n" for (d, s, a), n in totals.items()
    )
    with app.app_context():
        import_frame(db.session.get(Wave, demo_wave), frame.encode(), "frame.csv")
    _fill(app)
    client = _statistician(app)
    query = "weighting=raking&margins=sex&margins=urban_rural&ci=logit&level=0.95&target=0.8"
    response = _save_from_page(client, demo_wave, query)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存为本轮的发布口径：边际迭代（raking），按性别、城乡" in page
    error = re.search(r'<p class="flash error" role="alert">(.*?)</p>', page, re.S)
    assert error and "无法加权估计" in error.group(1) and "urban_rural" in error.group(1)
    exports = client.get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True)
    csrf = form_tokens(exports)["csrf_token"]
    xlsx = _download(client, f"/staff/waves/{demo_wave}/exports/microdata.xlsx",
                     {"csrf_token": csrf})  # fmt: skip
    book = load_workbook(io.BytesIO(xlsx))
    note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
    assert "权数：未导出（无法加权" in note
    assert "weight" not in next(book.worksheets[0].iter_rows(values_only=True))


def test_the_migration_leaves_existing_waves_with_the_defaults(app, database_url, demo_wave):
    """Upgrading adds the column empty: a wave made before behaves as before (the
    defaults); downgrading drops it again. The revision is found by what it adds,
    not by its number."""
    from pathlib import Path

    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, inspect

    from survey.migrate import alembic_config, upgrade

    config = alembic_config(database_url)
    ours = next(rev for rev in ScriptDirectory.from_config(config).walk_revisions()
                if '"analysis_settings"' in Path(rev.path).read_text(encoding="utf-8"))  # fmt: skip
    with app.app_context():
        db.session.close()  # no transaction of the app's left open while the schema changes
    command.downgrade(config, ours.down_revision)
    try:
        engine = create_engine(database_url)
        assert "analysis_settings" not in {c["name"] for c in inspect(engine).get_columns("wave")}
        engine.dispose()
    finally:
        upgrade(database_url)
    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        assert wave.name and wave.analysis_settings is None
    exports = _statistician(app).get(f"/staff/waves/{demo_wave}/exports").get_data(as_text=True)
    assert (
        "权数和估计结果按默认设置（本轮尚未保存发布口径）计算：边际迭代（raking），按性别、年龄组"
        in exports
    )


def test_cli_options_override_the_saved_settings(app, runner, demo_wave, tmp_path):
    """``survey export`` and ``survey report`` took no settings: a statistician
    could only weight from the command line with the wave's saved ones. Options
    named as the estimates page's fields now choose others, and the output, the
    method note, the weight's label and the audit log say so."""
    _fill(app)
    client = _statistician(app)
    assert _save_from_page(client, demo_wave, CHOSEN).status_code == 302
    defaults = _page_weights(app, demo_wave, Settings())
    wave = ["--wave-id", str(demo_wave)]

    out = tmp_path / "defaults.csv"
    result = runner.invoke(args=["export", *wave, "--output", str(out), "--weighting", "raking",
                                 "--margins", "sex,age_group", "--ci", "logit", "--level", "0.95",
                                 "--target", "0.8", "--min-cell", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "权数：命令行指定的设置（与本轮保存的发布口径不同）：边际迭代（raking），按性别、年龄组"
        in (result.output)
    )
    _assert_same(_weights(out.read_bytes()), defaults)
    # --settings default: the same, without naming each one.
    out = tmp_path / "default.xlsx"
    result = runner.invoke(args=["export", *wave, "--format", "xlsx", "--output", str(out),
                                 "--settings", "default"])  # fmt: skip
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
    assert "权数口径：命令行指定的设置（与本轮保存的发布口径不同）" in note
    labels = {r[0]: r[1] for r in book["变量说明"].iter_rows(values_only=True)}
    assert labels["weight"] == "加权权数（边际迭代：性别、年龄组；命令行所选，非本轮发布口径）"
    book.close()
    # One option: the rest stay the saved ones (post-stratified by age group, 3 per cell).
    out = tmp_path / "level.csv"
    result = runner.invoke(args=["export", *wave, "--output", str(out), "--level", "0.99"])
    assert result.exit_code == 0, result.output
    _assert_same(_weights(out.read_bytes()), _page_weights(app, demo_wave, CHOSEN_SETTINGS))
    exported = [e.detail["settings"] for e in _events(app, "export")]
    assert exported[0].startswith("命令行指定的设置（与本轮保存的发布口径不同）：边际迭代")
    assert exported[2] == ("命令行指定的设置（与本轮保存的发布口径不同）：事后分层，按年龄组；"
                           "加权单元最少 3 人；beta 置信区间，99%；目标 85%")  # fmt: skip

    docx = tmp_path / "report.docx"
    result = runner.invoke(args=["report", *wave, "--output", str(docx), "--weighting", "none",
                                 "--target", "0.9"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "加权和估计：命令行指定的设置（与本轮保存的发布口径不同）：不加权" in result.output
    text = "\n".join(p.text for p in Document(str(docx)).paragraphs)
    method = text[text.index("加权方法") : text.index("二、")]
    assert "仅使用设计权数" in method, method
    assert "90% 置信区间" in method and "下限不低于 90%" in method, method
    # Options equal to the saved settings are the saved settings.
    result = runner.invoke(args=["report", *wave, "--output", str(docx), "--ci", "beta"])
    assert result.exit_code == 0 and "加权和估计：本轮保存的发布口径：事后分层" in result.output
    reports = [e.detail["settings"] for e in _events(app, "report")]
    assert reports[0].startswith("命令行指定的设置（与本轮保存的发布口径不同）：不加权")
    assert reports[1].startswith("本轮保存的发布口径：事后分层")


def test_cli_options_on_a_wave_without_saved_settings(app, runner, demo_wave, tmp_path):
    _fill(app)
    out = tmp_path / "ps.csv"
    args = ["export", "--wave-id", str(demo_wave), "--output", str(out)]
    result = runner.invoke(args=[*args, "--weighting", "poststratify", "--margins", "年龄组"])
    assert result.exit_code == 0, result.output
    assert "命令行指定的设置（本轮尚未保存发布口径）：事后分层，按年龄组" in result.output
    chosen = Settings(weighting="poststratify", margins=("age_group",))
    _assert_same(_weights(out.read_bytes()), _page_weights(app, demo_wave, chosen))
    result = runner.invoke(args=[*args, "--settings", "default"])
    assert result.exit_code == 0 and "权数：默认设置（本轮尚未保存发布口径）" in result.output


@pytest.mark.parametrize("command", ["export", "report"])
@pytest.mark.parametrize(
    "options,message",
    [
        (["--weighting", "rake"], "加权方法“rake”无效"),
        (["--margins", "sex,income"], "加权变量“income”无效"),
        (["--margins", ""], "设置不完整，缺少加权变量"),
        (["--ci", "normal"], "置信区间方法“normal”无效"),
        (["--level", "95"], "置信水平“95”应在 0.5–0.999 之间"),
        (["--target", "80%"], "目标值“80%”应在 0–1 之间"),
        (["--min-cell", "2.5", "--weighting", "x"], "加权单元最少人数“2.5”应为 1–50 的整数"),
    ],
)
def test_bad_cli_settings_are_refused_before_anything_is_written(
    app, runner, demo_wave, tmp_path, command, options, message
):
    _fill(app, n_per_district=2)
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / ("out.docx" if command == "report" else "out.csv")
    result = runner.invoke(
        args=[command, "--wave-id", str(demo_wave), "--output", str(output), *options]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert ("未生成：" if command == "report" else "未导出：") in result.output
    assert list((tmp_path / "out").iterdir()) == []
    assert _events(app, command) == []


def test_unticking_every_margin_says_the_saved_ones_are_kept(app, demo_wave):
    """Every margin unticked: the page weighted by the saved margins without a
    word, as if they were ticked."""
    _fill(app)
    client = _statistician(app)
    assert _save_from_page(client, demo_wave, CHOSEN).status_code == 302
    query = "weighting=raking&ci=logit&level=0.95&target=0.8&min_cell=1"
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{query}").get_data(as_text=True)
    assert "未勾选任何加权变量，仍按本轮发布口径的加权变量（年龄组）加权" in page
    assert 'value="age_group" checked' in page
    # Without weighting, margins are not asked for.
    query = "weighting=none&ci=logit&level=0.95&target=0.8&min_cell=1"
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{query}").get_data(as_text=True)
    assert "未勾选任何加权变量" not in page


def test_without_weighting_margins_do_not_make_settings_differ(app, demo_wave):
    """Saved without weighting, the page then sent other margins (or another
    smallest cell): it said the settings differed from the saved ones and the
    exports were labelled 非本轮发布口径, although nothing weighted by them."""
    _fill(app)
    client = _statistician(app)
    saved = "weighting=none&margins=sex&ci=logit&level=0.95&target=0.8&min_cell=1"
    assert _save_from_page(client, demo_wave, saved).status_code == 302
    shown = "weighting=none&margins=age_group&margins=urban_rural&ci=logit&level=0.95&target=0.8"
    page = client.get(f"/staff/waves/{demo_wave}/estimates?{shown}&min_cell=7")
    page = page.get_data(as_text=True)
    assert "本页显示的是本轮保存的发布口径" in page and "将当前设置保存为发布口径" not in page
    own = _form(page, f"/staff/waves/{demo_wave}/exports/microdata.xlsx")
    xlsx = _download(client, f"/staff/waves/{demo_wave}/exports/microdata.xlsx", own)
    book = load_workbook(io.BytesIO(xlsx))
    note = "\n".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True))
    assert "权数口径：本轮保存的发布口径。" in note
    assert Settings("none", ("sex",)) == Settings("none", ("urban_rural",), min_cell=5)
    assert Settings("raking", ("sex",)) != Settings("raking", ("age_group",))


def test_cli_export_says_when_the_file_has_no_weights(app, runner, demo_wave, tmp_path):
    """Weighting by a margin the frame lacks: the file was written without a
    weight variable and the command said only 已导出, as if weighted."""
    from survey.operations.frames import import_frame

    lines = (DEMO_DIR / "xianning_frame.csv").read_text(encoding="utf-8").splitlines()
    totals: dict[tuple, int] = {}
    for row in csv.DictReader(lines):
        key = (row["district"], row["sex"], row["age_group"])
        totals[key] = totals.get(key, 0) + int(row["population"])
    frame = "district,sex,age_group,population\n" + "".join(
        f"{d},{s},{a},{n}\n" for (d, s, a), n in totals.items()
    )
    with app.app_context():
        import_frame(db.session.get(Wave, demo_wave), frame.encode(), "frame.csv")
    _fill(app, n_per_district=2)
    out = tmp_path / "out.csv"
    args = ["export", "--wave-id", str(demo_wave), "--output", str(out)]
    result = runner.invoke(args=[*args, "--margins", "sex,urban_rural"])
    assert result.exit_code == 0, result.output
    assert "注意：文件中没有权数变量（无法加权" in result.output and "urban_rural" in result.output
    assert "weight" not in out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    result = runner.invoke(args=[*args, "--weighting", "none"])
    assert result.exit_code == 0 and "没有权数变量" not in result.output


def test_the_form_takes_every_level_and_target_the_page_accepts(app, demo_wave):
    """The level field's step of 0.01 from 0.5 made a browser refuse 0.999 (the
    field's own maximum, which the server takes) and 0.975, and refuse to send the
    form at all while it showed such a value (opened from a link with it)."""
    import re
    from decimal import Decimal

    client = app.test_client()
    log_in(client, make_user(app, "stat", "statistician"))
    page = client.get(f"/staff/waves/{demo_wave}/estimates?level=0.975&target=0.855")
    html = page.get_data(as_text=True)
    for name, values in (("level", ["0.5", "0.9", "0.95", "0.975", "0.99", "0.999"]),
                         ("target", ["0.01", "0.8", "0.85", "0.855", "0.99"])):  # fmt: skip
        field = re.search(rf'<input type="number" name="{name}"[^>]*>', html).group(0)
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', field))
        low, high, step = (Decimal(attrs[k]) for k in ("min", "max", "step"))
        # A browser's rule: min ≤ value ≤ max and (value − min) a whole number of steps.
        for value in [*values, attrs["value"]]:
            assert low <= Decimal(value) <= high, (name, value)
            assert (Decimal(value) - low) % step == 0, (name, value)
