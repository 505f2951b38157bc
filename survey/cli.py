"""Command-line interface ``survey <command>``: thin wrappers around operations."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from survey import migrate


def needs_schema(command: Callable) -> Callable:
    """Run *command* only on a database with this code's structure: before
    ``survey db-upgrade`` (a new installation's first step, or after upgrading
    the code) every command ended in a traceback (no such table: staff_user)."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        url = current_app.config["DATABASE_URL"]
        current, latest = migrate.current_revision(url), migrate.head_revision()
        if current is None:
            raise click.ClickException(
                "数据库中还没有表：请先运行 survey db-upgrade（新安装的第一步），再运行本命令。"
            )
        if current != latest:
            raise click.ClickException(
                f"数据库结构是版本 {current}，本程序需要 {latest}：请先运行 survey db-upgrade"
                "（升级正在使用的数据库前请先备份），再运行本命令。"
            )
        return command(*args, **kwargs)

    return checked


@click.command("db-upgrade")
@with_appcontext
def db_upgrade() -> None:
    """创建或升级数据库结构（Alembic 迁移）。"""
    url = current_app.config["DATABASE_URL"]
    before = migrate.current_revision(url)
    migrate.upgrade(url)
    after = migrate.current_revision(url)
    if before == after:
        click.echo(f"数据库已是最新结构（版本 {after}），无需升级。")
    else:
        click.echo(f"数据库结构已从版本 {before or '（空库）'} 升级到 {after}。")


@click.command("load-questionnaire")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@needs_schema
def load_questionnaire_cmd(path: Path) -> None:
    """校验并导入问卷定义文件（YAML）。有任何错误时不导入。"""
    from questionnaires import QuestionnaireError, load_questionnaire
    from survey.extensions import db
    from survey.models import QuestionnaireVersion
    from survey.operations.errors import OperationError
    from survey.operations.questionnaires import register_questionnaire

    try:
        q = load_questionnaire(path)
        before = db.session.scalar(
            select(QuestionnaireVersion.content_hash).filter_by(slug=q.id, version=q.version)
        )
        version = register_questionnaire(q, actor_name="cli")
    except (QuestionnaireError, OperationError) as exc:
        raise click.ClickException(f"未导入：\n{exc}") from exc
    if before is None:
        click.echo(f"已导入问卷 {version.slug} 第 {version.version} 版：{version.title}")
    elif before == q.content_hash:
        click.echo(f"问卷 {version.slug} 第 {version.version} 版已导入过，内容相同，没有改动。")
    else:  # nobody has answered it yet (register_questionnaire refuses otherwise)
        click.echo(
            f"已用文件中的新内容替换问卷 {version.slug} 第 {version.version} 版"
            f"（此版本尚无答卷）：{version.title}"
        )
    for warning in q.warnings:
        click.echo(f"注意：{warning}")


SHOWN_PROBLEMS = 20  # a wrong file would otherwise flood the terminal


@click.command("create-city")
@click.argument("name", required=False, default="")
@click.option("--province", default="", help="省份，例如 湖北省")
@click.option("--district", "districts", multiple=True, metavar="区县=人口",
              help="一个区县及其人口数，例如 --district 咸安区=657600；可多次指定")  # fmt: skip
