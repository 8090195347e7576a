"""Training sessions through /api/v1: read in scope with cursor pages, planned, changed,
recorded, cancelled and planned again by a trainer's token through the training's
services; the other roles and a trainer without every school refused as on the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inventory.core.audit import AuditRecord
from inventory.training.models import SessionStatus, TrainingSession
from tests.factories import api_token, bearer, count, fresh

FR = {"Accept-Language": "fr"}


@pytest.fixture
def trainer(app, make_user, programme):
    """A trainer of the whole département and a read-write token of theirs."""
    email = make_user("formateur", [("departement", programme["departement"])])
    return email, api_token(app, email, scope="write")


def test_sessions_read_with_cursor_pages(app, programme, trainer, db_session):
    _email, secret = trainer
    api = app.test_client()
    seen, cursor = [], None
    for _ in range(5):
        url = "/api/v1/training-sessions?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, headers=bearer(secret)).get_json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(db_session.scalars(select(TrainingSession.id)), reverse=True)
    planned = api.get("/api/v1/training-sessions?status=planned", headers=bearer(secret))
    (only,) = planned.get_json()["items"]
    assert only["school_ids"] == [programme["schools"]["b"]] and only["status"] == "planned"
    one = api.get(f"/api/v1/training-sessions/{only['id']}", headers=bearer(secret))
    assert one.status_code == 200 and one.headers["ETag"] == f'"{only["version"]}"'


def test_a_trainer_plans_changes_records_and_cancels(app, programme, trainer, db_session):
    email, secret = trainer
    api = app.test_client()
    day = date.today() + timedelta(days=10)
    plan = {
        "title": "Prise en main  du TNI",
        "day": day.isoformat(),
        "start": "14:30",
        "duration_minutes": 90,
        "school_ids": [programme["schools"]["a"]],
        "external_trainers": [{"name": "Élise Martin", "organisation": "ERUN"}],
    }
    planned = api.post("/api/v1/training-sessions", json=plan, headers=bearer(secret))
    assert planned.status_code == 201, planned.data
    ts = planned.get_json()
    assert ts["title"] == "Prise en main du TNI" and ts["status"] == "planned"
    assert ts["local_start"].startswith(f"{day.isoformat()}T14:30:00")
    assert ts["trainers"] == [{"user_id": None, "name": "Élise Martin", "organisation": "ERUN"}]
    logged = db_session.scalars(
        select(AuditRecord.actor_label).filter_by(
            object_type="training_sessions", object_id=ts["id"]
        )
    ).all()
    assert logged == [f"{email} (API)"]

    empty = api.post("/api/v1/training-sessions", json={}, headers=bearer(secret, **FR))
    assert empty.status_code == 422
    assert empty.get_json()["errors"] == [
        {"field": "title", "message": "Donnez un intitulé à la séance."}
    ]

    url = f"/api/v1/training-sessions/{ts['id']}"
    changed = api.patch(
        url, json={"version": ts["version"], "place": "Salle polyvalente"}, headers=bearer(secret)
    )
    assert changed.status_code == 200, changed.data
    after = changed.get_json()
    assert after["place"] == "Salle polyvalente" and after["title"] == ts["title"]
    assert after["school_ids"] == ts["school_ids"] and after["local_start"] == ts["local_start"]
    assert after["trainers"] == ts["trainers"]
    stale = api.patch(url, json={"version": ts["version"], "notes": "x"}, headers=bearer(secret))
    assert stale.status_code == 409

    # Not yet held: its record waits (the service's rule, on its field).
    early = api.post(
        f"{url}/report",
        json={"version": after["version"], "teachers": 3, "directors": 0, "municipal_staff": 0},
        headers=bearer(secret, **FR),
    )
    assert early.status_code == 422 and early.get_json()["errors"][0]["field"] == "teachers"

    cancelled = api.post(
        f"{url}/status",
        json={"status": "cancelled"},
        headers=bearer(secret, **{"If-Match": changed.headers["ETag"]}),
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = api.post(
        f"{url}/status",
        json={"status": "planned", "version": cancelled.get_json()["version"]},
        headers=bearer(secret),
    )
    assert again.status_code == 200 and again.get_json()["status"] == "planned"


def test_a_past_session_is_recorded_held(app, programme, trainer, db_session):
    _email, secret = trainer
    api = app.test_client()
    ts = db_session.scalar(
        select(TrainingSession).where(TrainingSession.status == SessionStatus.PLANNED)
    )
    held = api.post(
        f"/api/v1/training-sessions/{ts.id}/report",
        json={
            "version": ts.version,
            "teachers": 3,
            "directors": 1,
            "municipal_staff": 0,
            "satisfaction": 4,
            "attendees": [{"name": "Mme Durand", "role": "director"}],
            "actions": [{"text": "Revoir le partage d'écran"}],
        },
        headers=bearer(secret),
    )
    assert held.status_code == 200, held.data
    body = held.get_json()
    assert body["status"] == "held" and (body["teachers"], body["directors"]) == (3, 1)
    assert body["attendees"][0]["name"] == "Mme Durand"
    assert body["follow_ups"][0]["text"] == "Revoir le partage d'écran"
    history = api.get(
        f"/api/v1/training-sessions/{ts.id}/history", headers=bearer(secret, **FR)
    ).get_json()["items"]
    assert history[0]["action"] == "update" and history[0]["actor"]


def test_training_writes_need_a_trainer_with_every_school(
    app, programme, make_user, creteil_technician, db_session
):
    _tech, tech_secret = creteil_technician
    narrow = make_user("formateur", [("circonscription", programme["circonscriptions"]["a"])])
    narrow_secret = api_token(app, narrow, scope="write")
    api = app.test_client()
    before = count(db_session, TrainingSession)
    plan = {
        "title": "T",
        "day": "2030-01-07",
        "start": "09:00",
        "duration_minutes": 60,
        "school_ids": [programme["schools"]["a"]],
    }
    refused = api.post("/api/v1/training-sessions", json=plan, headers=bearer(tech_secret))
    assert refused.status_code == 404
    out = api.post(
        "/api/v1/training-sessions",
        json={**plan, "school_ids": [programme["schools"]["c"]]},
        headers=bearer(narrow_secret),
    )
    assert out.status_code == 404
    assert count(db_session, TrainingSession) == before
    # A session of schools a and c: visible to the trainer of a's circonscription, not theirs
    # to change (404, as its page).
    shared = next(
        s
        for s in db_session.scalars(select(TrainingSession))
        if {e.id for e in s.schools} == {programme["schools"]["a"], programme["schools"]["c"]}
    )
    url = f"/api/v1/training-sessions/{shared.id}"
    assert api.get(url, headers=bearer(narrow_secret)).status_code == 200
    patch = api.patch(
        url, json={"version": shared.version, "notes": "x"}, headers=bearer(narrow_secret)
    )
    assert patch.status_code == 404
    assert fresh(db_session, TrainingSession, shared.id).notes is None
