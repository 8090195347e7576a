"""Dossiers and expenses through /api/v1: read in scope with cursor pages, written by a
finance role's token through the grants' services (allocations, funding links, status),
optimistic locking, translated field errors, and the dossier's readable change log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.core.audit import AuditRecord
from inventory.grants.models import Dossier, Expense
from tests.factories import api_token, bearer, count, fresh

FR = {"Accept-Language": "fr"}


@pytest.fixture
def manager(app, make_user, programme):
    """A gestionnaire of Créteil and a read-write token of theirs: (email, secret)."""
    email = make_user("gestionnaire", [("collectivite", programme["collectivites"]["creteil"])])
    return email, api_token(app, email, scope="write")


def test_dossiers_read_in_scope_with_their_expenses_and_links(app, programme, manager):
    _email, secret = manager
    api = app.test_client()
    seen, cursor = [], None
    for _ in range(5):
        url = "/api/v1/dossiers?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, headers=bearer(secret)).get_json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ours = programme["dossiers"]
    assert seen == sorted([ours["creteil"], ours["draft"]], reverse=True)
    signed = api.get("/api/v1/dossiers?status=signed", headers=bearer(secret)).get_json()
    assert [d["id"] for d in signed["items"]] == [ours["creteil"]]
    theirs = api.get(f"/api/v1/dossiers/{ours['fresnes']}", headers=bearer(secret))
    assert theirs.status_code == 404
    found = api.get(f"/api/v1/dossiers/{ours['creteil']}", headers=bearer(secret))
    assert found.status_code == 200 and found.headers["ETag"] == f'"{found.get_json()["version"]}"'
    dossier = found.get_json()
    assert dossier["status"] == "signed" and dossier["next_statuses"] == ["partially_paid", "paid"]
    (expense,) = dossier["expenses"]
    assert sorted(a["amount_ttc_cents"] for a in expense["allocations"]) == [450_000, 900_000]
    assert len(expense["links"]) == 4 and {x["kind"] for x in expense["links"]} == {"asset"}
    assert {x["amount_cents"] for x in expense["links"]} == {100_000}
    assert dossier["spent_ttc_cents"] == 1_350_000 and len(dossier["payments"]) == 2
    one = api.get(f"/api/v1/expenses/{expense['id']}", headers=bearer(secret)).get_json()
    assert one["links"] == expense["links"]


def test_a_manager_records_changes_and_removes_an_expense(app, programme, manager, db_session):
    email, secret = manager
    api = app.test_client()
    draft = programme["dossiers"]["draft"]
    item = programme["assets"]["vp_a2"]
    invoice = {
        "volet": "equipement",
        "supplier": "  Projecteurs   du Val ",
        "invoice_number": "F-2022-9",
        "invoice_date": "2022-02-01",
        "amount_ht_cents": 50_000,
        "amount_ttc_cents": 60_000,
        "links": [{"kind": "asset", "item_id": item, "amount_cents": 60_000}],
    }
    added = api.post(f"/api/v1/dossiers/{draft}/expenses", json=invoice, headers=bearer(secret))
    assert added.status_code == 201, added.data
    expense = added.get_json()
    # The service's rules: the supplier's spaces, the one school taking it all.
    assert expense["supplier"] == "Projecteurs du Val"
    assert expense["allocations"] == [
        {
            "ecole_id": programme["schools"]["a2"],
            "amount_ht_cents": 50_000,
            "amount_ttc_cents": 60_000,
        }
    ]
    assert expense["links"][0]["item_id"] == item
    logged = db_session.scalars(
        select(AuditRecord.actor_label).filter_by(object_type="expenses", object_id=expense["id"])
    ).all()
    assert logged == [f"{email} (API)"]

    wrong = api.post(
        f"/api/v1/dossiers/{draft}/expenses",
        json={**invoice, "amount_ttc_cents": 40_000, "links": []},
        headers=bearer(secret, **FR),
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"] == [
        {"field": "amount_ttc", "message": "Le montant TTC est inférieur au montant HT."}
    ]
    assert count(db_session, Expense, Expense.dossier_id == draft) == 1

    url = f"/api/v1/expenses/{expense['id']}"
    changed = api.patch(
        url, json={"version": expense["version"], "supplier": "Vidéo Val"}, headers=bearer(secret)
    )
    assert changed.status_code == 200, changed.data
    after = changed.get_json()
    assert after["supplier"] == "Vidéo Val" and after["links"] == expense["links"]
    assert after["version"] > expense["version"]
    history = api.get(f"/api/v1/dossiers/{draft}/history", headers=bearer(secret, **FR)).get_json()[
        "items"
    ]
    expense_entries = [e for e in history if e["object_type"] == "expenses"]
    assert [e["action"] for e in expense_entries] == ["update", "create"]
    assert all(e["type_label"] for e in history)
    assert expense_entries[0]["actor"] and "Vidéo Val" in expense_entries[0]["summary"]
    stale = api.patch(
        url, json={"version": expense["version"], "supplier": "X"}, headers=bearer(secret)
    )
    assert stale.status_code == 409
    header = api.patch(
        url,
        json={"supplier": "Y"},
        headers=bearer(secret, **{"If-Match": f'"{expense["version"]}"'}),
    )
    assert header.status_code == 412
    assert api.delete(url, json={}, headers=bearer(secret)).status_code == 428
    assert fresh(db_session, Expense, expense["id"]).supplier == "Vidéo Val"
    removed = api.delete(url, headers=bearer(secret, **{"If-Match": changed.headers["ETag"]}))
    assert removed.status_code == 204
    assert fresh(db_session, Expense, expense["id"]) is None
    assert api.get(f"{url}/history", headers=bearer(secret)).status_code == 404


def test_a_dossier_moves_along_its_steps_only(app, programme, manager, db_session):
    _email, secret = manager
    api = app.test_client()
    draft = programme["dossiers"]["draft"]
    version = fresh(db_session, Dossier, draft).version
    url = f"/api/v1/dossiers/{draft}/status"
    jump = api.post(url, json={"version": version, "status": "paid"}, headers=bearer(secret, **FR))
    assert jump.status_code == 422
    assert jump.get_json()["errors"][0]["field"] == "status"
    assert jump.get_json()["errors"][0]["message"].startswith("Un dossier au statut")
    submitted = api.post(
        url, json={"version": version, "status": "submitted"}, headers=bearer(secret)
    )
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    stale = api.post(url, json={"version": version, "status": "draft"}, headers=bearer(secret))
    assert stale.status_code == 409
    assert fresh(db_session, Dossier, draft).status.value == "submitted"


def test_finance_writes_are_not_the_technicians_nor_out_of_scope(
    app, programme, manager, creteil_technician, db_session
):
    _email, secret = manager
    _tech, tech_secret = creteil_technician
    api = app.test_client()
    ours, theirs = programme["dossiers"]["creteil"], programme["dossiers"]["fresnes"]
    invoice = {
        "volet": "equipement",
        "supplier": "S",
        "invoice_number": "N",
        "amount_ht_cents": 1,
        "amount_ttc_cents": 2,
        "invoice_date": "2022-02-01",
    }
    before = count(db_session, Expense)
    # The technician reads the dossier, as on the pages, but may not change it: 404.
    assert api.get(f"/api/v1/dossiers/{ours}", headers=bearer(tech_secret)).status_code == 200
    for path, token in (
        (f"/api/v1/dossiers/{ours}/expenses", tech_secret),
        (f"/api/v1/dossiers/{theirs}/expenses", secret),
    ):
        assert api.post(path, json=invoice, headers=bearer(token)).status_code == 404, path
    fresnes_expense = db_session.scalar(select(Expense.id).where(Expense.dossier_id == theirs))
    assert (
        api.patch(
            f"/api/v1/expenses/{fresnes_expense}", json={"version": 1}, headers=bearer(secret)
        ).status_code
        == 404
    )
    assert count(db_session, Expense) == before