@click.option("--districts-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="区县文件（CSV 或 XLSX）：两列，区县、人口数；表头可有可无")  # fmt: skip
@with_appcontext
@needs_schema
def create_city_cmd(name: str, province: str, districts: tuple[str, ...], districts_file) -> None:
    """创建城市及其区县（区、县、县级市）和各区县人口数。有任何错误时不创建。"""
    from survey.operations.cities import CityError, add_city
    from survey.operations.district_file import read_districts_file

    if districts and districts_file:
        raise click.ClickException("请只用一种方式给出区县：--district 或 --districts-file。")
    try:
        if districts_file:
            entries = read_districts_file(districts_file.read_bytes(), districts_file.name)
        else:
            entries = [_district_option(text) for text in districts]
        city = add_city(name, province, entries, actor_name="cli")
    except CityError as exc:
        given = districts or districts_file
        hint = (
            []
            if given
            else ["用 --district 区县=人口（可多次）或 --districts-file 文件 给出区县。"]
        )
        problems = exc.problems[:SHOWN_PROBLEMS]
        if len(exc.problems) > SHOWN_PROBLEMS:
            problems.append(f"……另有 {len(exc.problems) - SHOWN_PROBLEMS} 处问题。")
        raise click.ClickException("未创建：\n" + "\n".join([*problems, *hint])) from exc
    click.echo(f"已创建城市 {city.province} {city.name}，{len(city.districts)} 个区县：")
    for district in city.districts:
        click.echo(f"  {district.name}\t{district.census_population}")
    click.echo(f"人口合计 {sum(d.census_population or 0 for d in city.districts)}")


def _district_option(text: str):
    from survey.operations.cities import DistrictEntry

    name, sep, population = text.partition("=")
    if not sep:  # checked with the rest: reported as a missing population
        return DistrictEntry(f"--district {text}（应写成 区县=人口）", name, "")
    return DistrictEntry(f"--district {text}", name, population)


def _public_url(explicit: str | None, host: str, port: int) -> str:
    """The base URL printed on QR codes: --public-url, else SURVEY_PUBLIC_URL, else
    this machine (development only: refused in production, where a poster pointing
    at 127.0.0.1 would be useless)."""
    from survey.qrcodes import PublicUrlError, public_base_url

    production = current_app.config["ENV"] == "production"
    if explicit:
        try:
            base = public_base_url(explicit)
        except PublicUrlError as exc:
            raise click.ClickException(f"--public-url：{exc}") from exc
    else:  # SURVEY_PUBLIC_URL, checked and normalised when the app started (config.py)
        base = current_app.config.get("PUBLIC_URL")
    if not base:
        if production:
            raise click.ClickException(
                "生产模式下必须给出二维码中的公开网址：请加 --public-url https://调查网站域名，"
                "或设置环境变量 SURVEY_PUBLIC_URL。否则二维码会指向 http://127.0.0.1:5000，"
                "居民的手机打不开。"
            )
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://{shown}:{port}"
    if production and not base.startswith("https://"):
        click.echo(
            "注意：生产模式的服务应通过 HTTPS 提供，二维码网址宜以 https:// 开头。", err=True
        )
    return base


def _write_codes(wave, base_url: str, out: Path):
    """QR codes and posters for the wave's open channels, as the staff posters
    page prints them; closed ones are left out, and the console says how many."""
    from survey.qrcodes import poster_channels, write_channel_codes

    channels, closed = poster_channels(wave.id)
    if not channels:
        raise click.ClickException(
            f"没有开放的采集点（已关闭 {closed} 个），未生成二维码和海报："
            "请在“采集点与二维码”页面新增或重新开放采集点。"
        )
    if closed:
        click.echo(f"已关闭的 {closed} 个采集点不生成二维码和海报（与“打印 A4 海报”页面一致）。")
    with click.progressbar(length=1, label="生成二维码") as bar:
        codes = write_channel_codes(channels, base_url, out)
        bar.update(1)
    return codes


@click.command("qrcodes")
@click.option("--wave-id", type=int, help="调查轮次编号（默认：最新一轮）")
@click.option("--public-url", help="二维码中的网址前缀，例如 https://survey.example.cn")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@with_appcontext
@needs_schema
def qrcodes_cmd(wave_id, public_url, out) -> None:
    """为每个采集点生成二维码（SVG、PNG）和可打印的 A4 海报（posters.html）。"""
    from survey.extensions import db
    from survey.models import Wave

    wave = (
        db.session.get(Wave, wave_id)
        if wave_id
        else db.session.scalar(select(Wave).order_by(Wave.id.desc()))
    )
    base_url = _public_url(public_url, "127.0.0.1", 5000)
    if wave is None and wave_id:
        raise click.ClickException(f"没有编号为 {wave_id} 的调查轮次。")
    if wave is None:
        raise click.ClickException(
            "没有找到调查轮次：请先在 /staff/admin/waves 新建轮次（演示环境可运行 survey demo）。"
        )
    out = out or Path(current_app.config["QR_OUTPUT_DIR"])
    codes = _write_codes(wave, base_url, out)
    for code in codes:
        click.echo(f"{code.district}\t{code.label}\t{code.url}")
    click.echo(f"二维码和海报已写入：{out}（打印 posters.html）")


@click.command("demo")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="监听地址；手机扫码请用 0.0.0.0"
)
@click.option("--port", default=5000, show_default=True, type=int, help="端口")
@click.option("--public-url", help="二维码中的网址（手机访问本机时填本机局域网地址）")
@click.option("--no-serve", is_flag=True, help="只准备演示数据，不启动服务")
@with_appcontext
def demo_cmd(host: str, port: int, public_url: str | None, no_serve: bool) -> None:
    """准备演示：咸宁市 6 个区县、标准问卷、每区县一个采集点及其二维码，然后启动服务。"""
    from survey.extensions import db
    from survey.models import Channel
    from survey.operations.demo import DEMO_PASSWORD, create_demo_staff, setup_demo

    if current_app.config["ENV"] == "production":
        raise click.ClickException("演示命令不能在生产模式下运行（它会创建公开密码的演示账号）。")
    base_url = _public_url(public_url, host, port)
    click.echo("准备数据库结构……")
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("准备演示数据（城市、问卷、人口数据、配额、采集点、工作人员账号）……")
    wave = setup_demo()
    staff = create_demo_staff()
    out = Path(current_app.config["QR_OUTPUT_DIR"])
    _write_codes(wave, base_url, out)
    click.echo(f"\n演示已就绪：{wave.city.name} {wave.name}，问卷：{wave.questionnaire.title}")
    for channel in db.session.scalars(select(Channel).filter_by(wave_id=wave.id)):
        click.echo(f"  {channel.district.name}  {base_url}/s/{channel.token}")
    click.echo(f"二维码（SVG/PNG）和 A4 海报：{out}{Path('/')}posters.html")
    click.echo(f"工作人员登录：{base_url}/staff/login  密码均为 {DEMO_PASSWORD}")
    click.echo("  账号：" + "、".join(staff) + "（管理员、调查组织者、统计分析人员）")
    if no_serve:
        # The addresses above open nothing yet: a newcomer was left wondering why.
        click.echo(
            "\n服务没有启动（--no-serve）。要打开上面的网址，请运行 python3 dev.py demo"
            "（或 .venv/bin/survey demo）启动服务。"
        )
        return
    click.echo(f"\n服务地址：{base_url}  （Ctrl+C 停止）")
    # Flask ignores app.run() inside its own CLI, so serve with Werkzeug directly.
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.command("import-frame")
@click.option("--wave-id", type=int, required=True, help="调查轮次编号")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@needs_schema
def import_frame_cmd(wave_id: int, path: Path) -> None:
    """导入人口数据（CSV 或 XLSX）；文件有任何问题时不导入。"""
    from survey.extensions import db
    from survey.models import Wave
    from survey.operations.frames import FrameError, import_frame

    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise click.ClickException(f"没有编号为 {wave_id} 的调查轮次。")
    try:
        count = import_frame(wave, path.read_bytes(), path.name, actor_name="cli")
    except FrameError as exc:
        raise click.ClickException("未导入：\n" + "\n".join(exc.problems)) from exc
    click.echo(f"已导入 {count} 个人口单元到 {wave.city.name} {wave.name}。")


