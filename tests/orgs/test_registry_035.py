"""The Annuaire of another département than the demo's (Ille-et-Vilaine, Corse-du-Sud), as
real files have it: which rows are schools, who owns them, and what the report says.
Through the command line and the upload page, in the labels and the API header variants."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from inventory.core.audit import AuditRecord
from inventory.orgs.models import (
    Circonscription,
    Collectivite,
    CollectiviteKind,
    Commune,
    Ecole,
    SchoolNature,
)
from tests.orgs import registry_rows as rr


def run_cli(app, tmp_path, data: bytes, name="annuaire.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["schools", "import-annuaire", str(path)])


def line_of(output: str, uai: str) -> str:
    """The report's line about ``uai`` (a warning, a change or a skip group)."""
    found = [ln for ln in output.splitlines() if uai in ln]
    assert found, f"{uai} not in the report:\n{output}"
    return found[0]


def collectivite(db_session, siren):
    return db_session.scalar(select(Collectivite).filter_by(siren=siren))


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("variant", ["labels", "api"])
def test_the_command_imports_exactly_the_first_degree_schools(app, db_session, tmp_path, variant):
    rows = rr.annuaire_035()
    result = run_cli(app, tmp_path, rr.annuaire_csv(rows, variant=variant))
    assert result.exit_code == 0, result.output
    out = result.output
    # 10 schools; the circonscription created by its schools' rows first is unchanged; the
    # nature-400 sections, the collège and the school without pupils are skipped.
    assert "created: 10  updated: 0  unchanged: 1  skipped: 3  rejected: 0  warnings: 3" in out
    assert re.search(
        r"skipped 1: Pas une école du premier degré : nature 400 « ECOLES COMPOSEES UNIQT DE "
        r"STS ET OU CPGE »\. \(lines \d+ " + rr.UAI_NATURE_400,
        out,
    ), out
    assert "nature 340 « COLLEGE »" in line_of(out, rr.UAI_COLLEGE)
    assert "sans effectifs permanents" in line_of(out, rr.UAI_NO_PUPILS)
    skipped = (rr.UAI_NATURE_400, rr.UAI_COLLEGE, rr.UAI_NO_PUPILS)
    assert db_session.scalar(select(Ecole).where(Ecole.uai.in_(skipped))) is None
    assert count(db_session, Ecole) == 10
    circo = db_session.scalar(select(Circonscription).filter_by(uai=rr.UAI_CIRCO))
    assert circo.name == "Circonscription de Vitré"
    assert db_session.scalar(select(Ecole).filter_by(uai=rr.UAI_CIRCO)) is None
    natures = dict(db_session.execute(select(Ecole.uai, Ecole.nature)).all())
    assert natures["0350103X"] is SchoolNature.ELEMENTAIRE
    assert natures[rr.UAI_POSTAL] is SchoolNature.MATERNELLE
    assert natures[rr.UAI_PRIMAIRE_ULIS] is SchoolNature.PRIMAIRE


@pytest.mark.parametrize("order", ["as-given", "reversed"])
def test_collectivites_are_named_as_they_are(app, db_session, tmp_path, order):
    """Who owns what is decided over the whole file: in reverse order (the second school
    of the intercommunal body first, the nursery school before the commune's elementary
    one…), the same collectivités."""
    rows = rr.annuaire_035()
    if order == "reversed":
        rows.reverse()
    result = run_cli(app, tmp_path, rr.annuaire_csv(rows))
    assert result.exit_code == 0, result.output
    # Classic commune SIRENs: the commune, named after it.
    acigne = collectivite(db_session, rr.commune_siren(rr.ACIGNE))
    assert (acigne.kind, acigne.name, acigne.commune.insee) == (
        CollectiviteKind.COMMUNE,
        "Acigné",
        rr.ACIGNE,
    )
    assert not acigne.provisional
    # A commune nouvelle's 200… SIREN owning schools in that commune only: that commune.
    maen_roch = collectivite(db_session, rr.MAEN_ROCH_SIREN)
    assert maen_roch.kind is CollectiviteKind.COMMUNE
    assert maen_roch.name == "Maen Roch" and maen_roch.commune.insee == rr.MAEN_ROCH
    assert not maen_roch.provisional
    school = db_session.scalar(select(Ecole).filter_by(uai=rr.UAI_MAEN_ROCH))
    assert school.collectivite_id == maen_roch.id
    # One SIREN, schools in two communes: an intercommunal body, named provisionally.
    sivu = collectivite(db_session, rr.SIVU_SIREN)
    assert sivu.kind is CollectiviteKind.EPCI and sivu.provisional
    assert sivu.name == "Regroupement des communes Baguer-Morvan et Baguer-Pican"
    assert sivu.commune_id is None
    assert sorted(c.insee for c in sivu.members) == [rr.BAGUER_MORVAN, rr.BAGUER_PICAN]
    owners = db_session.scalars(select(Ecole.collectivite_id).where(Ecole.uai.in_(rr.UAI_SIVU)))
    assert set(owners) == {sivu.id}
    # Nobody is named after a number; private schools have no owner.
    assert not db_session.scalar(select(Collectivite).where(Collectivite.name.like("SIREN%")))
    private = db_session.scalar(select(Ecole).filter_by(uai="0352129Z"))
    assert private.is_private and private.collectivite_id is None


