"""An organizer logs in, imports the frame, sets a plan; a resident answers;
the dashboard shows it without a reload (headless Chromium)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import QuotaCell
from survey.operations.users import create_user
from survey.paths import DEMO_DIR
from tests.e2e.navigation import click_and_load
from tests.e2e.test_resident_browser import _answer_standard
from tests.resident import channel_token

pytestmark = pytest.mark.browser
PASSWORD = "Organizer-pass-1"


def test_organizer_flow(app, live_server, browser, phone, demo_wave):
    with app.app_context():
        create_user("wang", PASSWORD, ["organizer"], "王组织")
    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{live_server}/staff/")
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill(PASSWORD)
    click_and_load(page, page.get_by_role("button", name="登录"))
    assert "王组织" in page.content()

    page.goto(f"{live_server}/staff/waves/{demo_wave}/frame")
    page.set_input_files("input[name=file]", str(DEMO_DIR / "xianning_frame.csv"))
    click_and_load(page, page.get_by_role("button", name="校验并导入"))
    assert "已导入 120 个人口单元" in page.content()

    page.goto(f"{live_server}/staff/waves/{demo_wave}/quotas")
    page.locator("input[name=total]").fill("600")
    page.locator("input[name=min_per_district]").fill("80")
    click_and_load(page, page.get_by_role("button", name="生成配额"))
    assert "配额已生成：共 600 份" in page.content()

    page.goto(f"{live_server}/staff/waves/{demo_wave}/dashboard")
    first = page.locator("[data-bind='totals.achieved']").inner_text()
    assert first == "0"

    resident = phone.new_page()
    resident.goto(f"{live_server}/s/{channel_token(app, '嘉鱼县')}")
    resident.get_by_role("button", name="同意并开始填写").click()
    _answer_standard(resident)
    assert resident.locator(".receipt strong").inner_text()

    # No reload: the page polls its JSON endpoint every 5 seconds.
    # (The page's CSP forbids eval, so poll from here rather than wait_for_function.)
    counter = page.locator("[data-bind='totals.achieved']")
    for _ in range(30):
        if counter.inner_text() == "1":
            break
        page.wait_for_timeout(500)
    assert counter.inner_text() == "1"
    # The resident's cell's number moves with its bar; the time is Beijing time.
    with app.app_context():
        cell_id = db.session.scalar(select(QuotaCell.id).filter_by(wave_id=demo_wave, achieved=1))
    assert page.locator(f"[data-bind='cell.{cell_id}.achieved']").text_content() == "1"
    updated = page.locator("[data-bind='generated_beijing']").inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", updated), updated
    assert page.url.endswith("/dashboard")
    page.screenshot(path=str(app.instance_path) + "/dashboard.png", full_page=True)
    desk.close()


def test_qr_codes_on_the_channels_page_scan(app, live_server, browser, demo_wave, tmp_path):
    """The 采集点与二维码 page drew each code in a 90 px box with segno's 123 px
    width and no viewBox: the box cut it to its top-left corner, and a screenshot
    sent to an interviewer held a code no phone could read."""
    import os
    import shutil
    import subprocess

    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Channel

    if not shutil.which("zbarimg"):
        if os.environ.get("SURVEY_REQUIRE_BROWSER"):
            pytest.fail("zbarimg (Debian zbar-tools) is required in CI")
        pytest.skip("zbarimg not installed")
    with app.app_context():
        create_user("wang", PASSWORD, ["organizer"], "王组织")
        tokens = set(db.session.scalars(select(Channel.token)))
    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN",
                               device_scale_factor=2)  # fmt: skip
    page = desk.new_page()
    page.goto(f"{live_server}/staff/")
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill(PASSWORD)
    click_and_load(page, page.get_by_role("button", name="登录"))
    page.goto(f"{live_server}/staff/waves/{demo_wave}/channels")
    code = page.locator(".qr svg").first
    box = code.bounding_box()
    assert 80 <= box["width"] <= 100  # the page's size for it, the whole code inside
    shot = tmp_path / "code.png"
    code.screenshot(path=str(shot))
    read = subprocess.run(["zbarimg", "--quiet", "--raw", str(shot)], capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    assert read.startswith("http") and read.rsplit("/s/", 1)[-1] in tokens
    desk.close()


def test_the_dashboard_says_when_its_rows_no_longer_follow(app, live_server, browser, demo_wave):
    """A plan remade while the dashboard was open gave new cells: the page's cell
    rows, bound to the old cells, kept their numbers beside districts that moved
    on, and said nothing."""
    from survey.models import Wave
    from survey.operations.quotas import make_plan

    with app.app_context():
        create_user("wang", PASSWORD, ["organizer"], "王组织")
    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{live_server}/staff/")
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill(PASSWORD)
    click_and_load(page, page.get_by_role("button", name="登录"))
    page.goto(f"{live_server}/staff/waves/{demo_wave}/dashboard")
    stale = page.locator("#dashboard-stale")
    updated = page.locator("[data-bind='generated_beijing']")
    first = updated.inner_text()
    for _ in range(30):  # one refresh, with nothing changed
        if updated.inner_text() != first:
            break
        page.wait_for_timeout(500)
    assert updated.inner_text() != first
    assert stale.is_hidden()
    with app.app_context():
        make_plan(db.session.get(Wave, demo_wave), per_district={"咸安区": 120})
    for _ in range(30):
        if stale.is_visible():
            break
        page.wait_for_timeout(500)
    assert stale.is_visible() and "请刷新本页" in stale.inner_text()
    desk.close()


def test_a_cells_edit_says_its_outcome_where_the_page_scrolls(app, live_server, browser, demo_wave):
    """After 修改 on a cell far down the quotas page, the page scrolls to the
    cell, and its outcome was flashed at the top, out of sight: it is in the
    row now, inside the window."""
    with app.app_context():
        create_user("wang", PASSWORD, ["organizer"], "王组织")
        cell_id = db.session.scalar(
            select(QuotaCell.id).filter_by(wave_id=demo_wave).order_by(QuotaCell.id.desc())
        )
    desk = browser.new_context(viewport={"width": 1200, "height": 700}, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{live_server}/staff/")
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill(PASSWORD)
    click_and_load(page, page.get_by_role("button", name="登录"))
    page.goto(f"{live_server}/staff/waves/{demo_wave}/quotas")
    page.locator(f"#t-{cell_id}").fill("7")
    click_and_load(page, page.locator(f"#cell-{cell_id} button"))
    note = page.locator(f"#cell-{cell_id} [role=status]")
    assert note.inner_text() == "配额已修改。"
    box, height = note.bounding_box(), page.evaluate("window.innerHeight")
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, (box, height)
    assert page.evaluate("window.scrollY") > 0  # far down the page, not at its top
    desk.close()
