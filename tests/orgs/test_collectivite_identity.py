"""A collectivité's name and kind: provisional while the Annuaire import made them, an
administrator's once they name it (from its page, change-logged), never overwritten by a
later import; the 'SIREN nnn' names of earlier imports given real names."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import create_engine, select

from inventory import create_app
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Collectivite, CollectiviteKind
from inventory.orgs.owners import provisional_name
from tests.orgs import registry_rows as rr

SIVU_NAME = "Regroupement des communes Baguer-Morvan et Baguer-Pican"


def run_cli(app, tmp_path, rows):
    path = tmp_path / "annuaire.csv"
    path.write_bytes(rr.annuaire_csv(rows))
    return app.test_cli_runner().invoke(args=["schools", "import-annuaire", str(path)]).output


def sivu(db_session):
    db_session.expire_all()
    return db_session.scalar(select(Collectivite).filter_by(siren=rr.SIVU_SIREN))


def with_third_school(rows):
    """The intercommunal body's schools, and one more in a third commune (Roz-Landrieux)."""
    third = dict(next(r for r in rows if r["Identifiant_de_l_etablissement"] == rr.UAI_SIVU[0]))
    third.update(
        Identifiant_de_l_etablissement="0352536S",
        Nom_etablissement="Ecole primaire publique de Roz-Landrieux",
        Code_commune="35248",
        Nom_commune="Roz-Landrieux",
        SIREN_SIRET=rr.siret(rr.SIVU_SIREN, "0003"),
    )
    return [*rows, third]


def test_a_provisional_name_follows_the_file_until_an_administrator_names_it(
    app, db_session, tmp_path, login_as
):
    rows = rr.annuaire_035()
    run_cli(app, tmp_path, rows)
    coll = sivu(db_session)
    assert (coll.name, coll.provisional) == (SIVU_NAME, True)
    # A school in a third commune: the provisional name says so, and the members too.
    out = run_cli(app, tmp_path, with_third_school(rows))
    assert "created: 1" in out, out
    coll = sivu(db_session)
    assert coll.name == "Regroupement des communes Baguer-Morvan, Baguer-Pican et Roz-Landrieux"
    assert len(coll.members) == 3

    # The administrator sees the provisional name flagged, and names the body.
    client = login_as("admin")
    page = client.get(f"/collectivites/{coll.id}").get_data(as_text=True)
    assert "nom provisoire" in page and "L'Annuaire ne donne pas le nom" in page
    assert f'action="/collectivites/{coll.id}/identite"' in page
    assert 'value="syndicat"' in page and 'value="commune"' not in page
    response = client.post(
        f"/collectivites/{coll.id}/identite",
        data={"name": "  SIVU des écoles   de la Baie ", "kind": "syndicat"},
    )
    assert response.status_code == 302
    coll = sivu(db_session)
    assert (coll.name, coll.kind, coll.provisional) == (
        "SIVU des écoles de la Baie",
        CollectiviteKind.SYNDICAT,
        False,
    )
    record = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="collectivites", object_id=coll.id, action="update")
        .order_by(AuditRecord.id.desc())
    ).first()
    assert record.actor_id is not None and not record.actor_label.startswith("cli:")
    assert record.changes["name"][1] == "SIVU des écoles de la Baie"
    assert record.changes["kind"] == ["epci", "syndicat"]
    assert record.changes["provisional"] == [True, False]
    page = client.get(f"/collectivites/{coll.id}").get_data(as_text=True)
    assert "nom provisoire" not in page and "SIVU des écoles de la Baie" in page

    # Re-imports never undo the administrator's name and kind, even with a new commune.
    again = run_cli(app, tmp_path, with_third_school(rows))
    assert "created: 0  updated: 0" in again, again
    rows_4 = with_third_school(rows)
    fourth = dict(rows_4[-1])
    fourth.update(
        Identifiant_de_l_etablissement="0351809B",
        Code_commune="35284",
        Nom_commune="Saint-Broladre",
        SIREN_SIRET=rr.siret(rr.SIVU_SIREN, "0004"),
    )
    run_cli(app, tmp_path, [*rows_4, fourth])
    coll = sivu(db_session)
    assert (coll.name, coll.kind) == ("SIVU des écoles de la Baie", CollectiviteKind.SYNDICAT)
    assert len(coll.members) == 4


def test_only_administrators_name_a_collectivite_and_bad_input_is_refused(
    app, db_session, tmp_path, login_as, make_user
):
    from tests.conftest import login

    run_cli(app, tmp_path, rr.annuaire_035())
    coll = sivu(db_session)
    # A technician of the body sees its page without the form, and cannot post it.
    technician = app.test_client()
    login(technician, make_user("technicien", [("collectivite", coll.id)]))
    page = technician.get(f"/collectivites/{coll.id}")
    assert page.status_code == 200 and "/identite" not in page.get_data(as_text=True)
    denied = technician.post(
        f"/collectivites/{coll.id}/identite", data={"name": "X", "kind": "rpi"}
    )
    assert denied.status_code == 404
    admin = login_as("admin")
    empty = admin.post(f"/collectivites/{coll.id}/identite", data={"name": " ", "kind": "rpi"})
    assert empty.status_code == 422
    # An intercommunal body cannot be made a commune; a commune's kind cannot change.
    made_commune = admin.post(
        f"/collectivites/{coll.id}/identite", data={"name": "X", "kind": "commune"}
    )
    assert made_commune.status_code == 422
    acigne = db_session.scalar(select(Collectivite).filter_by(siren=rr.commune_siren(rr.ACIGNE)))
    as_rpi = admin.post(
        f"/collectivites/{acigne.id}/identite", data={"name": "Acigné", "kind": "rpi"}
    )
    assert as_rpi.status_code == 422
    assert sivu(db_session).name == SIVU_NAME and sivu(db_session).provisional
    # A commune may be renamed (its kind stays).
    renamed = admin.post(
        f"/collectivites/{acigne.id}/identite", data={"name": "Ville d'Acigné", "kind": "commune"}
    )
    assert renamed.status_code == 302
    db_session.expire_all()
    assert db_session.get(Collectivite, acigne.id).name == "Ville d'Acigné"


