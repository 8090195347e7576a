"""The classes-per-school importer: creates missing classrooms, never deletes, reports unknowns."""

from __future__ import annotations

import csv

from sqlalchemy import func, select

from inventory.orgs.models import Classroom, Ecole
from tests.conftest import EFFECTIFS_035, annuaire_rows, to_csv


def effectifs():
    with EFFECTIFS_035.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        return header, list(reader)


def known_schools(app, tmp_path, uais):
    """Put a few of the Ille-et-Vilaine schools in the registry through the Annuaire importer."""
    header, _ = annuaire_rows(())
    rows = []
    for i, uai in enumerate(uais):
        row = [""] * len(header)
        for key, value in {
            "Identifiant_de_l_etablissement": uai,
            "Nom_etablissement": f"Ecole {i}",
            "Type_etablissement": "Ecole",
            "Statut_public_prive": "Public",
            "Code_commune": "35001",
            "Nom_commune": "Acigné",
            "Code_departement": "035",
            "Code_academie": "14",
            "Libelle_academie": "Rennes",
            "Ecole_elementaire": "1",
        }.items():
            row[header.index(key)] = value
        rows.append(row)
    path = tmp_path / "annuaire.csv"
    path.write_bytes(to_csv(header, rows))
    result = app.test_cli_runner().invoke(args=["schools", "import-annuaire", str(path)])
    assert f"created: {len(uais)}" in result.output, result.output


def rooms(db_session, uai):
    return db_session.scalars(
        select(Classroom).join(Ecole).where(Ecole.uai == uai).order_by(Classroom.position)
    ).all()


def run(app, path, *extra):
    return app.test_cli_runner().invoke(args=["schools", "import-effectifs", str(path), *extra])


def test_real_extract_creates_classrooms_and_reports_unknown_schools(app, db_session, tmp_path):
    header, rows = effectifs()
    uai_col = header.index("Numéro de l'école")
    known = [r[uai_col] for r in rows[:3]]
    known_schools(app, tmp_path, known)
    result = run(app, EFFECTIFS_035)
    assert result.exit_code == 0, result.output
    assert "School year imported: 2022" in result.output or "2022" in result.output
    assert "created: 3" in result.output
    assert f"rejected: {len(rows) - 3}" in result.output
    assert "0350948R" in result.output  # an unknown school is named
    # ACIGNE, 0350103X: 12 classes, 289 pupils from CP to CM2.
    acigne = rooms(db_session, "0350103X")
    assert len(acigne) == 12
    assert [r.name for r in acigne[:2]] == ["Classe 1", "Classe 2"]
    assert {lv for r in acigne for lv in r.level_list} == {"CP", "CE1", "CE2", "CM1", "CM2"}
    assert sum(r.pupils for r in acigne) == 289
    assert not any(r.estimated for r in acigne)
    again = run(app, EFFECTIFS_035)
    assert "created: 0  updated: 0  unchanged: 3" in again.output
    assert db_session.scalar(select(func.count()).select_from(Classroom)) == sum(
        int(r[header.index("Nombre total de classes")]) for r in rows[:3]
    )


def test_never_deletes_and_tops_up(app, db_session, tmp_path):
    header, rows = effectifs()
    uai_col, classes_col = (
        header.index("Numéro de l'école"),
        header.index("Nombre total de classes"),
    )
    known_schools(app, tmp_path, [rows[0][uai_col]])
    one = [list(rows[0])]
    one[0][classes_col] = "14"
    path = tmp_path / "e.csv"
    path.write_bytes(to_csv(header, one))
    assert "created: 1" in run(app, path).output
    one[0][classes_col] = "10"
    path.write_bytes(to_csv(header, one))
    assert "unchanged: 1" in run(app, path).output
    assert len(rooms(db_session, rows[0][uai_col])) == 14
    one[0][classes_col] = "15"
    path.write_bytes(to_csv(header, one))
    assert "updated: 1" in run(app, path).output
    names = [r.name for r in rooms(db_session, rows[0][uai_col])]
    assert len(names) == 15 and len(set(names)) == 15


def test_latest_year_by_default_or_the_one_asked(app, db_session, tmp_path):
    header, rows = effectifs()
    uai_col, classes_col = (
        header.index("Numéro de l'école"),
        header.index("Nombre total de classes"),
    )
    year_col = header.index("Rentrée scolaire")
    known_schools(app, tmp_path, [rows[0][uai_col]])
    older = list(rows[0])
    older[year_col], older[classes_col] = "2021", "3"
    path = tmp_path / "e.csv"
    path.write_bytes(to_csv(header, [older, rows[0]]))
    first = run(app, path, "--year", "2021")
    assert "2021" in first.output
    assert len(rooms(db_session, rows[0][uai_col])) == 3
    run(app, path)
    assert len(rooms(db_session, rows[0][uai_col])) == int(rows[0][classes_col])


def test_api_field_names_and_bad_counts(app, db_session, tmp_path):
    header, rows = effectifs()
    uai = rows[0][header.index("Numéro de l'école")]
    known_schools(app, tmp_path, [uai])
    data = (
        "rentree_scolaire;numero_ecole;nombre_total_classes;nombre_total_eleves\n"
        f"2022;{uai};4;90\n"
        f"2022;{uai[:-1]}Z;x;90\n"
    ).encode()
    path = tmp_path / "api.csv"
    path.write_bytes(data)
    result = run(app, path)
    assert "created: 1" in result.output
    assert "line 3:" in result.output
    assert len(rooms(db_session, uai)) == 4
