"""Dossier, payment and funding-link writes through /api/v1 with a finance role's token:
the grants' own services (a draft that freezes its scheme's rules, the money above the
aid only when confirmed, links never beyond an item's price), one version check each
(409 in the body, 412 with If-Match, 428 without), 404 out of scope, the change log
marked as API, and the dossier's status told to a webhook receiver."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.api import webhooks
from inventory.core import events
from inventory.core.audit import AuditRecord
from inventory.grants.models import Dossier, Expense, Payment
from inventory.grants.schemes import schemes
from inventory.orgs.models import Collectivite
from tests.api.payloads import conforms
from tests.factories import ADMIN, api_token, bearer, count, fresh
from tests.servers import a_webhook_receiver

FR = {"Accept-Language": "fr"}


@pytest.fixture
def app_config():
    return {"WEBHOOKS_ALLOW_PRIVATE": True}  # the receiver listens on loopback


@pytest.fixture
def manager(app, make_user, programme):
    """A gestionnaire of Créteil and a read-write token of theirs: (email, secret)."""
    email = make_user("gestionnaire", [("collectivite", programme["collectivites"]["creteil"])])
    return email, api_token(app, email, scope="write")


def _scheme(db_session):
    return next(s for s in schemes(db_session) if s.code == "snee-2021")


def test_a_manager_opens_and_changes_a_dossier(app, programme, manager, db_session):
    email, secret = manager
    api = app.test_client()
    creteil, fresnes = programme["collectivites"]["creteil"], programme["collectivites"]["fresnes"]
    a2, b = programme["schools"]["a2"], programme["schools"]["b"]
    body = {
        "collectivite_id": creteil,
        "scheme_id": _scheme(db_session).id,
        "title": "  Écoles   2023 ",
        "reference": "SNEE-API-1",
        "convention_max_cents": 900_000,
        "schools": [{"ecole_id": a2}, {"ecole_id": b, "classes": 3, "pupils": 70}],
    }
    made = api.post("/api/v1/dossiers", json=body, headers=bearer(secret))
    assert made.status_code == 201, made.data
    dossier = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/dossiers/{dossier['id']}")
    assert made.headers["ETag"] == f'"{dossier["version"]}"'
    assert (dossier["title"], dossier["status"]) == ("Écoles 2023", "draft")
    assert {s["ecole_id"]: (s["classes"], s["pupils"]) for s in dossier["schools"]}[b] == (3, 70)
    logged = db_session.scalars(
        select(AuditRecord.actor_label).filter_by(object_type="dossiers", object_id=dossier["id"])
    ).all()
    assert logged == [f"{email} (API)"]

    # Another collectivité's dossier: not found; a missing title: the service's field error.
    theirs = api.post(
        "/api/v1/dossiers", json={**body, "collectivite_id": fresnes}, headers=bearer(secret)
    )
    assert theirs.status_code == 404
    untitled = api.post(
        "/api/v1/dossiers",
        json={**body, "title": " ", "reference": None},
        headers=bearer(secret, **FR),
    )
    assert untitled.status_code == 422
    assert untitled.get_json()["errors"] == [
        {"field": "title", "message": "Donnez un intitulé au dossier."}
    ]
    twice = api.post("/api/v1/dossiers", json=body, headers=bearer(secret))
    assert twice.status_code == 422 and twice.get_json()["errors"][0]["field"] == "reference"

    url = f"/api/v1/dossiers/{dossier['id']}"
    changed = api.patch(
        url, json={"version": dossier["version"], "title": "Écoles 2024"}, headers=bearer(secret)
    )
    assert changed.status_code == 200, changed.data
    after = changed.get_json()
    assert after["title"] == "Écoles 2024" and after["schools"] == dossier["schools"]
    assert after["reference"] == "SNEE-API-1" and after["version"] > dossier["version"]
    stale = api.patch(
        url, json={"version": dossier["version"], "title": "X"}, headers=bearer(secret)
    )
    assert stale.status_code == 409
    header = api.patch(
        url, json={"title": "Y"}, headers=bearer(secret, **{"If-Match": made.headers["ETag"]})
    )
    assert header.status_code == 412
    assert api.patch(url, json={"title": "Z"}, headers=bearer(secret)).status_code == 428
    fewer = api.patch(
        url,
        json={"schools": [{"ecole_id": a2}]},
        headers=bearer(secret, **{"If-Match": changed.headers["ETag"]}),
    )
    assert fewer.status_code == 200 and [s["ecole_id"] for s in fewer.get_json()["schools"]] == [a2]
    assert fresh(db_session, Dossier, dossier["id"]).title == "Écoles 2024"


def test_payments_above_the_aid_need_the_confirmation(app, programme, manager, db_session):
    _email, secret = manager
    api = app.test_client()
    signed, draft = programme["dossiers"]["creteil"], programme["dossiers"]["draft"]
    money = {"kind": "balance", "received_on": "2022-09-01", "received_cents": 10**8}
    above = api.post(
        f"/api/v1/dossiers/{signed}/payments", json=money, headers=bearer(secret, **FR)
    )
    assert above.status_code == 422
    (error,) = above.get_json()["errors"]
    assert error["field"] == "over_aid_confirmed" and "de plus que l'aide" in error["message"]
    early = api.post(f"/api/v1/dossiers/{draft}/payments", json=money, headers=bearer(secret))
    assert early.status_code == 422 and early.get_json()["errors"][0]["field"] == "kind"
    theirs = programme["dossiers"]["fresnes"]
    assert (
        api.post(f"/api/v1/dossiers/{theirs}/payments", json=money, headers=bearer(secret))
    ).status_code == 404
    before = count(db_session, Payment)
    made = api.post(
        f"/api/v1/dossiers/{signed}/payments",
        json={**money, "over_aid_confirmed": True},
        headers=bearer(secret),
    )
    assert made.status_code == 201, made.data
    payment = made.get_json()
    assert payment["over_aid_confirmed"] is True and payment["dossier_id"] == signed
    assert count(db_session, Payment) == before + 1

    url = f"/api/v1/payments/{payment['id']}"
    read = api.get(url, headers=bearer(secret))
    assert read.headers["ETag"] == made.headers["ETag"]
    # A change that does not touch the money keeps its confirmation.
    renamed = api.patch(
        url, json={"version": payment["version"], "reference": "V-8"}, headers=bearer(secret)
    )
    assert renamed.status_code == 200, renamed.data
    assert renamed.get_json()["over_aid_confirmed"] is True
    smaller = api.patch(
        url,
        json={"received_cents": 1_000, "reference": "V-9"},
        headers=bearer(secret, **{"If-Match": renamed.headers["ETag"]}),
    )
    assert smaller.status_code == 200, smaller.data
    assert smaller.get_json()["over_aid_confirmed"] is False  # no longer above the aid
    assert smaller.get_json()["kind"] == "balance" and smaller.get_json()["reference"] == "V-9"
    stale = api.patch(url, json={"version": payment["version"]}, headers=bearer(secret))
    assert stale.status_code == 409
    assert api.delete(url, headers=bearer(secret)).status_code == 428
    assert api.delete(url, headers=bearer(secret, **{"If-Match": '"1"'})).status_code == 412
    gone = api.delete(url, headers=bearer(secret, **{"If-Match": smaller.headers["ETag"]}))
    assert gone.status_code == 204
    assert fresh(db_session, Payment, payment["id"]) is None


def test_an_invoice_is_linked_to_the_items_it_paid_for(app, programme, manager, db_session):
    _email, secret = manager
    api = app.test_client()
    signed = programme["dossiers"]["creteil"]
    candidates = api.get(f"/api/v1/dossiers/{signed}/link-candidates", headers=bearer(secret))
    assert candidates.status_code == 200
    by_item = {(c["kind"], c["item_id"]): c for c in candidates.get_json()}
    eni = programme["assets"]["eni_a"]
    assert by_item[("asset", eni)]["funded_cents"] == 100_000
    assert ("asset", programme["assets"]["tni_c"]) not in by_item  # Fresnes's
    expense = db_session.scalar(select(Expense).where(Expense.dossier_id == signed))
    url = f"/api/v1/expenses/{expense.id}/links"
    beyond = [{"kind": "asset", "item_id": eni, "amount_cents": 150_000}]
    costly = api.put(
        url, json={"version": expense.version, "links": beyond}, headers=bearer(secret, **FR)
    )
    assert costly.status_code == 422 and "coûte 1" in costly.get_json()["errors"][0]["message"]
    one = [{"kind": "asset", "item_id": eni, "amount_cents": 80_000}]
    relinked = api.put(url, json={"version": expense.version, "links": one}, headers=bearer(secret))
    assert relinked.status_code == 200, relinked.data
    links = relinked.get_json()["links"]
    assert [(x["item_id"], x["amount_cents"]) for x in links] == [(eni, 80_000)]
    stale = api.put(url, json={"version": expense.version, "links": []}, headers=bearer(secret))
    assert stale.status_code == 409
    version = relinked.get_json()["version"]
    outside = api.put(
        url,
        json={
            "version": version,
            "links": [{"kind": "asset", "item_id": programme["assets"]["tni_c"]}],
        },
        headers=bearer(secret),
    )
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["field"] == "links"
    assert len(fresh(db_session, Expense, expense.id).links) == 1
    theirs = db_session.scalar(
        select(Expense.id).where(Expense.dossier_id == programme["dossiers"]["fresnes"])
    )
    assert (
        api.put(
            f"/api/v1/expenses/{theirs}/links",
            json={"version": 1, "links": []},
            headers=bearer(secret),
        ).status_code
        == 404
    )


def test_a_dossiers_new_status_reaches_the_receiver(app, programme, manager, db_session):
    _email, secret = manager
    api = app.test_client()
    draft = programme["dossiers"]["draft"]
    coll = db_session.get(Collectivite, programme["collectivites"]["creteil"])
    with a_webhook_receiver() as receiver:
        webhooks.create_subscription(
            db_session,
            ADMIN,
            app.config,
            coll,
            webhooks.SubscriptionFields("Finances", receiver.url, (events.DOSSIER_STATUS_CHANGED,)),
        )
        version = fresh(db_session, Dossier, draft).version
        moved = api.post(
            f"/api/v1/dossiers/{draft}/status",
            json={"version": version, "status": "submitted"},
            headers=bearer(secret),
        )
        assert moved.status_code == 200
        assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = conforms(api.get("/api/v1/openapi.json").get_json(), body)
    assert headers["X-Socle-Event"] == "dossier.status_changed"
    assert payload["data"] == {
        "dossier": draft,
        "title": fresh(db_session, Dossier, draft).title,
        "from_status": "draft",
        "to_status": "submitted",
    }
