"""Every export offered by a page, in every form (French CSV, plain CSV, XLSX, the evidence
pack's files): its columns have names, and no two the same."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile

from openpyxl import load_workbook

from inventory.reports import indicators as ind
from tests.reports.builders import download_pack

BOM = "\ufeff"
DOWNLOAD = re.compile(r'href="([^"]*(?:format=(?:csv|xlsx)|\.csv|\.xlsx|\.zip)[^"]*)"')


def _links(client, page: str) -> set[str]:
    response = client.get(page)
    assert response.status_code == 200, page
    return {html.unescape(h) for h in DOWNLOAD.findall(response.get_data(as_text=True))}


def _headers(url: str, response) -> list[list[str]]:
    """The header row of each table in the file."""
    assert response.status_code == 200, url
    if response.mimetype == "text/csv":
        text = response.get_data().decode("utf-8")
        plain = "csv=plain" in url
        assert text.startswith(BOM) != plain, url  # a BOM for French spreadsheets only
        rows = csv.reader(io.StringIO(text.removeprefix(BOM)), delimiter="," if plain else ";")
        return [next(rows)]
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as z:
            return [
                next(csv.reader(io.StringIO(z.read(n).decode("utf-8-sig")), delimiter=";"))
                for n in z.namelist()
                if n.endswith(".csv")
            ]
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    try:
        return [[str(c) for c in next(s.iter_rows(values_only=True))] for s in book.worksheets]
    finally:
        book.close()


def test_every_export_has_unique_column_names(app, programme, login_as):
    client = login_as("admin")
    creteil, school = programme["collectivites"]["creteil"], programme["schools"]["a"]
    started = client.post(f"/inventaires/nouveau?ecole={school}", data={"ecole": school})
    assert started.status_code == 302
    pages = [
        "/equipements",
        "/equipements/import",
        f"/subventions/{programme['dossiers']['creteil']}",
        "/tableau-de-bord",
        f"/tableau-de-bord/departement/{programme['departement']}",
        f"/tableau-de-bord/collectivite/{creteil}",
        "/tableau-de-bord/donnees-ouvertes",
        started.location + "/resultats",
    ]
    links: set[str] = set()
    for page in pages:
        links |= _links(client, page)
    for listing in ind.LISTINGS:
        base = f"/tableau-de-bord/collectivite/{creteil}/liste/{listing.code}"
        links |= {f"{base}?format=csv", f"{base}?format=csv&csv=plain", f"{base}?format=xlsx"}
    links = {link for link in links if "/import?" not in link}
    # Every kind of export is there, and the plain CSV is offered beside the French one.
    for expected in (
        "/equipements/export.csv",
        "/equipements/export.xlsx",
        "/equipements/import/modele.csv",
        "depenses.csv",
        "depenses.xlsx",
        "table=indicateurs&format=csv",
        "fr-en-aap-snee-ecoles?format=csv",
        "/rapport.csv",
    ):
        assert any(expected in link for link in links), expected
    assert any("csv=plain" in link and "/equipements/export.csv" in link for link in links)
    assert any("csv=plain" in link and "depenses.csv" in link for link in links)
    assert any("csv=plain" in link and "table=" in link for link in links)
    assert any("csv=plain" in link and "/rapport.csv" in link for link in links)
    checked = 0
    for link in sorted(links):
        for header in _headers(link, client.get(link)):
            assert header and all(name.strip() for name in header), (link, header)
            repeated = sorted({h for h in header if header.count(h) > 1})
            assert not repeated, (link, repeated)
            checked += 1
    # The evidence pack is asked for with the dashboard's button and made by a job.
    pack = download_pack(client, f"/tableau-de-bord/collectivite/{creteil}/preuves")
    assert pack.mimetype == "application/zip"
    for header in _headers("preuves.zip", pack):
        assert header and all(name.strip() for name in header), ("preuves.zip", header)
        assert len(set(header)) == len(header), ("preuves.zip", header)
        checked += 1
    assert checked > 40