@click.command("plan-quotas")
@click.option("--wave-id", type=int, required=True, help="调查轮次编号")
@click.option("--total", type=int, help="总样本量（按人口比例分到各区县）")
@click.option("--per-district", type=int, help="每个区县的样本量")
@click.option("--min-per-district", type=int, default=0, show_default=True,
              help="与 --total 一起用：每个区县至少的样本量")  # fmt: skip
@click.option("--by-urban-rural", is_flag=True,
              help="按区县 × 城乡 × 性别 × 年龄组（人口数据须有城乡分组，问卷须有城乡题）")  # fmt: skip
@with_appcontext
@needs_schema
def plan_quotas_cmd(wave_id, total, per_district, min_per_district, by_urban_rural) -> None:
    """生成配额方案（区县 × 性别 × 年龄组，或再按城乡；最大余数法）。

    已有答卷时按新的配额单元重新计数。"""
    from survey.extensions import db
    from survey.models import Wave
    from survey.operations.errors import OperationError
    from survey.operations.frames import frame_summary
    from survey.operations.quotas import cells_label, make_plan, recount_text

    if total is not None and per_district is not None:  # --total was silently ignored
        raise click.ClickException(
            "--total 和 --per-district 只能给一个：按人口比例分配总样本量用 --total，"
            "各区县样本量相同用 --per-district。未生成配额。"
        )
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise click.ClickException(f"没有编号为 {wave_id} 的调查轮次。")
    sizes = {d: per_district for d in frame_summary(wave.id)} if per_district else None
    try:
        plan = make_plan(wave, total=total, per_district=sizes,
                         min_per_district=min_per_district, actor_name="cli",
                         by_urban_rural=by_urban_rural)  # fmt: skip
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"配额单元：{cells_label(plan.by_urban_rural)}")
    for district, n in plan.per_district.items():
        click.echo(f"{district}\t{n}")
    click.echo(f"合计 {plan.total}")
    if recounted := recount_text(plan):
        click.echo(recounted)


