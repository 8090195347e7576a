"""Subscriptions through their pages: the finance officer records the ENT bought under a
dossier (supplier, schools, seats, dates, cost, invoice); it is the school's digital
service, which the socle counts, and the service's page shows its terms."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from inventory.assets import socle
from inventory.assets.models import DigitalService
from inventory.suppliers.models import ServiceSubscription
from tests.suppliers.builders import school_of, services_invoice, supplier


def test_a_finance_officer_records_a_subscription(finance, tech, creteil, db_session):
    ecole = school_of(db_session, creteil)
    provider = supplier(db_session, creteil, "Beneylu")
    invoice = services_invoice(db_session, creteil)
    today = socle.paris_today()
    form = {
        "kind": "ent",
        "name": "ENT Beneylu School",
        "supplier": str(provider.id),
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=365)).isoformat(),
        "schools": [str(ecole.id)],
        "seats_bought": "120",
        "seats_used": "130",
        "cost": "2 400,00",
        "expense": str(invoice),
    }
    url = f"/abonnements/nouveau?collectivite={creteil}"
    refused = finance.post(url, data=form)
    assert refused.status_code == 422 and "More seats used than bought" in refused.text
    assert db_session.scalar(select(DigitalService)) is None
    response = finance.post(url, data={**form, "seats_used": "95"})
    assert response.status_code == 302
    sub = db_session.scalar(select(ServiceSubscription))
    assert (sub.seats_bought, sub.seats_used, sub.cost_per_year_cents) == (120, 95, 240_000)
    assert sub.expense_id == invoice and sub.supplier_id == provider.id
    service = db_session.get(DigitalService, sub.service_id)
    assert service.provider == "Beneylu"  # as the directory names it
    # The socle counts it: the school has a running ENT.
    status = socle.school_status(db_session, [ecole.id])[ecole.id]
    assert any(("ent", "ENT Beneylu School") in c.services for c in status.checks)
    # The service's page shows its terms, to the technician as well.
    page = tech.get(f"/services-numeriques/{service.id}").text
    assert "95 / 120" in page and "F-ENT-1" in page and "Record it as a subscription" not in page
    assert "Edit the subscription" in finance.get(f"/services-numeriques/{service.id}").text
    # The technician reads the terms, but may not change them.
    assert tech.get(f"/abonnements/{service.id}").status_code == 200
    assert tech.post(f"/abonnements/{service.id}", data=form).status_code == 404
    listed = finance.get("/abonnements").text
    assert "ENT Beneylu School" in listed and "2,400.00" in listed


def test_a_stale_subscription_save_is_a_conflict(finance, creteil, db_session):
    ecole = school_of(db_session, creteil)
    form = {"kind": "software", "name": "Suite bureautique", "schools": [str(ecole.id)]}
    assert (
        finance.post(f"/abonnements/nouveau?collectivite={creteil}", data=form).status_code == 302
    )
    sub = db_session.scalar(select(ServiceSubscription))
    edit = {**form, "version": str(sub.version), "seats_bought": "10"}
    assert finance.post(f"/abonnements/{sub.service_id}", data=edit).status_code == 302
    stale = finance.post(f"/abonnements/{sub.service_id}", data={**edit, "seats_bought": "12"})
    assert stale.status_code == 409 and 'value="12"' in stale.text
