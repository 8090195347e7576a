"""Equipment spreadsheets: import (CLI and upload page), exports, round trip, template."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from inventory.assets.models import Asset, AssetStatus, Placement, StatusChange
from inventory.assets.spreadsheet import COLUMNS, FIELDS, HEADERS
from inventory.core.audit import AuditRecord
from inventory.core.exporting import PLAIN, csv_bytes, money, neutralise, restore, unique_headers
from inventory.core.importing import read_table
from inventory.orgs.identifiers import uai_check_letter
from inventory.orgs.models import Classroom, Ecole
from inventory.suppliers.models import Supplier
from tests.assets.builders import rooms_of, sample_items, sheet_row, to_xlsx, upload
from tests.conftest import to_csv

KEYS = [f.key for f in FIELDS]
UNKNOWN_UAI = "0941234" + uai_check_letter("0941234")


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def count(db_session, model, *where):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def asset_log(db_session):
    return count(db_session, AuditRecord, AuditRecord.object_type == "assets")


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def rejected_lines(output):
    return [line.strip() for line in output.splitlines() if line.strip().startswith("line ")]


# -- the exporter ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["=SUM(A1:A3)", "+33 1 23", "-2", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_neutralised_and_restored(value):
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", ["abc", "'abc", "", "a=b", "12.50", "2024-09-02"])
def test_other_cells_are_left_alone(value):
    assert neutralise(value) == value
    assert restore(value) == value


def test_an_apostrophe_before_a_formula_character_survives_the_round_trip():
    assert neutralise("'=x") == "''=x"
    assert restore("''=x") == "'=x"


def test_csv_is_what_french_excel_opens():
    data = csv_bytes(["a", "b"], [["=1+1", "x;y"], [date(2024, 9, 2), None]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == 'a;b\r\n\'=1+1;"x;y"\r\n2024-09-02;\r\n'


def test_numbers_take_the_dialects_decimal_mark_and_headers_are_unique():
    row = [money(210000), Decimal("0.5"), 1e-05, 12, True, "1.5"]
    headers = ["Montant", "Taux", "Petit", "Nombre", "Oui", "Montant"]
    french = csv_bytes(headers, [row]).decode("utf-8-sig")
    assert french == "Montant;Taux;Petit;Nombre;Oui;Montant (2)\r\n2100,00;0,5;0,00001;12;1;1.5\r\n"
    plain = csv_bytes(headers, [row], PLAIN).decode("utf-8")
    assert plain == "Montant,Taux,Petit,Nombre,Oui,Montant (2)\r\n2100.00,0.5,0.00001,12,1,1.5\r\n"
    assert unique_headers(["a", "a", "a (2)", "a"]) == ["a", "a (2)", "a (2) (2)", "a (3)"]


# -- import through the command line ---------------------------------------------------------
def test_csv_import_then_the_same_file_changes_nothing(app, registry, db_session, tmp_path):
    rows = sample_items(rooms_of(db_session, registry, "Créteil"))
    path = write(tmp_path, "equipements.csv", to_csv(list(HEADERS), rows))
    first = run_cli(app, "assets", "import", path)
    assert first.exit_code == 0, first.output
    assert "created: 20  updated: 0  unchanged: 0" in first.output
    assert "rejected: 0" in first.output
    assert count(db_session, Asset) == 20
    assert asset_log(db_session) == 20, "one change-log record per created item"
    assert count(db_session, StatusChange) == 20
    logged = count(db_session, AuditRecord)

    second = run_cli(app, "assets", "import", path)
    assert second.exit_code == 0, second.output
    assert "created: 0  updated: 0  unchanged: 20" in second.output
    assert "No change" in second.output
    assert count(db_session, Asset) == 20
    assert count(db_session, AuditRecord) == logged, "a no-op import must log nothing"
    assert count(db_session, StatusChange) == 20


def test_imported_values_are_normalised(app, registry, db_session, tmp_path):
    rooms = rooms_of(db_session, registry, "Créteil")
    rows = sample_items(rooms, n=2)
    run_cli(app, "assets", "import", write(tmp_path, "a.csv", to_csv(list(HEADERS), rows)))
    db_session.expire_all()
    first, second = db_session.scalars(select(Asset).order_by(Asset.id)).all()
    assert first.tag == "CRE-2024-00001" and second.tag == "CRE-2024-00002"
    assert first.status is AssetStatus.DELIVERED and second.status is AssetStatus.IN_SERVICE
    assert first.price_ht_cents == 100050 and first.price_ttc_cents == 120060
    assert second.price_ht_cents == 249000 and second.price_ttc_cents == 298800
    assert first.purchase_date == date(2024, 9, 2) == second.purchase_date
    assert first.warranty_end == date(2029, 9, 1)
    assert first.mac == "00:1a:2b:3c:4d:00" and first.ip == "10.94.0.10"
    assert first.serial == "SN0000"
    assert first.placement is Placement.CLASSROOM
    room = db_session.get(Classroom, first.classroom_id)
    assert (room.ecole.uai, room.name) == rooms[0]
    assert first.collectivite_id == registry["collectivites"]["Créteil"]
    assert first.model.manufacturer.name == "Speechi" and first.category.code == "tni"
    steps = db_session.scalars(select(StatusChange).filter_by(asset_id=first.id)).all()
    assert [(s.from_status, s.to_status) for s in steps] == [(None, AssetStatus.DELIVERED)]
    assert steps[0].actor_label.startswith("cli:")
    record = db_session.scalar(
        select(AuditRecord).filter_by(object_type="assets", object_id=first.id)
    )
    assert record.action == "create" and record.object_label == "CRE-2024-00001"
    assert record.actor_label.startswith("cli:")


def test_broken_rows_are_reported_and_good_rows_imported(app, registry, db_session, tmp_path):
    rooms = rooms_of(db_session, registry, "Créteil")
    uai, room = rooms[0]
    # An item in service, imported first: it cannot go back to 'ordered'.
    run_cli(
        app,
        "assets",
        "import",
        write(
            tmp_path,
            "first.csv",
            to_csv(
                list(HEADERS),
                [
                    sheet_row(
                        numero_inventaire="CRE-X-1",
                        uai=uai,
                        classe=room,
                        categorie="tni",
                        fabricant="Speechi",
                        modele="ST 75",
                        statut="in_service",
                    )
                ],
            ),
        ),
    )
    good = sample_items(rooms, n=5)

    def broken(**values):
        return sheet_row(**{**dict(zip(KEYS, good[0], strict=True)), "numero_serie": "", **values})

    bad = [
        broken(uai=UNKNOWN_UAI),  # line 7
        broken(classe="Salle 404"),
        broken(categorie="grille-pain", fabricant="Toaster", modele="T1"),
        broken(mac="00:11:22:33:44"),
        broken(ip="300.1.2.3"),
        broken(date_achat="31/02/2024"),
        broken(prix_ht="12,3,4"),
        broken(prix_ht="100", prix_ttc="90"),
        list(good[2]),  # the same item as line 4
        broken(
            numero_inventaire="CRE-X-1",
            uai="",
            classe="",
            fabricant="",
            modele="",
            categorie="",
            statut="ordered",
        ),
    ]
    path = write(tmp_path, "broken.csv", to_csv(list(HEADERS), [*good, *bad]))
    result = run_cli(app, "assets", "import", path)
    assert result.exit_code == 0, result.output
    assert "created: 5" in result.output
    assert "rejected: 10" in result.output
    lines = [line.replace("\xa0", " ") for line in rejected_lines(result.output)]
    expected = [
        ("line 7:", "UAI", UNKNOWN_UAI),
        ("line 8:", "Classe", "Salle 404"),
        ("line 9:", "Catégorie", "grille-pain"),
        ("line 10:", "MAC", "00:11:22:33:44"),
        ("line 11:", "IP", "300.1.2.3"),
        ("line 12:", "Date d'achat", "31/02/2024"),
        ("line 13:", "Prix HT", "12,3,4"),
        ("line 14:", "Prix TTC", "TTC"),
        ("line 15:", "N° de série", "SN0002"),
        ("line 16:", "Statut", "CRE-X-1"),
    ]
    assert len(lines) == len(expected), result.output
    for line, (start, column, value) in zip(lines, expected, strict=True):
        assert line.startswith(start), line
        assert f"«{column}»" in line or f"« {column} »" in line, line
        assert value in line, line
    assert lines[8].rstrip(".").endswith(" 4")  # the line it repeats
    assert ("commandé" in lines[9] and "en service" in lines[9]) or (
        "ordered" in lines[9] and "in service" in lines[9]
    )
    assert count(db_session, Asset) == 6
    assert db_session.scalar(select(Asset).filter_by(tag="CRE-X-1")).status is (
        AssetStatus.IN_SERVICE
    )


def test_a_change_updates_the_item_through_its_lifecycle(app, registry, db_session, tmp_path):
    rows = sample_items(rooms_of(db_session, registry, "Créteil"), n=3)
    path = write(tmp_path, "a.csv", to_csv(list(HEADERS), rows))
    run_cli(app, "assets", "import", path)
    changed = [list(r) for r in rows]
    changed[1][KEYS.index("statut")] = "en réparation"
    changed[1][KEYS.index("fournisseur")] = "Manutan"
    path = write(tmp_path, "b.csv", to_csv(list(HEADERS), changed))
    result = run_cli(app, "assets", "import", path)
    assert "created: 0  updated: 1  unchanged: 2" in result.output, result.output
    asset = db_session.scalar(select(Asset).filter_by(serial="SN0001"))
    assert asset.status is AssetStatus.UNDER_REPAIR and asset.supplier == "Manutan"
    # The suppliers typed join the collectivité's directory, in the import's transaction.
    entries = dict(db_session.execute(select(Supplier.name, Supplier.id)).all())
    assert set(entries) == {"UGAP", "Manutan"} and asset.supplier_id == entries["Manutan"]
    others = set(db_session.scalars(select(Asset.supplier_id).where(Asset.id != asset.id)))
    assert others == {entries["UGAP"]}
    steps = db_session.scalars(select(StatusChange).filter_by(asset_id=asset.id)).all()
    assert [s.to_status for s in steps] == [AssetStatus.IN_SERVICE, AssetStatus.UNDER_REPAIR]
    updates = db_session.scalars(
        select(AuditRecord).filter_by(object_type="assets", action="update")
    ).all()
    assert len(updates) == 1
    assert updates[0].changes["supplier"] == ["UGAP", "Manutan"]
    assert updates[0].changes["status"] == ["in_service", "under_repair"]


def test_storage_rows_need_a_collectivite(app, registry, db_session, tmp_path):
    rows = [sheet_row(categorie="tni", fabricant="Speechi", modele="ST 75", numero_serie="R1")]
    path = write(tmp_path, "a.csv", to_csv(list(HEADERS), rows))
    refused = run_cli(app, "assets", "import", path)
    assert "rejected: 1" in refused.output and "UAI" in refused.output
    coll_id = registry["collectivites"]["Créteil"]
    result = run_cli(app, "assets", "import", path, "--collectivite", str(coll_id))
    assert "created: 1" in result.output, result.output
    asset = db_session.scalar(select(Asset))
    assert asset.placement is Placement.STORAGE and asset.collectivite_id == coll_id
    assert asset.ecole_id is None


def test_a_file_without_the_key_columns_is_refused_clearly(app, registry, tmp_path):
    path = write(tmp_path, "a.csv", b"Nom;Ville\r\nA;B\r\n")
    result = run_cli(app, "assets", "import", path)
    assert result.exit_code != 0
    assert "numero_inventaire" in result.output


# -- the upload page -------------------------------------------------------------------------
def test_xlsx_upload_by_a_technician_then_again(login_as, registry, db_session):
    client = login_as("technicien", [("collectivite", registry["collectivites"]["Créteil"])])
    assert client.get("/equipements/import").status_code == 200
    rows = sample_items(rooms_of(db_session, registry, "Créteil"))
    for r in rows[:5]:  # what Excel gives: real dates and numbers
        r[KEYS.index("date_achat")] = datetime(2024, 9, 2)
        r[KEYS.index("prix_ht")] = 1000.5
        r[KEYS.index("prix_ttc")] = 1200.6
    data = to_xlsx(HEADERS, rows)
    page = upload(client, data, "equipements.xlsx")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<strong>20</strong>" in html
    assert count(db_session, Asset) == 20
    assert asset_log(db_session) == 20
    first = db_session.scalar(select(Asset).filter_by(serial="SN0000"))
    assert first.purchase_date == date(2024, 9, 2) and first.price_ttc_cents == 120060
    ugap = db_session.scalar(select(Supplier).filter_by(name=first.supplier))
    assert ugap.collectivite_id == first.collectivite_id and first.supplier_id == ugap.id
    logged = count(db_session, AuditRecord)
    again = upload(client, data, "equipements.xlsx").get_data(as_text=True)
    assert count(db_session, AuditRecord) == logged
    assert "<strong>20</strong>" in again  # unchanged
    assert count(db_session, Asset) == 20


def test_a_school_out_of_scope_is_unknown(login_as, registry, db_session):
    client = login_as("technicien", [("collectivite", registry["collectivites"]["Fresnes"])])
    creteil = sample_items(rooms_of(db_session, registry, "Créteil"), n=3)
    creteil.append(sheet_row(uai=UNKNOWN_UAI, categorie="tni", fabricant="S", modele="M"))
    page = upload(client, to_csv(list(HEADERS), creteil), "e.csv")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for row in creteil:
        uai = row[KEYS.index("uai")]
        assert f"«{uai}»" in html or f"«\xa0{uai}\xa0»" in html or f"« {uai} »" in html
    assert count(db_session, Asset) == 0
    # The same words for a school that exists elsewhere as for one that does not.
    reasons = [
        line.replace(row[KEYS.index("uai")], "X")
        for line, row in zip(_reasons(html), creteil, strict=True)
    ]
    assert len(set(reasons)) == 1


def _reasons(html):
    """The reasons of the report's table of rejected rows."""
    return re.findall(r'<td class="num">\d+</td><td><code>[^<]*</code></td><td>([^<]*)</td>', html)


