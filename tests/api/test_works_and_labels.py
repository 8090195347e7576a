"""Network works, label codes, prints and job status through the API."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory.assets.models import NetworkWork, WorkStatus
from inventory.core.audit import AuditRecord
from inventory.core.jobs import Job, JobState
from inventory.labels.models import PrintJob, ScanToken
from tests.factories import api_token, bearer, fresh


def _technician(app, make_user, places):
    email = make_user("technicien", [("collectivite", places["coll"]["Créteil"])])
    return email, api_token(app, email, scope="write")


def test_works_are_planned_read_and_changed_with_their_version(app, make_user, places, db_session):
    email, secret = _technician(app, make_user, places)
    api = app.test_client()
    school, room = places["creteil"]["ecole"], places["creteil"]["room"]
    made = api.post(
        "/api/v1/works",
        json={
            "ecole_id": school,
            "kind": "wifi",
            "title": "Wi-Fi du préau",
            "classroom_ids": [room],
            "planned_start": "2027-01-04",
            "quote_cents": 120000,
        },
        headers=bearer(secret),
    )
    assert made.status_code == 201, made.data
    work = made.get_json()
    assert made.headers["Location"] == f"/api/v1/works/{work['id']}"
    assert work["classroom_ids"] == [room] and work["status"] == "planned"
    record = db_session.scalar(
        select(AuditRecord).filter_by(object_type="network_works", object_id=work["id"])
    )
    assert record.actor_label == f"{email} (API)"
    # Planned elsewhere: the other collectivité's school is out of reach.
    theirs = api.post(
        "/api/v1/works",
        json={"ecole_id": places["fresnes"]["ecole"], "kind": "wifi", "title": "x"},
        headers=bearer(secret),
    )
    assert theirs.status_code == 404
    listing = api.get(
        f"/api/v1/works?ecole={school}&kind=wifi&fields=id,title", headers=bearer(secret)
    ).get_json()
    assert listing["items"] == [{"id": work["id"], "title": "Wi-Fi du préau"}]
    assert listing["next_cursor"] is None and listing["total"] == 1
    url = f"/api/v1/works/{work['id']}"
    one = api.get(url, headers=bearer(secret))
    assert one.headers["ETag"] == f'"{work["version"]}"'
    # Accepted works need their acceptance date: the service's refusal, on its field.
    fr = bearer(secret, **{"Accept-Language": "fr", "If-Match": one.headers["ETag"]})
    refused = api.patch(url, json={"status": "accepted"}, headers=fr)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "accepted_on"
    accepted = api.patch(
        url,
        json={"status": "accepted", "accepted_on": "2027-02-01", "version": work["version"]},
        headers=bearer(secret),
    )
    assert accepted.status_code == 200, accepted.data
    assert accepted.get_json()["status"] == "accepted"
    assert accepted.get_json()["classroom_ids"] == [room]  # kept when not sent
    stale = api.patch(url, json={"title": "b", "version": work["version"]}, headers=bearer(secret))
    assert stale.status_code == 409
    assert api.patch(url, json={"title": "c"}, headers=bearer(secret)).status_code == 428
    saved = fresh(db_session, NetworkWork, work["id"])
    assert saved.status is WorkStatus.ACCEPTED and saved.title == "Wi-Fi du préau"


def test_works_are_planned_in_bulk_all_or_none(app, make_user, places, db_session):
    email, secret = _technician(app, make_user, places)
    api = app.test_client()
    school, room = places["creteil"]["ecole"], places["creteil"]["room"]
    theirs = places["fresnes"]["ecole"]
    rows = [
        {"ecole_id": school, "kind": "cabling", "title": f"Baie {n}", "classroom_ids": [room]}
        for n in range(30)
    ]
    before = db_session.scalar(select(func.count()).select_from(NetworkWork))
    wrong = api.post(
        "/api/v1/works/bulk",
        json={
            "items": [
                *rows[:3],
                {**rows[3], "title": " "},
                {**rows[4], "ecole_id": theirs},
                {**rows[5], "planned_start": "2027-02-01", "planned_end": "2027-01-01"},
            ]
        },
        headers=bearer(secret, **{"Accept-Language": "fr"}),
    )
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.get_json()["errors"]] == ["items.4.ecole_id"]
    refused = api.post(
        "/api/v1/works/bulk",
        json={
            "items": [
                *rows[:3],
                {**rows[3], "title": " "},
                {**rows[5], "planned_end": "2020-01-01", "planned_start": "2021-01-01"},
            ]
        },
        headers=bearer(secret, **{"Accept-Language": "fr"}),
    )
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert [e["field"] for e in errors] == ["items.3.title", "items.4.planned_end"]
    assert errors[0]["message"] == "Donnez un intitulé aux travaux."
    assert db_session.scalar(select(func.count()).select_from(NetworkWork)) == before
    made = api.post("/api/v1/works/bulk", json={"items": rows}, headers=bearer(secret))
    assert made.status_code == 201, made.data
    items = made.get_json()["items"]
    assert [w["title"] for w in items] == [f"Baie {n}" for n in range(30)]
    one = fresh(db_session, NetworkWork, items[7]["id"])
    assert one.ecole_id == school and [c.id for c in one.classrooms] == [room]
    logged = db_session.scalars(
        select(AuditRecord.actor_label).filter_by(object_type="network_works", object_id=one.id)
    ).all()
    assert logged == [f"{email} (API)"]


def test_label_codes_are_issued_once_and_renewed(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    item = places["creteil"]["items"][0]
    url = f"/api/v1/assets/{item}/label-token"
    first = api.post(url, headers=bearer(secret))
    assert first.status_code == 200, first.data
    token = first.get_json()["token"]
    assert first.get_json()["url"].endswith(f"/Q/{token}")
    assert api.post(url, headers=bearer(secret)).get_json()["token"] == token
    renewed = api.post(f"{url}/renew", headers=bearer(secret)).get_json()
    assert renewed["token"] != token
    old = db_session.scalar(select(ScanToken).filter_by(token=token))
    assert old.revoked_at is not None
    theirs = places["fresnes"]["items"][0]
    assert (
        api.post(f"/api/v1/assets/{theirs}/label-token", headers=bearer(secret)).status_code == 404
    )


def test_a_print_is_a_job_whose_status_the_api_reports(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    mine = places["creteil"]["items"][:4]
    theirs = places["fresnes"]["items"][0]
    asked = api.post(
        "/api/v1/labels/prints",
        json={"asset_ids": [*mine, theirs], "format": "avery-l7163"},
        headers=bearer(secret),
    )
    assert asked.status_code == 202, asked.data
    job = asked.get_json()
    assert asked.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["page"] == f"/taches/{job['id']}"
    record = db_session.scalar(select(PrintJob).filter_by(job_id=job["id"]))
    assert record.asset_ids == mine  # the other collectivité's item is not printed
    status = api.get(f"/api/v1/jobs/{job['id']}", headers=bearer(secret))
    assert status.status_code == 200
    body = status.get_json()
    # The tests run jobs at once: it is done, its PDF downloadable by the page's link.
    assert body["state"] == JobState.DONE and body["done"] == body["total"] == 4
    assert body["file"] == f"/etiquettes/travaux/{record.id}/fichier"
    unknown = api.post(
        "/api/v1/labels/prints",
        json={"asset_ids": mine, "format": "nope"},
        headers=bearer(secret, **{"Accept-Language": "fr"}),
    )
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "format"
    nothing = api.post(
        "/api/v1/labels/prints",
        json={"asset_ids": [theirs], "format": "avery-l7163"},
        headers=bearer(secret),
    )
    assert nothing.status_code == 422
    # Another collectivité's job: 404.
    other = make_user("technicien", [("collectivite", places["coll"]["Fresnes"])])
    other_secret = api_token(app, other, scope="read")
    assert api.get(f"/api/v1/jobs/{job['id']}", headers=bearer(other_secret)).status_code == 404
    assert db_session.get(Job, job["id"]).kind == "labels.print"
