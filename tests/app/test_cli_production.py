"""Setting up a city from the command line, and QR codes in production mode.

The last test walks the README's first-run checklist (section "Production") in
production mode: commands through the CLI, the rest through the staff pages.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey import create_app
from survey.extensions import db
from survey.models import (
    AuditEvent,
    Channel,
    City,
    District,
    PopulationCell,
    QuestionnaireVersion,
    QuotaCell,
    Wave,
)
from survey.operations.demo import DISTRICTS
from survey.paths import DEMO_DIR
from survey.qrcodes import PublicUrlError, public_base_url
from tests.conftest import app_config, close_app, form_tokens

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production(database_url, tmp_path):
    """An app in production mode (no SURVEY_PUBLIC_URL unless a test sets one)."""
    made = []

    def make(**settings):
        config = {**app_config(database_url, tmp_path), "ENV": "production", "PUBLIC_URL": None}
        app = create_app({**config, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (City, District, AuditEvent)
        )


def _districts(app, city: str) -> list[tuple[str, int | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(District.name, District.census_population)
            .join(City)
            .where(City.name == city)
            .order_by(District.sort_order)
        )
        return [tuple(row) for row in rows]


# --- survey create-city ---------------------------------------------------------------


def test_create_city_from_options(app, runner):
    result = runner.invoke(
        args=["create-city", "咸宁市", "--province", "湖北省",
              "--district", "咸安区=657600", "--district", " 赤壁市 = 470,400 "]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已创建城市 湖北省 咸宁市，2 个区县" in result.output
    assert "咸安区\t657600" in result.output and "人口合计 1128000" in result.output
    assert _districts(app, "咸宁市") == [("咸安区", 657600), ("赤壁市", 470400)]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).filter_by(action="city_create"))
        assert event.actor_name == "cli"
        assert event.detail == {
            "name": "咸宁市", "province": "湖北省", "districts": 2, "population": 1128000,
        }  # fmt: skip


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("utf8.csv", "区县,人口数\n咸安区,\"657,600\"\n赤壁市,470400\n".encode("utf-8-sig")),
        ("gbk.csv", "咸安区,657600\r\n\r\n赤壁市,470400\r\n".encode("gb18030")),
        ("english.csv", b"population,district\n657600,\xe5\x92\xb8\xe5\xae\x89\xe5\x8c\xba\n"
                        b"470400,\xe8\xb5\xa4\xe5\xa3\x81\xe5\xb8\x82\n"),
    ],
)  # fmt: skip
def test_create_city_from_csv_file(app, runner, tmp_path, filename, data):
    """UTF-8 (BOM) with a Chinese header, GB18030 without one, columns in either order."""
    path = tmp_path / filename
    path.write_bytes(data)
    result = runner.invoke(
        args=["create-city", "咸宁市", "--province", "湖北省", "--districts-file", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert _districts(app, "咸宁市") == [("咸安区", 657600), ("赤壁市", 470400)]


def test_create_city_from_xlsx_file(app, runner, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    for row in (["区县名称", "人口"], ["咸安区", 657600], ["赤壁市", 470400.0]):
        book.active.append(row)
    path = tmp_path / "districts.xlsx"
    book.save(path)
    result = runner.invoke(
        args=["create-city", "咸宁市", "--province", "湖北省", "--districts-file", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert _districts(app, "咸宁市") == [("咸安区", 657600), ("赤壁市", 470400)]


OK = ["--district", "咸安区=657600"]


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (["--province", "湖北省", *OK], ["请填写城市名称"]),
        (["咸宁市", *OK], ["请填写省份"]),
        (["  ", "--province", " ", *OK], ["请填写城市名称", "请填写省份"]),
        (["咸宁市", "--province", "湖北省"], ["至少需要一个区县", "--district 区县=人口"]),
        (["咸宁市", "--province", "湖北省", *OK, "--district", "咸安区=1"],
         ["--district 咸安区=1：区县“咸安区”重复"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区=0"], ["“0”应为正整数"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区=-5"], ["“-5”应为正整数"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区=1.5"], ["“1.5”应为正整数"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区=很多"], ["“很多”应为正整数"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区=inf"], ["“inf”应为正整数"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区="], ["缺少人口数"]),
        (["咸宁市", "--province", "湖北省", "--district", "咸安区"], ["应写成 区县=人口"]),
        (["咸宁市", "--province", "湖北省", "--district", "=5"], ["缺少区县名称"]),
        (["咸宁市", "--province", "湖北省", "--district", "区" * 101 + "=5"],
         ["区县名称太长"]),
        (["市" * 101, "--province", "湖北省", *OK], ["城市名称“", "太长"]),
    ],
)  # fmt: skip
def test_create_city_refuses_bad_input_and_writes_nothing(app, runner, args, messages):
    before = _counts(app)
    result = runner.invoke(args=["create-city", *args])
    assert result.exit_code == 1, result.output
    assert "未创建" in result.output
    for message in messages:
        assert message in result.output
    assert _counts(app) == before


def test_create_city_lists_every_problem_at_once(app, runner):
    result = runner.invoke(
        args=["create-city", "咸宁市", "--district", "咸安区=0", "--district", "咸安区=3"]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "Error: 未创建：" in lines
    assert "请填写省份，例如 湖北省。" in lines
    assert "--district 咸安区=0：人口数“0”应为正整数。" in lines
    assert "--district 咸安区=3：区县“咸安区”重复（先见于 --district 咸安区=0）。" in lines


def test_create_city_refuses_an_existing_city(app, runner):
    first = runner.invoke(args=["create-city", "咸宁市", "--province", "湖北省", *OK])
    assert first.exit_code == 0, first.output
    before = _counts(app)
    again = runner.invoke(
        args=["create-city", "咸宁市", "--province", "湖北省", "--district", "嘉鱼县=285600"]
    )
    assert again.exit_code == 1
    assert "城市“咸宁市”已存在，未做任何修改。" in again.output
    assert _counts(app) == before
    assert _districts(app, "咸宁市") == [("咸安区", 657600)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "为空"),
        (b"\xff\xfe\x00\xd8 not text", "文件编码无法识别"),
        ("区县,人数\n咸安区,5\n".encode(), "表头需要两列"),
        ("区县,人口数\n".encode(), "只有表头"),
        ("区县,人口数\n咸安区,5\n赤壁市,\n咸安区,7\n".encode(),
         "第 3 行：缺少人口数。\n第 4 行：区县“咸安区”重复（先见于 第 2 行）。"),
    ],
)  # fmt: skip
def test_create_city_refuses_a_bad_file_and_writes_nothing(app, runner, tmp_path, data, message):
    path = tmp_path / "districts.csv"
    path.write_bytes(data)
    before = _counts(app)
    result = runner.invoke(
        args=["create-city", "咸宁市", "--province", "湖北省", "--districts-file", str(path)]
    )
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert _counts(app) == before


def test_create_city_refuses_options_and_file_together(app, runner, tmp_path):
    path = tmp_path / "districts.csv"
    path.write_text("咸安区,657600\n", encoding="utf-8")
    result = runner.invoke(
        args=["create-city", "咸宁市", "--province", "湖北省", *OK, "--districts-file", str(path)]
    )
    assert result.exit_code == 1 and "只用一种方式" in result.output
    assert _counts(app)[0] == 0


def test_create_city_shows_at_most_twenty_problems(app, runner):
    args = [arg for i in range(25) for arg in ("--district", f"区{i}=0")]
    result = runner.invoke(args=["create-city", "咸宁市", "--province", "湖北省", *args])
    assert result.exit_code == 1
    assert "--district 区19=0" in result.output and "--district 区20=0" not in result.output
    assert "……另有 5 处问题。" in result.output


# --- survey qrcodes and the public URL -----------------------------------------------


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("https://survey.example.cn", "https://survey.example.cn"),
        ("  https://survey.example.cn/  ", "https://survey.example.cn"),
        ("HTTPS://survey.example.cn:8443", "https://survey.example.cn:8443"),
        ("http://192.168.1.20:5000/", "http://192.168.1.20:5000"),
    ],
)
def test_public_base_url_keeps_scheme_host_and_port(given, base):
    assert public_base_url(given) == base


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("survey.example.cn", "应以 https:// 或 http:// 开头"),
        ("ftp://survey.example.cn", "应以 https:// 或 http:// 开头"),
        ("https://", "应以 https:// 或 http:// 开头"),
        ("https://survey.example.cn/eco", "不能带路径"),
        ("https://survey.example.cn/?a=1", "不能带路径"),
        ("https://survey.example.cn/#x", "不能带路径"),
        ("https://user@survey.example.cn", "不能带路径"),
        ("https://survey.example.cn:port", "无效"),
    ],
)
def test_public_base_url_refuses_what_a_poster_cannot_use(given, message):
    with pytest.raises(PublicUrlError, match=message):
        public_base_url(given)


def _prepare_wave(app) -> int:
    from survey.operations.demo import setup_demo

    with app.app_context():
        return setup_demo().id


def test_qrcodes_refused_in_production_without_a_public_url(production, tmp_path):
    app = production()
    _prepare_wave(app)
    out = tmp_path / "codes"
    result = app.test_cli_runner().invoke(args=["qrcodes", "--out", str(out)])
    assert result.exit_code == 1
    assert "生产模式下必须给出二维码中的公开网址" in result.output
    assert "--public-url" in result.output and "SURVEY_PUBLIC_URL" in result.output
    assert not out.exists()


def test_qrcodes_in_production_use_survey_public_url(production, tmp_path):
    app = production(PUBLIC_URL="https://survey.example.cn/")
    _prepare_wave(app)
    out = tmp_path / "codes"
    result = app.test_cli_runner().invoke(args=["qrcodes", "--out", str(out)])
    assert result.exit_code == 0, result.output
    urls = re.findall(r"\S+/s/\S+", result.output)
    assert len(urls) == 6
    assert all(re.fullmatch(r"https://survey\.example\.cn/s/[\w-]+", url) for url in urls), urls
    assert len(list(out.glob("*.png"))) == 6
    assert "注意" not in result.output


def test_qrcodes_option_wins_over_the_setting(production, tmp_path):
    app = production(PUBLIC_URL="https://old.example.cn")
    _prepare_wave(app)
    result = app.test_cli_runner().invoke(
        args=["qrcodes", "--out", str(tmp_path / "c"), "--public-url", "https://new.example.cn"]
    )
    assert result.exit_code == 0, result.output
    assert "https://new.example.cn/s/" in result.output and "old.example.cn" not in result.output


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        (["--public-url", "survey.example.cn"], {}, "--public-url：网址“survey.example.cn”应以"),
        (["--public-url", "https://a.cn/eco/"], {}, "不能带路径"),
    ],
)
# A bad SURVEY_PUBLIC_URL stops the app at start (tests/app/test_config.py).
def test_qrcodes_refuse_a_bad_public_url_and_write_nothing(
    production, tmp_path, args, settings, message
):
    app = production(**settings)
    _prepare_wave(app)
    out = tmp_path / "codes"
    result = app.test_cli_runner().invoke(args=["qrcodes", "--out", str(out), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert not out.exists()


def test_qrcodes_over_plain_http_in_production_warn(production, tmp_path):
    app = production()
    _prepare_wave(app)
    result = app.test_cli_runner().invoke(
        args=["qrcodes", "--out", str(tmp_path / "c"), "--public-url", "http://10.0.0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "宜以 https:// 开头" in result.stderr
    assert "http://10.0.0.5/s/" in result.output


def test_qrcodes_in_development_still_default_to_this_machine(app, runner, demo_wave, tmp_path):
    result = runner.invoke(args=["qrcodes", "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/s/" in result.output


def test_demo_refuses_a_bad_public_url_before_writing(app, runner):
    result = runner.invoke(args=["demo", "--no-serve", "--public-url", "192.168.1.2:5000"])
    assert result.exit_code == 1 and "应以 https:// 或 http:// 开头" in result.output
    assert _counts(app)[0] == 0


# --- the README's first-run checklist, in production mode -----------------------------


def test_first_run_checklist_in_production(production, tmp_path):
    """db-upgrade, create-user, create-city, load-questionnaire, then the staff pages:
    new wave, population frame, quotas, channels and posters, and ``survey qrcodes``."""
    app = production()
    cli = app.test_cli_runner()
    districts = tmp_path / "districts.csv"
    districts.write_text(
        "区县,人口数\n" + "".join(f"{name},{n}\n" for name, n in DISTRICTS), encoding="utf-8"
    )
    steps = [
        (["db-upgrade"], None),
        (["create-user", "admin", "--role", "administrator", "--password-stdin"],
         "a-long-admin-password\n"),
        (["create-city", "咸宁市", "--province", "湖北省", "--districts-file", str(districts)],
         None),
        (["load-questionnaire", str(ROOT / "questionnaires" / "standard.yaml")], None),
    ]  # fmt: skip
    outputs = []
    for args, given in steps:
        result = cli.invoke(args=args, input=given)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    from survey.migrate import MIGRATIONS

    head = max(p.name[:4] for p in (MIGRATIONS / "versions").glob("0*.py"))
    assert f"版本 {head}" in outputs[0] or f"升级到 {head}" in outputs[0]  # says what it did
    again = cli.invoke(args=["db-upgrade"]).output
    assert again.strip() == f"数据库已是最新结构（版本 {head}），无需升级。"

    # The staff pages, over HTTPS as in production (Secure cookies; the CSRF check
    # compares the Referer with the host).
    client = app.test_client()
    site = "https://survey.example.cn"

    def get(path):
        response = client.get(path, base_url=site)
        assert response.status_code == 200, path
        return response.get_data(as_text=True)

    def post(path, data, **kwargs):
        page = get(kwargs.pop("form", path))
        data = {**data, "csrf_token": form_tokens(page)["csrf_token"]}
        response = client.post(
            path, data=data, base_url=site, headers={"Referer": site + path}, **kwargs
        )
        assert response.status_code == 302, (path, response.get_data(as_text=True))
        return response

    post("/staff/login", {"username": "admin", "password": "a-long-admin-password"})
    with app.app_context():
        city_id = db.session.scalar(select(City.id))
        version_id = db.session.scalar(select(QuestionnaireVersion.id))
    post("/staff/admin/waves/new", form="/staff/admin/waves",
         data={"city_id": city_id, "questionnaire_id": version_id, "name": "2027年度",
               "quota_policy": "close"})  # fmt: skip
    with app.app_context():
        wave_id = db.session.scalar(select(Wave.id).filter_by(city_id=city_id, name="2027年度"))
    frame = (DEMO_DIR / "xianning_frame.csv").read_bytes()
    post(f"/staff/waves/{wave_id}/frame",
         data={"file": (io.BytesIO(frame), "xianning_frame.csv")},
         content_type="multipart/form-data")  # fmt: skip
    post(f"/staff/waves/{wave_id}/quotas/plan", form=f"/staff/waves/{wave_id}/quotas",
         data={"mode": "total", "total": "1800", "min_per_district": "100"})  # fmt: skip
    with app.app_context():
        district_ids = list(db.session.scalars(select(District.id).filter_by(city_id=city_id)))
    for district_id in district_ids:
        post(f"/staff/waves/{wave_id}/channels/new", form=f"/staff/waves/{wave_id}/channels",
             data={"district_id": district_id, "label": "社区海报"})  # fmt: skip
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PopulationCell)) == 120
        assert db.session.scalar(select(func.sum(QuotaCell.target))) == 1800
        assert db.session.scalar(select(func.count()).select_from(Channel)) == 6
    assert get(f"/staff/waves/{wave_id}/posters").count(f"{site}/s/") >= 6

    out = tmp_path / "codes"
    result = cli.invoke(
        args=["qrcodes", "--wave-id", str(wave_id), "--public-url", site, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count(f"{site}/s/") == 6
    assert (out / "posters.html").exists()
