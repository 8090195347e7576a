"""An item's maintenance through its pages: a repair recorded from a ticket, planned visits
on a schedule (next due, overdue), a warranty claim mailed to the supplier, and the cost of
ownership on the item's page."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from inventory.assets.socle import paris_today
from inventory.helpdesk.models import ProblemType
from inventory.helpdesk.staff import StaffReport, open_ticket
from inventory.suppliers.models import MaintenanceKind, MaintenancePlan, MaintenanceRecord
from inventory.suppliers.rules import add_months
from tests.factories import ADMIN, fresh, outbox
from tests.suppliers.builders import item, supplier


def test_a_repair_recorded_from_a_ticket_adds_to_the_cost_of_ownership(
    app, tech, creteil, db_session
):
    screen = item(db_session, creteil, price_ttc_cents=150_000)
    speechi = supplier(db_session, creteil, "Speechi")
    problem = db_session.scalar(select(ProblemType.id).filter_by(code="casse"))
    with app.app_context():
        ticket = open_ticket(
            db_session, app.config, ADMIN, StaffReport(problem, "Dalle fissurée", screen.id)
        )
    page = tech.get(f"/tickets/{ticket.id}").text
    assert f"/tickets/{ticket.id}/maintenance" in page
    form = tech.get(f"/tickets/{ticket.id}/maintenance").text
    assert "Dalle fissurée" in form  # the ticket's words, to start from
    data = {
        "done_on": "2026-11-03",
        "description": "Remplacement de la dalle",
        "supplier": str(speechi.id),
        "cost": "350,00",
        "duration": "-5",
    }
    bad = tech.post(f"/tickets/{ticket.id}/maintenance", data=data)
    assert bad.status_code == 422 and 'value="350,00"' in bad.text
    ok = tech.post(f"/tickets/{ticket.id}/maintenance", data={**data, "duration": "90"})
    assert ok.status_code == 302 and ok.location.endswith(f"/tickets/{ticket.id}")
    record = db_session.scalar(select(MaintenanceRecord))
    assert (record.ticket_id, record.cost_cents, record.duration_minutes) == (ticket.id, 35_000, 90)
    assert record.kind is MaintenanceKind.REPAIR and record.supplier_id == speechi.id
    # Another repair from the item's own page.
    tech.post(
        f"/equipements/{screen.id}/maintenance",
        data={"done_on": "2026-11-20", "description": "Câble HDMI", "cost": "25"},
    )
    page = tech.get(f"/equipements/{screen.id}").text
    assert "Remplacement de la dalle" in page and f"ticket #{ticket.id}" in page
    cost = page[page.index("cost-of-ownership") :][:400]
    assert "1,875.00" in cost, cost  # 1 500 + 350 + 25


def test_planned_visits_follow_their_schedule(tech, creteil, db_session):
    screen = item(db_session, creteil)
    due = paris_today() - timedelta(days=3)
    response = tech.post(
        f"/equipements/{screen.id}/entretien",
        data={"title": "Nettoyage du filtre", "every_months": "6", "next_due": due.isoformat()},
    )
    assert response.status_code == 302
    plan = db_session.scalar(select(MaintenancePlan))
    listed = tech.get("/echeances").text
    assert "Nettoyage du filtre" in listed and "overdue" in listed
    form = tech.get(f"/entretiens/{plan.id}")
    assert form.status_code == 200
    visit = {
        "done_on": paris_today().isoformat(),
        "description": "Filtre nettoyé",
        "cost": "40",
        "version": str(plan.version),
    }
    assert tech.post(f"/entretiens/{plan.id}", data=visit).status_code == 302
    plan = fresh(db_session, MaintenancePlan, plan.id)
    assert plan.next_due == add_months(due, 6)  # from the due date, not the day done
    assert "overdue" not in tech.get("/echeances").text
    stale = tech.post(f"/entretiens/{plan.id}", data={**visit, "description": "Encore"})
    assert stale.status_code == 409 and 'value="Encore"' in stale.text
    assert len(db_session.scalars(select(MaintenanceRecord)).all()) == 1


def test_a_warranty_claim_is_mailed_to_the_supplier(tech, creteil, db_session):
    ends = paris_today() + timedelta(days=20)
    screen = item(db_session, creteil, warranty_end=ends, serial="SN-42", invoice_number="F-9")
    nomail = supplier(db_session, creteil, "Sans Courriel")
    speechi = supplier(db_session, creteil, "Speechi", email="sav@speechi.example")
    page = tech.get(f"/equipements/{screen.id}").text
    assert f"/equipements/{screen.id}/garantie" in page
    url = f"/equipements/{screen.id}/garantie"
    refused = tech.post(url, data={"supplier": str(nomail.id), "problem": "Plus d'image"})
    assert refused.status_code == 422 and "no email address" in refused.text
    assert (
        tech.post(url, data={"supplier": str(speechi.id), "problem": "Plus d'image"}).status_code
        == 302
    )
    mail = outbox(db_session)[-1]
    assert mail.to == "sav@speechi.example"
    assert "SN-42" in mail.body and "F-9" in mail.body and "Plus d'image" in mail.body
    record = db_session.scalar(select(MaintenanceRecord))
    assert record.kind is MaintenanceKind.CLAIM and record.under_warranty


def test_an_item_out_of_warranty_gets_no_claim(tech, creteil, db_session):
    screen = item(db_session, creteil, warranty_end=date(2020, 1, 1))
    speechi = supplier(db_session, creteil, "Speechi", email="sav@speechi.example")
    response = tech.post(
        f"/equipements/{screen.id}/garantie", data={"supplier": str(speechi.id), "problem": "x"}
    )
    assert response.status_code == 422 and "not under warranty" in response.text


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(1, 120))
def test_a_schedule_moves_by_whole_months(day, months):
    later = add_months(day, months)
    assert (later.year - day.year) * 12 + later.month - day.month == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)
