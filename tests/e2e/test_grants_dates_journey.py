"""A finance officer of Villecresnes records an invoice dated after the SNEE 2021 spending
window: the dossier says why it counts for no aid, and the claim file leaves it out. Then an
instalment above the computed aid is refused until she confirms it. Every page is checked
with axe-core.

The figures, by hand (SNEE 2021 preset: 70 % of eligible spending, capped at 3,500 € per
class, invoices dated 14 January 2021 to 31 December 2022):

- Mélanie Bonis is covered with its 5 classes (cap 17,500 €). Invoice FA-2021-0913 (Speechi,
  10,000 € excl. VAT, 12,000 € incl., 4 October 2021) is eligible: aid 70 % × 12,000 =
  8,400 €.
- Invoice FA-2023-0042 (Dell, 1,000 € excl. VAT, 1,200 € incl.) is dated 16 January 2023,
  after the window: counted, it would make 13,200 € and 9,240 € of aid; it counts for
  nothing. Spent 13,200 € (recorded), eligible 12,000 €, aid 8,400 €; the claim file
  counts 12,000 € incl. VAT and one invoice left out.
- 9,000 € received would be 600 € above the 8,400 € of aid: refused, then confirmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, format_date
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.grants.dossiers import (
    DossierFields,
    SchoolCover,
    change_dossier_status,
    create_dossier,
)
from inventory.grants.expenses import ExpenseFields, add_expense
from inventory.grants.models import DossierStatus, FundingScheme, Payment
from inventory.orgs.models import Ecole
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y
from tests.factories import pdf_text

A_UAI = "0940704E"  # Mélanie Bonis, Villecresnes
LATE = "FA-2023-0042"


def eur(cents: int) -> str:
    """'8 400,00 €' as the French pages print it."""
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0€"


def plain(text: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", text)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _dossier(app: Flask, db_session: Any) -> tuple[int, int]:
    """A signed SNEE 2021 dossier for Mélanie Bonis with its 2021 invoice."""
    assert app.test_cli_runner().invoke(args=["grants", "install-presets"]).exit_code == 0
    school = db_session.scalar(select(Ecole).filter_by(uai=A_UAI))
    scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    dossier = create_dossier(
        db_session,
        ADMIN,
        collectivite=school.collectivite,
        scheme=scheme,
        fields=DossierFields(
            title="Socle numérique 2021 — Mélanie Bonis", convention_max_cents=2_000_000
        ),
        schools=[SchoolCover(school.id, classes=5, pupils=118)],
    )
    add_expense(
        db_session,
        ADMIN,
        dossier,
        ExpenseFields(
            "equipement",
            "Speechi",
            "FA-2021-0913",
            1_000_000,
            1_200_000,
            invoice_date=date(2021, 10, 4),
        ),
    )
    for status in (DossierStatus.SUBMITTED, DossierStatus.APPROVED, DossierStatus.SIGNED):
        change_dossier_status(db_session, ADMIN, dossier, status)
    return dossier.id, school.collectivite_id


def test_an_invoice_after_the_window_is_left_out_and_a_payment_above_the_aid_confirmed(
    app: Flask,
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    dossier_id, coll = _dossier(app, db_session)
    with app.test_request_context(), force_locale("fr"):
        late_day, window_start, window_end = (
            format_date(d, "medium")
            for d in (date(2023, 1, 16), date(2021, 1, 14), date(2022, 12, 31))
        )
    reason = translate(
        "dated %(date)s, after the end of eligible spending (%(end)s)",
        date=late_day,
        end=window_end,
    )
    sign_in(make_user("gestionnaire", [("collectivite", coll)]))
    dossier_path = f"/subventions/{dossier_id}"
    page.locator('header nav a[href="/subventions"]').click()
    page.wait_for_url(url("/subventions"))
    check_a11y(page)
    page.locator(f'main a[href="{dossier_path}"]').click()
    page.wait_for_url(url(dossier_path))
    check_a11y(page)
    expect(page.locator("main .figure-aid strong")).to_have_text(eur(840_000))

    # The late invoice, through the form: the form says which dates the scheme pays for.
    page.locator(f'main a[href="{dossier_path}/depenses/nouvelle"]').click()
    page.wait_for_url(url(f"{dossier_path}/depenses/nouvelle"))
    check_a11y(page)
    form = page.locator("main form[enctype='multipart/form-data']")
    expect(form.locator("#invoice_date-hint")).to_contain_text(window_end)
    form.locator("#volet").select_option("equipement")
    form.locator("#supplier").fill("Dell")
    form.locator("#invoice_number").fill(LATE)
    form.locator("#invoice_date").fill("2023-01-16")
    form.locator("#description").fill("Poste enseignant, livré en janvier")
    form.locator("#amount_ht").fill("1 000,00")
    form.locator("#amount_ttc").fill("1 200,00")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(dossier_path) + "#depenses$"))
    check_a11y(page)
    flash = page.locator("main .flash-warning")
    expect(flash).to_contain_text(translate("Invoice %(number)s recorded.", number=LATE))
    expect(flash).to_contain_text(reason)

    # Recorded, marked ineligible with its reason, and left out of the aid.
    row = page.locator("#depenses tr.expense-ineligible")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(LATE)
    expect(row.locator(".tag")).to_have_text(translate("not eligible"))
    expect(row.locator(".expense-reason")).to_have_text(reason)
    expect(page.locator("#excluded-invoices")).to_contain_text(eur(120_000))
    expect(page.locator("ol.breakdown li.breakdown-after_window")).to_contain_text(LATE)
    figures = page.locator("main ul.figures li strong")
    expect(figures).to_have_text(
        [eur(1_320_000), eur(1_200_000), eur(840_000), eur(0), eur(840_000)]
    )

    # The claim file does not count it.
    with page.expect_download() as download_info:
        page.locator(f'main a[href="{dossier_path}/demande-de-versement.pdf"]').click()
    text = plain(pdf_text(Path(download_info.value.path()).read_bytes()))
    assert LATE not in text and "Dell" not in text
    assert "FA-2021-0913" in text
    assert plain(eur(1_200_000)) in text and plain(eur(840_000)) in text
    assert plain(eur(1_320_000)) not in text
    window = translate("from %(start)s to %(end)s", start=window_start, end=window_end)
    left_out = translate(
        "%(num)d invoice of the dossier is not claimed: its date lies outside the "
        "scheme's eligible spending (%(window)s) or is missing.",
        plural="%(num)d invoices of the dossier are not claimed: their dates lie outside "
        "the scheme's eligible spending (%(window)s) or are missing.",
        num=1,
        window=window,
    )
    assert plain(left_out) in re.sub(r"\s+", " ", text)

    # An instalment of 9,000 € would be 600 € above the aid: refused until confirmed.
    payments = page.locator("#versements")
    payments.locator("summary").click()
    payments.locator("#payment-kind").select_option("instalment")
    payments.locator("#payment-received_on").fill("2023-02-01")
    payments.locator("#payment-received").fill("9 000,00")
    payments.locator("#payment-reference").fill("VIR-2023-0007")
    payments.locator("button[type=submit]").click()
    check_a11y(page)
    expect(page.locator("#payment-received-error")).to_contain_text(eur(60_000))
    assert db_session.scalar(select(Payment).filter_by(reference="VIR-2023-0007")) is None
    confirm = page.locator("#payment-over_aid_confirmed")
    expect(confirm).to_be_visible()
    expect(page.locator("#payment-reference")).to_have_value("VIR-2023-0007")
    confirm.check()
    page.locator("#versements button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(dossier_path) + "#versements$"))
    check_a11y(page)
    expect(page.locator("#over-received")).to_contain_text(eur(60_000))
    expect(page.locator("#versements tbody tr .tag")).to_have_text(
        translate("above the aid, confirmed")
    )
    db_session.expire_all()
    payment = db_session.scalar(select(Payment).filter_by(reference="VIR-2023-0007"))
    assert payment.over_aid_confirmed and payment.received_cents == 900_000
