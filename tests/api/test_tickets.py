"""Tickets through /api/v1 with a technician's token: the queue in scope with cursor
pages, a ticket opened by the staff, a message, a new status, optimistic locking, the
translated problems, and the ticket's readable change log marked as API."""

from __future__ import annotations

from sqlalchemy import select

from inventory.assets.models import Asset
from inventory.core.audit import AuditRecord
from inventory.helpdesk.models import Ticket, TicketStatus
from inventory.helpdesk.public import problem_types_on
from tests.factories import api_token, bearer, fresh

FR = {"Accept-Language": "fr"}


def _creteil_tickets(db_session, programme, *statuses):
    stmt = select(Ticket.id).where(Ticket.collectivite_id == programme["collectivites"]["creteil"])
    if statuses:
        stmt = stmt.where(Ticket.status.in_(statuses))
    return sorted(db_session.scalars(stmt), reverse=True)


def test_the_queue_walks_its_cursor_pages_in_scope_only(
    app, programme, creteil_technician, db_session
):
    _email, secret = creteil_technician
    api = app.test_client()
    seen, cursor = [], None
    for _ in range(10):
        url = "/api/v1/tickets?status=all&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, headers=bearer(secret)).get_json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == _creteil_tickets(db_session, programme) and len(seen) == 4
    open_ones = api.get("/api/v1/tickets", headers=bearer(secret)).get_json()
    assert [t["id"] for t in open_ones["items"]] == _creteil_tickets(
        db_session, programme, TicketStatus.NEW, TicketStatus.IN_PROGRESS
    )
    assert open_ones["total"] == 2 and not open_ones["capped"]
    school = api.get(
        f"/api/v1/tickets?status=all&ecole={programme['schools']['b']}", headers=bearer(secret)
    ).get_json()
    assert {t["ecole_id"] for t in school["items"]} == {programme["schools"]["b"]}
    fresnes = db_session.scalar(
        select(Ticket.id).where(Ticket.collectivite_id == programme["collectivites"]["fresnes"])
    )
    assert api.get(f"/api/v1/tickets/{fresnes}", headers=bearer(secret)).status_code == 404
    wrong = api.get("/api/v1/tickets?status=lost", headers=bearer(secret, **FR))
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "status"


def test_a_technician_opens_comments_and_resolves_a_ticket(
    app, programme, creteil_technician, db_session
):
    email, secret = creteil_technician
    api = app.test_client()
    asset = db_session.get(Asset, programme["assets"]["eni_a"])
    problem = problem_types_on(db_session, asset)[0]
    body = {"asset_id": asset.id, "problem_type_id": problem.id, "description": "Écran noir"}
    opened = api.post("/api/v1/tickets", json=body, headers=bearer(secret))
    assert opened.status_code == 201, opened.data
    ticket = opened.get_json()
    assert ticket["status"] == "new" and ticket["asset_id"] == asset.id
    assert ticket["ecole_id"] == programme["schools"]["a"] and ticket["messages"] == []
    assert opened.headers["ETag"] == f'"{ticket["version"]}"'
    created = db_session.scalars(
        select(AuditRecord).filter_by(object_type="tickets", object_id=ticket["id"])
    ).all()
    assert [r.actor_label for r in created] == [f"{email} (API)"]

    # The same problem again is the open ticket's: named, nothing created.
    again = api.post("/api/v1/tickets", json=body, headers=bearer(secret, **FR))
    assert again.status_code == 409
    assert f"Le ticket n°\u00a0{ticket['id']} est déjà ouvert" in again.get_json()["detail"]
    assert len(_creteil_tickets(db_session, programme)) == 5

    message = api.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"version": ticket["version"], "body": "Pièce commandée", "internal": False},
        headers=bearer(secret),
    )
    assert message.status_code == 201, message.data
    after_message = message.get_json()
    assert [(m["body"], m["internal"]) for m in after_message["messages"]] == [
        ("Pièce commandée", False)
    ]
    assert after_message["version"] > ticket["version"]

    # Resolving needs a resolution: the service's field, in French.
    url = f"/api/v1/tickets/{ticket['id']}/status"
    missing = api.post(
        url,
        json={"version": after_message["version"], "status": "resolved"},
        headers=bearer(secret, **FR),
    )
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == [
        {"field": "resolution", "message": "Décrivez ce qui a été fait."}
    ]
    resolved = api.post(
        url,
        json={"status": "resolved", "resolution": "Dalle changée"},
        headers=bearer(secret, **{"If-Match": message.headers["ETag"]}),
    )
    assert resolved.status_code == 200, resolved.data
    assert resolved.get_json()["status"] == "resolved"
    assert resolved.get_json()["next_statuses"] == ["closed", "reopened"]
    assert fresh(db_session, Ticket, ticket["id"]).resolution == "Dalle changée"

    history = api.get(f"/api/v1/tickets/{ticket['id']}/history", headers=bearer(secret, **FR))
    assert history.status_code == 200
    entries = history.get_json()["items"]
    assert entries[0]["actor"] and all(e["object_id"] == ticket["id"] for e in entries)
    assert {e["action"] for e in entries} == {"create", "update"}
    status_change = next(
        c for e in entries for c in e["changes"] if c["field"] == "status" and c["after"]
    )
    assert status_change["label"] == "Statut" and status_change["after"] == "résolu"
    logged = db_session.scalars(
        select(AuditRecord.actor_label).filter_by(object_type="tickets", object_id=ticket["id"])
    ).all()
    assert set(logged) == {f"{email} (API)"}


