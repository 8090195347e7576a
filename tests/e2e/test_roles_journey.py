"""Each demo role signs in through the form, finds what it needs in the main navigation and
its scope on the home page, and signs out; the login form explains its errors. Every page
is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.axe import check_a11y
from tests.factories.registry import PASSWORD

EVERYONE = ("/ecoles", "/journal")
ADMIN_ONLY = ("/admin/users", "/admin/import", "/admin/outbox")

# The demo accounts of inventory/demo.py: (role, kind of scope).
ROLES = [
    pytest.param("admin", None, id="admin"),
    pytest.param("technicien", "collectivite", id="technicien-collectivite"),
    pytest.param("gestionnaire", "collectivite", id="gestionnaire-collectivite"),
    pytest.param("auditeur", "academie", id="auditeur-academie"),
    pytest.param("auditeur", "circonscription", id="auditeur-circonscription"),
    pytest.param("formateur", "circonscription", id="formateur-circonscription"),
]


def _scope(app: Flask, registry: dict[str, Any], kind: str | None) -> tuple[list, int]:
    """The demo scope of this kind, and how many schools it holds.

    Like inventory/demo.py: the Créteil collectivité, the (only) académie, and the first
    circonscription, by name, of Créteil's schools."""
    schools = registry["schools"].values()  # (id, collectivite_id, circonscription_id)
    if kind is None:
        return [], len(schools)
    if kind == "collectivite":
        creteil = registry["collectivites"]["Créteil"]
        return [(kind, creteil)], sum(1 for _, coll, _ in schools if coll == creteil)
    if kind == "academie":
        from inventory.extensions import db
        from inventory.orgs.models import Academie

        with app.app_context():
            (academie,) = db.session.scalars(select(Academie.id)).all()
            db.session.remove()
        return [(kind, academie)], len(schools)
    assert kind == "circonscription"
    creteil = registry["collectivites"]["Créteil"]
    names = {i: name for name, i in registry["circonscriptions"].items()}
    circo = min({c for _, coll, c in schools if coll == creteil}, key=names.__getitem__)
    return [(kind, circo)], sum(1 for _, _, c in schools if c == circo)


@pytest.mark.parametrize(("role", "scope_kind"), ROLES)
def test_role_signs_in_finds_its_menu_and_signs_out(
    role: str,
    scope_kind: str | None,
    app: Flask,
    registry: dict[str, Any],
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    scopes, school_count = _scope(app, registry, scope_kind)
    assert school_count > 0
    email = make_user(role, scopes)
    sign_in(email)
    check_a11y(page)

    nav = page.locator("header nav")
    for href in EVERYONE:
        expect(nav.locator(f'a[href="{href}"]')).to_be_visible()
    for href in ADMIN_ONLY:
        if role == "admin":
            expect(nav.locator(f'a[href="{href}"]')).to_be_visible()
        else:
            expect(nav.locator(f'a[href="{href}"]')).to_have_count(0)
    expect(nav.locator('a[href="/"]')).to_have_attribute("aria-current", "page")
    # The home page counts the schools of the user's scope, and only those.
    expect(page.locator("main ul.stats strong").first).to_have_text(str(school_count))

    nav.locator('form[action="/logout"] button[type=submit]').click()
    page.wait_for_url(url("/login"))
    check_a11y(page)
    expect(page.locator("header nav")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(translate("You are signed out."))

    # Signed out for real: the home page sends back to the login form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)$"))


def test_wrong_password_is_explained(
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    email = make_user("admin")
    page.goto("/login")
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD + "-wrong")
    form.locator("button[type=submit]").click()

    # Still on the form, with the error in a live region so that screen readers announce it.
    message = page.get_by_role("status")
    expect(message).to_have_text(translate("Wrong email or password."))
    expect(page).to_have_url(url("/login"))
    check_a11y(page)
    expect(page.locator("header nav")).to_have_count(0)
    expect(form.locator("input[name=email]")).to_have_value(email)
    expect(form.locator("input[name=password]")).to_have_value("")

    # The right password then works.
    sign_in(email)


def test_empty_login_form_points_to_the_missing_fields(page: Page) -> None:
    page.goto("/login")
    form = page.locator("main form[method=post]")
    form.locator("button[type=submit]").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    # The summary links to each field, and each field says it is invalid.
    for name in ("email", "password"):
        field = form.locator(f"input[name={name}]")
        expect(field).to_have_attribute("aria-invalid", "true")
        field_id = field.get_attribute("id")
        expect(summary.locator(f'a[href="#{field_id}"]')).to_be_visible()
    check_a11y(page)
