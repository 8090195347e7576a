"""Warranty claims followed to their end, through their pages: a claim sent is awaiting its
supplier (on the item's page and in the list of claims), then its answer is recorded
(repaired, replaced or refused), checked, under optimistic locking, in the change log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from inventory.assets.socle import paris_today
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Collectivite, Departement
from inventory.suppliers.models import ClaimStatus, MaintenanceRecord
from tests.factories import fresh, signed_in
from tests.suppliers.builders import item, supplier


def _claim(tech, db_session, creteil, problem="L'écran ne s'allume plus"):
    """A screen under warranty, claimed for to its supplier through the claim page."""
    screen = item(
        db_session, creteil, warranty_end=paris_today() + timedelta(days=200), serial="SN-7"
    )
    speechi = supplier(db_session, creteil, "Speechi", email="sav@speechi.example")
    sent = tech.post(
        f"/equipements/{screen.id}/garantie",
        data={"supplier": str(speechi.id), "problem": problem},
    )
    assert sent.status_code == 302
    claim = db_session.scalar(select(MaintenanceRecord).order_by(MaintenanceRecord.id.desc()))
    return screen, speechi, claim


def test_a_claim_sent_awaits_its_supplier_on_the_item_and_in_the_list(tech, creteil, db_session):
    screen, _, claim = _claim(tech, db_session, creteil)
    assert claim.claim_status is ClaimStatus.SENT
    assert claim.problem == "L'écran ne s'allume plus"
    page = tech.get(f"/equipements/{screen.id}").text
    panel = page[page.index('id="maintenance-records"') :]
    assert f"/garanties/{claim.id}" in panel and "awaiting the supplier" in panel
    listed = tech.get("/garanties")
    assert listed.status_code == 200
    rows = listed.text[listed.text.index('id="open-claims"') :]
    assert screen.tag in rows and "Speechi" in rows and f"/garanties/{claim.id}" in rows
    shown = tech.get(f"/garanties/{claim.id}")
    assert shown.status_code == 200
    assert (
        "L&#39;écran ne s&#39;allume plus" in shown.text and "awaiting the supplier" in shown.text
    )


def test_the_supplier_s_answer_is_checked_then_recorded(tech, creteil, db_session):
    screen, _, claim = _claim(tech, db_session, creteil)
    url = f"/garanties/{claim.id}"
    today = paris_today()
    base = {"version": str(claim.version), "reference": "RMA-2211"}

    # Awaiting the answer, the reference alone may be noted.
    noted = tech.post(url, data={**base, "status": "sent"})
    assert noted.status_code == 302
    claim = fresh(db_session, MaintenanceRecord, claim.id)
    assert (claim.claim_status, claim.claim_reference) == (ClaimStatus.SENT, "RMA-2211")
    base["version"] = str(claim.version)

    refusals = [
        ({"status": "sent", "answered_on": today.isoformat()}, "Choose what the supplier"),
        ({"status": "repaired"}, "Give the day the supplier answered"),
        (
            {"status": "repaired", "answered_on": (claim.done_on - timedelta(days=1)).isoformat()},
            "cannot come before the claim",
        ),
        (
            {"status": "replaced", "answered_on": (today + timedelta(days=2)).isoformat()},
            "still to come",
        ),
        ({"status": "refused", "answered_on": today.isoformat()}, "Say why the supplier refused"),
        ({"status": "lost", "answered_on": today.isoformat()}, "Not a valid choice"),
    ]
    for data, reason in refusals:
        refused = tech.post(url, data={**base, "answer": "", **data})
        assert refused.status_code == 422, data
        assert reason in refused.text, (data, refused.text[:3000])
        assert 'value="RMA-2211"' in refused.text  # what was typed is kept
    assert fresh(db_session, MaintenanceRecord, claim.id).claim_status is ClaimStatus.SENT

    answered = tech.post(
        url,
        data={
            **base,
            "status": "refused",
            "answered_on": today.isoformat(),
            "answer": "Casse non couverte par la garantie",
        },
    )
    assert answered.status_code == 302
    claim = fresh(db_session, MaintenanceRecord, claim.id)
    assert claim.claim_status is ClaimStatus.REFUSED and claim.answered_on == today
    assert claim.answer == "Casse non couverte par la garantie"
    assert "refused by the supplier" in tech.get(f"/equipements/{screen.id}").text
    assert f"/garanties/{claim.id}" not in tech.get("/garanties").text
    records = db_session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "maintenance_records", AuditRecord.object_id == claim.id)
        .order_by(AuditRecord.id)
    ).all()
    assert [r.action for r in records] == ["create", "update", "update"]
    assert records[-1].changes["claim_status"] == ["sent", "refused"]
    assert {r.collectivite_id for r in records} == {creteil}  # filed under the item's owner
    # The claim's history reads the change in words.
    history = tech.get(url).text
    history = history[history.index("history") :]
    assert "Where the claim stands" in history and "refused by the supplier" in history


def test_a_stale_answer_is_a_conflict_that_keeps_the_input(tech, creteil, db_session):
    _, _, claim = _claim(tech, db_session, creteil)
    url = f"/garanties/{claim.id}"
    day = paris_today().isoformat()
    first = {"version": str(claim.version), "status": "repaired", "answered_on": day}
    assert tech.post(url, data=first).status_code == 302
    stale = tech.post(url, data={**first, "status": "replaced", "answer": "Échange standard"})
    assert stale.status_code == 409
    assert "Someone else saved this claim" in stale.text and "Échange standard" in stale.text
    assert fresh(db_session, MaintenanceRecord, claim.id).claim_status is ClaimStatus.REPAIRED


def test_auditors_read_a_claim_and_other_records_are_no_claims(
    app, make_user, tech, creteil, db_session
):
    _, _, claim = _claim(tech, db_session, creteil)
    dept = db_session.get(Departement, db_session.get(Collectivite, creteil).departement_id)
    auditor, _ = signed_in(app, make_user, "auditeur", [("academie", dept.academie_id)])
    page = auditor.get(f"/garanties/{claim.id}")
    assert page.status_code == 200 and "RMA" not in page.text
    assert 'action="/garanties/' not in page.text  # no form: read only
    day = paris_today().isoformat()
    refused = auditor.post(
        f"/garanties/{claim.id}",
        data={"version": str(claim.version), "status": "repaired", "answered_on": day},
    )
    assert refused.status_code == 404
    # A repair is a maintenance record, not a claim: no claim page for it.
    repair = tech.post(
        f"/equipements/{claim.asset_id}/maintenance",
        data={"done_on": day, "description": "Câble HDMI"},
    )
    assert repair.status_code == 302
    other = db_session.scalar(select(MaintenanceRecord).order_by(MaintenanceRecord.id.desc()))
    assert other.claim_status is None
    assert tech.get(f"/garanties/{other.id}").status_code == 404
