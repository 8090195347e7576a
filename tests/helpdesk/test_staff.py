"""The staff side of the helpdesk, through HTTP: queue, ticket work, the item's status
following its tickets, mails, optimistic locking, scope, notifications and figures."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from inventory.assets.models import Asset, AssetStatus, StatusChange
from inventory.auth.models import User
from inventory.core.audit import AuditRecord
from inventory.core.db import utcnow
from inventory.helpdesk.models import Ticket, TicketMessage, TicketPhoto, TicketStatus
from tests.factories import SUPPLIER, build_world, count, fresh, outbox, report, signed_in


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def version_of(client, ticket_id) -> str:
    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_the_queue_and_the_ticket_page_show_what_is_in_scope_only(
    app, world, make_user, db_session, registry
):
    anonymous = app.test_client()
    report(
        anonymous,
        world["token"],
        world["types"]["tactile_stylet"],
        photo=(io.BytesIO(png()), "ecran.png"),
    )
    report(anonymous, world["room_token"], world["types"]["wifi"], "Pas de wifi au fond")
    ticket = db_session.scalar(select(Ticket).where(Ticket.asset_id.is_not(None)))
    photo = db_session.scalar(select(TicketPhoto))
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])

    queue = tech.get("/tickets")
    assert queue.status_code == 200
    html = queue.get_data(as_text=True)
    assert f'href="/tickets/{ticket.id}"' in html and world["ecole"].name in html
    for args, shown in (
        ("?status=all", True),
        (f"?ecole={world['ecole'].id}", True),
        (f"?problem_type={world['types']['wifi']}", False),
        ("?older_than=3", False),
        ("?assignee=none", True),
        ("?assignee=me", False),
        ("?status=resolved", False),
    ):
        listed = tech.get("/tickets" + args).get_data(as_text=True)
        assert (f'href="/tickets/{ticket.id}"' in listed) is shown, args

    page = tech.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/equipements/{world["screen"].id}"' in html
    assert SUPPLIER in html and "CMD-77" in html  # under warranty: who to call
    assert f'src="/tickets/photos/{photo.id}"' in html
    assert 'id="history-title"' in html
    with tech.get(f"/tickets/photos/{photo.id}") as image:
        assert image.status_code == 200 and image.mimetype == "image/jpeg"

    # The item's and the room's pages list their open tickets.
    item_page = tech.get(f"/equipements/{world['screen'].id}").get_data(as_text=True)
    assert f'href="/tickets/{ticket.id}"' in item_page
    room_page = tech.get(f"/classes/{world['rooms'][0].id}").get_data(as_text=True)
    assert f'href="/tickets/{ticket.id}"' in room_page

    figures = tech.get("/tickets/chiffres")
    assert figures.status_code == 200 and "Speechi SPE-75" in figures.get_data(as_text=True)

    outsider, _ = signed_in(
        app, make_user, "technicien", [("collectivite", registry["collectivites"]["Créteil"])]
    )
    assert outsider.get(f"/tickets/{ticket.id}").status_code == 404
    assert outsider.get(f"/tickets/photos/{photo.id}").status_code == 404
    assert f'href="/tickets/{ticket.id}"' not in outsider.get("/tickets").get_data(as_text=True)
    assert "Speechi" not in outsider.get("/tickets/chiffres").get_data(as_text=True)


def test_working_a_ticket_moves_the_item_and_keeps_the_reporter_informed(
    app, world, make_user, db_session
):
    anonymous = app.test_client()
    reporter = "enseignante@example.org"
    report(anonymous, world["token"], world["types"]["tactile_stylet"], email=reporter)
    ticket = db_session.scalar(select(Ticket))
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.UNDER_REPAIR
    tech, tech_email = signed_in(
        app, make_user, "technicien", [("collectivite", world["coll"])], email="paul@example.org"
    )
    tech_id = db_session.scalar(select(User.id).filter_by(email=tech_email))

    def mails_to_reporter():
        return [m for m in outbox(db_session) if m.to == reporter]

    assert len(mails_to_reporter()) == 1  # "your report is recorded"

    base = f"/tickets/{ticket.id}"
    assigned = tech.post(
        base + "/assigner", data={"assignee": tech_id, "version": version_of(tech, ticket.id)}
    )
    assert assigned.status_code == 302
    assert fresh(db_session, Ticket, ticket.id).assignee_id == tech_id

    ack = tech.post(
        base + "/statut",
        data={
            "status": "acknowledged",
            "note": "Nous passons jeudi.",
            "version": version_of(tech, ticket.id),
        },
    )
    assert ack.status_code == 302
    ticket = fresh(db_session, Ticket, ticket.id)
    assert ticket.status is TicketStatus.ACKNOWLEDGED and ticket.first_response_at is not None
    assert len(mails_to_reporter()) == 2
    assert f"/suivi/{ticket.follow_token}" in mails_to_reporter()[-1].body

    for visibility, body in (("public", "Le technicien est en route."), ("internal", "Pile HS")):
        response = tech.post(
            base + "/messages",
            data={"body": body, "visibility": visibility, "version": version_of(tech, ticket.id)},
        )
        assert response.status_code == 302
    assert len(mails_to_reporter()) == 3  # the internal note is not sent
    assert "Le technicien est en route." in mails_to_reporter()[-1].body

    resolved = tech.post(
        base + "/resoudre",
        data={"resolution": "Stylet remplacé.", "version": version_of(tech, ticket.id)},
    )
    assert resolved.status_code == 302
    ticket = fresh(db_session, Ticket, ticket.id)
    assert ticket.status is TicketStatus.RESOLVED and ticket.resolved_at is not None
    asset = db_session.get(Asset, world["screen"].id)
    assert asset.status is AssetStatus.IN_SERVICE
    back = db_session.scalars(
        select(StatusChange).filter_by(asset_id=asset.id).order_by(StatusChange.id.desc())
    ).first()
    assert back.to_status is AssetStatus.IN_SERVICE and re.search(rf"\b{ticket.id}\b", back.note)
    assert len(mails_to_reporter()) == 4 and "Stylet remplacé." in mails_to_reporter()[-1].body

    follow = anonymous.get(f"/suivi/{ticket.follow_token}").get_data(as_text=True)
    assert "Stylet remplacé." in follow and "Le technicien est en route." in follow
    assert "Pile HS" not in follow and "Paul" not in follow and tech_email not in follow

    # Reopened: the item is under repair again; an impossible step is refused.
    tech.post(base + "/statut", data={"status": "reopened", "version": version_of(tech, ticket.id)})
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.UNDER_REPAIR
    assert fresh(db_session, Ticket, ticket.id).resolution is None
    refused = tech.post(
        base + "/statut", data={"status": "new", "version": version_of(tech, ticket.id)}
    )
    assert refused.status_code == 422
    tech.post(
        base + "/resoudre", data={"resolution": "Réglé.", "version": version_of(tech, ticket.id)}
    )
    closed = tech.post(
        base + "/statut", data={"status": "closed", "version": version_of(tech, ticket.id)}
    )
    assert closed.status_code == 302
    ticket = fresh(db_session, Ticket, ticket.id)
    assert ticket.status is TicketStatus.CLOSED and ticket.closed_at is not None
    assert db_session.get(Asset, world["screen"].id).status is AssetStatus.IN_SERVICE


def test_the_item_is_back_in_service_only_when_its_last_blocking_ticket_is_resolved(
    app, world, make_user, db_session
):
    anonymous = app.test_client()
    report(anonymous, world["token"], world["types"]["tactile_stylet"])
    report(anonymous, world["token"], world["types"]["ne_s_allume_pas"])
    first, second = db_session.scalars(select(Ticket).order_by(Ticket.id)).all()
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    tech.post(
        f"/tickets/{first.id}/resoudre",
        data={"resolution": "Fait.", "version": version_of(tech, first.id)},
    )
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.UNDER_REPAIR
    tech.post(
        f"/tickets/{second.id}/resoudre",
        data={"resolution": "Fait aussi.", "version": version_of(tech, second.id)},
    )
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.IN_SERVICE


def test_a_stale_form_is_refused_with_409_and_the_text_kept(app, world, make_user, db_session):
    report(app.test_client(), world["token"], world["types"]["son"])
    ticket = db_session.scalar(select(Ticket))
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    stale = version_of(tech, ticket.id)
    # A colleague acknowledges the ticket meanwhile.
    colleague, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    colleague.post(
        f"/tickets/{ticket.id}/statut", data={"status": "acknowledged", "version": stale}
    )
    conflict = tech.post(
        f"/tickets/{ticket.id}/messages",
        data={"body": "Réponse écrite longuement", "visibility": "public", "version": stale},
    )
    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    assert "Réponse écrite longuement" in html
    fresh_version = fresh(db_session, Ticket, ticket.id).version
    assert f'name="version" value="{fresh_version}"' in html
    assert count(db_session, TicketMessage, TicketMessage.body == "Réponse écrite longuement") == 0
    resolve = tech.post(
        f"/tickets/{ticket.id}/resoudre", data={"resolution": "Vite fait", "version": stale}
    )
    assert resolve.status_code == 409 and "Vite fait" in resolve.get_data(as_text=True)
    assert fresh(db_session, Ticket, ticket.id).status is TicketStatus.ACKNOWLEDGED


def test_only_the_collectivites_staff_work_tickets(app, world, make_user, db_session, registry):
    report(app.test_client(), world["token"], world["types"]["son"])
    ticket = db_session.scalar(select(Ticket))
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    creteil = registry["collectivites"]["Créteil"]
    signed_in(app, make_user, "technicien", [("collectivite", creteil)], email="autre@example.org")
    other_id = db_session.scalar(select(User.id).filter_by(email="autre@example.org"))
    refused = tech.post(
        f"/tickets/{ticket.id}/assigner",
        data={"assignee": other_id, "version": version_of(tech, ticket.id)},
    )
    assert refused.status_code == 422 and fresh(db_session, Ticket, ticket.id).assignee_id is None

    academie = world["ecole"].departement.academie_id
    for role, scopes in (
        ("auditeur", [("academie", academie)]),
        ("gestionnaire", [("collectivite", world["coll"])]),
    ):
        reader, _ = signed_in(app, make_user, role, scopes)
        page = reader.get(f"/tickets/{ticket.id}")
        assert page.status_code == 200
        assert "/resoudre" not in page.get_data(as_text=True)
        version = str(fresh(db_session, Ticket, ticket.id).version)
        for path, data in (
            ("/statut", {"status": "acknowledged"}),
            ("/resoudre", {"resolution": "x"}),
            ("/messages", {"body": "x", "visibility": "public"}),
            ("/assigner", {"assignee": "0"}),
        ):
            response = reader.post(f"/tickets/{ticket.id}{path}", data={**data, "version": version})
            assert response.status_code == 404, (role, path)
        assert reader.get("/tickets/notifications").status_code == 404
    ticket = fresh(db_session, Ticket, ticket.id)
    assert ticket.status is TicketStatus.NEW and not ticket.messages


def test_notifications_each_digest_or_none(app, world, make_user, db_session):
    _, each_email = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    digest, digest_email = signed_in(
        app, make_user, "technicien", [("collectivite", world["coll"])]
    )
    quiet, quiet_email = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    page = digest.get("/tickets/notifications").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="each"', page)
    assert digest.post("/tickets/notifications", data={"mode": "digest"}).status_code == 302
    assert quiet.post("/tickets/notifications", data={"mode": "none"}).status_code == 302
    assert quiet.post("/tickets/notifications", data={"mode": "loud"}).status_code == 422

    report(app.test_client(), world["token"], world["types"]["son"])
    report(app.test_client(), world["token2"], world["types"]["son"])
    recipients = [m.to for m in outbox(db_session)]
    assert recipients.count(each_email) == 2
    assert digest_email not in recipients and quiet_email not in recipients

    result = app.test_cli_runner().invoke(args=["helpdesk", "digest"])
    assert result.exit_code == 0 and "1 digest" in result.output
    digests = [m for m in outbox(db_session) if m.to == digest_email]
    assert len(digests) == 1
    assert digests[0].body.count("/tickets/") == 2
    # Nothing new since: no second digest.
    assert "0 digest" in app.test_cli_runner().invoke(args=["helpdesk", "digest"]).output
    assert quiet_email not in [m.to for m in outbox(db_session)]


def test_service_figures_give_medians_per_collectivite(app, world, make_user, db_session):
    anonymous = app.test_client()
    for code in ("son", "image", "casse"):
        report(anonymous, world["token"], world["types"][code])
    now = utcnow()
    for i, ticket_id in enumerate(db_session.scalars(select(Ticket.id).order_by(Ticket.id))):
        db_session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(
                created_at=now - timedelta(days=3),
                first_response_at=now - timedelta(days=3) + timedelta(hours=2 * (i + 1)),
                resolved_at=now - timedelta(days=1) if i < 2 else None,
                status=TicketStatus.RESOLVED if i < 2 else TicketStatus.NEW,
            )
        )
    db_session.commit()
    from inventory.helpdesk.figures import failing_models, service_figures
    from tests.conftest import ADMIN

    with app.app_context():
        from inventory.extensions import db

        (figures,) = service_figures(db.session, ADMIN)
        assert figures.open == 1 and figures.total == 3 and figures.resolved == 2
        assert figures.first_response == timedelta(hours=4)
        assert figures.resolution == timedelta(days=2)
        (model,) = failing_models(db.session, ADMIN)
        assert model.tickets == 3 and model.items == 2
        db.session.remove()
    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    html = tech.get("/tickets/chiffres").get_data(as_text=True)
    assert world["ecole"].collectivite.name in html


def test_everyone_who_joins_a_ticket_is_told_of_its_progress(
    app, world, make_user, db_session, monkeypatch
):
    """A dozen colleagues report the same broken pen and join its ticket: each one is told
    of the next status, however many they are; the change log records that someone
    follows, never the address."""
    monkeypatch.setitem(app.config, "HELPDESK_REPORT_LIMITS", ("100 per minute", "100 per hour"))
    anonymous = app.test_client()
    pen = world["types"]["tactile_stylet"]
    emails = [f"enseignante.remplacante.numero{n:02d}@ac-creteil.fr" for n in range(12)]
    report(anonymous, world["token"], pen, email=emails[0])
    for email in [*emails[1:], emails[3].upper()]:  # the last one has joined already
        response = report(anonymous, world["token"], pen, "Pareil ici", email=email, join="1")
        assert response.status_code == 200
    ticket = db_session.scalar(select(Ticket))
    assert ticket.reports == 13 and ticket.reporter_email == emails[0]
    assert [f.email for f in ticket.followers] == emails

    tech, _ = signed_in(app, make_user, "technicien", [("collectivite", world["coll"])])
    page = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert all(email in page for email in emails)
    ack = tech.post(
        f"/tickets/{ticket.id}/statut",
        data={"status": "acknowledged", "version": version_of(tech, ticket.id)},
    )
    assert ack.status_code == 302
    box = outbox(db_session)
    # Each address: "your report is recorded" (twice for who reported twice), then the
    # new status.
    expected = [3 if n == 3 else 2 for n in range(len(emails))]
    assert [sum(m.to == email for m in box) for email in emails] == expected

    records = db_session.scalars(
        select(AuditRecord).where(AuditRecord.object_type == "ticket_followers")
    ).all()
    assert len(records) == len(emails)
    assert not any(e in json.dumps(r.changes) + r.object_label for r in records for e in emails)
    assert {r.ecole_id for r in records} == {ticket.ecole_id}
