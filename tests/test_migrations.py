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


def test_packed_reporter_addresses_become_ticket_followers_and_back(tmp_path):
    """The migration to ticket_followers unpacks the comma-separated addresses of a ticket
    into one follower each, the first staying the reporter's; its downgrade packs them."""
    from flask_migrate import downgrade, upgrade

    from inventory import create_app

    url = f"sqlite:///{tmp_path / 'followers.db'}"
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path)}
    )
    engine = create_engine(url)
    packed = "premiere@example.org, second@example.org,second@example.org , trois@example.org"
    with app.app_context():
        upgrade(revision="f3a8d2c5b716")
        with engine.begin() as conn:
            # The ticket alone: its parents do not matter to this migration.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql(
                "INSERT INTO tickets (id, ecole_id, collectivite_id, problem_type_id, "
                "description, reporter_email, follow_token, status, blocking, reports, "
                "created_at, version) VALUES (1, 1, 1, 1, 'x', ?, 't1', 'new', 0, 3, "
                "'2026-11-30 10:00:00.000000', 1), (2, 1, 1, 1, 'y', NULL, 't2', 'new', 0, 1, "
                "'2026-11-30 10:00:00.000000', 1)",
                (packed,),
            )
        upgrade()
        with engine.connect() as conn:
            followers = conn.exec_driver_sql(
                "SELECT ticket_id, email FROM ticket_followers ORDER BY id"
            ).all()
            reporters = (
                conn.exec_driver_sql("SELECT reporter_email FROM tickets ORDER BY id")
                .scalars()
                .all()
            )
        assert followers == [
            (1, "premiere@example.org"),
            (1, "second@example.org"),
            (1, "trois@example.org"),
        ]
        assert reporters == ["premiere@example.org", None]
        downgrade(revision="f3a8d2c5b716")
        with engine.connect() as conn:
            reporters = (
                conn.exec_driver_sql("SELECT reporter_email FROM tickets ORDER BY id")
                .scalars()
                .all()
            )
            assert "ticket_followers" not in inspect(conn).get_table_names()
    engine.dispose()
    assert reporters == ["premiere@example.org, second@example.org, trois@example.org", None]
