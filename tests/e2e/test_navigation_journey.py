"""Every capability reached through links only: after each role's sign-in page, the browser
never types an address. The technician puts a ticket's item under repair, reads the item's
funding, downloads its label, prints it and a classroom's labels, exports the list and
finds the equipment import; the finance officer goes from an item to the dossier that paid
for it; the auditor reads the panel and exports the journal; the trainer opens the
coverage's totals; the administrator finds both imports. Every page is checked with axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from inventory.assets import lifecycle
from inventory.assets.models import Asset, AssetStatus, NetworkWork
from inventory.grants.models import Dossier
from inventory.helpdesk.models import Ticket
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture
def world(access_world: dict[str, Any], db_session: Any) -> dict[str, Any]:
    """The access matrix's world, its item in service (so that its ticket may put it under
    repair)."""
    objects = access_world["objects"]
    asset = db_session.get(Asset, objects[Asset][0])
    lifecycle.change_status(db_session, ADMIN, asset, AssetStatus.IN_SERVICE)
    return access_world


def _sign_out(page: Page, url: Callable[[str], str]) -> None:
    page.locator('header nav form[action="/logout"] button[type=submit]').click()
    page.wait_for_url(url("/login"))


def _menu(page: Page, href: str) -> None:
    page.locator(f'header nav a[href="{href}"]').click()
    page.wait_for_load_state()
    check_a11y(page)


def _click(page: Page, selector: str) -> None:
    page.locator(selector).first.click()
    page.wait_for_load_state()
    check_a11y(page)


def test_each_role_reaches_its_capabilities_through_links(
    world: dict[str, Any],
    page: Page,
    sign_in: Callable[..., None],
    url: Callable[[str], str],
) -> None:
    emails, objects = world["emails"], world["objects"]
    asset_id, ticket_id = objects[Asset][0], objects[Ticket][0]
    dossier_id, work_id = objects[Dossier][0], objects[NetworkWork][0]

    # -- the technician ---------------------------------------------------------------------
    sign_in(emails["technicien"])
    _menu(page, "/tickets")
    _click(page, f'main a[href="/tickets/{ticket_id}"]')
    repair = page.locator("#repair-form")
    repair.locator("textarea").fill("Dalle fissurée, envoyée au SAV")
    repair.locator("button[type=submit]").click()
    page.wait_for_url(url(f"/tickets/{ticket_id}"))
    check_a11y(page)
    expect(page.locator(".flash-success")).to_have_text(
        "L’équipement est maintenant en réparation."
    )
    expect(page.locator("#repair-form")).to_have_count(0)
    expect(page.locator('input[name="back_in_service"]')).to_be_visible()
    expect(page.locator("main dl.facts .status")).to_have_text("en réparation")

    # The item: its funding, its label as an image, then printed through the print service.
    _click(page, f'main dl.facts a[href="/equipements/{asset_id}"]')
    panel = page.locator('section[aria-labelledby="funding-title"]')
    expect(panel.locator(f'a[href="/subventions/{dossier_id}"]')).to_be_visible()
    expect(panel.locator("#funding-aid")).to_have_text(re.compile(r"\d.*€"))
    with page.expect_download() as png:
        page.locator(f'main a[href="/equipements/{asset_id}/etiquette.png"]').click()
    assert png.value.suggested_filename.endswith(".png")
    _click(page, "#print-item-label")
    expect(page.locator("main p[role=status]")).to_contain_text("1 équipement sélectionné")
    with page.expect_download() as pdf:
        page.locator('main button[value="print"]').click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"

    # The equipment list (from the print page): its exports; then the item, its classroom.
    _click(page, 'main a[href^="/equipements?"]')
    with page.expect_download() as csv:
        page.locator('main a[href^="/equipements/export.csv"]').first.click()
    assert csv.value.suggested_filename.endswith(".csv")
    _click(page, f'main a[href="/equipements/{asset_id}"]')
    _click(page, 'nav.breadcrumb a[href^="/classes/"]')
    _click(page, "#print-classroom-labels")
    expect(page.locator("main p[role=status]")).to_contain_text("1 équipement sélectionné")
    # The list's own import link, and the menu's.
    _menu(page, "/equipements")
    _click(page, 'main a[href="/equipements/import"]')
    expect(page.locator("main h1")).to_have_text("Importer des équipements")
    _menu(page, "/equipements/import")
    # Works without funding say so.
    _menu(page, "/travaux")
    _click(page, f'main a[href="/travaux/{work_id}"]')
    expect(page.locator("#funding-empty")).to_be_visible()
    _menu(page, "/etiquettes/historique")
    expect(page.locator("main table.data tbody tr")).not_to_have_count(0)
    _sign_out(page, url)

    # -- the finance officer: from the item to the dossier that paid for it ------------------
    sign_in(emails["gestionnaire"])
    _menu(page, "/tickets")
    _click(page, f'main a[href="/tickets/{ticket_id}"]')
    expect(page.locator("#repair-form")).to_have_count(0)  # not hers to decide
    _click(page, f'main dl.facts a[href="/equipements/{asset_id}"]')
    expect(page.locator("#print-item-label")).to_have_count(0)
    expect(page.locator("#funding-remainder")).to_have_text(re.compile(r"\d.*€"))
    _click(page, f'section[aria-labelledby="funding-title"] a[href="/subventions/{dossier_id}"]')
    expect(page).to_have_url(url(f"/subventions/{dossier_id}"))
    with page.expect_download() as expenses:
        page.locator(f'main a[href="/subventions/{dossier_id}/depenses.csv"]').click()
    assert expenses.value.suggested_filename.endswith(".csv")
    _sign_out(page, url)

    # -- the auditor: the item's panel, the journal's export, the coverage --------------------
    sign_in(emails["auditeur-circonscription"])
    _menu(page, "/tickets")
    _click(page, f'main a[href="/tickets/{ticket_id}"]')
    _click(page, f'main dl.facts a[href="/equipements/{asset_id}"]')
    expect(page.locator('section[aria-labelledby="funding-title"]')).to_be_visible()
    expect(page.locator("#print-item-label")).to_have_count(0)
    _menu(page, "/journal")
    with page.expect_download() as journal:
        page.locator('main a[href^="/journal.csv"]').first.click()
    assert journal.value.suggested_filename.endswith(".csv")
    _sign_out(page, url)

    # -- the trainer: the coverage's totals open their lists -----------------------------------
    sign_in(emails["formateur"])
    _menu(page, "/accompagnement")
    _click(page, 'main a[href="/accompagnement/couverture"]')
    expect(page.locator("#tile-waiting")).to_have_attribute("aria-current", "true")  # default
    _click(page, "#tile-overdue")
    expect(page).to_have_url(re.compile(r"/accompagnement/couverture\?.*show=overdue"))
    expect(page.locator("#tile-overdue")).to_have_attribute("aria-current", "true")
    _click(page, 'ul.stats-links a[href*="show=all"]')
    expect(page.locator("#coverage-schools tbody tr")).not_to_have_count(0)
    _sign_out(page, url)

    # -- the administrator: the registry's import and the equipment's ------------------------
    sign_in(emails["admin"])
    _menu(page, "/ecoles")
    _click(page, 'main a[href="/admin/import"]')
    expect(page.locator("main h1")).to_have_text("Importer un fichier du ministère")
    _menu(page, "/equipements/import")
    expect(page.locator('main a[href="/equipements/import/modele.xlsx"]')).to_be_visible()
    _sign_out(page, url)
