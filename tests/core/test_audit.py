"""The change log: same transaction, append-only, who/where/what, searchable within scope."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from inventory.core import audit
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Classroom, Ecole


def log_count(db_session):
    return db_session.scalar(select(func.count()).select_from(AuditRecord))


def test_rolled_back_changes_leave_no_record(registry, db_session):
    before = log_count(db_session)
    ecole = db_session.scalar(select(Ecole).limit(1))
    with audit.acting_as(audit.Actor(None, "test")):
        db_session.add(Classroom(ecole=ecole, name="Fantôme", levels="CP", position=99))
        db_session.flush()
        assert log_count(db_session) == before + 1  # written by the flush, same transaction
        db_session.rollback()
    assert log_count(db_session) == before


def test_update_and_delete_are_recorded_with_before_and_after(registry, db_session):
    room = db_session.scalar(select(Classroom).limit(1))
    with audit.acting_as(audit.Actor(None, "test", "192.0.2.7")):
        room.pupils = 27
        db_session.commit()
        room_id, old_name = room.id, room.name
        db_session.delete(room)
        db_session.commit()
    update, delete = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="classrooms", object_id=room_id)
        .where(AuditRecord.action != "create")
        .order_by(AuditRecord.id)
    ).all()
    assert update.changes["pupils"][1] == 27 and update.ip == "192.0.2.7"
    assert delete.action == "delete" and delete.changes["name"] == [old_name, None]
    assert delete.actor_label == "test"


def test_records_cannot_be_rewritten(registry, db_session):
    record = db_session.scalar(select(AuditRecord).limit(1))
    record.actor_label = "someone else"
    with pytest.raises(PermissionError):
        db_session.commit()
    db_session.rollback()
    db_session.delete(db_session.scalar(select(AuditRecord).limit(1)))
    with pytest.raises(PermissionError):
        db_session.commit()


def test_web_changes_name_the_user_and_address(client, login_as, registry, db_session):
    ecole_id, coll_id, _ = registry["schools"]["0940176F"]
    # Set before signing in: "strong" session protection ends a session whose address changes.
    client.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    login_as("technicien", [("collectivite", coll_id)])
    client.post(f"/ecoles/{ecole_id}/classes", data={"name": "Salle B", "levels": ["CP"]})
    record = db_session.scalars(
        select(AuditRecord).filter_by(object_type="classrooms").order_by(AuditRecord.id.desc())
    ).first()
    assert record.actor_label.startswith("technicien") and record.actor_id is not None
    assert record.ip == "198.51.100.4" and record.ecole_id == ecole_id


def test_journal_is_searchable_and_scoped(login_as, registry, db_session):
    fresnes = registry["collectivites"]["Fresnes"]
    creteil_school = next(
        e
        for e, (_, coll, _) in registry["schools"].items()
        if coll == registry["collectivites"]["Créteil"]
    )
    client = login_as("technicien", [("collectivite", fresnes)])
    ecole_id = registry["schools"]["0940176F"][0]
    client.post(f"/ecoles/{ecole_id}/classes", data={"name": "Salle du journal"})
    html = client.get("/journal?type=classrooms&actor=technicien").get_data(as_text=True)
    assert "Salle du journal" in html
    assert client.get(f"/journal?school={ecole_id}&since=2000-01-01").status_code == 200
    # Nothing of Créteil shows to a Fresnes technician.
    other_id = registry["schools"][creteil_school][0]
    html = client.get(f"/journal?school={other_id}").get_data(as_text=True)
    assert "Salle du journal" not in html and creteil_school not in html
    everything = client.get("/journal?type=ecoles").get_data(as_text=True)
    assert "Fresnes" in everything or "Doisneau" in everything
    assert "Créteil" not in everything.split("<table", 1)[1]


def test_a_row_written_in_bulk_gets_the_record_the_flush_hook_writes(registry, db_session):
    """One record builder: the record of a row inserted in bulk (from its values, as
    core.bulk and the equipment import write them) is the flush hook's for the same new
    object, through the JSON column."""
    ecole = db_session.get(Ecole, registry["schools"]["0940176F"][0])
    actor = audit.Actor(None, "bulk test")
    values = {c.key: getattr(ecole, c.key) for c in Ecole.__table__.c if c.key != "id"}
    (bulk,) = audit.created_records(Ecole, [(ecole.id, values)], actor)
    hook = audit._record(ecole, audit.AuditAction.CREATE, actor)
    assert hook is not None and hook["changes"]
    assert {k: v for k, v in bulk.items() if k != "at"} == {
        k: v for k, v in hook.items() if k != "at"
    }
    with audit.acting_as(actor):
        audit.log_created(db_session, Ecole, [(ecole.id, values)])
    stored = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="ecoles", object_id=ecole.id, actor_label="bulk test")
        .order_by(AuditRecord.id)
    ).one()
    assert stored.changes == hook["changes"]
    db_session.rollback()


# -- relationships a model declares (__audit_links__) -------------------------------------------
def _records_of(db_session, obj):
    return db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type=obj.__tablename__, object_id=obj.id)
        .order_by(AuditRecord.id)
    ).all()


@pytest.fixture
def rooms(registry, db_session):
    """Three classrooms of one school, by name."""
    ecole = db_session.get(Ecole, registry["schools"]["0940176F"][0])
    found = db_session.scalars(
        select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id)
    ).all()
    assert len(found) >= 3
    for room, name in zip(found, ("Salle C", "Salle A", "Salle B"), strict=False):
        room.name = name
    db_session.commit()
    return ecole, found[:3]


def test_declared_links_are_logged_with_the_columns_of_the_same_flush(rooms, db_session):
    from inventory.assets.models import NetworkWork, WorkKind, WorkStatus

    ecole, (c, a, b) = rooms
    with audit.acting_as(audit.Actor(None, "test")):
        work = NetworkWork(
            ecole_id=ecole.id,
            collectivite_id=ecole.collectivite_id,
            kind=WorkKind.CABLING,
            title="Câblage",
            status=WorkStatus.PLANNED,
            classrooms=[c, a],
        )
        db_session.add(work)
        db_session.commit()
        (created,) = _records_of(db_session, work)
        # Members are shown sorted, whatever the order they were given in.
        assert created.changes["classrooms"] == [None, "Salle A, Salle C"]
        assert created.changes["title"] == [None, "Câblage"]

        # A column and a member in one flush: one record holds both. (Loading the expired
        # collection would flush the title first, in a record of its own.)
        with db_session.no_autoflush:
            work.title = "Câblage des salles"
            work.classrooms.append(b)
        db_session.commit()
        record = _records_of(db_session, work)[-1]
        assert record.action == "update"
        assert record.changes == {
            "title": ["Câblage", "Câblage des salles"],
            "classrooms": ["Salle A, Salle C", "Salle A, Salle B, Salle C"],
        }

        work.classrooms.remove(c)  # removed, nothing else
        db_session.commit()
        assert _records_of(db_session, work)[-1].changes == {
            "classrooms": ["Salle A, Salle B, Salle C", "Salle A, Salle B"]
        }

        work.classrooms = [c]  # replaced
        db_session.commit()
        assert _records_of(db_session, work)[-1].changes == {
            "classrooms": ["Salle A, Salle B", "Salle C"]
        }

        count = len(_records_of(db_session, work))
        work.classrooms = [c]  # the same set again, through another list
        db_session.commit()
        work.classrooms.append(a)  # a member added and taken back before the flush
        work.classrooms.remove(a)
        db_session.commit()
        assert len(_records_of(db_session, work)) == count

        with db_session.no_autoflush:
            work.notes = "Reporté"
            work.classrooms = []
        db_session.commit()
        assert _records_of(db_session, work)[-1].changes == {
            "classrooms": ["Salle C", None],
            "notes": [None, "Reporté"],
        }

        work.classrooms = [a, b]
        db_session.commit()
        work_id = work.id
        db_session.delete(work)
        db_session.commit()
    deleted = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="network_works", object_id=work_id)
        .order_by(AuditRecord.id)
    ).all()[-1]
    assert deleted.action == "delete"
    assert deleted.changes["classrooms"] == ["Salle A, Salle B", None]


def test_a_link_never_loaded_is_not_read(registry, db_session):
    """A change to the columns alone reads none of the declared relationships."""
    from datetime import UTC, datetime

    from sqlalchemy import event

    from inventory.training.models import (
        SessionFormat,
        SessionMode,
        SessionStatus,
        Trainer,
        TrainingSession,
    )

    ecole = db_session.get(Ecole, registry["schools"]["0940176F"][0])
    with audit.acting_as(audit.Actor(None, "test")):
        ts = TrainingSession(
            title="Prise en main",
            starts_at=datetime(2030, 3, 4, 13, tzinfo=UTC),
            duration_minutes=90,
            mode=SessionMode.ON_SITE,
            format=SessionFormat.WORKSHOP,
            status=SessionStatus.PLANNED,
            schools=[ecole],
            trainers=[Trainer(name="Zoé Roux")],
        )
        db_session.add(ts)
        db_session.commit()
        ts = db_session.get(TrainingSession, ts.id)
        statements = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db_session.get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            ts.place = "Salle polyvalente"
            db_session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # The record's scope reads the schools; no other link is loaded.
    links = ("topics", "categories", "assets", "trainers", "attendees", "follow_ups", "documents")
    assert not [s for s in statements if any(f"training_{k}" in s for k in links[3:])]
    assert not [s for s in statements if any(f"training_session_{k}" in s for k in links[:3])]
    assert _records_of(db_session, ts)[-1].changes == {"place": [None, "Salle polyvalente"]}


def test_owned_rows_are_logged_by_their_text_or_their_number(registry, db_session):
    """A session's trainers by name, follow-ups by text (and done), participants counted."""
    from datetime import UTC, date, datetime

    from inventory.training.models import (
        Attendee,
        FollowUpAction,
        SessionFormat,
        SessionMode,
        SessionStatus,
        Trainer,
        TrainingSession,
    )

    ecole = db_session.get(Ecole, registry["schools"]["0940176F"][0])
    with audit.acting_as(audit.Actor(None, "test")):
        ts = TrainingSession(
            title="Prise en main",
            starts_at=datetime(2030, 3, 4, 13, tzinfo=UTC),
            duration_minutes=90,
            mode=SessionMode.ON_SITE,
            format=SessionFormat.WORKSHOP,
            status=SessionStatus.PLANNED,
            schools=[ecole],
            trainers=[Trainer(name="Zoé Roux"), Trainer(name="Élise Martin", organisation="ERUN")],
        )
        db_session.add(ts)
        db_session.commit()
        (created,) = _records_of(db_session, ts)
        assert created.changes["schools"] == [None, "0940176F"]
        assert created.changes["trainers"] == [None, "Zoé Roux; Élise Martin (ERUN)"]
        assert "attendees" not in created.changes and "follow_ups" not in created.changes

        # The same trainers as new rows: the text is unchanged, nothing is logged for them.
        with db_session.no_autoflush:
            ts.trainers = [Trainer(name=t.name, organisation=t.organisation) for t in ts.trainers]
            ts.status = SessionStatus.HELD
            ts.attendees = [Attendee(name="Anne Leroy", role="teacher")]
            ts.follow_ups = [FollowUpAction(text="Deuxième séance", due_on=date(2030, 4, 1))]
        db_session.commit()
        assert _records_of(db_session, ts)[-1].changes == {
            "status": ["planned", "held"],
            "attendees": [None, 1],  # named participants are counted, never named
            "follow_ups": [None, "Deuxième séance (2030-04-01)"],
        }

        with db_session.no_autoflush:
            ts.follow_ups = [
                FollowUpAction(text="Deuxième séance", due_on=date(2030, 4, 1), done=True)
            ]
            ts.attendees.append(Attendee(name="Marc Petit", role="director"))
        db_session.commit()
        assert _records_of(db_session, ts)[-1].changes == {
            "attendees": [1, 2],
            "follow_ups": ["Deuxième séance (2030-04-01)", "Deuxième séance (2030-04-01) ✓"],
        }


def test_linked_shows_members_and_declarations_are_checked():
    from inventory.assets.models import NetworkWork

    room = type("Room", (), {})
    rooms = [room(), room()]
    rooms[0].name, rooms[1].name = "b", "a"
    assert audit.Linked("name").text(rooms) == "a, b"
    assert audit.Linked(lambda r: r.name.upper(), sep="; ").text(rooms) == "A; B"
    assert audit.Linked(count=True).text(rooms) == 2
    assert audit.Linked("name").text([]) is None and audit.Linked(count=True).text([]) is None
    with pytest.raises(ValueError):
        audit.Linked()
    with pytest.raises(ValueError):
        audit.Linked("name", count=True)

    class Misdeclared(audit.Audited):
        __audit_links__ = {"title": audit.Linked("name")}  # a column, not a relationship

    from sqlalchemy import inspect
    from sqlalchemy.exc import ArgumentError

    with pytest.raises(ArgumentError, match="title"):
        audit._check_links(inspect(NetworkWork), Misdeclared)
