"""A municipal technician retires three old projectors of a school at once: ticked on the
equipment list, sent to a DEEE collection by an eco-organism with its certificate; the
batch's page serves the certificate and the register lists them. Every page is checked
with axe-core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import Asset, AssetStatus, Disposal, DisposalRoute
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y
from tests.factories import hash_passwords_cheaply

# Ecole élémentaire Mélanie Bonis, Villecresnes.
UAI = "0940704E"
CERTIFICATE = b"%PDF-1.4\n% certificat de collecte Ecosystem 2026-118\n%%EOF\n"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hash_passwords_cheaply(monkeypatch)


def test_a_technician_retires_a_batch_of_projectors_with_its_certificate(
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
        db_session, "Epson", "EB-680", catalogue.category_by_code(db_session, "vp")
    )
    where = lifecycle.Where(ecole.collectivite, ecole, room)
    tags = [
        lifecycle.create_asset(
            db_session, ADMIN, where=where, model=model, status=AssetStatus.IN_SERVICE
        ).tag
        for _ in range(3)
    ]
    sign_in(make_user("technicien", [("collectivite", ecole.collectivite_id)]))

    page.goto(f"/equipements?ecole={ecole.id}")
    check_a11y(page)
    for tag in tags:
        page.locator("main table.data tbody tr", has_text=tag).locator("input[name=ids]").check()
    page.locator('button[name=action][value="retire"]').click()
    page.wait_for_url(url("/equipements/sortie?ids=") + "*")
    check_a11y(page)
    expect(page.locator("main table.data tbody tr")).to_have_count(3)
    form = page.locator("main form[method=post]")
    form.locator("#route").select_option(DisposalRoute.DEEE.value)
    form.locator("#organism").fill("Ecosystem")
    form.locator("#organism_reference").fill("ECO-2026-118")
    form.locator("#certificate").set_input_files(
        {"name": "certificat.pdf", "mimeType": "application/pdf", "buffer": CERTIFICATE}
    )
    form.locator("button[type=submit]").click()
    expect(page.locator("main p[role=status]")).to_have_text(
        translate(
            "%(num)s item retired, %(refused)s refused.",
            plural="%(num)s items retired, %(refused)s refused.",
            num=3,
            refused=0,
        )
    )
    check_a11y(page)

    db_session.expire_all()
    batch = db_session.scalar(select(Disposal))
    assert batch.organism_reference == "ECO-2026-118" and batch.certificate_size == len(CERTIFICATE)
    retired = db_session.scalars(select(Asset.status).where(Asset.tag.in_(tags))).all()
    assert retired == [AssetStatus.RETIRED] * 3

    page.locator(f'main a[href="/equipements/sorties/{batch.id}"]').click()
    page.wait_for_url(url(f"/equipements/sorties/{batch.id}"))
    check_a11y(page)
    certificate = page.locator("#disposal-certificate")
    expect(certificate).to_have_attribute("href", f"/equipements/sorties/{batch.id}/certificat")
    served = page.request.get(url(f"/equipements/sorties/{batch.id}/certificat"))
    assert served.ok and served.body() == CERTIFICATE

    page.goto("/equipements/sorties")
    check_a11y(page)
    expect(page.locator("main table.data tbody tr")).to_have_count(3)
    expect(page.locator('main a[href^="/equipements/sorties/export.csv"]')).to_be_visible()