def test_an_earlier_import_s_body_that_is_one_commune_becomes_that_commune(
    app, db_session, tmp_path
):
    """What an earlier import (or the migration) left provisional is decided again: the
    commune nouvelle recorded as an intercommunal body becomes its commune."""
    run_cli(app, tmp_path, rr.annuaire_035())
    coll = db_session.scalar(select(Collectivite).filter_by(siren=rr.MAEN_ROCH_SIREN))
    coll.kind, coll.name, coll.commune_id, coll.provisional = (
        CollectiviteKind.EPCI,
        f"SIREN {rr.MAEN_ROCH_SIREN}",
        None,
        True,
    )
    db_session.commit()
    out = run_cli(app, tmp_path, rr.annuaire_035())
    assert "updated: 1" in out, out
    db_session.expire_all()
    coll = db_session.scalar(select(Collectivite).filter_by(siren=rr.MAEN_ROCH_SIREN))
    assert (coll.kind, coll.name, coll.commune.insee, coll.provisional) == (
        CollectiviteKind.COMMUNE,
        "Maen Roch",
        rr.MAEN_ROCH,
        False,
    )
    assert "updated: 0" in run_cli(app, tmp_path, rr.annuaire_035())


def test_the_migration_names_the_siren_bodies_of_earlier_imports(tmp_path):
    """Upgrading a database whose earlier imports named bodies 'SIREN nnn': one whose
    schools lie in one commune becomes that commune; one over several communes gets the
    import's provisional name (the migration's French copy of it agrees)."""
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path)}
    )
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision="a9d4e2f7c318")
        with engine.begin() as conn:
            sql = conn.exec_driver_sql
            sql("INSERT INTO academies (id, code, name) VALUES (1, '14', 'Rennes')")
            sql("INSERT INTO departements (id, code, name, academie_id) VALUES (1, '035', 'I', 1)")
            sql(
                "INSERT INTO communes (id, insee, name, departement_id) VALUES "
                "(1, '35257', 'Maen Roch', 1), (2, '35010', 'Baguer-Morvan', 1), "
                "(3, '35011', 'Baguer-Pican', 1), (4, '35001', 'Acigné', 1)"
            )
            sql(
                "INSERT INTO collectivites (id, kind, name, siren, commune_id, departement_id) "
                f"VALUES (1, 'epci', 'SIREN {rr.MAEN_ROCH_SIREN}', '{rr.MAEN_ROCH_SIREN}', "
                f"NULL, 1), (2, 'epci', 'SIREN {rr.SIVU_SIREN}', '{rr.SIVU_SIREN}', NULL, 1), "
                "(3, 'commune', 'Acigné', '213500010', 4, 1), "
                "(4, 'epci', 'Communauté de communes', '200000172', NULL, 1)"
            )
            sql(
                "INSERT INTO collectivite_members (collectivite_id, commune_id) VALUES "
                "(1, 1), (2, 2), (4, 1), (4, 4)"
            )
            for i, (commune, coll) in enumerate([(1, 1), (2, 2), (3, 2), (4, 3)], start=1):
                sql(
                    "INSERT INTO ecoles (id, uai, name, nature, status, is_private, commune_id,"
                    " departement_id, collectivite_id, search_text) VALUES "
                    f"({i}, 'U{i}', 'E{i}', 'primaire', 'open', 0, {commune}, 1, {coll}, '')"
                )
        upgrade()
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, kind, name, commune_id, provisional FROM collectivites ORDER BY id"
            ).all()
            members = conn.exec_driver_sql(
                "SELECT collectivite_id, commune_id FROM collectivite_members ORDER BY 1, 2"
            ).all()
        with app.test_request_context():
            imported = provisional_name(["Baguer-Pican", "Baguer-Morvan"])
    engine.dispose()
    assert rows == [
        (1, "commune", "Maen Roch", 1, 0),
        (2, "epci", SIVU_NAME, None, 1),
        (3, "commune", "Acigné", 4, 0),
        (4, "epci", "Communauté de communes", None, 0),
    ]
    assert members == [(2, 2), (4, 1), (4, 4)]
    assert imported == SIVU_NAME


def test_the_migration_s_names_agree_with_the_import_s(app):
    from importlib.util import module_from_spec, spec_from_file_location

    from inventory.paths import ROOT

    path = ROOT / "migrations" / "versions" / "2026_12_06_263eca3f24ec_collectivite_provisional.py"
    spec = spec_from_file_location("collectivite_provisional", path)
    migration = module_from_spec(spec)
    spec.loader.exec_module(migration)
    samples = [
        ["Maen Roch"],
        ["Brécé", "Acigné"],
        ["Écancourt", "Acigné", "Zuydcoote"],
        ["Bais", "Amanlis", "Betton", "Bédée", "Acigné"],
    ]
    with app.test_request_context():
        for names in samples:
            assert migration.provisional_name(names) == provisional_name(names)
        assert provisional_name(["Bais", "Amanlis", "Betton", "Bédée", "Acigné"]) == (
            "Regroupement des communes Acigné, Amanlis et 3 autres"
        )
