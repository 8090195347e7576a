"""The académie's région académique, read from the Annuaire (``Code_region``,
``Libelle_region``, or the API's lower-case names), for the open-data files."""

from __future__ import annotations

from sqlalchemy import select, update

from inventory.core.audit import AuditRecord
from inventory.orgs.models import Academie
from tests.factories.registry import annuaire_rows, to_csv


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _import(app, tmp_path, header, rows, name="annuaire.csv"):
    path = tmp_path / name
    path.write_bytes(to_csv(header, rows))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert result.exit_code == 0, result.output
    return result.output


def _creteil(db_session):
    db_session.expire_all()
    return db_session.scalar(select(Academie).filter_by(code="24"))


def test_a_new_academie_takes_the_region_of_its_annuaire_row(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    assert {"Code_region", "Libelle_region"} <= set(header)
    _import(app, tmp_path, header, rows)
    acad = _creteil(db_session)
    assert (acad.code, acad.name, acad.region_code, acad.region_name) == (
        "24",
        "Créteil",
        "11",
        "Ile-de-France",
    )


def test_the_api_lower_case_names_are_read_too(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    _import(app, tmp_path, [h.lower() for h in header], rows)
    acad = _creteil(db_session)
    assert (acad.region_code, acad.region_name) == ("11", "Ile-de-France")


def test_an_academie_without_region_is_completed_once_and_logged(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    # An older extract without the region columns: the académie has none.
    keep = [i for i, h in enumerate(header) if h not in ("Code_region", "Libelle_region")]
    _import(
        app, tmp_path, [header[i] for i in keep], [[r[i] for i in keep] for r in rows], "old.csv"
    )
    acad = _creteil(db_session)
    assert (acad.region_code, acad.region_name) == (None, None)
    # The full file completes it, in the change log, without touching the schools.
    output = _import(app, tmp_path, header, rows)
    assert f"unchanged: {len(rows)}" in output
    acad = _creteil(db_session)
    assert (acad.region_code, acad.region_name) == ("11", "Ile-de-France")
    logged = db_session.scalars(
        select(AuditRecord).where(
            AuditRecord.object_type == "academies", AuditRecord.action == "update"
        )
    ).all()
    assert len(logged) == 1 and logged[0].object_id == acad.id
    # Again: nothing left to do.
    _import(app, tmp_path, header, rows, "again.csv")
    assert (
        len(
            db_session.scalars(
                select(AuditRecord).where(
                    AuditRecord.object_type == "academies", AuditRecord.action == "update"
                )
            ).all()
        )
        == 1
    )


def test_a_known_region_is_kept_and_empty_cells_change_nothing(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    _import(app, tmp_path, header, rows)
    db_session.execute(update(Academie).values(region_name="Île-de-France"))
    db_session.commit()
    blank = [list(r) for r in rows]
    for r in blank:
        r[header.index("Code_region")] = ""
        r[header.index("Libelle_region")] = ""
    _import(app, tmp_path, header, blank, "blank.csv")
    _import(app, tmp_path, header, rows, "full.csv")
    acad = _creteil(db_session)
    assert (acad.region_code, acad.region_name) == ("11", "Île-de-France")
