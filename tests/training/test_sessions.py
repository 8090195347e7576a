"""Accompaniment sessions through HTTP: plan, record, cancel, scope, roles, locking, history."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory.auth.models import User
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Classroom
from inventory.training.models import (
    Attendee,
    FollowUpAction,
    SessionStatus,
    TrainingSession,
)
from inventory.training.sessions import (
    cancel_session,
)
from tests.conftest import ADMIN
from tests.factories import count
from tests.training.builders import (
    A1,
    A2,
    A3,
    B1,
    client_for,
    days_ago,
    in_service,
    plan_form,
    session_at,
    version_of,
)


# -- planning ------------------------------------------------------------------------------
def test_trainer_plans_a_session_in_paris_time(app, world, db_session):
    client = client_for(app, world.users["trainer_a"])
    page = client.get(f"/accompagnement/nouvelle?ecole={world.ids[A1]}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The school comes preselected, and the trainer names herself by default.
    assert re.search(rf'<option selected value="{world.ids[A1]}"', html)
    assert 'name="trainer_users"' in html and "checked" in html

    trainer_id = db_session.scalar(select(User.id).filter_by(email="trainer_a@example.org"))
    response = client.post(
        "/accompagnement/nouvelle",
        data=plan_form(world, day="2030-07-01", start="09:00", trainer_users=[trainer_id]),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    ts = db_session.scalar(select(TrainingSession))
    # 9:00 in Paris in July is 7:00 UTC.
    assert ts.starts_at == datetime(2030, 7, 1, 7, 0, tzinfo=UTC)
    assert ts.status is SessionStatus.PLANNED
    assert sorted(e.uai for e in ts.schools) == sorted([A1, A2])
    assert {t.code for t in ts.topics} == {"prise_en_main_eni", "tablettes"}
    assert [(t.name, t.organisation, t.user_id) for t in ts.trainers] == [
        ("Trainer_A", None, trainer_id),
        ("Paul Durand", "Canopé", None),
    ]
    detail = client.get(response.location)
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "Prise en main des ENI — CP et CE1" in text and "Canopé" in text
    assert "09:00" in text  # shown in Paris time

    # Winter time: 9:00 in Paris in January is 8:00 UTC.
    client.post("/accompagnement/nouvelle", data=plan_form(world, day="2031-01-06", start="09:00"))
    assert db_session.scalar(
        select(TrainingSession.starts_at).order_by(TrainingSession.id.desc()).limit(1)
    ) == datetime(2031, 1, 6, 8, 0, tzinfo=UTC)


def test_planning_form_explains_its_errors(app, world, db_session):
    client = client_for(app, world.users["trainer_a"])
    response = client.post(
        "/accompagnement/nouvelle",
        data=plan_form(
            world,
            title="",
            schools=[],
            **{"external-0-name": "", "external-0-organisation": "Canopé"},
        ),
    )
    assert response.status_code == 422
    assert count(db_session, TrainingSession) == 0
    response = client.post(
        "/accompagnement/nouvelle",
        data=plan_form(world, schools=[], duration="5"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="duration-error"' in html
    # No trainer at all.
    response = client.post(
        "/accompagnement/nouvelle",
        data=plan_form(world, **{"external-0-name": "", "external-0-organisation": ""}),
    )
    assert response.status_code == 422
    assert 'id="trainer_users-error"' in response.get_data(as_text=True)
    assert count(db_session, TrainingSession) == 0


def test_the_equipment_of_the_chosen_schools_is_offered_and_checked(app, world, db_session):
    mine = in_service(db_session, world.ids[A1], days_ago(30))
    theirs = in_service(db_session, world.ids[A3], days_ago(30), category="vpi")
    client = client_for(app, world.users["trainer_a"])
    refreshed = client.post(
        "/accompagnement/nouvelle", data=plan_form(world, refresh="1", save=None)
    )
    assert refreshed.status_code == 200
    html = refreshed.get_data(as_text=True)
    assert mine.tag in html and theirs.tag not in html
    assert count(db_session, TrainingSession) == 0
    # An item of a school the session does not cover is refused.
    response = client.post("/accompagnement/nouvelle", data=plan_form(world, assets=[theirs.id]))
    assert response.status_code == 422
    assert 'id="assets-error"' in response.get_data(as_text=True)
    response = client.post("/accompagnement/nouvelle", data=plan_form(world, assets=[mine.id]))
    assert response.status_code == 302
    assert [a.tag for a in db_session.scalar(select(TrainingSession)).assets] == [mine.tag]


def test_funding_must_come_from_an_accompaniment_volet_covering_the_schools(app, world, db_session):
    from inventory.grants.models import (
        Dossier,
        DossierSchool,
        DossierStatus,
        Expense,
        FundingScheme,
    )

    scheme = FundingScheme(code="snee", name="SNEE", rules={}, version=1)
    dossier = Dossier(
        collectivite_id=world.coll_a,
        scheme=scheme,
        scheme_version=1,
        rules={},
        title="Socle numérique Créteil",
        reference="SNEE-94-001",
        status=DossierStatus.SIGNED,
    )
    dossier.schools = [DossierSchool(ecole_id=world.ids[A1]), DossierSchool(ecole_id=world.ids[A2])]
    lines = {
        volet: Expense(
            dossier=dossier,
            volet=volet,
            supplier="Canopé",
            invoice_number=f"F-{volet}",
            amount_ht_cents=100_000,
            amount_ttc_cents=120_000,
        )
        for volet in ("accompagnement", "equipement")
    }
    db_session.add(dossier)
    db_session.commit()
    client = client_for(app, world.users["trainer_a"])
    form = client.get(f"/accompagnement/nouvelle?ecole={world.ids[A1]}&ecole={world.ids[A2]}")
    html = form.get_data(as_text=True)
    assert "F-accompagnement" in html and "F-equipement" not in html
    # The equipment volet, or a school the dossier does not cover: refused.
    for extra in (
        {"expense": str(lines["equipement"].id)},
        {"expense": str(lines["accompagnement"].id), "schools": [world.ids[A1], world.ids[A3]]},
    ):
        response = client.post("/accompagnement/nouvelle", data=plan_form(world, **extra))
        assert response.status_code == 422, extra
        assert 'id="expense-error"' in response.get_data(as_text=True)
    response = client.post(
        "/accompagnement/nouvelle",
        data=plan_form(world, expense=str(lines["accompagnement"].id)),
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(TrainingSession.expense_id)) == lines["accompagnement"].id
    assert "SNEE-94-001" in client.get(response.location).get_data(as_text=True)


# -- record, cancel, the "to record" flag ----------------------------------------------------
def test_past_planned_session_is_flagged_then_recorded(app, world, db_session):
    past = session_at(db_session, [world.ids[A1], world.ids[A2]], days_ago(3))
    future = session_at(db_session, [world.ids[A1]], days_ago(-10), title="Tablettes")
    client = client_for(app, world.users["trainer_a"])
    listing = client.get("/accompagnement").get_data(as_text=True)
    assert f'/accompagnement/{past.id}"' in listing and f'/accompagnement/{future.id}"' in listing
    flagged = client.get("/accompagnement?status=to_record").get_data(as_text=True)
    assert (
        f'/accompagnement/{past.id}"' in flagged and f'/accompagnement/{future.id}"' not in flagged
    )
    assert 'class="tag tag-warn to-record"' in flagged

    # A future session cannot be recorded yet.
    early = client.post(
        f"/accompagnement/{future.id}/compte-rendu",
        data={"teachers": "3", "directors": "0", "municipal_staff": "0", "version": "1"},
    )
    assert early.status_code == 422

    page = client.get(f"/accompagnement/{past.id}/compte-rendu")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    room = db_session.scalar(
        select(Classroom).where(Classroom.ecole_id == world.ids[A2]).order_by(Classroom.id)
    )
    assert f'value="{room.id}"' in html  # the schools' classrooms are offered

    data = {
        "teachers": "5",
        "directors": "1",
        "municipal_staff": "1",
        "satisfaction": "4",
        "feedback": "Très utile ; on veut une suite sur les tablettes.",
        "version": str(version_of(db_session, past.id)),
        "attendees-0-name": "Anne Leroy",
        "attendees-0-role": "teacher",
        "attendees-0-ecole": "0",
        "attendees-0-classroom": str(room.id),
        "attendees-1-name": "Marc Petit",
        "attendees-1-role": "director",
        "attendees-1-ecole": str(world.ids[A1]),
        "attendees-1-classroom": "0",
        "attendees-2-name": "",
        "attendees-2-role": "teacher",
        "attendees-2-ecole": "0",
        "attendees-2-classroom": "0",
        "actions-0-text": "Deuxième séance sur les tablettes",
        "actions-0-due_on": (date.today() + timedelta(days=30)).isoformat(),
        "actions-1-text": "",
        "actions-1-due_on": "",
        "save": "1",
    }
    # Two directors named, one counted: refused, nothing saved.
    wrong = dict(data, **{"attendees-0-role": "director"})
    response = client.post(f"/accompagnement/{past.id}/compte-rendu", data=wrong)
    assert response.status_code == 422
    assert 'id="directors-error"' in response.get_data(as_text=True)
    assert count(db_session, Attendee) == 0

    # A classroom of the other school than the one chosen: refused.
    other_room = db_session.scalar(
        select(Classroom.id).where(Classroom.ecole_id == world.ids[A1]).limit(1)
    )
    wrong = dict(data, **{"attendees-1-classroom": str(room.id)})
    assert client.post(f"/accompagnement/{past.id}/compte-rendu", data=wrong).status_code == 422
    assert other_room

    # The counts are required.
    missing = dict(data, teachers="")
    response = client.post(f"/accompagnement/{past.id}/compte-rendu", data=missing)
    assert response.status_code == 422 and 'id="teachers-error"' in response.get_data(as_text=True)

    response = client.post(f"/accompagnement/{past.id}/compte-rendu", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    ts = db_session.get(TrainingSession, past.id)
    assert ts.status is SessionStatus.HELD
    assert (ts.teachers, ts.directors, ts.municipal_staff, ts.satisfaction) == (5, 1, 1, 4)
    assert [(a.name, a.role.value, a.ecole_id, a.classroom_id) for a in ts.attendees] == [
        ("Anne Leroy", "teacher", world.ids[A2], room.id),  # the school follows the classroom
        ("Marc Petit", "director", world.ids[A1], None),
    ]
    assert [(a.text, a.done) for a in ts.follow_ups] == [
        ("Deuxième séance sur les tablettes", False)
    ]
    detail = client.get(f"/accompagnement/{past.id}").get_data(as_text=True)
    assert "Anne Leroy" in detail and "on veut une suite" in detail
    flagged = client.get("/accompagnement?status=to_record").get_data(as_text=True)
    assert f'/accompagnement/{past.id}"' not in flagged

    # The record can be corrected: the follow-up is done, one attendee less.
    data.update(
        {
            "version": str(ts.version),
            "attendees-1-name": "",
            "attendees-1-ecole": "0",
            "actions-0-done": "y",
        }
    )
    assert client.post(f"/accompagnement/{past.id}/compte-rendu", data=data).status_code == 302
    db_session.expire_all()
    assert count(db_session, Attendee) == 1
    assert db_session.scalar(select(FollowUpAction.done)) is True


def test_cancel_and_plan_again(app, world, db_session):
    ts = session_at(db_session, [world.ids[A1]], days_ago(-5))
    client = client_for(app, world.users["trainer_a"])
    response = client.post(f"/accompagnement/{ts.id}/annuler", data={"version": str(ts.version)})
    assert response.status_code == 302
    db_session.expire_all()
    ts = db_session.get(TrainingSession, ts.id)
    assert ts.status is SessionStatus.CANCELLED
    # A cancelled session is not recorded; it can be planned again.
    assert client.get(f"/accompagnement/{ts.id}/compte-rendu").status_code == 302
    stale = client.post(f"/accompagnement/{ts.id}/retablir", data={"version": "1"})
    assert stale.status_code == 409
    response = client.post(f"/accompagnement/{ts.id}/retablir", data={"version": str(ts.version)})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(TrainingSession, ts.id).status is SessionStatus.PLANNED


# -- optimistic locking, history --------------------------------------------------------------
def test_concurrent_edit_answers_409_and_keeps_what_was_typed(app, world, db_session):
    ts = session_at(db_session, [world.ids[A1]], days_ago(-5), topics=[world.topics["ent"]])
    mine = client_for(app, world.users["trainer_a"])
    theirs = client_for(app, world.users["admin"])
    form = mine.get(f"/accompagnement/{ts.id}/modifier").get_data(as_text=True)
    loaded = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)

    # Someone else adds a topic only (no column of the session changes): still a new version.
    data = plan_form(
        world,
        title=ts.title,
        schools=[world.ids[A1]],
        topics=[world.topics["ent"], world.topics["pix"]],
        version=loaded,
        **{"external-0-name": "Élise Martin", "external-0-organisation": "ERUN Créteil 1"},
    )
    assert theirs.post(f"/accompagnement/{ts.id}/modifier", data=data).status_code == 302
    assert version_of(db_session, ts.id) > int(loaded)

    mine_data = dict(data, title="Mon titre à moi", topics=[world.topics["ent"]])
    response = mine.post(f"/accompagnement/{ts.id}/modifier", data=mine_data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'value="Mon titre à moi"' in html  # what I typed is still there
    db_session.expire_all()
    ts = db_session.get(TrainingSession, ts.id)
    assert ts.title == "Prise en main de l'ENI"
    assert {t.code for t in ts.topics} == {"ent", "pix"}
    # The page carries the saved version: saving again is a knowing overwrite.
    again = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    assert int(again) == ts.version
    assert (
        mine.post(f"/accompagnement/{ts.id}/modifier", data=dict(mine_data, version=again))
    ).status_code == 302

    # The record form locks the same way.
    past = session_at(db_session, [world.ids[A1]], days_ago(2))
    report = {"teachers": "2", "directors": "0", "municipal_staff": "0", "save": "1"}
    first = mine.post(
        f"/accompagnement/{past.id}/compte-rendu", data=dict(report, version=str(past.version))
    )
    assert first.status_code == 302
    second = theirs.post(
        f"/accompagnement/{past.id}/compte-rendu",
        data=dict(report, teachers="9", version=str(past.version)),
    )
    assert second.status_code == 409
    assert 'value="9"' in second.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(TrainingSession, past.id).teachers == 2


def test_history_lists_the_changes_of_the_session_and_its_links(app, world, db_session):
    ts = session_at(db_session, [world.ids[A1]], days_ago(-5))
    client = client_for(app, world.users["trainer_a"])
    data = plan_form(
        world,
        title="Nouveau titre",
        schools=[world.ids[A1], world.ids[A2]],
        version=str(ts.version),
    )
    assert client.post(f"/accompagnement/{ts.id}/modifier", data=data).status_code == 302
    html = client.get(f"/accompagnement/{ts.id}").get_data(as_text=True)
    history = html.split('id="history-title"')[1]
    trainer = db_session.scalar(select(User).filter_by(email="trainer_a@example.org"))
    # The author by name, not by address.
    assert "Nouveau titre" in history and f"— {trainer.name} —" in history
    assert "trainer_a@example.org" not in history
    assert f"{A1}, {A2}" in history  # the schools, which no column holds
    # One save, one record: the columns and the linked rows together.
    edits = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="training_sessions", object_id=ts.id, action="update")
        .order_by(AuditRecord.id)
    ).all()
    assert len(edits) == 1
    assert edits[0].changes["title"] == ["Prise en main de l'ENI", "Nouveau titre"]
    assert edits[0].changes["schools"] == [A1, f"{A1}, {A2}"]


# -- scope and roles ----------------------------------------------------------------------
def test_trainer_of_another_circonscription_sees_and_changes_nothing(app, world, db_session):
    theirs = session_at(db_session, [world.ids[B1]], days_ago(2))
    shared = session_at(db_session, [world.ids[A1], world.ids[B1]], days_ago(-3), title="Mixte")
    client = client_for(app, world.users["trainer_a"])
    for url in (
        f"/accompagnement/{theirs.id}",
        f"/accompagnement/{theirs.id}/modifier",
        f"/accompagnement/{theirs.id}/compte-rendu",
        f"/accompagnement/{theirs.id}/emargement.pdf",
    ):
        assert client.get(url).status_code == 404, url
    for url in (f"/accompagnement/{theirs.id}/annuler", f"/accompagnement/{theirs.id}/modifier"):
        assert client.post(url, data={"version": str(theirs.version)}).status_code == 404, url
    assert f'/accompagnement/{theirs.id}"' not in client.get("/accompagnement").get_data(
        as_text=True
    )

    # A session shared with a school out of scope: readable, not editable.
    assert client.get(f"/accompagnement/{shared.id}").status_code == 200
    assert client.get(f"/accompagnement/{shared.id}/modifier").status_code == 404
    assert (
        client.post(f"/accompagnement/{shared.id}/annuler", data={"version": "1"}).status_code
        == 404
    )

    # Planning for a school of circonscription B, alone or with one of A: refused.
    before = count(db_session, TrainingSession)
    for schools in ([world.ids[B1]], [world.ids[A1], world.ids[B1]]):
        response = client.post("/accompagnement/nouvelle", data=plan_form(world, schools=schools))
        assert response.status_code == 404
    assert count(db_session, TrainingSession) == before
    db_session.expire_all()
    assert db_session.get(TrainingSession, theirs.id).status is SessionStatus.PLANNED

    # Municipal staff of another collectivité: nothing of circonscription A's sessions.
    mine = session_at(db_session, [world.ids[A1]], days_ago(-4), title="Atelier visualiseur")
    other = client_for(app, world.users["municipal_b"])
    assert other.get(f"/accompagnement/{mine.id}").status_code == 404
    assert "Atelier visualiseur" not in other.get("/accompagnement").get_data(as_text=True)
    assert "Atelier visualiseur" not in other.get("/accompagnement/planning.ics").get_data(
        as_text=True
    )


@pytest.mark.parametrize("reader", ["municipal_a", "auditor_a"])
def test_municipal_staff_and_auditors_read_only(app, world, db_session, reader):
    ts = session_at(db_session, [world.ids[A1]], days_ago(-4), title="Atelier visualiseur")
    held = session_at(db_session, [world.ids[A2]], days_ago(4), held=True, title="ENT")
    dropped = session_at(db_session, [world.ids[A1]], days_ago(-6), title="Séance annulée")
    cancel_session(db_session, ADMIN, dropped, version=dropped.version)
    client = client_for(app, world.users[reader])
    listing = client.get("/accompagnement").get_data(as_text=True)
    assert "Atelier visualiseur" in listing and "ENT" in listing
    assert client.get(f"/accompagnement/{ts.id}").status_code == 200
    assert client.get(f"/accompagnement/{ts.id}/emargement.pdf").status_code == 200
    # The school's page shows the planned session.
    school = client.get(f"/ecoles/{world.ids[A1]}").get_data(as_text=True)
    section = school.split('id="training-title"')[1].split("</section>")[0]
    assert "Atelier visualiseur" in section
    assert "Séance annulée" not in section  # cancelled sessions are left out there
    assert "/accompagnement/nouvelle" not in section
    for url, data in (
        ("/accompagnement/nouvelle", plan_form(world)),
        (f"/accompagnement/{ts.id}/modifier", plan_form(world, version=str(ts.version))),
        (f"/accompagnement/{ts.id}/annuler", {"version": str(ts.version)}),
        (f"/accompagnement/{held.id}/compte-rendu", {"teachers": "1", "version": "9"}),
        (f"/accompagnement/{ts.id}/documents", {}),
    ):
        assert client.post(url, data=data).status_code == 404, url
    for url in (f"/accompagnement/{ts.id}/modifier", "/accompagnement/nouvelle"):
        assert client.get(url).status_code == 404, url
    db_session.expire_all()
    assert db_session.get(TrainingSession, ts.id).status is SessionStatus.PLANNED
    assert count(db_session, TrainingSession) == 3
