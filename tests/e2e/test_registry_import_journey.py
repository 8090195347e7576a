"""An administrator imports the Annuaire and the effectifs of Ille-et-Vilaine through the
upload page, reads the report (skipped rows with their reasons, warnings), names the
intercommunal body the import could only name provisionally, and sees the classrooms
labelled with their levels."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.axe import check_a11y
from tests.orgs import registry_rows as rr


def _upload(page: Page, kind: str, name: str, data: bytes) -> None:
    page.goto("/admin/import")
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator('select[name="kind"]').select_option(kind)
    form.locator('input[name="file"]').set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    form.locator("button[type=submit]").click()
    expect(page.locator("#report-title")).to_be_visible()
    check_a11y(page)


def _collectivite_id(app: Flask, siren: str) -> int:
    from sqlalchemy import select

    from inventory.extensions import db
    from inventory.orgs.models import Collectivite

    with app.app_context():
        found = db.session.scalar(select(Collectivite.id).filter_by(siren=siren))
        db.session.remove()
    return found


def test_import_name_the_body_and_read_the_levels(
    app: Flask,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    url: Callable[[str], str],
) -> None:
    sign_in(make_user("admin"))

    # The Annuaire, in the API's lower-case names.
    _upload(page, "annuaire", "annuaire-035.csv", rr.annuaire_csv(rr.annuaire_035(), variant="api"))
    report = page.locator("section.report")
    skipped = report.locator("table", has_text="Lignes ignorées, par motif")
    expect(skipped.locator("tbody tr")).to_have_count(3)
    expect(skipped).to_contain_text("nature 400 « ECOLES COMPOSEES UNIQT DE STS ET OU CPGE »")
    expect(skipped).to_contain_text(rr.UAI_NATURE_400)
    warnings = report.locator("table", has_text="Avertissements")
    expect(warnings.locator("tbody tr")).to_have_count(3)
    expect(warnings.locator("tbody tr", has_text=rr.UAI_BAD_SIRET)).to_contain_text("SIRET")

    # The intercommunal body: flagged provisional, named by the administrator.
    sivu = _collectivite_id(app, rr.SIVU_SIREN)
    page.goto(f"/collectivites/{sivu}")
    check_a11y(page)
    heading = page.locator("main h1")
    expect(heading).to_contain_text("Regroupement des communes Baguer-Morvan et Baguer-Pican")
    expect(heading.locator(".tag")).to_have_text("nom provisoire")
    form = page.locator(f'main form[action="/collectivites/{sivu}/identite"]')
    form.locator('input[name="name"]').fill("SIVU de la Baie")
    form.locator('select[name="kind"]').select_option("syndicat")
    form.locator("button[type=submit]").click()
    page.wait_for_url(url(f"/collectivites/{sivu}"))
    check_a11y(page)
    expect(heading).to_have_text("SIVU de la Baie")
    expect(page.locator("main dl.facts")).to_contain_text("Syndicat intercommunal")

    # The effectifs of rentrée 2022: Argentré-du-Plessis' classrooms get their levels.
    _, real = rr.effectifs_rows()
    _upload(page, "effectifs", "effectifs.csv", rr.effectifs_csv([real[rr.UAI_PRIMAIRE_ULIS]]))
    expect(report.locator(".stats")).to_contain_text("1 créées")
    page.goto("/ecoles?q=" + rr.UAI_PRIMAIRE_ULIS)
    page.locator("main table.data tbody tr td:nth-child(1) a").first.click()
    page.wait_for_url(re.compile(r"/ecoles/\d+$"))
    check_a11y(page)
    rooms = page.locator("main table.data").first.locator("tbody tr")
    expect(rooms).to_have_count(12)
    levels = [t.strip() for t in rooms.locator("td:nth-child(2)").all_inner_texts()]
    assert levels.count("PS, MS, GS") == 4 and levels[-1] == "ULIS", levels
