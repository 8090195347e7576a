"""The classes-per-school importer: creates missing classrooms, never deletes, reports unknowns."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from inventory.assets.models import ClassroomSocle
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import EFFECTIFS_035, annuaire_rows, to_csv
from tests.orgs import registry_rows as rr


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
    # The school's pupils of the year (the per-pupil figures' denominator) are the file's.
    assert acigne[0].ecole.pupils == 289
    # Their number is the file's, their levels the import's plan: estimated until a person
    # checks them.
    assert all(r.estimated for r in acigne)
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
    # Ten classes: ten of the estimated rooms take the new plan, the four others are kept
    # as they were, and the report says so.
    fewer = run(app, path).output
    assert "updated: 1" in fewer and "warnings: 1" in fewer
    assert "4 classes estimées au-delà des 10 classes du fichier" in fewer
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


# -- levels from the real figures ------------------------------------------------------------
def annuaire_035(app, tmp_path):
    path = tmp_path / "annuaire-035.csv"
    path.write_bytes(rr.annuaire_csv(rr.annuaire_035()))
    assert (
        "rejected: 0"
        in app.test_cli_runner().invoke(args=["schools", "import-annuaire", str(path)]).output
    )


def targets(db_session, uai):
    """The school's target classrooms, as the socle summary (every dashboard) counts them."""
    db_session.expire_all()
    return db_session.scalar(
        select(func.count())
        .select_from(ClassroomSocle)
        .join(Ecole, Ecole.id == ClassroomSocle.ecole_id)
        .where(Ecole.uai == uai, ClassroomSocle.is_target.is_(True))
    )


def test_a_primaire_school_s_classes_are_split_and_its_ulis_unit_labelled(
    app, db_session, tmp_path
):
    """Argentré-du-Plessis, rentrée 2022: 12 classes, 78 pre-school pupils, 141 from CP to
    CM2 (25, 29, 34, 20, 33), 13 in ULIS. One class is the ULIS unit; of the 11 others,
    11 × 141 / 219 = 7.1 are elementary: 7, and 4 pre-school."""
    annuaire_035(app, tmp_path)
    _, real = rr.effectifs_rows()
    uais = [rr.UAI_PRIMAIRE_ULIS, "0350103X", rr.UAI_POSTAL]
    path = tmp_path / "effectifs.csv"
    path.write_bytes(rr.effectifs_csv([real[u] for u in uais]))
    result = run(app, path)
    assert "created: 3" in result.output and "rejected: 0" in result.output, result.output
    plan = [(r.levels, r.pupils) for r in rooms(db_session, rr.UAI_PRIMAIRE_ULIS)]
    assert plan == [
        ("PS,MS,GS", 20),
        ("PS,MS,GS", 20),
        ("PS,MS,GS", 19),
        ("PS,MS,GS", 19),
        ("CP", 25),
        ("CE1", 29),
        ("CE2", 17),
        ("CE2", 17),
        ("CM1", 20),
        ("CM2", 17),
        ("CM2", 16),
        ("ULIS", 13),
    ]
    assert all(r.estimated for r in rooms(db_session, rr.UAI_PRIMAIRE_ULIS))
    # Target classrooms (cycles 2 and 3, the ULIS unit): 8, not the 12 of the school.
    assert targets(db_session, rr.UAI_PRIMAIRE_ULIS) == 8
    # The nursery school has none; the elementary school's 12 classes all are.
    assert {r.levels for r in rooms(db_session, rr.UAI_POSTAL)} == {"PS,MS,GS"}
    assert targets(db_session, rr.UAI_POSTAL) == 0
    assert targets(db_session, "0350103X") == 12


def test_a_later_year_relabels_estimated_rooms_and_never_touches_an_edited_one(
    app, db_session, tmp_path, login_as
):
    annuaire_035(app, tmp_path)
    _, real = rr.effectifs_rows()
    first = real[rr.UAI_PRIMAIRE_ULIS]
    path = tmp_path / "effectifs.csv"
    path.write_bytes(rr.effectifs_csv([first]))
    run(app, path)
    before = {r.name: r for r in rooms(db_session, rr.UAI_PRIMAIRE_ULIS)}
    # A person checks the CE1 class and renames it: it is no longer an estimate.
    ce1 = next(r for r in before.values() if r.levels == "CE1")
    client = login_as("admin")
    response = client.post(
        f"/classes/{ce1.id}", data={"name": "CE1 Mme Le Goff", "levels": ["CE1"], "pupils": "27"}
    )
    assert response.status_code == 302

    # Rentrée 2023, through the upload page: one class more, other figures.
    later = dict(first)
    later.update(
        {
            "Rentrée scolaire": "2023",
            "Nombre total de classes": "13",
            "Nombre total d'élèves": "253",
            "Nombre d'élèves en pré-élémentaire hors ULIS": "70",
            "Nombre d'élèves en élémentaire hors ULIS": "171",
            "Nombre d'élèves en CP hors ULIS": "30",
            "Nombre d'élèves en CE1 hors ULIS": "26",
            "Nombre d'élèves en CE2 hors ULIS": "28",
            "Nombre d'élèves en CM1 hors ULIS": "35",
            "Nombre d'élèves en CM2 hors ULIS": "52",
            "Nombre d'élèves en ULIS": "12",
        }
    )
    data = {
        "kind": "effectifs",
        "file": (io.BytesIO(rr.effectifs_csv([first, later])), "effectifs.csv"),
    }
    page = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Année scolaire importée : 2023." in html.replace("\u00a0", " ")
    assert "<strong>1</strong> mises à jour" in html
    assert "Ce qui a changé" in html
    assert "Classes estimées mises à jour (niveaux, élèves)" in html
    assert "Classes créées (niveaux, élèves) : Classe 13 CM1 (17)." in html
    # Each estimated room keeps its kind where the plan has one: the ULIS unit stays it.
    assert "Classe 12 ULIS (13) → ULIS (12)" in html

    db_session.expire_all()
    after = rooms(db_session, rr.UAI_PRIMAIRE_ULIS)
    assert len(after) == 13, "one room created, none deleted"
    assert {r.name for r in before.values()} <= {r.name for r in after}
    edited = next(r for r in after if r.id == ce1.id)
    assert (edited.name, edited.levels, edited.pupils, edited.estimated) == (
        "CE1 Mme Le Goff",
        "CE1",
        27,
        False,
    )
    # The edited room holds the CE1 class; the estimated ones carry the rest of the plan:
    # 12 classes besides the ULIS unit, 12 × 171 / 241 = 8.5 → 9 elementary (CP 2, CE1 1,
    # CE2 2, CM1 2, CM2 2), 3 pre-school; the new room comes last.
    estimated = [(r.name, r.levels, r.pupils) for r in after if r.estimated]
    assert estimated == [
        ("Classe 1", "PS,MS,GS", 24),
        ("Classe 2", "PS,MS,GS", 23),
        ("Classe 3", "PS,MS,GS", 23),
        ("Classe 4", "CP", 15),
        ("Classe 5", "CP", 15),
        ("Classe 7", "CE2", 14),
        ("Classe 8", "CE2", 14),
        ("Classe 9", "CM1", 18),
        ("Classe 10", "CM2", 26),
        ("Classe 11", "CM2", 26),
        ("Classe 12", "ULIS", 12),
        ("Classe 13", "CM1", 17),
    ]
    assert targets(db_session, rr.UAI_PRIMAIRE_ULIS) == 10
    # The same year again: nothing to change.
    path.write_bytes(rr.effectifs_csv([first, later]))
    assert "created: 0  updated: 0  unchanged: 1" in run(app, path).output
