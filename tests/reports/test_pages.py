"""Dashboard pages and their exports: the files say what the pages say, within the scope."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inventory.core.policy import Role
from inventory.orgs.models import Ecole
from inventory.reports import indicators as ind
from inventory.reports import opendata
from inventory.reports.levels import Level
from tests.conftest import ADMIN
from tests.reports.builders import board, dan, download_pack, ien


def fr(app, text) -> str:
    """A (lazy) message as the French interface shows it."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("fr"):
        return str(text)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def zip_csv(z: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(z.read(name).decode("utf-8-sig")), delimiter=";"))


def read_xlsx(response) -> list[list[object]]:
    assert response.status_code == 200, response.data[:300]
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def test_the_dan_goes_down_to_a_classroom(app, programme, login_as):
    client = login_as(Role.AUDITEUR, [("academie", programme["academie"])])
    page = client.get("/tableau-de-bord")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    dep_url = f"/tableau-de-bord/departement/{programme['departement']}"
    assert f'href="{dep_url}"' in html
    assert "<progress" in html and 'role="img"' in html and "<circle" in html
    for url in (
        dep_url,
        f"/tableau-de-bord/collectivite/{programme['collectivites']['creteil']}",
        f"/tableau-de-bord/ecole/{programme['schools']['a']}",
        f"/tableau-de-bord/classe/{programme['rooms']['a1']}",
        f"/tableau-de-bord/circonscription/{programme['circonscriptions']['a']}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "style=" not in response.get_data(as_text=True)
    # Sorting, theme and paging arguments are honoured.
    sorted_page = client.get(f"{dep_url}?theme=money&sort_collectivite=-aid")
    assert sorted_page.status_code == 200
    assert 'aria-sort="descending"' in sorted_page.get_data(as_text=True)


def test_every_figure_on_the_page_links_to_its_list_of_the_same_length(app, programme, login_as):
    from inventory.extensions import db

    client = login_as(Role.AUDITEUR, [("academie", programme["academie"])])
    coll = programme["collectivites"]["creteil"]
    html = client.get(f"/tableau-de-bord/collectivite/{coll}").get_data(as_text=True)
    with app.app_context():
        b = board(db.session, dan(programme["academie"]), Level.COLLECTIVITE, coll)
    for indicator in ind.INDICATORS:
        if not indicator.listing or not indicator.headline:
            continue
        url = f"/tableau-de-bord/collectivite/{coll}/liste/{indicator.listing}"
        assert f'href="{url}"' in html, indicator.code
        listing = ind.LISTING_BY_CODE[indicator.listing]
        expected = len(b.totals.dossiers) if listing.fact is None else b.totals[listing.fact]
        rows = read_csv(client.get(url + "?format=csv"))
        assert len(rows) - 1 == expected, indicator.code
        page = client.get(url).get_data(as_text=True)
        if expected:
            assert re.search(rf"of {expected}\b|sur {expected}\b", page), indicator.code
    assert client.get(f"/tableau-de-bord/collectivite/{coll}/liste/nonsense").status_code == 404


def test_the_table_exports_equal_the_pages(app, programme, login_as):
    from inventory.extensions import db

    client = login_as(Role.AUDITEUR, [("academie", programme["academie"])])
    dep = programme["departement"]
    with app.app_context():
        b = board(db.session, dan(programme["academie"]), Level.DEPARTEMENT, dep)
    base = f"/tableau-de-bord/departement/{dep}"
    for table in b.tables:
        rows = read_csv(client.get(f"{base}?table={table.level.value}&format=csv"))
        header, body = rows[0], rows[1:]
        assert len(body) == len(table.rows)
        col = header.index(fr(app, ind.BY_CODE["in_service"].label))
        assert sum(int(r[col]) for r in body) == b.totals["in_service"]
        money = header.index(fr(app, ind.BY_CODE["aid"].label))
        # A decimal comma, as French spreadsheets read numbers.
        aid = sum(Decimal(r[money].replace(",", ".")) for r in body)
        assert aid == Decimal(b.totals["aid_cents"]) / 100
        sheet = read_xlsx(client.get(f"{base}?table={table.level.value}&format=xlsx"))
        assert sheet[0] == header and len(sheet) == len(rows)
    months = read_csv(client.get(f"{base}?table=mois&format=csv"))
    assert sum(int(r[1]) for r in months[1:]) == sum(m.installations for m in b.months)
    assert len(read_csv(client.get(f"{base}?table=modeles&format=csv"))) == len(b.models) + 1
    figures = read_csv(client.get(f"{base}?table=indicateurs&format=csv"))
    assert len(figures) == len(ind.INDICATORS) + 1
    assert client.get(f"{base}?table=nope&format=csv").status_code == 404
    assert client.get(f"{base}?table=mois&format=pdf").status_code == 404


def _by_name(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_open_data_files_add_up_to_the_dashboard(app, programme, login_as):
    """The ministry-shaped files and their extended variants say what the dashboard says:
    spending, the aid paid (montant_de_la_subvention) and, extended, the aid computed."""
    from inventory.extensions import db

    client = login_as(Role.AUDITEUR, [("academie", programme["academie"])])
    base = "/tableau-de-bord/donnees-ouvertes"
    rows = read_csv(client.get(f"{base}/fr-en-aap-snee-collectivites"))
    assert tuple(rows[0]) == opendata.COLLECTIVITES_COLUMNS
    assert len(rows) == 3  # two awarded conventions; the draft is not one
    with app.app_context():
        t = board(db.session, dan(programme["academie"]), Level.SCOPE).totals
    conventions = _by_name(rows)
    spent = sum(Decimal(r["depenses_realisees_par_la_collectivite"]) for r in conventions)
    assert spent == Decimal(t["spending_cents"]) / 100
    paid = sum(Decimal(r["montant_de_la_subvention"]) for r in conventions)
    assert paid == Decimal(t["paid_cents"]) / 100 != Decimal(t["aid_cents"]) / 100
    assert all(re.fullmatch(r"\d+\.\d\d", r["montant_de_la_subvention"]) for r in conventions)
    creteil = next(
        r for r in conventions if r["raison_sociale_du_signataire_de_la_convention"] == "Créteil"
    )
    assert creteil["nombre_d_ecoles"] == "2" and creteil["nombre_de_communes"] == "1"
    assert creteil["code_commune_siege"] == "94028"
    extended = _by_name(read_csv(client.get(f"{base}/fr-en-aap-snee-collectivites-etendu")))
    aid = sum(Decimal(r["socle_aide_calculee"]) for r in extended)
    assert aid == Decimal(t["aid_cents"]) / 100
    schools = read_csv(client.get(f"{base}/fr-en-aap-snee-ecoles"))
    assert tuple(schools[0]) == opendata.ECOLES_COLUMNS
    assert len(schools) == 4  # A, B, C
    per_school = _by_name(read_csv(client.get(f"{base}/fr-en-aap-snee-ecoles-etendu")))
    assert sum(Decimal(r["socle_aide_calculee"]) for r in per_school) == aid
    assert sum(Decimal(r["socle_aide_versee"]) for r in per_school) == paid
    assert sum(int(r["socle_nombre_de_classes_au_socle"]) for r in per_school) == t["meeting"]
    sheet = read_xlsx(client.get(f"{base}/fr-en-aap-snee-ecoles?format=xlsx"))
    assert [str(c) for c in sheet[0]] == schools[0] and len(sheet) == len(schools)
    # Narrowed to a level.
    fresnes = programme["collectivites"]["fresnes"]
    narrowed = read_csv(
        client.get(f"{base}/fr-en-aap-snee-collectivites?niveau=collectivite&id={fresnes}")
    )
    assert [r["raison_sociale_du_signataire_de_la_convention"] for r in _by_name(narrowed)] == [
        "Fresnes"
    ]


def test_an_ien_exports_only_their_circonscription(app, programme, login_as):
    from inventory.extensions import db

    circo = programme["circonscriptions"]["a"]
    client = login_as(Role.AUDITEUR, [("circonscription", circo)])
    with app.app_context():
        mine = {
            e.uai
            for e in db.session.scalars(select(Ecole).where(Ecole.circonscription_id == circo))
        }
        t = board(db.session, ien(circo), Level.SCOPE).totals
    schools = _by_name(
        read_csv(client.get("/tableau-de-bord/donnees-ouvertes/fr-en-aap-snee-ecoles"))
    )
    assert schools and {r["uai"] for r in schools} <= mine
    conventions = _by_name(
        read_csv(client.get("/tableau-de-bord/donnees-ouvertes/fr-en-aap-snee-collectivites"))
    )
    # Fresnes is not theirs.
    assert [r["raison_sociale_du_signataire_de_la_convention"] for r in conventions] == ["Créteil"]
    # Of the two schools of the convention, one is theirs, and so is its part of the money.
    assert conventions[0]["nombre_d_ecoles"] == "1"
    spent = Decimal(conventions[0]["depenses_realisees_par_la_collectivite"])
    assert spent == Decimal(t["spending_cents"]) / 100 == Decimal(9000)
    paid = Decimal(conventions[0]["montant_de_la_subvention"])
    assert paid == Decimal(t["paid_cents"]) / 100 < Decimal("5000.01")
    rows = read_csv(client.get("/tableau-de-bord?table=ecole&format=csv"))
    assert {r[1] for r in rows[1:]} <= mine and len(rows) - 1 == t["schools"]
    items = read_csv(client.get("/tableau-de-bord/liste/items?format=csv"))
    assert len(items) - 1 == t["items"] and {r[6] for r in items[1:]} <= mine
    # Other levels answer 404, pages and exports alike.
    other = programme["circonscriptions"]["c"]
    assert client.get(f"/tableau-de-bord/circonscription/{other}").status_code == 404
    assert client.get(f"/tableau-de-bord/circonscription/{other}/liste/items").status_code == 404
    fresnes = programme["collectivites"]["fresnes"]
    assert client.post(f"/tableau-de-bord/collectivite/{fresnes}/preuves").status_code == 404
    assert (
        client.get(
            "/tableau-de-bord/donnees-ouvertes/fr-en-aap-snee-ecoles"
            f"?niveau=collectivite&id={fresnes}"
        ).status_code
        == 404
    )


def test_csv_cells_that_spreadsheets_would_run_are_neutralised(app, programme, login_as):
    client = login_as(Role.ADMIN)
    a2 = programme["schools"]["a2"]
    # The equipment of the evidence pack (supplier "=HYPERLINK(1)") and the invoices.
    pack = download_pack(
        client, f"/tableau-de-bord/collectivite/{programme['collectivites']['creteil']}/preuves"
    )
    assert pack.status_code == 200 and pack.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(pack.get_data())) as z:
        names = set(z.namelist())
        equipment = z.read("equipements.csv").decode("utf-8-sig")
    assert names == {
        "synthese.pdf",
        "equipements.csv",
        "factures.csv",
        "formations.csv",
        "journal.csv",
    }
    assert "'=HYPERLINK(1)" in equipment
    assert not re.search(r"(^|;)[=+@-]", equipment.replace("\r\n", "\n"), re.M)
    fresnes = download_pack(
        client, f"/tableau-de-bord/collectivite/{programme['collectivites']['fresnes']}/preuves"
    )
    with zipfile.ZipFile(io.BytesIO(fresnes.get_data())) as z:
        invoices = z.read("factures.csv").decode("utf-8-sig")
        pdf = z.read("synthese.pdf")
    assert "'=SUM(A1)" in invoices and pdf.startswith(b"%PDF")
    assert a2


def test_the_evidence_pack_of_a_collectivite_and_of_a_dossier(app, programme, login_as):
    from inventory.extensions import db

    client = login_as(Role.AUDITEUR, [("academie", programme["academie"])])
    coll = programme["collectivites"]["creteil"]
    response = download_pack(client, f"/tableau-de-bord/collectivite/{coll}/preuves")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as z:
        equipment = list(
            csv.reader(io.StringIO(z.read("equipements.csv").decode("utf-8-sig")), delimiter=";")
        )
        training = list(
            csv.reader(io.StringIO(z.read("formations.csv").decode("utf-8-sig")), delimiter=";")
        )
        journal = z.read("journal.csv").decode("utf-8-sig")
    with app.app_context():
        from inventory.assets.models import Asset

        owned = db.session.scalar(
            select(func.count()).select_from(Asset).where(Asset.collectivite_id == coll)
        )
    assert len(equipment) - 1 == owned
    assert "classe" in equipment[0] and "numero_de_serie" in equipment[0]
    assert len(training) == 1 + 2  # the held session at A, the planned one at B
    assert "create" in journal
    dossier = download_pack(
        client, f"/tableau-de-bord/dossier/{programme['dossiers']['creteil']}/preuves"
    )
    assert dossier.status_code == 200
    assert re.search(
        r'filename="?preuves-dossier-\d+-\d{4}-\d\d-\d\d\.zip',
        dossier.headers["Content-Disposition"],
    )
    with zipfile.ZipFile(io.BytesIO(dossier.get_data())) as z:
        funded = list(
            csv.reader(io.StringIO(z.read("equipements.csv").decode("utf-8-sig")), delimiter=";")
        )
        invoices = z.read("factures.csv").decode("utf-8-sig")
    assert len(funded) - 1 == 4 and "Speechi" in invoices


def test_a_trainer_reads_but_does_not_export(app, programme, login_as):
    client = login_as(Role.FORMATEUR, [("circonscription", programme["circonscriptions"]["a"])])
    assert client.get("/tableau-de-bord").status_code == 200
    assert client.get("/tableau-de-bord?table=ecole&format=csv").status_code == 404
    assert client.get("/tableau-de-bord/liste/items?format=csv").status_code == 404
    assert client.get("/tableau-de-bord/donnees-ouvertes/fr-en-aap-snee-ecoles").status_code == 404
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    assert "format=csv" not in html


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_definitions_are_shown_in_the_interface_language(app, programme, login_as, lang):
    from flask_babel import force_locale
    from markupsafe import escape

    client = login_as(Role.ADMIN)
    client.post("/language", data={"lang": lang, "next": "/"})
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    with app.test_request_context(), force_locale(lang):
        for indicator in ind.INDICATORS:
            text = str(indicator.definition)
            assert text in html or str(escape(text)) in html, indicator.code
    assert ADMIN