def test_a_broken_upload_is_refused(login_as, registry):
    client = login_as("admin")
    page = upload(client, b"\x89PNG...", "photo.png")
    assert page.status_code == 422


# -- exports and round trip ------------------------------------------------------------------
def _import_mixed(app, registry, db_session, tmp_path):
    rooms = rooms_of(db_session, registry, "Créteil")
    rows = sample_items(rooms)
    rows[0][KEYS.index("notes")] = '=HYPERLINK("http://x")'
    rows[1][KEYS.index("notes")] = "-- à vérifier\nligne 2"
    rows[3][KEYS.index("classe")] = ""  # shared by the school
    rows.append(
        sheet_row(
            categorie="borne_wifi",
            fabricant="Aruba",
            modele="AP 22",
            numero_serie="W1",
            statut="ordered",
        )
    )  # storage
    fresnes = sample_items(rooms_of(db_session, registry, "Fresnes"), n=3, prefix="FR")
    path = write(tmp_path, "mixed.csv", to_csv(list(HEADERS), rows + fresnes))
    coll = str(registry["collectivites"]["Créteil"])
    result = run_cli(app, "assets", "import", path, "--collectivite", coll)
    assert "created: 24" in result.output, result.output
    # A note that itself starts with an apostrophe then '=' (typed in a form).
    db_session.execute(
        update(Asset).where(Asset.serial == "SN0002").values(notes="'=pas une formule")
    )
    db_session.commit()


