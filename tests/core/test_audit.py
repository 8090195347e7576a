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
