"""A municipal technician claims under warranty for a display that no longer lights up,
then, when the supplier answers, records its answer: the claim goes from the item's page
to the supplier's mail, waits in the list of claims, and ends as repaired. Every page is
checked with axe-core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.assets.socle import paris_today
from inventory.core.mail import OutboxMessage
from inventory.orgs.models import Classroom, Ecole
from inventory.suppliers import directory
from inventory.suppliers.models import ClaimStatus, MaintenanceRecord
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y
from tests.factories import hash_passwords_cheaply

# Ecole élémentaire Mélanie Bonis, Villecresnes.
UAI = "0940704E"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hash_passwords_cheaply(monkeypatch)


def test_a_claim_goes_from_the_item_to_the_supplier_s_answer(
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    room = db_session.scalar(select(Classroom).filter_by(ecole_id=ecole.id).limit(1))
    model = catalogue.get_or_create_model(
        db_session, "Speechi", "SPE-75", catalogue.category_by_code(db_session, "eni")
    )
    sav = directory.save_supplier(
        db_session,
        ADMIN,
        None,
        directory.SupplierFields("Speechi", email="sav@speechi.example"),
        collectivite=ecole.collectivite,
    )
    screen = lifecycle.create_asset(
        db_session,
        ADMIN,
        where=lifecycle.Where(ecole.collectivite, ecole, room),
        model=model,
        status=AssetStatus.IN_SERVICE,
        fields=lifecycle.AssetFields(
            serial="SPE-7781", supplier="Speechi", warranty_end=paris_today() + timedelta(400)
        ),
    )
    assert screen.supplier_id == sav.id
    sign_in(make_user("technicien", [("collectivite", ecole.collectivite_id)]))

    page.goto(f"/equipements/{screen.id}")
    check_a11y(page)
    page.locator("#claim-warranty").click()
    page.wait_for_url(url(f"/equipements/{screen.id}/garantie"))
    check_a11y(page)
    page.locator("#problem").fill("L'écran ne s'allume plus depuis lundi.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(url(f"/equipements/{screen.id}") + "*")
    check_a11y(page)
    row = page.locator("#maintenance-records tbody tr").first
    expect(row).to_contain_text(translate("awaiting the supplier"))
    mail = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.to == "sav@speechi.example" and "SPE-7781" in mail.body

    page.goto("/garanties")
    check_a11y(page)
    page.locator("#open-claims tbody tr", has_text=screen.tag).locator("a").click()
    claim = db_session.scalar(select(MaintenanceRecord))
    page.wait_for_url(url(f"/garanties/{claim.id}"))
    check_a11y(page)
    expect(page.locator("#claim-facts")).to_contain_text("L'écran ne s'allume plus")

    form = page.locator(f'main form[action="/garanties/{claim.id}"]')
    form.locator("#status").select_option(ClaimStatus.REPAIRED.value)
    form.locator("#answered_on").fill(paris_today().isoformat())
    form.locator("#reference").fill("RMA-3310")
    form.locator("#answer").fill("Alimentation remplacée par le technicien Speechi.")
    form.locator("button[type=submit]").click()
    page.wait_for_url(url(f"/garanties/{claim.id}"))
    check_a11y(page)
    expect(page.locator("#claim-facts")).to_contain_text(translate("repaired under warranty"))
    expect(page.locator("#claim-facts")).to_contain_text("RMA-3310")
    db_session.expire_all()
    assert db_session.get(MaintenanceRecord, claim.id).claim_status is ClaimStatus.REPAIRED

    page.goto("/garanties")
    expect(page.locator("main")).to_contain_text(translate("No claim is awaiting an answer."))
