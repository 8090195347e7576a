"""The page icon, given to the browser from memory by every browser context of the tests.

The browser asks for the icon of every page; the icon is no test's subject, and answering
from memory saves the test server a request (and a file to open) per page."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from inventory.paths import ROOT

FAVICON = (ROOT / "inventory" / "static" / "favicon.svg").read_bytes()


def icon_from_memory(context: BrowserContext) -> BrowserContext:
    context.route(
        "**/static/favicon.svg",
        lambda route: route.fulfill(body=FAVICON, content_type="image/svg+xml"),
    )
    return context
