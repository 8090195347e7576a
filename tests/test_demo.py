"""`flask demo load` builds one living collectivité (Créteil), always the same, through the
domain services; every demo account's first pages then show figures, not empty states."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    AssetStatus,
    ClassroomSocle,
    Disposal,
    DisposalRoute,
    NetworkWork,
)
from inventory.assets.socle import TARGET_LEVELS
from inventory.core.audit import AuditRecord
from inventory.core.mail import OutboxMessage
from inventory.demo import DEMO_DOSSIER_REFERENCE, DEMO_PASSWORD
from inventory.demo.accounts import demo_accounts, demo_places
from inventory.grants.models import Dossier, Expense, FundingLink, Payment
from inventory.helpdesk.models import Ticket, TicketMessage, TicketStatus
from inventory.labels.models import ScanToken
from inventory.orgs.models import Classroom, Ecole
from inventory.suppliers.models import ExpiryAlert, ServiceSubscription, Supplier
from inventory.training.models import Attendee, SessionStatus, TrainingSession
from tests.factories import count, login

FIGURE = re.compile(r'<div class="figure">\s*<dt>(.*?)</dt>\s*<dd>.*?<strong>(.*?)</strong>', re.S)
SECTION = re.compile(
    r'<section class="figure-group" aria-labelledby="fig-([a-z_]+)">(.*?)</section>', re.S
)


def _load(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _nonzero(text: str) -> bool:
    return bool(re.search(r"[1-9]", text))


def test_demo_builds_a_living_collectivite_once(app: Flask, db_session: Session) -> None:
    output = _load(app)
    assert "BORROWED from the Ille-et-Vilaine (035) extract" in output
    places = demo_places(db_session)
    assert places is not None and places.town.name == "Créteil"
    town = places.town.id

    # Pupils per classroom, from the effectifs extract (borrowed, one 035 school each).
    rooms = db_session.scalars(
        select(Classroom).join(Ecole).where(Ecole.collectivite_id == town)
    ).all()
    assert rooms and all(r.pupils for r in rooms)
    schools = db_session.scalars(select(Ecole).where(Ecole.collectivite_id == town)).all()
    assert all(e.pupils == sum(r.pupils or 0 for r in e.classrooms) for e in schools)

    # Equipment in most target classrooms; a few short of the socle.
    targets = [r for r in rooms if set(r.levels.split(",")) & set(TARGET_LEVELS)]
    meeting = db_session.scalar(
        select(func.count())
        .select_from(ClassroomSocle)
        .where(ClassroomSocle.classroom_id.in_([r.id for r in targets]), ClassroomSocle.meets)
    )
    assert 0.8 * len(targets) < meeting < len(targets)
    items = db_session.scalars(select(Asset).where(Asset.collectivite_id == town)).all()
    assert len(items) > 1000
    kinds = Counter(a.category.code for a in items)
    assert {"eni", "vpi", "tni", "poste_enseignant", "tablette", "classe_mobile"} <= set(kinds)
    assert kinds["tablette"] >= 16 * kinds["classe_mobile"]
    statuses = Counter(a.status for a in items)
    assert statuses[AssetStatus.IN_SERVICE] > 1000
    assert statuses[AssetStatus.DELIVERED] and statuses[AssetStatus.UNDER_REPAIR]
    assert count(db_session, NetworkWork, NetworkWork.collectivite_id == town) > 30
    # A QR token for every item still there (the retired ones left before), every room.
    here = [a for a in items if a.status is not AssetStatus.RETIRED]
    assert count(db_session, ScanToken, ScanToken.asset_id.isnot(None)) >= len(here) - 4
    assert count(db_session, ScanToken, ScanToken.classroom_id.isnot(None)) == len(rooms)

    # Tickets in every state, reported through the public page, some anonymously.
    tickets = db_session.scalars(select(Ticket)).all()
    assert {t.status for t in tickets} == set(TicketStatus)
    assert any(t.reporter_name is None and t.reporter_email is None for t in tickets)
    assert any(t.reporter_email for t in tickets)
    assert count(db_session, TicketMessage, TicketMessage.internal.is_(True)) > 0
    assert all(t.created_at < t.messages[-1].at for t in tickets if len(t.messages) > 1)

    # The dossier: invoices linked to items and works, and the advance received.
    dossier = db_session.execute(
        select(Dossier).filter_by(reference=DEMO_DOSSIER_REFERENCE)
    ).scalar_one()
    assert count(db_session, Expense, Expense.dossier_id == dossier.id) == 3
    links = db_session.scalars(select(FundingLink)).all()
    assert any(link.asset_id for link in links) and any(link.work_id for link in links)
    payment = db_session.execute(select(Payment).filter_by(dossier_id=dossier.id)).scalar_one()
    assert payment.received_cents and payment.received_cents > 0

    # End of life: old projectors collected by an eco-organism with its certificate, old
    # laptops given; the projectors' model past its expected end of life.
    batches = {d.route: d for d in db_session.scalars(select(Disposal))}
    assert set(batches) == {DisposalRoute.DEEE, DisposalRoute.DONATION}
    deee = batches[DisposalRoute.DEEE]
    assert deee.certificate_type == "application/pdf" and deee.organism == "Ecosystem"
    assert all(a.status is AssetStatus.RETIRED for a in deee.assets) and len(deee.assets) == 4
    assert deee.assets[0].expected_end_of_life < date.today()
    # Training: held with named attendees, and upcoming.
    sessions = db_session.scalars(select(TrainingSession)).all()
    assert Counter(s.status for s in sessions) == {SessionStatus.HELD: 2, SessionStatus.PLANNED: 3}
    assert count(db_session, Attendee) >= 6

    # Suppliers: the items bought through UGAP linked to it, the ENT a subscription of the
    # dossier's services invoice, and the alerts of what ends soon in the outbox.
    ugap = db_session.scalar(select(Supplier).filter_by(collectivite_id=town, name="UGAP"))
    assert count(db_session, Asset, Asset.supplier_id == ugap.id) > 1000
    sub = db_session.scalar(select(ServiceSubscription))
    assert sub.expense_id is not None and sub.service.coverage
    assert count(db_session, ExpiryAlert) >= 2  # the contract's and the subscription's
    assert count(db_session, OutboxMessage, OutboxMessage.to == "gestionnaire@socle.example")

    # Twice is once: the second run says so and adds nothing.
    before = (
        count(db_session, Asset),
        count(db_session, Ticket),
        count(db_session, TrainingSession),
        count(db_session, AuditRecord),
    )
    again = _load(app)
    assert "already loaded: nothing changed" in again
    db_session.expire_all()
    assert before == (
        count(db_session, Asset),
        count(db_session, Ticket),
        count(db_session, TrainingSession),
        count(db_session, AuditRecord),
    )


def test_every_demo_account_s_first_pages_show_figures(app: Flask, db_session: Session) -> None:
    _load(app)
    places = demo_places(db_session)
    assert places is not None
    for email, _name, role, _scopes in demo_accounts(places):
        client = app.test_client()
        assert login(client, email, DEMO_PASSWORD).status_code == 302, email
        home = client.get("/").get_data(as_text=True)
        stats = re.findall(r"<strong>([^<]*)</strong>", home.split('<ul class="stats">')[1])
        assert len(stats) == 4 and all(_nonzero(s) for s in stats), (email, stats)

        page = client.get("/tableau-de-bord")
        assert page.status_code == 200, email
        html = page.get_data(as_text=True)
        meeting = re.search(r'<progress class="socle-progress" max="(\d+)" value="(\d+)"', html)
        assert meeting and int(meeting[2]) > 0, (email, role)
        themes: dict[str, list[tuple[str, str]]] = {
            theme: FIGURE.findall(body) for theme, body in SECTION.findall(html)
        }
        assert len(themes) >= 4, themes
        for theme, figures in themes.items():
            assert any(_nonzero(value) for _, value in figures), (email, theme, figures)
        empty = [label for f in themes.values() for label, value in f if value.strip() == "—"]
        assert not empty, (email, empty)

    # Each role's working list is not an empty state either: the technician's open tickets,
    # the finance officer's dossier, the trainer's sessions.
    for email, path, link, least in (
        ("technicien@socle.example", "/tickets", r'href="/tickets/\d+"', 9),
        ("gestionnaire@socle.example", "/subventions", r'href="/subventions/\d+"', 1),
        ("erun@socle.example", "/accompagnement", r'href="/accompagnement/\d+"', 5),
    ):
        client = app.test_client()
        login(client, email, DEMO_PASSWORD)
        html = client.get(path).get_data(as_text=True)
        assert len(set(re.findall(link, html))) >= least, (email, path)

    # The demo's ProConnect and académie CAS wait for a real client id and secret: hidden
    # from the sign-in page, listed as such to the administrator, who sees on the users
    # list when each account last signed in, and how.
    sign_in_page = app.test_client().get("/login").get_data(as_text=True)
    assert "/sso/proconnect/login" not in sign_in_page
    assert "/sso/academie/login" not in sign_in_page
    admin = app.test_client()
    login(admin, "admin@socle.example", DEMO_PASSWORD)
    listing = admin.get("/admin/sso").get_data(as_text=True)
    rows = re.findall(
        r"<tr>\s*<td><a [^>]*>([^<]+)</a></td>.*?<td>(\w+)</td>\s*</tr>", listing, re.S
    )
    academie = f"Académie de {places.academie.name}"
    assert sorted(rows) == [(academie, "masqué"), ("ProConnect", "masqué")], rows
    users = admin.get("/admin/users").get_data(as_text=True)
    for email, _name, _role, _scopes in demo_accounts(places):
        row = users.split(f"<td>{email}</td>", 1)[1].split("</tr>", 1)[0]
        assert '<span class="muted">(mot de passe)</span>' in row, (email, row)
