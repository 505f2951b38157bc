"""End-to-end fixtures: the app served on a real port, and headless Chromium.

Chromium comes from the system (Debian's ``chromium`` package), never from a
browser download. Without it the browser tests are skipped, unless
``SURVEY_REQUIRE_BROWSER`` is set (CI), where its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    explicit = os.environ.get("SURVEY_CHROMIUM")
    if explicit and os.path.exists(explicit):
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        if os.environ.get("SURVEY_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (SURVEY_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # Playwright turns Chromium's back-forward cache off by default; phones have it
        # on, and Back must be tested as they do it.
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS,
                                     ignore_default_args=["--disable-back-forward-cache"])  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve *app* on 127.0.0.1 with a threaded WSGI server; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def phone(browser):
    """A browser context the size of a cheap phone (360×740), Chinese locale."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        user_agent=(
            "Mozilla/5.0 (Linux; Android 10; Mobile) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120 Mobile Safari/537.36 MicroMessenger/8.0"
        ),
    )
    yield context
    context.close()


@pytest.fixture
def phone_no_js(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    yield context
    context.close()
