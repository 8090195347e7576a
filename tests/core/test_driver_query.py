"""Reads run on the driver's cursor (core.db.DriverQuery): the same rows, typed the same,
as SQLAlchemy's own execution gives, on both engines; the one parameter stays a
parameter, whatever it holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, literal, select

from inventory.core import audit
from inventory.core.db import DriverQuery, driver_cursor
from inventory.helpdesk.models import ProblemType


def _problem(code: str, label: str, *, for_rooms: bool, position: int) -> ProblemType:
    return ProblemType(
        code=code,
        label_fr=label,
        label_en=label,
        category_codes="",
        for_rooms=for_rooms,
        blocking=False,
        position=position,
        active=True,
    )


def test_rows_are_those_sqlalchemy_gives_typed_alike(app, db_session):
    db_session.add_all(
        [
            _problem("t-son", "Plus de son (100 %)", for_rooms=False, position=1),
            _problem("t-wifi", "L'accès « Wi-Fi »", for_rooms=True, position=2),
        ]
    )
    db_session.add(
        audit.AuditRecord(
            at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
            actor_label="test",
            action="create",
            object_type="things",
            object_id=1,
            object_label="Thing",
            changes={},
        )
    )
    db_session.commit()
    # A constant with a '%' is written in the SQL, beside the parameter.
    statement = (
        select(ProblemType.code, ProblemType.label_fr, ProblemType.for_rooms, literal("50 %"))
        .where(ProblemType.code == bindparam("code"))
        .order_by(ProblemType.position)
    )
    query = DriverQuery(statement, "code")
    every = DriverQuery(
        select(ProblemType.code, ProblemType.for_rooms)
        .where(ProblemType.code.in_(["t-son", "t-wifi"]))
        .order_by(ProblemType.position)
    )
    stamped = DriverQuery(
        select(audit.AuditRecord.at, audit.AuditRecord.object_label).where(
            audit.AuditRecord.object_type == "things"
        )
    )
    with app.app_context():
        from inventory.extensions import db

        engine = db.engine
        with driver_cursor(engine) as cursor:
            assert query.rows(cursor, engine.dialect, "t-wifi") == [
                ("t-wifi", "L'accès « Wi-Fi »", True, "50 %")
            ]
            # Quotes and '%' in the value are data, not SQL.
            assert query.rows(cursor, engine.dialect, "t-wifi' OR '1'='1") == []
            assert query.rows(cursor, engine.dialect, "%") == []
            assert every.rows(cursor, engine.dialect) == [("t-son", False), ("t-wifi", True)]
            ((at, label),) = stamped.rows(cursor, engine.dialect)
            driver = query.rows(cursor, engine.dialect, "t-son")
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(statement, {"code": "t-son"})] == driver
    assert driver == [("t-son", "Plus de son (100 %)", False, "50 %")]
    assert at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert label == "Thing"


def test_the_parameter_must_be_in_the_statement_once(app):
    query = DriverQuery(select(ProblemType.id), "code")
    with app.app_context():
        from inventory.extensions import db

        with driver_cursor(db.engine) as cursor, pytest.raises(ValueError):
            query.rows(cursor, db.engine.dialect, "x")


def test_the_connection_goes_back_to_the_pool_as_it_came(app):
    # The reads run outside a transaction on PostgreSQL: the connection handed out next
    # must be transactional again, or a rollback would no longer undo anything.
    query = DriverQuery(select(ProblemType.code).order_by(ProblemType.id))
    with app.app_context():
        from inventory.extensions import db

        engine = db.engine
        for _ in range(8):  # past the driver's threshold for preparing a statement
            with driver_cursor(engine) as cursor:
                assert query.rows(cursor, engine.dialect)
        with engine.connect() as conn:
            conn.execute(ProblemType.__table__.delete())
            conn.rollback()
            assert conn.execute(select(func.count()).select_from(ProblemType)).scalar() > 0
