"""The printable report in headless Chromium: rendered with a CJK font, no missing glyphs."""

from __future__ import annotations

import pytest

from survey.operations.users import create_user
from tests.app.test_estimates_page import _fill
from tests.e2e.navigation import click_and_load

pytestmark = pytest.mark.browser


def test_report_renders_chinese_text(app, live_server, browser, demo_wave):
    _fill(app)
    with app.app_context():
        create_user("tong", "Statistic-pass-1", ["statistician"])
    context = browser.new_context(viewport={"width": 1000, "height": 1400}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/staff/login?next=/staff/waves/{demo_wave}/report")
    page.get_by_label("用户名").fill("tong")
    page.get_by_label("密码").fill("Statistic-pass-1")
    click_and_load(page, page.get_by_role("button", name="登录"))
    assert page.locator("h1").inner_text() == "公众对生态文明建设满意度和参与度调查情况"
    page.screenshot(path=str(app.instance_path) + "/report.png", full_page=True)
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    for selector in ("h1", "table td", "h2"):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        families = " ".join(f["familyName"] for f in fonts)
        # Every glyph came from a real font, and the Chinese ones from a CJK font
        # (a missing glyph would be drawn from the "last resort" box font).
        assert "CJK" in families or "WenQuanYi" in families, (selector, fonts)
        assert all(f["glyphCount"] > 0 for f in fonts)
        assert not any("LastResort" in f["familyName"] for f in fonts)
    img = page.locator("figure img")
    assert img.evaluate("i => i.naturalWidth") > 300
    context.close()
