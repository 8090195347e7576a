"""Every page fits a phone: at 390×844 CSS px (an iPhone 12 to 15), no page of any role is
wider than the screen, and every touch target is at least 44×44 CSS px (WCAG 2.5.5).

The pages are those of the access matrix, as tests/test_page_languages.py takes them: every
GET page each role of tests/factories.py ROLES may open, on the objects in its scope, the
anonymous visitor's being the public pages of a teacher without an account (a label's scan
page and its report form, sent empty and sent filled, a ticket's follow-up page, the
sign-in page). In one browser context per role, the browser opens each address the matrix
lets the role open once (a file, an export, is left), and measures the page. axe-core runs
on every address once, under the first role that opens it: it takes most of the test's
time, and the administrator's pages show every control the other roles see.

A touch target is a link, a button, a field (input, select, textarea) or a disclosure's
summary, as rendered: hidden ones (``display: none``, off-screen, clipped to a pixel) are not
targets. A checkbox or radio button counts with the box of its label when the label wraps
it or is tied to it (``for``), as a tap on the label ticks it. The one exemption is WCAG's:
a link inside a sentence of running text (a ``<p>`` holding words beside the link).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.auth.builders import oidc_provider
from tests.conftest import PASSWORD
from tests.e2e.axe import check_a11y
from tests.e2e.conftest import ACTION_TIMEOUT_MS
from tests.factories import ROLES, expected_answers, rule_url

PHONE = {"width": 390, "height": 844}
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (target size, enhanced)
# Routes left out, and why: they change only the session (and are checked in their own
# tests); a sign-in provider's button leads to the provider's site, and its callbacks
# answer the provider's redirection (tests/e2e/test_sso_journey.py goes through them;
# the failed sign-in's page, what a phone shows of them, has its own lean check below).
SKIPPED = {"auth.logout", "web.set_language", "static", "sso.start"}
SKIPPED |= {"sso.callback", "sso.cas_callback"}

# What the browser measures on a page: its widths, and every touch target smaller than the
# minimum (its description and size). Sizes are rounded to the pixel: sub-pixel layouts
# (43.99 px from a rem) are not a failure a finger feels.
MEASURE = """
(minimum) => {
  const doc = document.documentElement;
  const sentence = /[\\p{L}\\p{N}]/u;
  const describe = (el) => {
    let text = (el.getAttribute("aria-label") || el.innerText || el.value || el.name || "")
      .trim().replace(/\\s+/g, " ").slice(0, 50);
    let where = el.tagName.toLowerCase();
    if (el.type && el.tagName !== "A") where += `[type=${el.type}]`;
    if (el.name) where += `[name=${el.name}]`;
    if (el.id) where += `#${el.id}`;
    const cls = typeof el.className === "string" ? el.className.trim() : "";
    if (cls) where += "." + cls.split(/\\s+/).join(".");
    return text ? `${where} "${text}"` : where;
  };
  const rendered = (el) => {
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) return false;  // display: none, or clipped
    if (rect.right <= 0 || rect.bottom + window.scrollY <= 0) return false;  // off-screen
    return el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  };
  // WCAG 2.5.5's exception: a link in a sentence, whose size the line of text sets.
  const inRunningText = (el) => {
    if (el.tagName !== "A") return false;
    const paragraph = el.parentElement && el.parentElement.closest("p");
    if (!paragraph) return false;
    const rest = paragraph.cloneNode(true);
    rest.querySelectorAll("a").forEach((a) => a.remove());
    return sentence.test(rest.textContent);
  };
  const box = (el) => {
    let { left, top, right, bottom } = el.getBoundingClientRect();
    if (el.tagName === "INPUT" && (el.type === "checkbox" || el.type === "radio")) {
      for (const label of el.labels || []) {
        if (!rendered(label)) continue;
        const r = label.getBoundingClientRect();
        left = Math.min(left, r.left); top = Math.min(top, r.top);
        right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
      }
    }
    return { width: Math.round(right - left), height: Math.round(bottom - top) };
  };
  const small = [];
  const targets = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary"
  );
  for (const el of targets) {
    if (!rendered(el) || inRunningText(el)) continue;
    const { width, height } = box(el);
    if (width < minimum || height < minimum) small.push(`${describe(el)} ${width}×${height}`);
  }
  // What sticks out of a page too wide: the outermost elements past the screen's edge
  // (a scrolling region's content stays inside it).
  const wide = [];
  if (doc.scrollWidth > doc.clientWidth) {
    const walk = (el) => {
      for (const child of el.children) {
        const rect = child.getBoundingClientRect();
        if (rect.right > doc.clientWidth + 0.5 && rendered(child)) {
          wide.push(`${describe(child).slice(0, 90)} ${Math.round(rect.width)} px wide, ` +
            `${Math.round(rect.right)} px from the left`);
        } else if (getComputedStyle(child).overflowX === "visible") {
          walk(child);
        }
      }
    };
    walk(document.body);
  }
  return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, small, wide };
}
"""


def _addresses(app: Flask, access_world: dict[str, Any], role_name: str) -> list[str]:
    """The address of every GET route the access matrix lets this role open (on the
    objects in its scope); which of them are pages rather than files, the server says."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED or "<filename>" in rule.rule:
            continue
        access = app.view_functions[rule.endpoint].access_rule
        if 200 in expected_answers(role_name, access, "GET", rule, "in"):
            urls.append(rule_url(rule, access, access_world["objects"], "in"))
    return urls


