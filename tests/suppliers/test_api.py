"""The suppliers' API: suppliers, contracts and subscriptions read in cursor pages within
the token's scope, and maintenance recorded on an item (from one of its tickets)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from inventory.assets.socle import paris_today
from inventory.helpdesk.models import ProblemType
from inventory.helpdesk.staff import StaffReport, open_ticket
from inventory.suppliers import contracts
from inventory.suppliers.models import ContractKind, MaintenanceRecord
from tests.factories import ADMIN, api_token, bearer
from tests.suppliers.builders import item, school_of, subscription, supplier


def test_reads_are_paged_and_scoped(app, client, make_user, creteil, fresnes, db_session):
    mine = [supplier(db_session, creteil, f"Fournisseur {n}") for n in range(3)]
    supplier(db_session, fresnes, "Fresnes Bureautique")
    contracts.save_contract(
        db_session,
        ADMIN,
        None,
        contracts.ContractFields(
            ContractKind.WARRANTY, "G-1", "Extension", date(2026, 1, 1), date(2029, 1, 1)
        ),
        supplier=mine[0],
        item_tags=[item(db_session, creteil).tag],
    )
    subscription(db_session, creteil, ends_on=date(2027, 8, 31))
    secret = api_token(app, make_user("gestionnaire", [("collectivite", creteil)]))
    first = client.get("/api/v1/suppliers?limit=2", headers=bearer(secret)).json
    assert [s["name"] for s in first["items"]] == ["Fournisseur 2", "Fournisseur 1"]
    rest = client.get(
        f"/api/v1/suppliers?limit=2&cursor={first['next_cursor']}", headers=bearer(secret)
    ).json
    assert [s["name"] for s in rest["items"]] == ["Fournisseur 0"] and rest["next_cursor"] is None
    one = client.get(f"/api/v1/suppliers/{mine[0].id}", headers=bearer(secret))
    assert one.status_code == 200 and one.headers["ETag"] == f'"{mine[0].version}"'
    listed = client.get(f"/api/v1/contracts?supplier={mine[0].id}", headers=bearer(secret)).json
    assert listed["items"][0]["kind"] == "warranty" and len(listed["items"][0]["asset_ids"]) == 1
    subs = client.get("/api/v1/subscriptions", headers=bearer(secret)).json["items"]
    assert subs[0]["ends_on"] == "2027-08-31" and subs[0]["seats_bought"] == 100
    # The académie's auditor reads both collectivités'; a technician of Fresnes, its own.
    auditor = api_token(app, make_user("auditeur", [("academie", _academie(db_session, creteil))]))
    assert client.get("/api/v1/suppliers", headers=bearer(auditor)).json["total"] == 4
    other = api_token(app, make_user("technicien", [("collectivite", fresnes)]))
    names = [
        s["name"] for s in client.get("/api/v1/suppliers", headers=bearer(other)).json["items"]
    ]
    assert names == ["Fresnes Bureautique"]


def _academie(db_session, collectivite_id):
    return school_of(db_session, collectivite_id).departement.academie_id


def test_maintenance_is_recorded_from_a_ticket(app, client, make_user, creteil, db_session):
    screen, other = item(db_session, creteil), item(db_session, creteil)
    problem = db_session.scalar(select(ProblemType.id).filter_by(code="casse"))
    with app.app_context():
        ticket = open_ticket(db_session, app.config, ADMIN, StaffReport(problem, "HS", screen.id))
    secret = api_token(app, make_user("technicien", [("collectivite", creteil)]), scope="write")
    body = {
        "done_on": paris_today().isoformat(),
        "description": "Carte mère changée",
        "cost_cents": 12_000,
        "duration_minutes": 45,
        "ticket_id": ticket.id,
    }
    wrong = client.post(f"/api/v1/assets/{other.id}/maintenance", json=body, headers=bearer(secret))
    assert wrong.status_code == 422 and "ticket_id" in wrong.text
    done = client.post(f"/api/v1/assets/{screen.id}/maintenance", json=body, headers=bearer(secret))
    assert done.status_code == 201 and done.json["ticket_id"] == ticket.id
    record = db_session.scalar(select(MaintenanceRecord))
    assert (record.asset_id, record.cost_cents) == (screen.id, 12_000)


def _claimed(app, db_session, collectivite_id, problem):
    """A screen under warranty of the collectivité, claimed for to its supplier."""
    from datetime import timedelta

    from inventory.suppliers import claims

    screen = item(db_session, collectivite_id, warranty_end=paris_today() + timedelta(days=90))
    sav = supplier(db_session, collectivite_id, "Speechi", email="sav@speechi.example")
    with app.app_context():
        return claims.claim_warranty(
            db_session,
            ADMIN,
            app.config,
            screen,
            problem=problem,
            day=paris_today() - timedelta(days=3),
            supplier_id=sav.id,
        )


def test_claims_are_read_and_answered_under_their_version(
    app, client, make_user, creteil, fresnes, db_session
):
    claim = _claimed(app, db_session, creteil, "Plus de son")
    _claimed(app, db_session, fresnes, "Écran noir")
    secret = api_token(app, make_user("technicien", [("collectivite", creteil)]), scope="write")
    listed = client.get("/api/v1/claims?status=sent", headers=bearer(secret)).json
    assert [(c["id"], c["status"], c["problem"]) for c in listed["items"]] == [
        (claim.id, "sent", "Plus de son")
    ]
    assert client.get("/api/v1/claims?status=lost", headers=bearer(secret)).status_code == 422
    one = client.get(f"/api/v1/claims/{claim.id}", headers=bearer(secret))
    assert one.status_code == 200 and one.headers["ETag"] == f'"{claim.version}"'
    url, etag = f"/api/v1/claims/{claim.id}", {"If-Match": one.headers["ETag"]}
    headers = {**bearer(secret), **etag}
    # Checked as the page checks it: a refusal says why.
    refused = client.patch(
        url, json={"status": "refused", "answered_on": paris_today().isoformat()}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json["errors"] == [
        {"field": "answer", "message": "Dites pourquoi le fournisseur a refusé."}
    ]
    answered = client.patch(
        url,
        json={"status": "repaired", "answered_on": paris_today().isoformat(), "reference": "R-1"},
        headers=headers,
    )
    assert answered.status_code == 200, answered.text
    assert (answered.json["status"], answered.json["reference"]) == ("repaired", "R-1")
    assert answered.headers["ETag"] != one.headers["ETag"]
    # The version read is gone: 412; without any version, 428.
    stale = client.patch(url, json={"answer": "Carte son changée"}, headers=headers)
    assert stale.status_code == 412
    assert client.patch(url, json={"answer": "x"}, headers=bearer(secret)).status_code == 428
    kept = client.patch(
        url,
        json={"answer": "Carte son changée"},
        headers={**bearer(secret), "If-Match": answered.headers["ETag"]},
    ).json
    assert (kept["status"], kept["reference"], kept["answer"]) == (
        "repaired",
        "R-1",
        "Carte son changée",
    )
    assert client.get("/api/v1/claims?status=sent", headers=bearer(secret)).json["items"] == []
    # Another collectivité's claim is not found; a read-only token cannot answer.
    theirs = db_session.scalar(select(MaintenanceRecord).where(MaintenanceRecord.id != claim.id))
    assert client.get(f"/api/v1/claims/{theirs.id}", headers=bearer(secret)).status_code == 404
    reader = api_token(app, make_user("technicien", [("collectivite", creteil)]))
    assert client.patch(url, json={"version": 9}, headers=bearer(reader)).status_code == 403
