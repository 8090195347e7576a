"""The Annuaire importer, through the CLI and the upload page, on real and variant files."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from inventory.core.audit import AuditRecord
from inventory.orgs.identifiers import uai_check_letter
from inventory.orgs.models import Circonscription, Collectivite, Ecole, SchoolNature
from tests.factories.registry import ANNUAIRE_094, annuaire_rows, to_csv

PRIVATE = "0941234" + uai_check_letter("0941234")
COLLEGE = "0940001" + uai_check_letter("0940001")


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_real_file_twice_creates_then_changes_nothing(app, db_session):
    first = run_cli(app, "schools", "import-annuaire", str(ANNUAIRE_094))
    assert first.exit_code == 0, first.output
    assert "created: 613" in first.output
    assert "rejected: 0" in first.output
    logged = count(db_session, AuditRecord)
    second = run_cli(app, "schools", "import-annuaire", str(ANNUAIRE_094))
    assert second.exit_code == 0
    assert "created: 0  updated: 0  unchanged: 613" in second.output
    assert "No change" in second.output
    assert count(db_session, Ecole) == 613
    assert count(db_session, AuditRecord) == logged, "a no-op import must log nothing"


def test_registry_built_from_the_real_file(app, db_session):
    run_cli(app, "schools", "import-annuaire", str(ANNUAIRE_094))
    fresnes = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    assert fresnes.name == "Ecole élémentaire Robert Doisneau"
    assert fresnes.nature is SchoolNature.ELEMENTAIRE
    assert fresnes.commune.insee == "94034"
    assert fresnes.departement.code == "094"
    assert fresnes.departement.academie.code == "24"
    assert fresnes.departement.academie.name == "Créteil"
    assert fresnes.circonscription.uai == "0940927X"
    assert fresnes.collectivite.siren == "219400348"
    assert fresnes.collectivite.commune.insee == "94034"
    assert fresnes.latitude == pytest.approx(48.75114, abs=1e-4)
    assert fresnes.ownerships[0].collectivite_id == fresnes.collectivite_id
    # One collectivité per commune, one circonscription per code.
    assert count(db_session, Circonscription) == 24
    communes = db_session.scalar(select(func.count(func.distinct(Ecole.commune_id))))
    assert count(db_session, Collectivite) == communes
    # Every created school is in the change log.
    created = db_session.scalar(
        select(func.count()).where(
            AuditRecord.object_type == "ecoles", AuditRecord.action == "create"
        )
    )
    assert created == 613


def _variant(header_map=None, **csv_options):
    header, rows = annuaire_rows(("Fresnes",))
    if header_map:
        header = [header_map(h) for h in header]
    return to_csv(header, rows, **csv_options), len(rows)


@pytest.mark.parametrize(
    "data_and_count",
    [
        pytest.param(_variant(str.lower), id="api-lower-case-names"),
        pytest.param(
            _variant(lambda h: "Code postal" if h == "Code_postal" else h),
            id="code-postal-with-space",
        ),
        pytest.param(_variant(bom=False, crlf=False), id="no-bom-lf"),
        pytest.param(_variant(encoding="cp1252", bom=False), id="windows-1252"),
        pytest.param(_variant(delimiter=","), id="comma-separated"),
    ],
)
def test_header_and_encoding_variants(app, db_session, data_and_count, tmp_path):
    data, n = data_and_count
    path = tmp_path / "annuaire.csv"
    path.write_bytes(data)
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert result.exit_code == 0, result.output
    assert f"created: {n}" in result.output
    school = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    assert school.postal_code == "94260"
    assert school.commune.name == "Fresnes"


def test_xlsx_variant(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    path = tmp_path / "annuaire.xlsx"
    book.save(path)
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert result.exit_code == 0, result.output
    assert f"created: {len(rows)}" in result.output
    assert db_session.scalar(select(Ecole).filter_by(uai="0940176F")).postal_code == "94260"


def _row(header, **values):
    row = [""] * len(header)
    for key, value in values.items():
        row[header.index(key)] = value
    return row


def test_unpadded_and_corsican_departement_codes(app, db_session, tmp_path):
    header, _ = annuaire_rows(())
    rows = [
        _row(
            header,
            Identifiant_de_l_etablissement="6200001G",
            Nom_etablissement="Ecole A",
            Type_etablissement="Ecole",
            Statut_public_prive="Public",
            Code_commune="2A004",
            Nom_commune="Ajaccio",
            Code_departement="2A",
            Code_academie="27",
            Libelle_academie="Corse",
            Ecole_elementaire="1",
            Ecole_maternelle="1",
        ),
        _row(
            header,
            Identifiant_de_l_etablissement="0350103X",
            Nom_etablissement="Le Chêvre",
            Type_etablissement="Ecole",
            Statut_public_prive="Public",
            Code_commune="35001",
            Nom_commune="Acigné",
            Code_departement="35",
            Code_academie="14",
            Libelle_academie="Rennes",
            Ecole_elementaire="1",
        ),
    ]
    path = tmp_path / "a.csv"
    path.write_bytes(to_csv(header, rows))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert "created: 2" in result.output, result.output
    corsica = db_session.scalar(select(Ecole).filter_by(uai="6200001G"))
    assert corsica.departement.code == "02A"
    assert corsica.nature is SchoolNature.PRIMAIRE
    assert db_session.scalar(select(Ecole).filter_by(uai="0350103X")).departement.code == "035"


def test_broken_rows_are_reported_and_good_rows_kept(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    uai_col, name_col = (
        header.index("Identifiant_de_l_etablissement"),
        header.index("Nom_etablissement"),
    )
    insee_col, lat_col = header.index("Code_commune"), header.index("latitude")
    broken = [list(r) for r in rows[:4]]
    broken[0][uai_col] = "0940176G"  # wrong check letter
    broken[1][name_col] = ""
    broken[2][insee_col] = "9403"
    broken[3][lat_col] = "north"
    good = rows[4:]
    path = tmp_path / "broken.csv"
    path.write_bytes(to_csv(header, [*broken, *good]))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert result.exit_code == 0
    assert f"created: {len(good)}" in result.output
    assert "rejected: 4" in result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("line")]
    assert lines[0].startswith("line 2: 0940176G") and "UAI" in lines[0]
    assert lines[1].startswith("line 3:") and ("nom" in lines[1] or "name" in lines[1])
    assert lines[2].startswith("line 4:") and "INSEE" in lines[2]
    assert lines[3].startswith("line 5:") and "north" in lines[3]
    assert count(db_session, Ecole) == len(good)


def test_private_schools_circonscription_rows_and_other_types(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    base = dict(
        Type_etablissement="Ecole",
        Code_commune="94034",
        Nom_commune="Fresnes",
        Code_departement="094",
        Code_academie="24",
        Libelle_academie="Créteil",
    )
    extra = [
        _row(
            header,
            Identifiant_de_l_etablissement=PRIVATE,
            Nom_etablissement="Ecole privée",
            Statut_public_prive="Privé",
            Ecole_elementaire="1",
            SIREN_SIRET="21940034800195",
            **base,
        ),
        _row(
            header,
            Identifiant_de_l_etablissement="0940927X",
            Nom_etablissement="Circonscription de Fresnes (IEN)",
            libelle_nature="CIRCONSCRIPTIONS INSPECTION EDUC NAT",
            **{**base, "Type_etablissement": "Service Administratif"},
        ),
        _row(
            header,
            Identifiant_de_l_etablissement=COLLEGE,
            Nom_etablissement="Collège X",
            **{**base, "Type_etablissement": "Collège"},
        ),
    ]
    path = tmp_path / "a.csv"
    path.write_bytes(to_csv(header, [*rows, *extra]))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert "skipped: 1" in result.output, result.output
    private = db_session.scalar(select(Ecole).filter_by(uai=PRIVATE))
    assert private.is_private and private.collectivite is None
    circo = db_session.scalar(select(Circonscription).filter_by(uai="0940927X"))
    assert circo.name == "Circonscription de Fresnes (IEN)"
    assert db_session.scalar(select(Ecole).filter_by(uai=COLLEGE)) is None


def test_a_changed_row_updates_and_a_move_is_not_undone(app, db_session, tmp_path):
    header, rows = annuaire_rows(("Fresnes",))
    path = tmp_path / "a.csv"
    path.write_bytes(to_csv(header, rows))
    run_cli(app, "schools", "import-annuaire", str(path))
    rows = [list(r) for r in rows]
    rows[0][header.index("Nom_etablissement")] = "Ecole élémentaire Robert Doisneau (rénovée)"
    path.write_bytes(to_csv(header, rows))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert "updated: 1" in result.output
    log = db_session.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "update", AuditRecord.object_type == "ecoles"
        )
    ).all()
    assert log[-1].changes["name"] == [
        "Ecole élémentaire Robert Doisneau",
        "Ecole élémentaire Robert Doisneau (rénovée)",
    ]
    assert log[-1].actor_label.startswith("cli:")


def test_a_file_without_the_uai_column_is_refused_clearly(app, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"Nom;Ville\r\nA;B\r\n")
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert result.exit_code != 0
    assert "uai" in result.output


def test_upload_page_shows_the_same_report(login_as, db_session):
    client = login_as("admin")
    header, rows = annuaire_rows(("Fresnes",))
    rows = [list(r) for r in rows]
    rows[0][header.index("Code_commune")] = "ABCDE"
    data = {"kind": "annuaire", "file": (io.BytesIO(to_csv(header, rows)), "annuaire.csv")}
    page = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ABCDE" in html
    assert f"<strong>{len(rows) - 1}</strong>" in html
    assert count(db_session, Ecole) == len(rows) - 1


def test_upload_of_a_non_csv_file_is_refused(login_as):
    client = login_as("admin")
    data = {"kind": "annuaire", "file": (io.BytesIO(b"\x89PNG..."), "photo.png")}
    page = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert page.status_code == 422


def test_a_uai_twice_in_one_file_is_created_then_updated(app, db_session, tmp_path):
    """The later row wins, whether the first one is still staged or already written."""
    header, rows = annuaire_rows(("Fresnes",))
    uai_col, name_col = (
        header.index("Identifiant_de_l_etablissement"),
        header.index("Nom_etablissement"),
    )
    again = list(rows[0])
    again[name_col] = "Ecole renommée"
    path = tmp_path / "twice.csv"
    path.write_bytes(to_csv(header, [*rows, again]))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert result.exit_code == 0, result.output
    assert f"created: {len(rows)}  updated: 1" in result.output
    ecole = db_session.scalar(select(Ecole).filter_by(uai=rows[0][uai_col]))
    assert ecole.name == "Ecole renommée"
    actions = db_session.scalars(
        select(AuditRecord.action)
        .where(AuditRecord.object_type == "ecoles", AuditRecord.object_id == ecole.id)
        .order_by(AuditRecord.id)
    ).all()
    assert actions == ["create", "update"]


def test_a_school_that_changes_nature_is_counted_anew_for_the_socle(
    app, db_session, tmp_path, login_as
):
    """A nursery school's room without levels is no target of the socle; once the file
    says the school is elementary, the room is one, and the school misses the socle in
    the school list, as soon as the import ends."""
    from inventory.assets.models import ClassroomSocle
    from inventory.orgs.models import Classroom

    header, rows = annuaire_rows(("Fresnes",))
    mat, elem = header.index("Ecole_maternelle"), header.index("Ecole_elementaire")
    nursery = next(r for r in rows if r[mat] == "1" and r[elem] != "1")
    uai = nursery[header.index("Identifiant_de_l_etablissement")]
    path = tmp_path / "a.csv"
    path.write_bytes(to_csv(header, [nursery]))
    assert run_cli(app, "schools", "import-annuaire", str(path)).exit_code == 0
    ecole = db_session.scalar(select(Ecole).filter_by(uai=uai))
    assert ecole.nature is SchoolNature.MATERNELLE
    db_session.add(Classroom(ecole_id=ecole.id, name="Salle polyvalente", position=1, levels=""))
    db_session.commit()
    client = login_as("admin")

    def missing() -> bool:
        page = client.get("/ecoles?missing_socle=y").get_data(as_text=True)
        return f'href="/ecoles/{ecole.id}"' in page

    def summary() -> tuple[bool, bool]:
        db_session.expire_all()
        row = db_session.scalar(select(ClassroomSocle).filter_by(ecole_id=ecole.id))
        return row.is_target, row.meets

    assert summary() == (False, False) and not missing()
    nursery[mat], nursery[elem] = "0", "1"
    path.write_bytes(to_csv(header, [nursery]))
    result = run_cli(app, "schools", "import-annuaire", str(path))
    assert "updated: 1" in result.output, result.output
    assert summary() == (True, False) and missing()
    nursery[mat], nursery[elem] = "1", "0"
    path.write_bytes(to_csv(header, [nursery]))
    assert "updated: 1" in run_cli(app, "schools", "import-annuaire", str(path)).output
    assert summary() == (False, False) and not missing()