def test_ticket_writes_lock_on_the_version_read(app, programme, creteil_technician, db_session):
    _email, secret = creteil_technician
    api = app.test_client()
    ticket_id = _creteil_tickets(db_session, programme, TicketStatus.NEW)[0]
    version = fresh(db_session, Ticket, ticket_id).version
    url = f"/api/v1/tickets/{ticket_id}/messages"
    first = api.post(url, json={"version": version, "body": "a"}, headers=bearer(secret))
    assert first.status_code == 201
    stale = api.post(url, json={"version": version, "body": "b"}, headers=bearer(secret, **FR))
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert stale.get_json()["detail"].startswith("Quelqu'un d'autre a enregistré")
    header = api.post(
        url, json={"body": "c"}, headers=bearer(secret, **{"If-Match": f'"{version}"'})
    )
    assert header.status_code == 412
    assert api.post(url, json={"body": "d"}, headers=bearer(secret)).status_code == 428
    assert [m.body for m in fresh(db_session, Ticket, ticket_id).messages] == ["a"]


def test_opening_a_ticket_refuses_what_is_out_of_scope_or_invalid(
    app, programme, creteil_technician, make_user, db_session
):
    _email, secret = creteil_technician
    api = app.test_client()
    before = len(db_session.scalars(select(Ticket.id)).all())
    theirs = db_session.get(Asset, programme["assets"]["tni_c"])
    problem = problem_types_on(db_session, theirs)[0]
    out = api.post(
        "/api/v1/tickets",
        json={"asset_id": theirs.id, "problem_type_id": problem.id, "description": "x"},
        headers=bearer(secret),
    )
    assert out.status_code == 404
    empty = api.post("/api/v1/tickets", json={}, headers=bearer(secret, **FR))
    assert empty.status_code == 422
    assert empty.get_json()["errors"][0]["field"] == "asset_id"
    room_problem = api.post(
        "/api/v1/tickets",
        json={
            "classroom_id": programme["rooms"]["a1"],
            "problem_type_id": problem.id,  # an item's problem, not a room's
            "description": "x",
        },
        headers=bearer(secret, **FR),
    )
    assert room_problem.status_code == 422
    assert room_problem.get_json()["errors"][0]["field"] == "problem_type_id"
    # An auditor's token reads, never writes.
    auditor = make_user("auditeur", [("academie", programme["academie"])])
    read_only = api_token(app, auditor, scope="read")
    refused = api.post(
        "/api/v1/tickets",
        json={"classroom_id": programme["rooms"]["a1"], "description": "x"},
        headers=bearer(read_only),
    )
    assert refused.status_code == 403
    listed = api.get("/api/v1/tickets?status=all", headers=bearer(read_only)).get_json()
    assert listed["total"] == 5
    assert len(db_session.scalars(select(Ticket.id)).all()) == before
