"""Migrations are the only way a database gets its schema: they must match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from inventory.core import search
from inventory.extensions import db


def test_upgrade_from_empty_matches_the_models(app, database_url):
    # The session fixture built this database with `flask db upgrade` from nothing.
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": search.compared}
        )
        with app.app_context():
            diff = compare_metadata(context, db.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"ecoles", "classrooms", "users", "audit_log", "alembic_version"} <= tables


def test_constraints_carry_the_naming_convention(database_url):
    engine = create_engine(database_url)
    insp = inspect(engine)
    names = []
    for table in insp.get_table_names():
        names += [(table, fk["name"], "fk_") for fk in insp.get_foreign_keys(table)]
        names += [(table, uq["name"], "uq_") for uq in insp.get_unique_constraints(table)]
    engine.dispose()
    assert len(names) > 20
    wrong = [(t, n) for t, n, prefix in names if not (n or "").startswith(prefix)]
    assert not wrong, wrong