def _open(page: Page, url: str) -> bool:
    """Open ``url``; whether it is an HTML page (a file is downloaded or shown instead)."""
    try:
        response = page.goto(url)
    except PlaywrightError as error:
        if "Download is starting" in error.message:
            return False
        raise
    assert response is not None, url
    if not response.headers.get("content-type", "").startswith("text/html"):
        return False
    assert response.ok, f"{url}: {response.status}"
    return True


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    form = page.locator("main form[method=post]")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("header nav").count() == 1, f"{email} is not signed in"


def _phone_context(browser: Browser, live_server: str) -> BrowserContext:
    context = browser.new_context(
        base_url=live_server,
        viewport=PHONE,
        screen=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    # No route here: a route switches the browser's cache off. The app names its static
    # files by their content and has them kept a year, so that each context asks for the
    # stylesheet, the scripts and the icon once, as a phone would, not on every page.
    return context


def _check(page: Page, where: str, problems: list[str], *, axe: bool = True) -> None:
    """Measure the page open in ``page`` (and run axe-core on it); add what is wrong."""
    if axe:
        try:
            check_a11y(page)
        except AssertionError as failure:  # listed with the layout's problems, all at once
            problems.append(f"{where}: {failure}")
    found = page.evaluate(MEASURE, MIN_TARGET)
    if found["scrollWidth"] > found["clientWidth"]:
        problems.append(
            f"{where}: the page is {found['scrollWidth']} px wide "
            f"on a {found['clientWidth']} px screen: " + "; ".join(found["wide"][:5])
        )
    problems.extend(
        f"{where}: touch target under {MIN_TARGET}×{MIN_TARGET} px: {s}" for s in found["small"]
    )


def _report_a_problem(page: Page, label: str, problems: list[str]) -> None:
    """The teacher's report form sent empty (its errors), then filled (the thanks page
    with the follow-up link), as a phone shows them."""
    page.goto(f"/q/{label}")
    with page.expect_navigation():
        page.locator("form.report-form button[type=submit]").click()
    _check(page, "anonymous report sent empty", problems)
    form = page.locator("form.report-form")
    form.locator("input[type=radio]").first.check()
    form.locator("textarea[name=description]").fill("Le stylet n'écrit plus sur le tableau.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("main .follow-link a").count() == 1, "the report was not taken"
    _check(page, "anonymous report sent", problems)


@pytest.mark.one_engine  # the longest test of the suite: run once (pyproject.toml)
def test_every_page_fits_a_phone(
    app: Flask, access_world: dict[str, Any], browser: Browser, live_server: str
) -> None:
    problems: list[str] = []
    visited: dict[str, list[str]] = {}
    # axe-core takes most of the time: it checks each address once, under the first role
    # that opens it (the administrator's pages hold every control the others see).
    axed: set[str] = set()
    files: set[str] = set()  # addresses of files, whoever asks
    for role_name in ROLES:
        context = _phone_context(browser, live_server)
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(f"uncaught: {exc}"))
            if role_name != "anonymous":
                _sign_in(page, access_world["emails"][role_name])
            urls = visited[role_name] = []
            for url in _addresses(app, access_world, role_name):
                if url in files:
                    continue
                if _open(page, url):
                    signed_out = "/login?next=" in page.url and role_name != "anonymous"
                    assert not signed_out, f"{role_name} was signed out at {url}"
                    urls.append(url)
                    _check(page, f"{role_name} {url}", problems, axe=url not in axed)
                    axed.add(url)
                else:
                    files.add(url)
            if role_name == "anonymous":
                _report_a_problem(page, access_world["objects"]["token"], problems)
            assert not errors, f"{role_name}: the pages threw:\n" + "\n".join(errors)
        finally:
            context.close()
    assert sum(map(len, visited.values())) > 150, f"only {visited} pages: is the world built?"
    follow = f"/suivi/{access_world['objects']['follow_token']}"
    assert follow in visited["anonymous"], visited["anonymous"]
    assert not problems, f"{len(problems)} phone layout problem(s):\n" + "\n".join(problems)


def test_the_staff_menu_folds_behind_a_button_on_phones(
    browser: Browser, live_server: str, make_user: Any, translate: Any
) -> None:
    email = make_user("admin")
    context = _phone_context(browser, live_server)
    try:
        page = context.new_page()
        _sign_in(page, email)
        toggle = page.get_by_role("button", name=translate("Menu"))
        menu = page.locator("#main-menu")
        # Folded: the page's own content starts on the first screen.
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_have_attribute("aria-controls", "main-menu")
        expect(menu).to_be_hidden()
        assert page.locator("main h1").bounding_box()["y"] < PHONE["height"] / 3
        # The keyboard opens it, Escape folds it again and leaves the focus on the button.
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu.get_by_role("link", name=translate("Equipment"), exact=True)).to_be_visible()
        check_a11y(page)
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_hidden()
        expect(toggle).to_be_focused()
        page.keyboard.press("Space")
        expect(menu).to_be_visible()
        menu.get_by_role("link", name=translate("Equipment"), exact=True).click()
        expect(page).to_have_url(live_server + "/equipements")
        # On a wide screen the menu is open and the button gone.
        page.set_viewport_size({"width": 1280, "height": 800})
        expect(toggle).to_be_hidden()
        expect(menu.get_by_role("link", name=translate("Equipment"), exact=True)).to_be_visible()
    finally:
        context.close()
    # Without JavaScript the menu stays open on a phone, and no button promises otherwise.
    context = browser.new_context(base_url=live_server, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        _sign_in(page, email)
        expect(page.locator("#main-menu")).to_be_visible()
        expect(page.locator(".menu-toggle")).to_be_hidden()
    finally:
        context.close()


def test_a_failed_sign_in_through_a_provider_fits_a_phone(
    browser: Browser, live_server: str, db_session: Any
) -> None:
    # The provider's refusal comes back as an error parameter: no provider need listen.
    oidc_provider(db_session, "http://127.0.0.1:9", label="Académie de Créteil")
    context = _phone_context(browser, live_server)
    try:
        page = context.new_page()
        response = page.goto("/sso/mock/callback?error=access_denied")
        assert response is not None and response.status == 403
        expect(page.locator("#sso-failure")).to_have_attribute("data-reason", "denied")
        problems: list[str] = []
        _check(page, "failed sign-in", problems)
        assert not problems, "\n".join(problems)
    finally:
        context.close()
