"""Population frame import (all or nothing), quota allocation and target edits."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent, PopulationCell, QuotaCell, QuotaPlan, Wave
from survey.operations.frames import FrameError, import_frame
from survey.operations.quotas import make_plan, set_target
from survey.paths import DEMO_DIR

FRAME = (DEMO_DIR / "xianning_frame.csv").read_text(encoding="utf-8")


def _wave(app, wave_id):
    return db.session.get(Wave, wave_id)


def _import(app, wave_id, text, name="frame.csv", encoding="utf-8"):
    with app.app_context():
        return import_frame(_wave(app, wave_id), text.encode(encoding), name)


def _cells(app, wave_id):
    with app.app_context():
        return db.session.scalar(select(func.count(PopulationCell.id)).filter_by(wave_id=wave_id))


def test_demo_frame_follows_the_census(app, demo_wave):
    with app.app_context():
        totals = dict(
            db.session.execute(
                select(PopulationCell.district, func.sum(PopulationCell.population))
                .where(PopulationCell.wave_id == demo_wave)
                .group_by(PopulationCell.district)
            ).all()
        )
    assert totals["咸安区"] == round(657_600 * 0.82)
    assert totals["嘉鱼县"] == round(285_600 * 0.82)
    assert _cells(app, demo_wave) == 6 * 2 * 5 * 2


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("咸安区,男,18-29岁,城镇", "武汉市,男,18-29岁,城镇", 1),
            "区县“武汉市”不认识",
        ),
        (lambda t: t.replace(",23963", ",-5", 1), "不能为负数"),
        (lambda t: t.replace(",23963", ",很多", 1), "不是数字"),
        (lambda t: t.replace(",23963", ",12.5", 1), "应为整数"),
        (lambda t: t + "咸安区,男,18-29岁,城镇,100\n", "重复"),
        (
            lambda t: "\n".join(t.splitlines()[:-1]) + "\n",
            "缺少单元：嘉鱼县 / 女 / 60岁及以上 / 农村",
        ),
        (lambda t: t.replace("population", "人数", 1), "缺少列：population"),
        (
            lambda t: t.replace(",男,18-29岁,城镇,23963", ",M,18-29岁,城镇,23963", 1),
            "性别“M”不认识",
        ),
        (lambda t: "", "文件为空"),
        # Tables that do not add up (imported before, the quotas and weights following them):
        (
            lambda t: t.replace(",23963", ",23963000", 1),  # three zeros too many
            "咸安区：成年人口合计 24,478,269 超过该区县常住人口 657,600",
        ),
        (
            lambda t: re.sub(r"^(嘉鱼县,.*),\d+$", r"\1,0", t, flags=re.M),
            "嘉鱼县：各单元人口数合计为 0",
        ),
    ],
)
def test_bad_frame_changes_nothing(app, demo_wave, edit, message):
    before = _cells(app, demo_wave)
    with pytest.raises(FrameError) as info:
        _import(app, demo_wave, edit(FRAME))
    assert any(message in p for p in info.value.problems), info.value.problems
    assert _cells(app, demo_wave) == before


def test_every_problem_listed_with_line_numbers(app, demo_wave):
    text = FRAME.replace(",23963", ",-5", 1).replace("赤壁市,女", "赤壁,女", 1)
    with pytest.raises(FrameError) as info:
        _import(app, demo_wave, text)
    joined = "\n".join(info.value.problems)
    assert "第 2 行" in joined and "赤壁" in joined


def test_chinese_headers_gb18030_and_xlsx(app, demo_wave):
    chinese = FRAME.replace(
        "district,sex,age_group,urban_rural,population", "区县,性别,年龄组,城乡,人口数"
    )
    assert _import(app, demo_wave, chinese, encoding="gb18030") == 120
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in FRAME.splitlines():
        parts = line.split(",")
        sheet.append(parts[:4] + [int(parts[4]) if parts[4].isdigit() else parts[4]])
    buf = io.BytesIO()
    book.save(buf)
    with app.app_context():
        assert import_frame(_wave(app, demo_wave), buf.getvalue(), "frame.xlsx") == 120
        assert (
            db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="frame_import"))
            >= 2
        )


def test_plan_from_total_preserves_totals_and_minimums(app, demo_wave):
    with app.app_context():
        plan = make_plan(_wave(app, demo_wave), total=1000, min_per_district=150)
        assert plan.total == 1000 and min(plan.per_district.values()) >= 150
        targets = dict(
            db.session.execute(
                select(QuotaCell.district, func.sum(QuotaCell.target))
                .where(QuotaCell.wave_id == demo_wave)
                .group_by(QuotaCell.district)
            ).all()
        )
        assert targets == plan.per_district
        assert sum(targets.values()) == 1000
        assert db.session.get(QuotaPlan, demo_wave).min_per_district == 150


def test_target_edit_is_audited(app, demo_wave):
    with app.app_context():
        cell = db.session.scalar(select(QuotaCell).filter_by(wave_id=demo_wave).limit(1))
        old = cell.target
        set_target(cell.id, old + 7)
        event = db.session.scalar(select(AuditEvent).filter_by(action="quota_change"))
        assert event.detail["old"] == old and event.detail["new"] == old + 7


def test_cli_import_and_plan(app, runner, demo_wave, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("district,sex\n咸安区,男\n", encoding="utf-8")
    result = runner.invoke(args=["import-frame", "--wave-id", str(demo_wave), str(bad)])
    assert result.exit_code != 0 and "缺少列" in result.output
    good = DEMO_DIR / "xianning_frame.csv"
    result = runner.invoke(args=["import-frame", "--wave-id", str(demo_wave), str(good)])
    assert result.exit_code == 0 and "已导入 120 个人口单元" in result.output
    result = runner.invoke(args=["plan-quotas", "--wave-id", str(demo_wave), "--total", "1200",
                                 "--min-per-district", "150"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "合计 1200" in result.output


def test_a_file_that_is_not_xlsx_says_what_to_do(app, demo_wave):
    """An .xls or broken file named .xlsx gave "无法读取 Excel 文件：File is not a zip file"."""
    with app.app_context():
        with pytest.raises(FrameError) as refused:
            import_frame(_wave(app, demo_wave), b"\xd0\xcf\x11\xe0 old xls", "frame.xlsx")
    (message,) = refused.value.problems
    assert message.startswith("无法读取 Excel 文件：它不是有效的 .xlsx") and "另存为" in message


def test_a_workbook_with_a_notes_sheet_first_is_read_from_its_data_sheet(app, demo_wave):
    """A workbook whose first sheet is 说明 gave "缺少列：district, sex, age_group,
    population", naming no sheet; the sheet with the columns is now found, and when
    none has them the message names the sheets looked at."""
    from openpyxl import Workbook

    def workbook(with_data: bool) -> bytes:
        book = Workbook()
        book.active.title = "说明"
        book.active.append(["本表为 2020 年人口普查常住人口（18 岁及以上）"])
        data = book.create_sheet("数据")
        for line in FRAME.splitlines() if with_data else ["区县,人数"]:
            parts = line.split(",")
            data.append([int(p) if p.isdigit() else p for p in parts])
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    with app.app_context():
        assert import_frame(_wave(app, demo_wave), workbook(True), "frame.xlsx") == 120
        with pytest.raises(FrameError) as refused:
            import_frame(_wave(app, demo_wave), workbook(False), "frame.xlsx")
    (message,) = refused.value.problems
    assert "缺少列" in message and "“说明”、“数据”" in message


def test_plan_quotas_refuses_both_a_total_and_sizes_per_district(app, runner, demo_wave):
    """--total 1200 --per-district 250 made a plan of 6 × 250 = 1,500, --total
    silently ignored, and replaced the plan there was."""
    with app.app_context():
        before = db.session.scalar(select(func.sum(QuotaCell.target)).filter_by(wave_id=demo_wave))
    result = runner.invoke(args=["plan-quotas", "--wave-id", str(demo_wave), "--total", "1200",
                                 "--per-district", "250"])  # fmt: skip
    assert result.exit_code != 0 and "只能给一个" in result.output and "未生成配额" in result.output
    with app.app_context():
        after = db.session.scalar(select(func.sum(QuotaCell.target)).filter_by(wave_id=demo_wave))
    assert after == before != 1500


def test_the_plan_forms_sizes_carry_the_servers_limit(app, demo_wave):
    """总样本量, 每个区县最少 and the per-district sizes had no max while the
    server refuses more than MAX_SAMPLE: the fields carry the same limit, and
    above it the server refuses in Chinese and keeps the plan."""
    from survey.operations.quotas import MAX_SAMPLE
    from tests.conftest import form_tokens
    from tests.staff import log_in, make_user

    client = app.test_client()
    log_in(client, make_user(app, "org", "organizer"))
    url = f"/staff/waves/{demo_wave}/quotas"
    page = client.get(url).get_data(as_text=True)
    limited = re.findall(rf'<input type="number" name="([^"]+)" min="\d" max="{MAX_SAMPLE}"', page)
    sizes = [name for name in limited if name.startswith("size_")]
    assert {"total", "min_per_district"} <= set(limited) and len(sizes) == 6, limited
    with app.app_context():
        before = db.session.get(QuotaPlan, demo_wave)
        total, per_district = before.total, dict(before.per_district)
    csrf = form_tokens(page)["csrf_token"]
    above = str(MAX_SAMPLE + 1)
    refused = client.post(f"{url}/plan", data={"csrf_token": csrf, "mode": "total",
                                               "total": above, "min_per_district": "0",
                                               **{s: "" for s in sizes}},
                          follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"总样本量 {above} 过大：最多 {MAX_SAMPLE:,}。" in refused
    refused = client.post(f"{url}/plan", data={"csrf_token": csrf, "mode": "per_district",
                                               "total": str(total), "min_per_district": "0",
                                               sizes[0]: above},
                          follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"各区县样本量 {above} 过大：最多 {MAX_SAMPLE:,}。" in refused
    refused = client.post(f"{url}/plan", data={"csrf_token": csrf, "mode": "total",
                                               "total": str(total), "min_per_district": above},
                          follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"每个区县最少样本量 {above} 过大：最多 {MAX_SAMPLE:,}。" in refused
    with app.app_context():
        after = db.session.get(QuotaPlan, demo_wave)
        assert (after.total, after.per_district) == (total, per_district)
        assert (
            sum(db.session.scalars(select(QuotaCell.target).filter_by(wave_id=demo_wave))) == total
        )