@pytest.mark.parametrize("fmt,query", [("csv", ""), ("csv", "?csv=plain"), ("xlsx", "")])
def test_export_then_import_changes_nothing(
    fmt, query, app, registry, login_as, db_session, tmp_path
):
    _import_mixed(app, registry, db_session, tmp_path)
    client = login_as("admin")
    response = client.get(f"/equipements/export.{fmt}{query}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert 'filename="equipements-' in disposition and disposition.endswith(f'.{fmt}"')
    data = response.data
    if fmt == "csv":
        assert response.mimetype == "text/csv"
        text = data.decode("utf-8-sig")
        assert "'=HYPERLINK" in text and "'-- à vérifier" in text and "''=pas" in text
        if query:  # plain: ',' and dot decimals, no BOM
            assert not data.startswith(b"\xef\xbb\xbf")
            assert text.splitlines()[0].startswith(",".join(HEADERS))
            assert ",2490.00,2988.00," in text and ",2024-09-02," in text
        else:  # for French spreadsheets: ';', decimal comma, BOM; dates stay ISO
            assert data.startswith(b"\xef\xbb\xbf")
            assert text.splitlines()[0].startswith(";".join(HEADERS))
            assert ";2490,00;2988,00;" in text and ";2024-09-02;" in text
    else:
        book = load_workbook(io.BytesIO(data), read_only=True)
        cells = [row[18] for row in book.worksheets[0].iter_rows(values_only=True)]
        assert '=HYPERLINK("http://x")' in cells
        # Typed cells: amounts are numbers shown to the cent, dates are dates.
        priced = next(
            r
            for r in book.worksheets[0].iter_rows(min_row=2)
            if r[HEADERS.index("Prix HT")].value is not None
        )
        price, bought = priced[HEADERS.index("Prix HT")], priced[HEADERS.index("Date d'achat")]
        assert isinstance(price.value, float) and price.number_format == "#,##0.00"
        assert isinstance(bought.value, datetime) and bought.is_date
        book.close()
    logged = count(db_session, AuditRecord)
    path = write(tmp_path, f"export.{fmt}", data)
    result = run_cli(app, "assets", "import", path)
    assert "created: 0  updated: 0  unchanged: 24  skipped: 0  rejected: 0" in result.output, (
        result.output
    )
    assert count(db_session, AuditRecord) == logged
    notes = dict(db_session.execute(select(Asset.serial, Asset.notes)).all())
    assert notes["SN0000"] == '=HYPERLINK("http://x")'
    assert notes["SN0001"] == "-- à vérifier\nligne 2"
    assert notes["SN0002"] == "'=pas une formule"


def test_exports_hold_only_what_the_user_may_see(app, registry, login_as, db_session, tmp_path):
    _import_mixed(app, registry, db_session, tmp_path)
    client = login_as("technicien", [("collectivite", registry["collectivites"]["Fresnes"])])
    text = client.get("/equipements/export.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 + 3
    assert {r[KEYS.index("numero_serie")] for r in rows[1:]} == {"FR0000", "FR0001", "FR0002"}
    assert "Créteil" not in text


def test_an_auditor_exports_but_cannot_import(app, registry, login_as, db_session, tmp_path):
    _import_mixed(app, registry, db_session, tmp_path)
    ecole_id = registry["schools"][rooms_of(db_session, registry, "Créteil")[0][0]][0]
    acad = db_session.get(Ecole, ecole_id).departement.academie_id
    client = login_as("auditeur", [("academie", acad)])
    response = client.get("/equipements/export.xlsx")
    assert response.status_code == 200
    table = read_table(response.data, COLUMNS)
    assert len(table.rows) == 24
    assert client.get("/equipements/import").status_code == 404
    assert upload(client, b"x", "a.csv").status_code == 404
    assert client.get("/equipements/import/modele.csv").status_code == 404


def test_export_follows_the_list_filters(app, registry, login_as, db_session, tmp_path):
    _import_mixed(app, registry, db_session, tmp_path)
    client = login_as("admin")
    ordered = client.get("/equipements/export.csv?status=ordered").data
    table = read_table(ordered, COLUMNS)
    assert [r["numero_serie"] for _, r in table.rows] == ["W1"]
    # The list's own parameter names: warranty (days), missing_serial.
    warranty = read_table(client.get("/equipements/export.csv?warranty=3650").data, COLUMNS)
    assert len(warranty.rows) == 23  # all but the storage item, which has no warranty
    assert (
        read_table(client.get("/equipements/export.csv?missing_serial=1").data, COLUMNS).rows == []
    )
    uai = rooms_of(db_session, registry, "Créteil")[0][0]
    school = client.get(f"/equipements/export.csv?ecole={registry['schools'][uai][0]}").data
    assert {r["uai"] for _, r in read_table(school, COLUMNS).rows} == {uai}


def test_cli_export(app, registry, db_session, tmp_path):
    _import_mixed(app, registry, db_session, tmp_path)
    for name, options in (("all.csv", []), ("plain.csv", ["--plain"]), ("all.xlsx", [])):
        result = run_cli(app, "assets", "export", str(tmp_path / name), *options)
        assert result.exit_code == 0, result.output
        assert "24 items" in result.output
        data = (tmp_path / name).read_bytes()
        if name.endswith(".csv"):
            assert data.startswith(b"\xef\xbb\xbf") != bool(options)
        table = read_table(data, COLUMNS, name)
        assert len(table.rows) == 24
    bad = run_cli(app, "assets", "export", str(tmp_path / "all.pdf"))
    assert bad.exit_code != 0


# -- the template ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_parses_back_with_every_column(fmt, login_as, registry):
    client = login_as("technicien", [("collectivite", registry["collectivites"]["Créteil"])])
    response = client.get(f"/equipements/import/modele.{fmt}")
    assert response.status_code == 200
    table = read_table(response.data, COLUMNS, f"modele.{fmt}")
    assert [h for h in table.header] == list(HEADERS)
    assert len(table.rows) == 1
    assert set(table.rows[0][1]) == set(KEYS)
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        assert book.sheetnames[1] == "Aide"
        text = " ".join(
            str(v) for row in book["Aide"].iter_rows(values_only=True) for v in row if v
        )
        book.close()
        for key in [*KEYS, "tni", "borne_wifi", *(s.value for s in AssetStatus)]:
            assert key in text


def test_numbering_skips_a_run_of_tags_already_given(app, registry, db_session, tmp_path):
    """Tags imported as they were (or numbered by another collectivité of the same prefix)
    in the collectivité's own pattern: new items get the numbers after the run, found
    with a few lookups, and the counter moves past it."""
    from inventory.assets.models import TagCounter
    from inventory.assets.tags import tag_prefix
    from inventory.orgs.models import Collectivite

    rooms = rooms_of(db_session, registry, "Créteil")
    coll = db_session.get(Collectivite, registry["collectivites"]["Créteil"])
    pattern = f"{tag_prefix(coll)}-2024-"
    given = sample_items(rooms, n=37, prefix="OLD")
    tag_col = KEYS.index("numero_inventaire")
    for n, row in enumerate(given, start=1):
        row[tag_col] = f"{pattern}{n:05d}"
    path = write(tmp_path, "tagged.csv", to_csv(list(HEADERS), given))
    assert "created: 37" in run_cli(app, "assets", "import", path).output
    fresh = sample_items(rooms, n=4, prefix="NEW")
    path = write(tmp_path, "untagged.csv", to_csv(list(HEADERS), fresh))
    result = run_cli(app, "assets", "import", path)
    assert "created: 4" in result.output, result.output
    tags = sorted(db_session.scalars(select(Asset.tag).where(Asset.serial.like("NEW%"))).all())
    assert tags == [f"{pattern}{n:05d}" for n in range(38, 42)]
    counter = db_session.scalar(
        select(TagCounter.last).where(
            TagCounter.prefix == tag_prefix(coll), TagCounter.year == 2024
        )
    )
    assert counter == 41


def test_an_import_logs_steps_and_refreshes_the_socle_of_each_new_item(
    app, registry, db_session, tmp_path
):
    """New items are written in bulk: each still gets its change-log record and its first
    lifecycle step, and the socle summary of the classrooms counts those put in service."""
    from inventory.assets import socle
    from inventory.assets.models import ClassroomSocle, EquipmentModel, asset_search_text

    rooms = rooms_of(db_session, registry, "Créteil")
    equipped = rooms[:3]
    kit = [
        ("tni", "Speechi", "SpeechiTouch 75"),
        ("poste_enseignant", "Dell", "Latitude 3540"),
        ("borne_wifi", "Ubiquiti", "U6 Lite"),  # a model the import adds to the catalogue
        # Image capture, microphone and speakers: asked of their own since issue 19.
        ("captation", "Jabra", "PanaCast 20"),
    ]
    rows = [
        sheet_row(
            uai=uai,
            classe=room,
            categorie=category,
            fabricant=maker,
            modele=model,
            numero_serie=f"KIT{n}{i}",
            statut="en service",
            date_achat="2024-09-02",
        )
        for n, (uai, room) in enumerate(equipped)
        for i, (category, maker, model) in enumerate(kit)
    ]
    # A delivered kit counts for nothing yet.
    uai, room = rooms[3]
    rows += [
        sheet_row(
            uai=uai,
            classe=room,
            categorie=category,
            fabricant=maker,
            modele=model,
            numero_serie=f"BOX{i}",
            statut="livré",
        )
        for i, (category, maker, model) in enumerate(kit)
    ]
    rows += sample_items(rooms, n=30)
    ids = dict(db_session.execute(select(Ecole.uai, Ecole.id)).all())
    room_ids = {
        (uai, name): db_session.scalar(select(Classroom.id).filter_by(ecole_id=ids[uai], name=name))
        for uai, name in rooms[:4]
    }

    def meets() -> dict[tuple[str, str], bool]:
        db_session.expire_all()
        return {
            key: db_session.get(ClassroomSocle, room_id).meets for key, room_id in room_ids.items()
        }

    assert not any(meets().values())
    path = write(tmp_path, "kits.csv", to_csv(list(HEADERS), rows))
    result = run_cli(app, "assets", "import", path)
    assert f"created: {len(rows)}" in result.output, result.output

    assert count(db_session, Asset) == len(rows)
    created = db_session.scalars(
        select(AuditRecord).filter_by(object_type="assets", action="create")
    ).all()
    assets = {a.id: a for a in db_session.scalars(select(Asset))}
    assert sorted(r.object_id for r in created) == sorted(assets)
    for record in created:
        asset = assets[record.object_id]
        assert record.object_label == asset.tag and record.actor_label.startswith("cli:")
        assert (record.ecole_id, record.collectivite_id) == (
            asset.ecole_id,
            asset.collectivite_id,
        )
        assert record.changes["tag"] == [None, asset.tag]
        assert record.changes["status"] == [None, asset.status.value]
        assert "search_text" not in record.changes
        model = asset.model
        assert asset.search_text == asset_search_text(
            asset.tag, asset.serial, model.manufacturer.name, model.name
        )
        assert asset.version == 1 and asset.created_at is not None
    # Each item's first step, from no status to its own, at its status date, by the actor.
    steps = db_session.execute(
        select(
            StatusChange.asset_id,
            StatusChange.from_status,
            StatusChange.to_status,
            StatusChange.at,
            StatusChange.actor_label,
        )
    ).all()
    assert sorted(steps) == sorted(
        (a.id, None, a.status, a.status_since, steps[0].actor_label) for a in assets.values()
    )
    assert steps[0].actor_label.startswith("cli:")
    # The models the file adds to the catalogue are logged too (written by the ORM).
    models = count(db_session, AuditRecord, AuditRecord.object_type == "equipment_models")
    assert models == count(db_session, EquipmentModel) > 0

    assert meets() == {key: key in equipped for key in room_ids}
    # The summary is what a full recomputation gives.
    summary = {
        room_id: met
        for room_id, met in db_session.execute(
            select(ClassroomSocle.classroom_id, ClassroomSocle.meets)
        )
    }
    status = socle.classroom_status(db_session, list(summary))
    assert summary == {room_id: s.complete for room_id, s in status.items()}


def shared_pattern_with_tags_taken(app, registry, db_session, tmp_path, taken: int):
    """Fresnes numbering in Créteil's pattern, whose first ``taken`` numbers of 2024 were
    imported as they were: the pattern and the two collectivités' ids."""
    from inventory.assets.tags import tag_prefix
    from inventory.orgs.models import Collectivite

    colls = registry["collectivites"]
    creteil = db_session.get(Collectivite, colls["Créteil"])
    fresnes = db_session.get(Collectivite, colls["Fresnes"])
    fresnes.asset_tag_prefix = tag_prefix(creteil)
    db_session.commit()
    pattern = f"{tag_prefix(creteil)}-2024-"
    given = sample_items(rooms_of(db_session, registry, "Créteil"), n=taken, prefix="OLD")
    tag_col = KEYS.index("numero_inventaire")
    for n, row in enumerate(given, start=1):
        row[tag_col] = f"{pattern}{n:05d}"
    path = write(tmp_path, "tagged.csv", to_csv(list(HEADERS), given))
    assert f"created: {taken}" in run_cli(app, "assets", "import", path).output
    return pattern, (creteil.id, fresnes.id)


def assert_numbered_in_turn(db_session, pattern: str, colls, expected) -> None:
    """The new items (not the imported "OLD" ones) hold the ``expected`` numbers, each
    once, both collectivités among them, and the pattern's counter stands at the last."""
    from inventory.assets.models import TagCounter

    tags = db_session.execute(
        select(Asset.tag, Asset.collectivite_id).where(~Asset.serial.like("OLD%"))
    ).all()
    numbers = sorted(int(t.removeprefix(pattern)) for t, _ in tags)
    assert numbers == list(expected), "unique and without gaps"
    assert {c for _, c in tags} == set(colls)
    prefix, year = pattern.rstrip("-").rsplit("-", 1)
    counter = db_session.scalar(select(TagCounter.last).filter_by(prefix=prefix, year=int(year)))
    assert counter == max(expected)


def test_numbering_two_collectivites_of_one_prefix_in_one_batch(
    app, registry, db_session, tmp_path
):
    """Two collectivités numbering in one pattern in the same batch, after tags imported as
    they were: every number is used once, none is skipped, each counter at its last."""
    pattern, colls = shared_pattern_with_tags_taken(app, registry, db_session, tmp_path, 12)

    fresh = [
        *sample_items(rooms_of(db_session, registry, "Créteil"), n=7, prefix="CRE"),
        *sample_items(rooms_of(db_session, registry, "Fresnes"), n=9, prefix="FRE"),
        *sample_items(rooms_of(db_session, registry, "Créteil"), n=3, prefix="CRF"),
    ]
    path = write(tmp_path, "untagged.csv", to_csv(list(HEADERS), fresh))
    result = run_cli(app, "assets", "import", path)
    assert "created: 19" in result.output, result.output
    assert_numbered_in_turn(db_session, pattern, colls, range(13, 32))


def test_numbering_over_several_batches_skips_a_long_run_once_found(
    app, registry, db_session, tmp_path, monkeypatch
):
    """Batch after batch, two collectivités of one prefix meet the same long run of taken
    numbers (past the first search's first probes): each new item still gets the next
    free number, none skipped, none twice, and each counter ends at its last."""
    from inventory.assets.importers import AssetImporter

    pattern, colls = shared_pattern_with_tags_taken(app, registry, db_session, tmp_path, 240)

    monkeypatch.setattr(AssetImporter, "batch_size", 4)
    monkeypatch.setattr(AssetImporter, "later_batch_size", 4)
    creteil_rooms = rooms_of(db_session, registry, "Créteil")
    fresnes_rooms = rooms_of(db_session, registry, "Fresnes")
    fresh = []
    for n in range(6):  # the two collectivités in turn, several batches each
        fresh += sample_items(creteil_rooms, n=3, prefix=f"C{n}X")
        fresh += sample_items(fresnes_rooms, n=2, prefix=f"F{n}X")
    path = write(tmp_path, "untagged.csv", to_csv(list(HEADERS), fresh))
    result = run_cli(app, "assets", "import", path)
    assert f"created: {len(fresh)}" in result.output, result.output
    assert_numbered_in_turn(db_session, pattern, colls, range(241, 241 + len(fresh)))


def test_an_imported_item_gets_the_record_of_one_typed_in_a_form(
    app, registry, db_session, tmp_path
):
    """Imported items are recorded as the forms record them: the same change-log record
    as the flush hook writes for the same values, and the first lifecycle step."""
    from inventory.core import audit

    rows = sample_items(rooms_of(db_session, registry, "Créteil"), n=5)
    path = write(tmp_path, "items.csv", to_csv(list(HEADERS), rows))
    assert "created: 5" in run_cli(app, "assets", "import", path).output
    records = db_session.scalars(
        select(AuditRecord).filter_by(object_type="assets").order_by(AuditRecord.id)
    ).all()
    assert len(records) == 5
    for record in records:
        asset = db_session.get(Asset, record.object_id)
        one = audit._record(asset, audit.AuditAction.CREATE, audit.Actor(None, "cli"))
        assert one is not None
        assert record.changes == one["changes"]
        assert (record.object_label, record.ecole_id, record.collectivite_id) == (
            one["object_label"],
            one["ecole_id"],
            one["collectivite_id"],
        )
        assert [(t.from_status, t.to_status) for t in asset.transitions] == [(None, asset.status)]


def test_a_failure_in_a_later_batch_keeps_the_batches_before_whole(
    app, registry, db_session, tmp_path, monkeypatch
):
    """A write that fails stops the import: the batches committed before stay whole
    (each item with its change-log record and first status step), the failing one leaves
    nothing."""
    from inventory.assets import socle
    from inventory.assets.importers import AssetImporter

    monkeypatch.setattr(AssetImporter, "batch_size", 4)
    monkeypatch.setattr(AssetImporter, "later_batch_size", 4)
    real_refresh, calls = socle.refresh, []

    def failing_refresh(connection, classroom_ids=None):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real_refresh(connection, classroom_ids)

    monkeypatch.setattr(socle, "refresh", failing_refresh)
    rows = sample_items(rooms_of(db_session, registry, "Créteil"), n=12)
    status_col = KEYS.index("statut")
    for row in rows:
        row[status_col] = "en service"  # every batch refreshes its rooms' socle
    path = write(tmp_path, "items.csv", to_csv(list(HEADERS), rows))
    result = app.test_cli_runner().invoke(args=["assets", "import", path])
    assert result.exception is not None and "disk full" in str(result.exception)
    assert count(db_session, Asset) == 4  # the first batch, committed
    assert count(db_session, AuditRecord, AuditRecord.object_type == "assets") == 4
    assert count(db_session, StatusChange) == 4
    # The connection is usable again, and the same file brings the rest.
    monkeypatch.setattr(socle, "refresh", real_refresh)
    assert "created: 8" in run_cli(app, "assets", "import", path).output
    assert count(db_session, Asset) == 12
