"""Putting a ticket's item under repair from the ticket, and back in service when resolving:
the item's lifecycle, the change log in the same save, optimistic locking, scope, CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from inventory.assets.models import Asset, AssetStatus, StatusChange
from inventory.core.audit import AuditRecord
from inventory.helpdesk.models import Ticket, TicketMessage, TicketStatus
from tests.factories import build_world, fresh, report, signed_in


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _versions(client, ticket_id):
    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="repair-form".*?</form>', html, re.S)
    assert form, "the ticket page offers to put the item under repair"
    version = re.search(r'name="version" value="(\d+)"', form.group(0)).group(1)
    asset_version = re.search(r'name="asset_version" value="(\d+)"', form.group(0)).group(1)
    return version, asset_version


def _sound_ticket(app, world, db_session):
    """A non-blocking problem (no sound): the item stays in service until someone decides."""
    report(app.test_client(), world["token"], world["types"]["son"], "Plus de son.")
    ticket = db_session.scalar(select(Ticket))
    assert not ticket.blocking
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.IN_SERVICE
    return ticket


def _audit_count(db_session, asset_id):
    db_session.expire_all()
    return db_session.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.object_type == Asset.__tablename__, AuditRecord.object_id == asset_id)
    )


def test_a_technician_puts_the_item_under_repair_from_its_ticket_and_back_in_service(
    app, world, make_user, db_session
):
    ticket = _sound_ticket(app, world, db_session)
    screen_id = world["screen"].id
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    version, asset_version = _versions(tech, ticket.id)
    logged = _audit_count(db_session, screen_id)

    done = tech.post(
        f"/tickets/{ticket.id}/mettre-en-reparation",
        data={"version": version, "asset_version": asset_version, "repair_note": "Carte son"},
    )
    assert done.status_code == 302 and done.location == f"/tickets/{ticket.id}"
    screen = fresh(db_session, Asset, screen_id)
    assert screen.status is AssetStatus.UNDER_REPAIR
    change = db_session.scalar(
        select(StatusChange)
        .where(StatusChange.asset_id == screen_id)
        .order_by(StatusChange.id.desc())
        .limit(1)
    )
    assert change.to_status is AssetStatus.UNDER_REPAIR
    assert change.note == f"Ticket n°\u00a0{ticket.id}: Carte son"  # in the default language
    assert _audit_count(db_session, screen_id) > logged  # the change log, in the same save
    note = db_session.scalar(
        select(TicketMessage).where(
            TicketMessage.ticket_id == ticket.id, TicketMessage.internal.is_(True)
        )
    )
    assert note.body == f"Équipement {screen.tag} mis en réparation."

    # Once under repair, the page no longer offers it, and resolving offers the way back.
    html = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="repair-form"' not in html
    assert 'name="back_in_service"' in html
    version = re.search(
        r'action="/tickets/\d+/resoudre".*?name="version" value="(\d+)"', html, re.S
    ).group(1)
    resolved = tech.post(
        f"/tickets/{ticket.id}/resoudre",
        data={"version": version, "resolution": "Carte son changée.", "back_in_service": "y"},
    )
    assert resolved.status_code == 302
    assert fresh(db_session, Ticket, ticket.id).status is TicketStatus.RESOLVED
    assert fresh(db_session, Asset, screen_id).status is AssetStatus.IN_SERVICE


def test_resolving_without_the_box_leaves_the_item_under_repair(app, world, make_user, db_session):
    ticket = _sound_ticket(app, world, db_session)
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    version, asset_version = _versions(tech, ticket.id)
    tech.post(
        f"/tickets/{ticket.id}/mettre-en-reparation",
        data={"version": version, "asset_version": asset_version},
    )
    version = str(fresh(db_session, Ticket, ticket.id).version)
    tech.post(
        f"/tickets/{ticket.id}/resoudre",
        data={"version": version, "resolution": "Envoyé au SAV."},
    )
    assert fresh(db_session, Ticket, ticket.id).status is TicketStatus.RESOLVED
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.UNDER_REPAIR


def test_an_item_saved_meanwhile_is_a_conflict_that_changes_nothing(
    app, world, make_user, db_session
):
    ticket = _sound_ticket(app, world, db_session)
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    version, asset_version = _versions(tech, ticket.id)
    # Someone edits the item on its own page meanwhile.
    screen = fresh(db_session, Asset, world["screen"].id)
    screen.notes = "Vu en classe"
    db_session.commit()
    logged = _audit_count(db_session, screen.id)

    answer = tech.post(
        f"/tickets/{ticket.id}/mettre-en-reparation",
        data={"version": version, "asset_version": asset_version, "repair_note": "HS"},
    )
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "Quelqu’un d’autre a modifié cet équipement" in html
    assert "HS" in html  # the typed note is kept
    assert fresh(db_session, Asset, screen.id).status is AssetStatus.IN_SERVICE
    assert _audit_count(db_session, screen.id) == logged
    # A stale ticket is a conflict too.
    answer = tech.post(
        f"/tickets/{ticket.id}/mettre-en-reparation",
        data={"version": str(int(version) - 1), "asset_version": str(screen.version)},
    )
    assert answer.status_code == 409
    assert fresh(db_session, Asset, screen.id).status is AssetStatus.IN_SERVICE


def test_only_the_staff_who_may_change_the_item_put_it_under_repair(
    app, world, make_user, db_session, registry
):
    ticket = _sound_ticket(app, world, db_session)
    screen = fresh(db_session, Asset, world["screen"].id)
    data = {"version": str(ticket.version), "asset_version": str(screen.version)}
    outsider, _ = signed_in(
        app, make_user, "technicien", [("collectivite", registry["collectivites"]["Créteil"])]
    )
    finance, _ = signed_in(app, make_user, "gestionnaire", [("collectivite", world["coll"])])
    auditor, _ = signed_in(
        app, make_user, "auditeur", [("academie", world["ecole"].departement.academie_id)]
    )
    for client in (outsider, finance, auditor):
        assert (
            client.post(f"/tickets/{ticket.id}/mettre-en-reparation", data=data).status_code == 404
        )
    assert 'id="repair-form"' not in auditor.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert fresh(db_session, Asset, screen.id).status is AssetStatus.IN_SERVICE


def test_a_room_ticket_offers_no_repair(app, world, make_user, db_session):
    report(app.test_client(), world["room_token"], world["types"]["wifi"], "Pas de wifi")
    ticket = db_session.scalar(select(Ticket))
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    html = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="repair-form"' not in html
    answer = tech.post(
        f"/tickets/{ticket.id}/mettre-en-reparation", data={"version": str(ticket.version)}
    )
    assert answer.status_code == 422
    assert "Ce ticket concerne la salle elle-même" in answer.get_data(as_text=True)


def test_putting_under_repair_needs_the_csrf_token(app, world, make_user, db_session):
    ticket = _sound_ticket(app, world, db_session)
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    version, asset_version = _versions(tech, ticket.id)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        answer = tech.post(
            f"/tickets/{ticket.id}/mettre-en-reparation",
            data={"version": version, "asset_version": asset_version},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert answer.status_code == 400
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.IN_SERVICE
