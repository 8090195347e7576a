"""A finance officer of Villecresnes files a SNEE 2021 dossier for two schools, records two
invoices split over them and linked to the items they paid for, reads the state aid and
what is left to claim, records the advance, and downloads the claim file. Every page is
checked with axe-core.

The figures, computed by hand from the SNEE 2021 preset (amounts incl. VAT; 70 % up to
200,000 € of eligible spending; spending capped at 3,500 € per class; at least 3,500 € per
school):

- Mélanie Bonis (A) is covered with its 5 classes (cap 17,500 €), Les Merles (B) with the 2
  classes of its convention (cap 7,000 €).
- Invoice 1, Speechi: 15,000 € excl. VAT, 18,000 € incl., all for A; it paid for the five
  screens of A (3,600 € incl. VAT each).
- Invoice 2, Dell: 7,500 € excl. VAT, 9,000 € incl.; A 1,250 / 1,500 €, B 6,250 / 7,500 €;
  it paid for A's teacher laptop (1,500 €) and B's tablet cart (7,500 €).
- A spent 19,500 €, capped at 17,500 €; B spent 7,500 € (above the minimum), capped at
  7,000 €. Eligible: 24,500 €.
- Aid: 70 % × 24,500 € = 17,150 € (A 12,250 €, B 4,900 €), under the convention's 20,000 €.
- The advance received, 30 % of the aid: 5,145 €. Left to claim: 17,150 − 5,145 = 12,005 €.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.grants.dossiers import STATUS_LABELS
from inventory.grants.models import Dossier, DossierStatus, FundingLink, FundingScheme
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y
from tests.factories import pdf_text

A_UAI, B_UAI = "0940704E", "0940705F"  # Mélanie Bonis and Les Merles, Villecresnes
REFERENCE = "8831207"  # the dossier number on Démarches simplifiées
TITLE = "Socle numérique 2021 — Mélanie Bonis et Les Merles"


def eur(cents: int) -> str:
    """An amount as the French pages print it: '17 150,00 €' (narrow no-break space between
    thousands, no-break space before the sign)."""
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0€"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _seed(app: Flask, db_session: Any) -> dict[str, Any]:
    """The shipped funding schemes, and the items the invoices paid for, in service."""
    result = app.test_cli_runner().invoke(args=["grants", "install-presets"])
    assert result.exit_code == 0, result.output
    a = db_session.scalar(select(Ecole).filter_by(uai=A_UAI))
    b = db_session.scalar(select(Ecole).filter_by(uai=B_UAI))

    def rooms(ecole: Ecole) -> list[Classroom]:
        return list(
            db_session.scalars(
                select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id)
            )
        )

    def item(ecole: Ecole, room: Classroom, code: str, model: str, ht: int, ttc: int) -> str:
        category = catalogue.category_by_code(db_session, code)
        asset = lifecycle.create_asset(
            db_session,
            ADMIN,
            where=lifecycle.Where(ecole.collectivite, ecole, room),
            model=catalogue.get_or_create_model(db_session, "Maker", model, category),
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(price_ht_cents=ht, price_ttc_cents=ttc),
        )
        return asset.tag

    screens = [item(a, r, "eni", "ENI 75", 300_000, 360_000) for r in rooms(a)]
    laptop = item(a, rooms(a)[0], "poste_enseignant", "Latitude 3540", 125_000, 150_000)
    cart = item(b, rooms(b)[0], "classe_mobile", "Chariot 16 tablettes", 625_000, 750_000)
    db_session.commit()
    return {
        "coll": a.collectivite_id,
        "a": (a.id, a.name),
        "b": (b.id, b.name),
        "snee": db_session.scalar(select(FundingScheme.id).filter_by(code="snee-2021")),
        "screens": screens,
        "laptop": laptop,
        "cart": cart,
    }


def _add_invoice(
    page: Page,
    translate: Callable[..., str],
    dossier_path: str,
    fields: dict[str, str],
    shares: list[tuple[str, str, str]],
    paid_for: list[str],
) -> None:
    """Record an invoice through the form: its fields, its split by school (school name,
    excl. VAT, incl. VAT) and the items it paid for (by tag, their price left to fund)."""
    page.locator(f'main a[href="{dossier_path}/depenses/nouvelle"]').click()
    page.wait_for_url(re.compile(re.escape(dossier_path) + r"/depenses/nouvelle$"))
    check_a11y(page)
    form = page.locator("main form[enctype='multipart/form-data']")
    form.locator("#volet").select_option("equipement")
    for name, value in fields.items():
        form.locator(f"#{name}").fill(value)
    for school, ht, ttc in shares:
        form.get_by_label(translate("%(school)s, excl. VAT", school=school), exact=True).fill(ht)
        form.get_by_label(translate("%(school)s, incl. VAT", school=school), exact=True).fill(ttc)
    for tag in paid_for:
        form.get_by_label(translate("Paid by this invoice: %(item)s", item=tag), exact=True).check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(dossier_path) + "#depenses$"))
    expect(page.locator("main .flash-success")).to_have_text(
        translate("Invoice %(number)s recorded.", number=fields["invoice_number"])
    )
    check_a11y(page)


def _change_status(page: Page, app: Flask, status: str) -> None:
    page.locator("#status-status").select_option(status)
    page.locator('main form[action$="/statut"] button[type=submit]').click()
    with app.test_request_context(), force_locale("fr"):
        label = str(STATUS_LABELS[DossierStatus(status)])  # "déposé", "retenu"…
    expect(page.locator("main h1 .tag")).to_have_text(label)
    check_a11y(page)


def test_a_finance_officer_files_a_dossier_and_downloads_the_claim(
    app: Flask,
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    world = _seed(app, db_session)
    (a_id, a_name), (b_id, b_name) = world["a"], world["b"]
    sign_in(make_user("gestionnaire", [("collectivite", world["coll"])]))

    # A new dossier: her one collectivité is implied; she picks the scheme.
    page.locator('header nav a[href="/subventions"]').click()
    page.wait_for_url(url("/subventions"))
    check_a11y(page)
    page.locator('main a[href="/subventions/nouveau"]').click()
    page.wait_for_url(url("/subventions/nouveau"))
    check_a11y(page)
    page.locator("#scheme").select_option(str(world["snee"]))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/subventions/nouveau\?.*scheme={world['snee']}"))
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator("#title").fill(TITLE)
    form.locator("#reference").fill(REFERENCE)
    form.locator("#convention_max").fill("20 000,00")
    form.locator("#decision_on").fill("2021-06-01")
    form.locator("#convention_signed_on").fill("2021-07-01")
    form.locator("#spending_deadline").fill("2022-12-31")
    schools = form.locator("#schools tbody tr")
    row_a = schools.filter(has=page.locator(f'input[type=hidden][value="{a_id}"]'))
    row_b = schools.filter(has=page.locator(f'input[type=hidden][value="{b_id}"]'))
    row_a.get_by_label(a_name, exact=True).check()
    expect(row_a.locator("input[name$='-classes']")).to_have_value("5")  # its classrooms
    row_a.locator("input[name$='-pupils']").fill("118")
    row_b.get_by_label(b_name, exact=True).check()
    row_b.locator("input[name$='-classes']").fill("2")  # what its convention covers
    row_b.locator("input[name$='-pupils']").fill("52")
    form.get_by_label("Équipement (matériel et travaux de réseau)").fill("30 000")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/subventions/\d+$"))
    check_a11y(page)
    dossier_path = page.url.removeprefix(url(""))
    expect(page.locator("main h1")).to_contain_text(TITLE)
    expect(page.locator("main .figure-aid strong")).to_have_text(eur(0))

    # Two invoices, split over the schools and linked to what they paid for.
    _add_invoice(
        page,
        translate,
        dossier_path,
        {
            "supplier": "Speechi",
            "invoice_number": "FA-2021-0913",
            "invoice_date": "2021-10-04",
            "description": "5 écrans numériques interactifs 75 pouces, pose comprise",
            "amount_ht": "15 000,00",
            "amount_ttc": "18 000,00",
        },
        [(a_name, "15 000,00", "18 000,00")],
        world["screens"],
    )
    _add_invoice(
        page,
        translate,
        dossier_path,
        {
            "supplier": "Dell",
            "invoice_number": "FA-7781",
            "invoice_date": "2021-11-18",
            "amount_ht": "7 500,00",
            "amount_ttc": "9 000,00",
        },
        [(a_name, "1 250,00", "1 500,00"), (b_name, "6 250,00", "7 500,00")],
        [world["laptop"], world["cart"]],
    )
    invoices = page.locator("#depenses table.expenses tbody tr")
    expect(invoices).to_have_count(2)
    expect(invoices.nth(0).locator("li:has(code)")).to_have_count(5)
    expect(invoices.nth(1).locator("li:has(code)")).to_have_count(2)

    # The aid, as computed by hand (see the module's docstring), and what is left to claim.
    figures = page.locator("main ul.figures")
    expect(figures.locator("li strong")).to_have_text(
        [eur(2_700_000), eur(2_450_000), eur(1_715_000), eur(0), eur(1_715_000)]
    )
    expect(figures.locator(".muted").first).to_contain_text(eur(2_250_000))  # excl. VAT
    caps = page.locator("ol.breakdown li.breakdown-spending_cap")
    expect(caps).to_have_count(2)
    expect(caps.nth(0)).to_contain_text(a_name)
    expect(caps.nth(0)).to_contain_text(eur(1_950_000))
    expect(caps.nth(0)).to_contain_text(eur(1_750_000))
    expect(caps.nth(1)).to_contain_text(b_name)
    expect(caps.nth(1)).to_contain_text(eur(750_000))
    expect(caps.nth(1)).to_contain_text(eur(700_000))
    expect(page.locator("ol.breakdown")).to_contain_text(
        re.compile(rf"70\s?%.*{re.escape(eur(2_450_000))}.*{re.escape(eur(1_715_000))}")
    )
    covered = page.locator("main table.data:has(th:text-is('" + translate("Pupils") + "'))")
    for name, aid in ((a_name, 1_225_000), (b_name, 490_000)):
        expect(covered.locator("tbody tr", has_text=name).locator("td:last-child")).to_have_text(
            eur(aid)
        )
    db_session.expire_all()
    dossier = db_session.scalar(select(Dossier).filter_by(reference=REFERENCE))
    linked = sorted(
        db_session.scalars(
            select(FundingLink.amount_cents).where(
                FundingLink.expense_id.in_([e.id for e in dossier.expenses])
            )
        )
    )
    assert linked == sorted([360_000] * 5 + [150_000, 750_000])  # each item's price

    # Once the convention is signed, the 30 % advance arrives.
    for status in ("submitted", "approved", "signed"):
        _change_status(page, app, status)
    payments = page.locator("#versements")
    payments.locator("summary").click()
    payments.locator("#payment-kind").select_option("advance")
    payments.locator("#payment-requested_on").fill("2021-07-15")
    payments.locator("#payment-requested").fill("5 145,00")
    payments.locator("#payment-received_on").fill("2021-09-01")
    payments.locator("#payment-received").fill("5 145,00")
    payments.locator("#payment-reference").fill("VIR-2021-0042")
    payments.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(dossier_path) + "#versements$"))
    check_a11y(page)
    expect(payments.locator("tbody tr")).to_have_count(1)
    expect(page.locator("main .figure-aid strong")).to_have_text(eur(1_715_000))
    expect(figures.locator("li strong").nth(3)).to_have_text(eur(514_500))  # received
    expect(page.locator("main .figure-left strong")).to_have_text(eur(1_200_500))

    # The claim file for the académie.
    with page.expect_download() as download_info:
        page.locator(f'main a[href="{dossier_path}/demande-de-versement.pdf"]').click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"demande-de-versement-{REFERENCE}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = re.sub(r"[\u00a0\u202f]", " ", pdf_text(data))
    for expected in (REFERENCE, "Speechi", "FA-2021-0913", "FA-7781", a_name, b_name):
        assert expected in text, expected
    for cents in (1_715_000, 1_200_500):  # the aid, and what is left to claim
        assert eur(cents).replace("\u202f", " ").replace("\u00a0", " ") in text, cents
