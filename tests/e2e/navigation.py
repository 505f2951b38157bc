"""Clicks that load a new page.

Playwright's ``click()`` returns as soon as the click is dispatched, while the
browser may still be showing the old page or have no document at all. Calls
that do not wait for an element (``content()``, ``evaluate()``,
``locator().all()``, or ``inner_text()`` of an element the old page also has)
must come after the new page has loaded, or they race the navigation.
"""

from __future__ import annotations


def click_and_load(page, locator) -> None:
    """Click *locator* and return once the page it leads to has loaded."""
    with page.expect_navigation(wait_until="load"):
        locator.click()
