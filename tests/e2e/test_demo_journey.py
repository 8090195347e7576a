"""The demo, as its visitors see it: after `flask demo load`, each demo account signs in
through the form, and its home page and dashboard show figures (not zeros or dashes).
Every page is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect

from inventory.demo import DEMO_PASSWORD
from inventory.demo.accounts import demo_accounts, demo_places
from inventory.extensions import db
from tests.e2e.axe import check_a11y


def _nonzero(text: str) -> bool:
    return bool(re.search(r"[1-9]", text))


def test_each_demo_account_opens_on_figures(
    app: Flask,
    page: Page,
    sign_in: Callable[..., None],
    url: Callable[[str], str],
) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        places = demo_places(db.session)
        assert places is not None
        accounts = [(email, role) for email, _, role, _ in demo_accounts(places)]
        db.session.remove()

    for email, role in accounts:
        sign_in(email, DEMO_PASSWORD)
        check_a11y(page)
        stats = page.locator("main ul.stats strong")
        expect(stats).to_have_count(4)
        values = stats.all_inner_texts()
        assert all(_nonzero(v) for v in values), (role, values)

        page.locator('header nav a[href="/tableau-de-bord"]').click()
        page.wait_for_url(url("/tableau-de-bord"))
        progress = page.locator("main progress.socle-progress")
        expect(progress).to_be_visible()
        assert int(progress.get_attribute("value") or 0) > 0, role
        groups = page.locator("main section.figure-group")
        assert groups.count() >= 4, role
        for i in range(groups.count()):
            group = groups.nth(i)
            figures = group.locator("div.figure dd strong").all_inner_texts()
            assert any(_nonzero(f) for f in figures), (role, group.inner_text())
            assert "—" not in [f.strip() for f in figures], (role, group.inner_text())
        check_a11y(page)

        page.locator('header nav form[action="/logout"] button[type=submit]').click()
        page.wait_for_url(url("/login"))
