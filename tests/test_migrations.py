"""Migrations are the only way a database gets its schema: they must match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from inventory.core import search
from inventory.extensions import db


def _migrated_app(tmp_path, name):
    """An app on a new SQLite file, for a migration's test to upgrade and downgrade, and an
    engine of its own on that file."""
    from inventory import create_app

    url = f"sqlite:///{tmp_path / name}"
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path)}
    )
    return app, create_engine(url)


def _rows(engine, sql):
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).all()


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


def test_every_searched_table_keeps_its_search_index(database_url):
    """A batch migration rebuilds a table on SQLite and drops the triggers that keep its
    text search current (core.search.rebuilt_table_sql): every table with a search_text
    column still has its index after all the migrations, on both engines."""
    engine = create_engine(database_url)
    insp = inspect(engine)
    searched = [
        t
        for t in insp.get_table_names()
        if not search.is_search_index(t)
        and any(c["name"] == "search_text" for c in insp.get_columns(t))
    ]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            have = set(conn.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars())
            missing = [t for t in searched if f"ix_{t}_search_trgm" not in have]
        else:
            have = set(
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type='trigger'"
                ).scalars()
            )
            missing = [
                t
                for t in searched
                if not {f"{t}_search_{e}" for e in ("insert", "delete", "update")} <= have
            ]
    engine.dispose()
    assert "assets" in searched
    assert missing == []


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

    app, engine = _migrated_app(tmp_path, "followers.db")
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


def test_the_socle_requirements_become_the_snee_referentiel_and_back(tmp_path):
    """Upgrading from the previous head: the existing requirements (one changed by an
    administrator, one added) become the SNEE référentiel's, capture becomes a requirement
    of capabilities and the mobile equipment a ratio, the new requirements and categories
    come, the SNEE scheme is linked, and the per-classroom summary is computed again by
    the new rules; the downgrade gives back one set of requirements as before."""
    from flask_migrate import downgrade, upgrade

    app, engine = _migrated_app(tmp_path, "referentiel.db")

    def rows(sql):
        return _rows(engine, sql)

    with app.app_context():
        upgrade(revision="a9d4e2f7c318")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            cats = dict(conn.exec_driver_sql("SELECT code, id FROM equipment_categories").all())
            conn.exec_driver_sql(
                "UPDATE socle_requirements SET minimum = 2 WHERE code = 'poste_enseignant'"
            )
            conn.exec_driver_sql(
                "INSERT INTO socle_requirements (code, level, label_fr, label_en, "
                "category_codes, work_kinds, minimum, active, position) VALUES ('visualiseur', "
                "'classroom', 'Visualiseur', 'Document camera', 'visualiseur', '', 1, 0, 6)"
            )
            conn.exec_driver_sql(
                "INSERT INTO funding_schemes (id, code, name, rules, version, active) "
                "VALUES (1, 'snee-2021', 'SNEE', '{}', 1, 1), (2, 'autre', 'Autre', '{}', 1, 1)"
            )
            # A dossier of the scheme (the table the migration rebuilds is referenced).
            conn.exec_driver_sql(
                "INSERT INTO dossiers (id, collectivite_id, scheme_id, scheme_version, rules, "
                "title, status, planned_cents, created_at, version) VALUES (1, 1, 1, 1, '{}', "
                "'Dossier', 'draft', '{}', '2026-11-30 10:00:00.000000', 1)"
            )
            conn.exec_driver_sql(
                "INSERT INTO ecoles (id, uai, name, nature, status, is_private, commune_id, "
                "departement_id, collectivite_id, search_text) VALUES (1, '0940001A', 'École', "
                "'elementaire', 'open', 0, 1, 1, 1, '')"
            )
            conn.exec_driver_sql(
                "INSERT INTO classrooms (id, ecole_id, name, position, levels, estimated, "
                "created_at) VALUES (1, 1, 'CP', 0, 'CP', 0, '2026-11-30 10:00:00.000000')"
            )
            conn.exec_driver_sql("INSERT INTO manufacturers (id, name) VALUES (1, 'Speechi')")
            for i, code in enumerate(("eni", "poste_enseignant", "poste_enseignant", "borne_wifi")):
                conn.exec_driver_sql(
                    "INSERT INTO equipment_models (id, manufacturer_id, category_id, name) "
                    f"VALUES ({i + 1}, 1, {cats[code]}, 'Modèle {i}')"
                )
                conn.exec_driver_sql(
                    "INSERT INTO assets (id, tag, model_id, category_id, collectivite_id, "
                    "ecole_id, classroom_id, placement, status, status_since, created_at, "
                    f"version, search_text) VALUES ({i + 1}, 'T-{i}', {i + 1}, {cats[code]}, 1, "
                    "1, 1, 'classroom', 'in_service', '2026-11-30 10:00:00.000000', "
                    "'2026-11-30 10:00:00.000000', 1, '')"
                )
            # Met under the former rules: an ENI counted as image capture.
            conn.exec_driver_sql("INSERT INTO classroom_socle VALUES (1, 1, 1, 1)")
            conn.exec_driver_sql(
                "INSERT INTO summary_state VALUES (1, 0, '2026-11-30 10:00:00.000000', '[]', '[]')"
            )
        upgrade()
        (ref,) = rows("SELECT id, code, is_current FROM socle_referentiels")
        assert ref[1:] == ("snee-2021", 1)
        reqs = {
            r[0]: r[1:]
            for r in rows(
                "SELECT code, referentiel_id, level, kind, category_codes, service_kinds, "
                "capabilities, minimum, ratio_items, ratio_classes, active, position "
                "FROM socle_requirements"
            )
        }
        assert {r[0] for r in reqs.values()} == {ref[0]}
        assert list(sorted(reqs, key=lambda c: reqs[c][-1])) == [
            "affichage_collectif",
            "poste_enseignant",
            "connexion",
            "captation",
            "equipement_mobile",
            "chariot_mdm",
            "wifi_ecole",
            "partage",
            "direction_poste",
            "direction_connexion",
            "direction_copieur",
            "visualiseur",
        ]
        assert reqs["poste_enseignant"][6] == 2, "an administrator's change is kept"
        assert reqs["visualiseur"][9] == 0, "and so is a requirement added, inactive"
        assert reqs["captation"][2:6] == ("capabilities", "", "", "image,microphone,speakers")
        assert reqs["equipement_mobile"][2:9] == ("ratio", "tablette,pc_eleve", "", "", 0, 10, 4)
        assert reqs["partage"][1:5] == ("school", "items", "", "ent,cloud")
        assert reqs["direction_copieur"][1:4] == ("direction", "items", "copieur")
        assert rows("SELECT code, referentiel_id FROM funding_schemes ORDER BY id") == [
            ("snee-2021", ref[0]),
            ("autre", None),
        ]
        categories = dict(rows("SELECT code, capabilities FROM equipment_categories"))
        assert categories["webcam"] == "image,microphone" and categories["enceintes"] == "speakers"
        assert categories["visualiseur"] == "image" and categories["eni"] == ""
        assert rows("SELECT max(position) FROM equipment_categories") == [(17,)]
        assert set(rows("SELECT capabilities FROM equipment_models")) == {(None,)}
        # Capture is missing now (and a second teacher laptop is there): summary recomputed,
        # the dashboards' summaries rebuilt when next read.
        assert rows("SELECT classroom_id, is_target, meets FROM classroom_socle") == [(1, 1, 0)]
        assert rows("SELECT count(*) FROM summary_state") == [(0,)]

        downgrade(revision="a9d4e2f7c318")
        back = {
            r[0]: r[1:]
            for r in rows(
                "SELECT code, category_codes, minimum, active, position FROM socle_requirements"
            )
        }
        assert set(back) == {
            "affichage_collectif",
            "poste_enseignant",
            "connexion",
            "captation",
            "equipement_mobile",
            "wifi_ecole",
            "visualiseur",
        }
        assert back["captation"][0] == "captation,tni,vpi,eni"
        assert back["equipement_mobile"][:2] == ("classe_mobile,tablette,pc_eleve", 1)
        assert back["poste_enseignant"][1] == 2
        codes = {r[0] for r in rows("SELECT code FROM equipment_categories")}
        assert "webcam" not in codes and len(codes) == 15
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        assert not {"socle_referentiels", "digital_services", "digital_service_schools"} & tables
        assert rows("SELECT id, scheme_id FROM dossiers") == [(1, 1)]
        assert rows("SELECT count(*) FROM assets") == [(4,)]
    engine.dispose()


def test_tag_counters_become_one_per_pattern_and_back(tmp_path):
    """The counters per collectivité become one per pattern (prefix and year), each at
    the highest of the collectivités sharing it (a chosen prefix counts as theirs); the
    downgrade gives each collectivité its pattern's counter."""
    from flask_migrate import downgrade, upgrade

    app, engine = _migrated_app(tmp_path, "counters.db")

    def rows(sql):
        return _rows(engine, sql)

    with app.app_context():
        upgrade(revision="d25a1b2c3d4e")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql(
                "INSERT INTO collectivites (id, kind, name, departement_id, asset_tag_prefix, "
                "provisional) VALUES (1, 'commune', 'Saint-Maur-des-Fossés', 1, NULL, 0), "
                "(2, 'commune', 'Saïgon-sur-Marne', 1, NULL, 0), "
                "(3, 'commune', 'Créteil', 1, 'SAI', 0), (4, 'commune', 'Œuilly', 1, NULL, 0)"
            )
            conn.exec_driver_sql(
                "INSERT INTO asset_tag_counters (collectivite_id, year, last) VALUES "
                "(1, 2021, 14), (2, 2021, 30), (3, 2021, 22), (1, 2022, 5), (4, 2021, 3)"
            )
        upgrade()
        assert rows("SELECT prefix, year, last FROM asset_tag_counters ORDER BY 1, 2") == [
            ("SAI", 2021, 30),
            ("SAI", 2022, 5),
            ("UIL", 2021, 3),  # no letter A-Z for Œ, as the app has it
        ]
        downgrade(revision="d25a1b2c3d4e")
        assert rows("SELECT collectivite_id, year, last FROM asset_tag_counters ORDER BY 1, 2") == [
            (1, 2021, 30),
            (1, 2022, 5),
            (2, 2021, 30),
            (2, 2022, 5),
            (3, 2021, 30),
            (3, 2022, 5),
            (4, 2021, 3),
        ]
    engine.dispose()