def test_doubtful_codes_are_warnings_on_their_rows(app, db_session, tmp_path):
    out = run_cli(app, tmp_path, rr.annuaire_csv(rr.annuaire_035())).output
    # A postal code in the commune field: taken as the commune of that name.
    assert (
        "warning: Le code commune « 35690 » est un code postal, pas un code INSEE : lu comme "
        "Acigné (35001)" in line_of(out, rr.UAI_POSTAL)
    )
    nursery = db_session.scalar(select(Ecole).filter_by(uai=rr.UAI_POSTAL))
    assert nursery.commune.insee == rr.ACIGNE
    assert db_session.scalar(select(Commune).filter_by(insee="35690")) is None
    # A SIRET whose Luhn key fails: reported, and the school goes to its commune.
    assert f"Le SIRET « {rr.BAD_SIRET} » est invalide" in line_of(out, rr.UAI_BAD_SIRET)
    bain = collectivite(db_session, rr.commune_siren(rr.BAIN))
    assert db_session.scalar(select(Ecole).filter_by(uai=rr.UAI_BAD_SIRET)).collectivite == bain
    # A commune code of another département than the UAI's.
    assert "La commune 56001 n'est pas dans le département de l'UAI (035)" in line_of(
        out, rr.UAI_ELSEWHERE
    )
    # Warned, never rejected.
    assert "rejected: 0" in out


def test_second_import_changes_nothing_and_logs_nothing(app, db_session, tmp_path):
    data = rr.annuaire_csv(rr.annuaire_035())
    run_cli(app, tmp_path, data)
    logged = count(db_session, AuditRecord)
    again = run_cli(app, tmp_path, data).output
    assert "created: 0  updated: 0  unchanged: 11  skipped: 3" in again
    assert "No change" in again
    assert count(db_session, AuditRecord) == logged


def test_a_2a_file_in_api_names_finds_ajaccio_by_its_siren(app, db_session, tmp_path):
    result = run_cli(app, tmp_path, rr.annuaire_csv(rr.corse_2a(), variant="api"))
    assert "created: 2" in result.output and "warnings: 0" in result.output, result.output
    ajaccio = collectivite(db_session, "212000046")
    assert (ajaccio.kind, ajaccio.name, ajaccio.commune.insee) == (
        CollectiviteKind.COMMUNE,
        "Ajaccio",
        "2A004",
    )
    assert ajaccio.departement.code == "02A"
    assert len(ajaccio.ecoles) == 2


def test_the_upload_page_shows_reasons_and_warnings(login_as, db_session):
    client = login_as("admin")
    data = {
        "kind": "annuaire",
        "file": (io.BytesIO(rr.annuaire_csv(rr.annuaire_035(), variant="api")), "a.csv"),
    }
    page = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<strong>10</strong> créées" in html
    assert "<strong>3</strong> avertissements" in html
    # Skipped rows by reason, each with its lines and UAIs.
    assert "Lignes ignorées, par motif" in html
    assert (
        "Pas une école du premier degré : nature 400 « ECOLES COMPOSEES UNIQT DE STS ET OU "
        "CPGE »." in html
    )
    assert f"<code>{rr.UAI_NATURE_400}</code>" in html
    assert f"<code>{rr.UAI_COLLEGE}</code>" in html
    # Warnings on their rows.
    assert "Avertissements : lignes importées, à vérifier" in html
    assert re.search(
        rf"<code>{rr.UAI_POSTAL}</code></td><td>Le code commune « 35690 » est un code postal",
        html,
    )
    assert f"<code>{rr.UAI_BAD_SIRET}</code></td><td>Le SIRET" in html
    assert f"<code>{rr.UAI_ELSEWHERE}</code></td><td>La commune 56001" in html
    assert count(db_session, Ecole) == 10


def test_the_all_types_option_is_gone(app, tmp_path):
    """School-ness is the nature's: importing a collège as a school never makes sense."""
    path = tmp_path / "a.csv"
    path.write_bytes(rr.annuaire_csv(rr.annuaire_035()))
    result = app.test_cli_runner().invoke(
        args=["schools", "import-annuaire", "--all-types", str(path)]
    )
    assert result.exit_code == 2 and "--all-types" in result.output
