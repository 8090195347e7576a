"""A person's data by email, for an administrator: found across the domains, exported as
JSON and CSV, erased (the tickets kept without the contact, the mail deleted, another
reporter's data untouched)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from inventory.core.mail import OutboxMessage
from inventory.helpdesk.models import Ticket, TicketFollower
from tests.factories import build_world, count, login, report

EMAIL = "jeanne.rapporteuse@example.org"


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


@pytest.fixture
def reported(app, world, db_session):
    """Jeanne reports two problems (one joined by Paul), Marc reports another."""
    anon = app.test_client()
    son, casse = world["types"]["son"], world["types"]["casse"]
    for token, problem, text in (
        (world["token"], son, "Pas de son"),
        (world["token2"], casse, "Écran fissuré"),
    ):
        assert report(anon, token, problem, text, name="Jeanne R.", email=EMAIL).status_code == 200
    paul = report(
        anon, world["token"], son, "Toujours rien", name="Paul", email="paul@example.org", join="1"
    )
    assert paul.status_code == 200
    logiciel = world["types"]["logiciel"]
    marc = report(
        anon, world["laptop_token"], logiciel, "Muet", name="Marc", email="marc@example.org"
    )
    assert marc.status_code == 200
    return {t.description: t.id for t in db_session.scalars(select(Ticket))}


@pytest.fixture
def admin(app, make_user):
    client = app.test_client()
    assert login(client, make_user("admin", email="dpo@example.org")).status_code == 302
    return client


def test_an_administrator_finds_and_exports_a_persons_data(admin, reported, db_session):
    page = admin.get(f"/administration/donnees-personnelles?email={EMAIL.upper()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"#{reported['Pas de son']}" in html and f"#{reported['Écran fissuré']}" in html
    assert f"#{reported['Muet']}" not in html

    exported = admin.get(f"/administration/donnees-personnelles/export.json?email={EMAIL}")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    data = json.loads(exported.data)
    assert data["email"] == EMAIL
    assert sorted(t["ticket"] for t in data["reported"]) == sorted(
        [reported["Pas de son"], reported["Écran fissuré"]]
    )
    assert {t["reporter_name"] for t in data["reported"]} == {"Jeanne R."}
    assert len(data["followed"]) == 2
    assert data["mails"] and all("Marc" not in m["subject"] for m in data["mails"])

    csv_text = admin.get(f"/administration/donnees-personnelles/export.csv?email={EMAIL}").get_data(
        as_text=True
    )
    assert "reporter_email" in csv_text and EMAIL in csv_text and "Écran fissuré" in csv_text
    assert "marc@example.org" not in csv_text

    bad = admin.get("/administration/donnees-personnelles?email=pas-une-adresse")
    assert bad.status_code == 422


def test_an_administrator_erases_a_persons_data(admin, reported, db_session):
    mails = count(db_session, OutboxMessage, OutboxMessage.to == EMAIL)
    assert mails >= 2
    refused = admin.post("/administration/donnees-personnelles/effacer", data={"email": EMAIL})
    assert refused.status_code == 422  # not confirmed: nothing erased
    assert count(db_session, Ticket, Ticket.reporter_email == EMAIL) == 2

    done = admin.post(
        "/administration/donnees-personnelles/effacer",
        data={"email": EMAIL, "confirm": "y"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "2" in done.get_data(as_text=True)
    db_session.expire_all()
    for key in ("Pas de son", "Écran fissuré"):
        ticket = db_session.get(Ticket, reported[key])
        assert (ticket.reporter_name, ticket.reporter_email) == (None, None)
        assert ticket.description == key  # the ticket stays
    assert count(db_session, TicketFollower, TicketFollower.email == EMAIL) == 0
    assert count(db_session, OutboxMessage, OutboxMessage.to == EMAIL) == 0
    # Paul, who joined Jeanne's ticket, and Marc keep theirs.
    assert count(db_session, TicketFollower, TicketFollower.email == "paul@example.org") == 1
    marc = db_session.get(Ticket, reported["Muet"])
    assert (marc.reporter_name, marc.reporter_email) == ("Marc", "marc@example.org")
    joined = db_session.get(Ticket, reported["Pas de son"])
    assert [m.author_label for m in joined.messages if m.author_id is None] == ["Paul"]
    again = admin.get(f"/administration/donnees-personnelles?email={EMAIL}")
    assert "Nothing is held" in again.get_data(as_text=True) or "Rien" in again.get_data(
        as_text=True
    )