def test_claims_sent_before_their_follow_up_are_awaiting_and_back(tmp_path):
    """Warranty claims recorded before claims were followed are "sent" (their answer was
    never recorded); other maintenance records have no claim status; every record starts
    at version 1. The downgrade drops what the upgrade added."""
    from flask_migrate import downgrade, upgrade

    app, engine = _migrated_app(tmp_path, "claims.db")
    with app.app_context():
        upgrade(revision="e1b4c7d2a9f3")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql(
                "INSERT INTO maintenance_records (id, asset_id, kind, done_on, description, "
                "cost_cents, under_warranty, created_at) VALUES "
                "(1, 1, 'claim', '2026-03-02', 'Warranty claim', 0, 1, '2026-03-02 09:00:00'), "
                "(2, 1, 'repair', '2026-04-10', 'Câble HDMI', 2500, 0, '2026-04-10 09:00:00')"
            )
        upgrade()
        assert _rows(
            engine, "SELECT id, kind, claim_status, version FROM maintenance_records ORDER BY id"
        ) == [(1, "claim", "sent", 1), (2, "repair", None, 1)]
        downgrade(revision="e1b4c7d2a9f3")
        columns = {c["name"] for c in inspect(engine).get_columns("maintenance_records")}
        assert not columns & {"claim_status", "problem", "answer", "answered_on", "version"}
        assert _rows(engine, "SELECT id FROM maintenance_records ORDER BY id") == [(1,), (2,)]
    engine.dispose()
