"""The migration that moves a scheme's dates into its rules (ac8d010314f7): existing schemes
and every dossier under them get the window the scheme had; the downgrade puts it back."""

from __future__ import annotations

import json

from sqlalchemy import create_engine

RULES = {"vat_included": True, "volets": [{"code": "equipement", "tiers": [{"rate": "0.70"}]}]}


def test_the_window_goes_into_the_rules_of_schemes_and_dossiers_and_back(tmp_path):
    from flask_migrate import downgrade, upgrade

    from inventory import create_app

    url = f"sqlite:///{tmp_path / 'dates.db'}"
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path)}
    )
    engine = create_engine(url)
    rules = json.dumps(RULES)
    with app.app_context():
        upgrade(revision="a9d4e2f7c318")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql(
                "INSERT INTO funding_schemes (id, code, name, window_start, window_end, rules, "
                "version, active) VALUES (1, 'snee-2021', 'SNEE', '2021-01-14', '2022-12-31', "
                "?, 3, 1), (2, 'sans-dates', 'Sans dates', NULL, NULL, ?, 1, 1)",
                (rules, rules),
            )
            conn.exec_driver_sql(
                "INSERT INTO dossiers (id, collectivite_id, scheme_id, scheme_version, rules, "
                "title, status, planned_cents, created_at, version) VALUES "
                "(1, 1, 1, 1, ?, 'Ancien', 'signed', '{}', '2021-06-01 10:00:00.000000', 4), "
                "(2, 1, 2, 1, ?, 'Autre', 'draft', '{}', '2021-06-01 10:00:00.000000', 1)",
                (rules, rules),
            )
            conn.exec_driver_sql(
                "INSERT INTO payments (id, dossier_id, kind, received_on, received_cents) "
                "VALUES (1, 1, 'advance', '2021-09-01', 100000)"
            )
        upgrade()
        with engine.connect() as conn:
            schemes = dict(conn.exec_driver_sql("SELECT id, rules FROM funding_schemes").all())
            dossiers = dict(conn.exec_driver_sql("SELECT id, rules FROM dossiers").all())
            versions = conn.exec_driver_sql("SELECT version FROM funding_schemes").scalars().all()
            confirmed = conn.exec_driver_sql("SELECT over_aid_confirmed FROM payments").scalar()
        window = {"spending_from": "2021-01-14", "spending_to": "2022-12-31"}
        assert json.loads(schemes[1]) == {**RULES, **window}
        assert json.loads(dossiers[1]) == {**RULES, **window}  # frozen with the rest
        assert json.loads(schemes[2]) == RULES and json.loads(dossiers[2]) == RULES
        assert sorted(versions) == [1, 3], "the rules' meaning did not change: same versions"
        assert confirmed in (0, False)

        downgrade(revision="a9d4e2f7c318")
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, window_start, window_end, rules FROM funding_schemes ORDER BY id"
            ).all()
            dossiers = dict(conn.exec_driver_sql("SELECT id, rules FROM dossiers").all())
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (1, "2021-01-14", "2022-12-31"),
            (2, None, None),
        ]
        assert all(json.loads(r[3]) == RULES for r in rows)
        assert all(json.loads(d) == RULES for d in dossiers.values())
    engine.dispose()
