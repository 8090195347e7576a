"""Browser tests: the test app served live, driven by Debian's Chromium through Playwright.

One Chromium per test session; per test, the ``app`` of tests/conftest.py (same database,
emptied after the test) served on a free port by a background thread, and a fresh browser
context and page. Every test in this folder is marked ``e2e``.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask, got_request_exception
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.e2e.axe import check_a11y

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous for a loaded CI machine, short enough that a broken page fails quickly.
ACTION_TIMEOUT_MS = 10_000
expect.set_options(timeout=ACTION_TIMEOUT_MS)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselection, so that `-m "not e2e"` works
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """A real browser keeps the session cookie and posts the forms' tokens: test with CSRF on."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def _closed_before_sent(app: Flask) -> WSGIApplication:
    """The app with each answer read whole, and closed, before the server sends it.

    Werkzeug's development server closes an answer only after draining the request's socket;
    when the browser has dropped the connection meanwhile (it often does for the page icon,
    or when it moves on to the next page), the drain raises and the answer's open file is
    left to the garbage collector: a ResourceWarning that fails whichever test runs then.
    The test answers are small, so holding each one whole costs nothing."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app on 127.0.0.1 and a free port; yields its base URL, without a final slash.

    An exception raised by a view fails the test, with its traceback, even when the page
    the browser got looked plausible."""
    errors: list[str] = []

    def record(sender: Flask, exception: BaseException, **_: Any) -> None:
        errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(record, app)
    server = make_server("127.0.0.1", 0, _closed_before_sent(app), threaded=True)
    # A short poll interval: shutdown() waits for it, after every test.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="e2e-live-server",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        got_request_exception.disconnect(record, app)
    if errors:
        pytest.fail("The app raised while serving the browser:\n" + "\n".join(errors))


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh profile per test; French, like the app's users (Accept-Language: fr-FR)."""
    context = browser.new_context(base_url=live_server, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """The test's page. It fails the test if the page breaks the app's Content-Security-Policy
    (the rule would silently drop a style or a script for real users) or throws."""
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    yield page
    page.close()
    if problems:
        pytest.fail("The page misbehaved in the browser:\n" + "\n".join(problems))


@pytest.fixture
def url(live_server: str) -> Callable[[str], str]:
    """The absolute URL of an app path, for URL assertions."""
    return lambda path: live_server + path


@pytest.fixture
def translate(app: Flask) -> Callable[..., str]:
    """The app's own translation of a message (French by default), so that assertions on
    texts hold whether or not the French catalogue translates them yet; with ``plural``,
    the form of the message for the count ``num``."""
    from flask_babel import force_locale, gettext, ngettext

    def tr(
        message: str,
        locale: str = "fr",
        *,
        plural: str | None = None,
        num: int = 0,
        **variables: Any,
    ) -> str:
        with app.test_request_context(), force_locale(locale):
            if plural is None:
                return gettext(message, **variables)
            return ngettext(message, plural, num, **variables)

    return tr


@pytest.fixture
def sign_in(page: Page, url: Callable[[str], str]) -> Callable[..., None]:
    """Sign in through the login form (checking its accessibility), landing on the home page."""

    def go(email: str, password: str = PASSWORD) -> None:
        page.goto("/login")
        check_a11y(page)
        form = page.locator("main form[method=post]")
        form.locator("input[name=email]").fill(email)
        form.locator("input[name=password]").fill(password)
        form.locator("button[type=submit]").click()
        expect(page).to_have_url(url("/"))
        expect(page.locator("header nav")).to_be_visible()

    return go
