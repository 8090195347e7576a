"""On a phone: a teacher books the school's classe mobile through its public link (a clash
is refused and names who holds it); the director lends a laptop to a family, prints the
agreement (read back with pdftotext) and records its return. Every page is checked with
axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets.models import Asset, AssetStatus
from inventory.loans.models import Loan, LoanStatus
from inventory.orgs.models import Ecole
from tests.e2e.axe import check_a11y
from tests.factories import hash_passwords_cheaply
from tests.loans.builders import CRETEIL, classe_mobile, item, next_weekday, pdftotext

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hash_passwords_cheaply(monkeypatch)


def _book(page: Page, day: date, group: str, who: str) -> None:
    form = page.locator("main form[method=post]").first
    form.locator("input[name=day]").fill(day.isoformat())
    form.locator("input[name=start]").fill("09:00")
    form.locator("input[name=end]").fill("10:30")
    form.locator("input[name=group_label]").fill(group)
    form.locator("input[name=booked_by]").fill(who)
    form.locator("button[type=submit]").click()


def test_a_teacher_books_the_cart_and_the_director_lends_a_laptop(
    page: Page, registry, make_user, db_session, sign_in, translate
):
    page.set_viewport_size(PHONE)
    ecole_id, collectivite_id, _circo = registry["schools"][CRETEIL]
    kit = classe_mobile(db_session, ecole_id)
    laptop = item(db_session, db_session.get(Ecole, ecole_id), "pc_eleve", "ThinkPad 11e")
    director = make_user("technicien", [("collectivite", collectivite_id)])
    tuesday = next_weekday(1)

    # The teacher, without an account, through the school's link.
    page.goto(f"/reserver/{kit.booking_token}")
    check_a11y(page)
    _book(page, tuesday, "CM1 B", "Mme Lefèvre")
    expect(page.get_by_role("status").first).to_contain_text(
        translate("%(num)d booking recorded.", plural="%(num)d bookings recorded.", num=1)
    )
    page.goto(f"/reserver/{kit.booking_token}?semaine={tuesday.isoformat()}")
    expect(page.locator(".booking")).to_contain_text("CM1 B")
    check_a11y(page)
    # A colleague asks for the same morning: refused, with who holds the cart.
    _book(page, tuesday, "CE2 A", "M. Petit")
    expect(page.locator(".error-message").first).to_contain_text("CM1 B")
    check_a11y(page)

    # The director lends the laptop to a family for the term.
    sign_in(director)
    page.goto(f"/prets/materiel/{laptop.id}/preter")
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator("select[name=borrower_kind]").select_option("family")
    form.locator("input[name=pupil_first_name]").fill("Inès")
    form.locator("input[name=pupil_class]").fill("CM2 A")
    form.locator("input[name=guardian_name]").fill("Karim Benali")
    form.locator("input[name=guardian_contact]").fill("k.benali@example.org")
    form.locator("input[name=due_on]").fill((date.today() + timedelta(days=70)).isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(laptop.tag)
    check_a11y(page)
    loan = db_session.scalar(select(Loan).where(Loan.asset_id == laptop.id))

    # The agreement, printed from the loan's page.
    link = page.get_by_role("link", name=translate("Print the loan agreement (PDF)"))
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = pdftotext(pdf.body())
    for expected in (
        "Convention de prêt",
        laptop.tag,
        "ThinkPad 11e",
        "Inès",
        "Karim Benali",
        "Créteil",
        "Date et signature",
    ):
        assert expected in text, expected

    # Back at the end of the term, in good condition.
    back = page.locator(f"form[action$='/prets/{loan.id}/retour']")
    back.locator("select[name=condition_in]").select_option("good")
    back.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(translate("Return recorded."))
    check_a11y(page)
    db_session.expire_all()
    assert db_session.get(Loan, loan.id).status is LoanStatus.RETURNED
    assert db_session.get(Asset, laptop.id).status is AssetStatus.IN_SERVICE
    receipt = page.request.get(f"/prets/{loan.id}/recu.pdf")
    assert "Reçu de retour" in pdftotext(receipt.body())
