"""Rows written in bulk (imports): foreign keys between new rows, ids matched to their rows
on both engines, and a change-log record per created row in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from inventory.core import audit
from inventory.core.bulk import BulkInsert
from inventory.orgs.models import (
    Academie,
    Collectivite,
    CollectiviteKind,
    Commune,
    Departement,
    collectivite_members,
)


def test_staged_rows_reference_each_other_and_get_their_own_ids(app, db_session):
    with app.app_context(), audit.acting_as(audit.Actor(None, "import test")):
        from inventory.extensions import db

        bulk = BulkInsert(db.session)
        academie = bulk.add(Academie, code="99", name="Test")
        dept = bulk.add(Departement, code="099", name="Test", academie_id=academie)
        # Enough rows for several multi-row INSERTs, whose ids must still match in order.
        communes = [
            bulk.add(Commune, insee=f"9{n:04d}", name=f"Commune {n}", departement_id=dept)
            for n in range(2500)
        ]
        assert len(bulk) == 2502 and communes[0].id is None
        bulk.flush()
        db.session.commit()
        assert len(bulk) == 0

    by_id = dict(db_session.execute(select(Commune.id, Commune.insee)).all())
    assert all(by_id[c.id] == c.insee for c in communes)
    assert {c.departement_id for c in db_session.scalars(select(Commune))} == {dept.id}
    assert db_session.get(Departement, dept.id).academie.code == "99"
    records = db_session.scalars(
        select(audit.AuditRecord).where(audit.AuditRecord.object_type == "communes")
    ).all()
    assert len(records) == 2500
    first = next(r for r in records if r.object_id == communes[0].id)
    assert first.action == "create" and first.actor_label == "import test"
    assert first.object_label == "Commune 0"
    assert first.changes["insee"] == [None, "90000"]
    assert first.changes["departement_id"] == [None, dept.id]


def test_rows_given_as_columns_reference_staged_rows(app, db_session):
    """Rows no one references (an association table here) come as columns, after the
    staged rows they point to; an audited model or columns of unequal lengths are refused."""
    with app.app_context(), audit.acting_as(audit.Actor(None, "import test")):
        from inventory.extensions import db

        bulk = BulkInsert(db.session)
        academie = bulk.add(Academie, code="97", name="Test")
        dept = bulk.add(Departement, code="097", name="Test", academie_id=academie)
        communes = [
            bulk.add(Commune, insee=f"97{n:03d}", name=f"Commune {n}", departement_id=dept)
            for n in range(3)
        ]
        epci = bulk.add(
            Collectivite, kind=CollectiviteKind.EPCI, name="EPCI test", departement_id=dept
        )
        bulk.add_columns(collectivite_members, collectivite_id=[epci] * 3, commune_id=communes)
        with pytest.raises(ValueError):
            bulk.add_columns(collectivite_members, collectivite_id=[epci], commune_id=[])
        with pytest.raises(TypeError):
            bulk.add_columns(Academie, code=["96"], name=["Audited"])
        assert len(bulk) == 9
        bulk.flush()
        db.session.commit()
        assert len(bulk) == 0

    members = db_session.execute(select(collectivite_members)).all()
    assert sorted(members) == sorted((epci.id, c.id) for c in communes)
    assert db_session.get(Collectivite, epci.id).members[0].insee.startswith("97")


def test_a_rolled_back_bulk_write_leaves_neither_rows_nor_records(app, db_session):
    with app.app_context():
        from inventory.extensions import db

        bulk = BulkInsert(db.session)
        bulk.add(Academie, code="98", name="Gone")
        bulk.flush()
        db.session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Academie)) == 0
    assert db_session.scalar(select(func.count()).select_from(audit.AuditRecord)) == 0


def test_rows_with_a_natural_key_are_written_many_to_a_statement(app, db_session):
    """SQLite cannot hand back ids in the rows' order: rows with a unique key (the INSEE
    code) are matched back by it, so neither engine falls back to an INSERT a row."""
    with app.app_context(), audit.acting_as(audit.Actor(None, "import test")):
        from sqlalchemy import event

        from inventory.extensions import db

        bulk = BulkInsert(db.session)
        academie = bulk.add(Academie, code="96", name="Test")
        dept = bulk.add(Departement, code="096", name="Test", academie_id=academie)
        communes = [
            bulk.add(Commune, insee=f"8{n:04d}", name=f"Commune {n}", departement_id=dept)
            for n in range(1000)
        ]
        inserts: list[str] = []

        def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            if statement.startswith("INSERT INTO communes"):
                inserts.append(statement)

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            bulk.flush()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        db.session.commit()
    assert 0 < len(inserts) < 20
    by_id = dict(db_session.execute(select(Commune.id, Commune.insee)).all())
    assert [by_id[c.id] for c in communes] == [f"8{n:04d}" for n in range(1000)]