@contextlib.contextmanager
def _whole_file(output: Path, mode: int | None = None) -> Iterator[Path]:
    """A file written beside *output* (created with *mode* if given) and renamed
    to it at the end: a refused or failed command leaves neither a half-written
    file nor a changed old one."""
    partial = output.with_name(output.name + ".part")
    # A stale one (a killed run's), or a link planted there, is removed, never
    # followed: the file is created afresh (O_EXCL), so the export cannot be
    # written through a symbolic link into another file.
    partial.unlink(missing_ok=True)
    flags = os.O_CREAT | os.O_WRONLY | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    os.close(os.open(partial, flags, 0o666 if mode is None else mode))
    try:
        yield partial
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)


def _settings_options(command):
    """The estimates page's settings as options (its field names), each taking
    the value of ``--settings`` when not given."""
    options = [
        click.option("--settings", "base", type=click.Choice(["saved", "default"]),
                     default="saved", show_default=True,
                     help="未单独指定的设置取自：saved 本轮保存的发布口径（未保存时为默认设置）；"
                          "default 默认设置"),
        click.option("--weighting", help="加权方法：raking（边际迭代）、poststratify（事后分层）、"
                                         "none（不加权）"),
        click.option("--margins", help="加权变量，逗号分隔：sex（性别）、age_group（年龄组）、"
                                       "urban_rural（城乡），例如 sex,age_group"),
        click.option("--ci", "ci", help="置信区间方法：logit、beta、wilson"),
        click.option("--level", help="置信水平，0.5–0.999，例如 0.95"),
        click.option("--target", help="目标值，0–1，例如 0.8"),
        click.option("--min-cell", "min_cell", help="加权单元最少人数，1–50 的整数"),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _chosen_settings(wave, refused: str, base: str, **given):
    """The settings a command weights and estimates with: *base*'s (the wave's
    saved ones, else the defaults; or the defaults), with the options given
    instead. Checked as the estimates page's save checks them: a bad value is
    refused before anything is written (:class:`click.ClickException`)."""
    from survey.operations.analysis_settings import parse_settings, wave_settings
    from survey.operations.errors import OperationError
    from survey.operations.estimates import MARGIN_LABELS, Settings

    settings = wave_settings(wave) if base == "saved" else Settings()
    given = {name: value for name, value in given.items() if value is not None}
    if not given and base == "saved":
        return settings
    if "margins" in given:  # sex,age_group (or 性别、年龄组 as the page labels them)
        codes = {label: code for code, label in MARGIN_LABELS.items()}
        parts = given["margins"].replace("，", ",").replace("、", ",").split(",")
        given["margins"] = [codes.get(m.strip(), m.strip()) for m in parts if m.strip()]
    try:
        chosen = parse_settings(settings.query() | given, refused=refused)
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen.chosen_on = "cli"
    return chosen


@click.command("export")
@click.option("--wave-id", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "sav", "dta"]), default="csv")
@click.option("--include-excluded", is_flag=True, help="包含已剔除答卷（加 excluded 列）")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_settings_options
@with_appcontext
def export_cmd(wave_id, fmt, include_excluded, output, base, **given) -> None:
    """导出微观数据（CSV、XLSX、SPSS .sav、Stata .dta），显示进度并记入操作日志。

    权数按本轮保存的发布口径（估计结果页保存）计算，尚未保存时按默认设置；
    --weighting、--margins 等选项另行指定（与估计结果页的设置同名、同样检查）。"""
    from survey.extensions import db
    from survey.models import Wave
    from survey.operations.analysis_settings import settings_used
    from survey.operations.errors import OperationError
    from survey.operations.exports import audit_export, count_rows, export_weights, write_file

    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise click.ClickException(f"没有编号为 {wave_id} 的调查轮次。")
    settings = _chosen_settings(wave, "未导出：", base, **given)
    click.echo(f"权数：{settings_used(wave, settings)}")
    # Worked out once: said here, and the file is written with them.
    weights = export_weights(wave, settings)
    if weights.cells is None:  # the file is written all the same, as on the exports page
        click.echo(f"注意：文件中没有权数变量（{weights.why_not}）。", err=True)
    total = count_rows(wave, include_excluded)
    try:
        # Microdata: readable by its owner only, whatever the umask.
        with (
            _whole_file(output, mode=0o600) as partial,
            click.progressbar(length=max(total, 1), label=f"导出 {total} 份答卷") as bar,
        ):
            rows = write_file(wave, fmt, partial, include_excluded, progress=bar.update,
                              settings=settings, weights=weights)  # fmt: skip
            bar.update(max(total, 1))
    except OperationError as exc:
        raise click.ClickException(f"未导出：{exc}") from exc
    audit_export(wave, fmt, rows, actor_name="cli", settings=settings)
    click.echo(f"已导出 {rows} 份答卷到 {output}")


