"""The administrator records the ENT subscription of Créteil's
first school in the browser, the morning's alert job runs, and the alert to the town's
finance officer is in the outbox page. Every page is checked with axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from inventory.assets.socle import paris_today
from inventory.core import jobs
from inventory.core.policy import Role
from inventory.suppliers.tasks import expiry_alerts
from tests.e2e.axe import check_a11y
from tests.suppliers.builders import school_of


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def test_a_subscription_recorded_in_the_browser_gets_its_alert_in_the_outbox(
    app, registry, db_session, make_user, page: Page, sign_in, translate
):
    creteil = registry["collectivites"]["Créteil"]
    ecole = school_of(db_session, creteil)
    make_user(Role.GESTIONNAIRE, [("collectivite", creteil)], email="finances@creteil.example")
    sign_in(make_user(Role.ADMIN))

    page.goto("/abonnements")
    check_a11y(page)
    page.locator("#new-subscription").click()
    check_a11y(page)  # the administrator chooses the collectivité first
    page.locator("main select#collectivite").select_option(str(creteil))
    page.locator("main form:has(select#collectivite) button[type=submit]").click()
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator("#kind").select_option("ent")
    form.locator("#name").fill("ENT Beneylu School")
    form.locator("#ends_on").fill((paris_today() + timedelta(days=60)).isoformat())
    form.locator(f"input[name=schools][value='{ecole.id}']").check()
    form.locator("#seats_bought").fill("120")
    form.locator("#cost").fill("2 400,00")
    form.locator("button[type=submit]").click()
    expect(page.locator("#subscription-terms")).to_contain_text("120")
    check_a11y(page)

    with app.app_context():
        jobs.enqueue(expiry_alerts)  # the morning run, through the queue

    page.goto("/admin/outbox")
    mail = page.locator("article.mail", has_text="finances@creteil.example")
    expect(mail).to_contain_text("ENT Beneylu School")
    expect(mail.locator("h2")).to_contain_text(translate("[Socle] Coming to an end: %(n)d", n=1))
    check_a11y(page)