@click.command("report")
@click.option("--wave-id", type=int, required=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Word 文件（.docx）")  # fmt: skip
@_settings_options
@with_appcontext
def report_cmd(wave_id: int, output: Path, base: str, **given) -> None:
    """生成报告章节（Word），按本轮保存的发布口径加权估计（未保存时按默认设置），记入操作日志。

    --weighting、--margins 等选项另行指定设置（与估计结果页的设置同名、同样检查）。"""
    from survey.extensions import db
    from survey.models import Wave
    from survey.operations.analysis_settings import settings_used
    from survey.operations.errors import OperationError
    from survey.operations.exports import audit_report
    from survey.report.content import build_content
    from survey.report.render import render_docx

    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise click.ClickException(f"没有编号为 {wave_id} 的调查轮次。")
    settings = _chosen_settings(wave, "未生成：", base, **given)
    click.echo(f"加权和估计：{settings_used(wave, settings)}")
    try:
        content = build_content(wave, settings)
    except OperationError as exc:
        raise click.ClickException(f"未生成：{exc}") from exc
    with _whole_file(output) as partial:
        render_docx(content, partial)
    audit_report(wave, "docx", settings, actor_name="cli")
    click.echo(f"报告已写入：{output}")


@click.command("purge-paradata")
@click.option("--days", type=int, help="保留天数（默认：配置 PARADATA_RETENTION_DAYS）")
@with_appcontext
@needs_schema
def purge_paradata_cmd(days: int | None) -> None:
    """删除超过保留期限的答卷客户端/设备散列（个人信息保护）。"""
    from survey.operations.errors import OperationError
    from survey.operations.responses import purge_paradata

    days = days if days is not None else current_app.config["PARADATA_RETENTION_DAYS"]
    try:
        count = purge_paradata(days)
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已清除 {count} 份答卷中超过 {days} 天的客户端和设备散列。")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_cmd(target: Path) -> None:
    """在线备份 SQLite 数据库（服务运行中也可执行）。"""
    from survey.operations.backup import backup_sqlite
    from survey.operations.errors import OperationError

    with click.progressbar(length=100, label="备份") as bar:
        last = [0]

        def progress(done: int, total: int) -> None:
            pct = int(100 * done / total) if total else 100
            bar.update(pct - last[0])
            last[0] = pct

        try:
            path = backup_sqlite(current_app.config["DATABASE_URL"], target, progress)
        except OperationError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"备份完成并已校验：{path}")


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再确认")
@with_appcontext
def restore_cmd(backup: Path, yes: bool) -> None:
    """用备份文件替换 SQLite 数据库（请先停止服务；原数据库保留为 .before-restore）。"""
    from survey.operations.backup import restore_sqlite
    from survey.operations.errors import OperationError

    if not yes:
        click.confirm("恢复将替换当前数据库，服务已停止吗？", abort=True)
    click.echo(f"校验备份文件 {backup}……")
    bars: dict[str, list] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step not in bars:  # a new step: finish the one before
            for bar, _ in bars.values():
                bar.render_finish()
            bars[step] = [click.progressbar(length=max(total, 1), label=step), 0]
        entry = bars[step]
        entry[0].update(done - entry[1])
        entry[1] = done

    url = current_app.config["DATABASE_URL"]
    try:
        path = restore_sqlite(url, backup, progress)
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for bar, _ in bars.values():
            bar.render_finish()
    click.echo(f"已从 {backup} 恢复到 {path}")
    revision, latest = migrate.current_revision(url), migrate.head_revision()
    if revision != latest:
        click.echo(
            f"备份的数据库结构是版本 {revision or '（空）'}，本程序需要 {latest}："
            "启动服务前请运行 survey db-upgrade。"
        )


def init_app(app: Flask) -> None:
    """Register the commands on ``app.cli`` (so ``flask --app survey`` works too)."""
    from survey.auth.cli import COMMANDS as AUTH_COMMANDS

    for command in AUTH_COMMANDS:
        app.cli.add_command(command)
    for command in (
        db_upgrade,
        create_city_cmd,
        load_questionnaire_cmd,
        qrcodes_cmd,
        demo_cmd,
        purge_paradata_cmd,
        import_frame_cmd,
        export_cmd,
        report_cmd,
        plan_quotas_cmd,
        backup_cmd,
        restore_cmd,
    ):
        app.cli.add_command(command)
