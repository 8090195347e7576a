"""The tabular readers refuse files that would cost CPU or memory beyond their size: a
spreadsheet declaring a huge dimension, too many rows or columns, overlong lines, zip bombs."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from inventory.core.importing import Column, ImportFileError, ReadLimits, read_table

COLUMNS = (Column("serial", required=True), Column("name"))
SHEET = "xl/worksheets/sheet1.xml"


def crafted_xlsx(cells: dict[tuple[int, int], str], dimension: str) -> bytes:
    """A workbook holding ``cells`` ((row, column) -> text), whose sheet declares
    ``dimension`` whatever its cells are: what a hostile file does."""
    book = Workbook()
    sheet = book.active
    for (row, col), value in cells.items():
        sheet.cell(row=row, column=col, value=value)
    first = io.BytesIO()
    book.save(first)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(first.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == SHEET:
                data = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                )
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_the_issue_file_one_row_at_1001_in_a_sheet_declared_a1_xfd1001_is_refused():
    data = crafted_xlsx({(1001, 1): "x"}, "A1:XFD1001")
    assert len(data) < 6000
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b'<dimension ref="A1:XFD1001"' in z.read(SHEET)
    with pytest.raises(ImportFileError, match="no column names"):
        read_table(data, COLUMNS, "a.xlsx")


@pytest.mark.parametrize("dimension", ["A1:XFD1001", "A1:XFD1048576"])
def test_a_declared_dimension_pads_nothing(dimension):
    """Rows are read to the header's width, whatever the sheet claims (at the format's
    maximum, padding every row would take minutes)."""
    data = crafted_xlsx(
        {
            (1, 1): "serial",
            (1, 2): "name",
            (1001, 1): "SN1",
            (1001, 2): "Écran",
            (1001, 16384): "z",
        },
        dimension,
    )
    table = read_table(data, COLUMNS, "a.xlsx")
    assert table.header == ["serial", "name"]
    assert table.rows == [(1001, {"serial": "SN1", "name": "Écran"})]


def test_a_row_far_below_the_limit_is_refused_without_reading_the_gap():
    data = crafted_xlsx({(1, 1): "serial", (1_048_576, 1): "SN1"}, "A1:XFD1048576")
    with pytest.raises(ImportFileError, match="more than 1000 rows"):
        read_table(data, COLUMNS, "a.xlsx", ReadLimits(max_rows=1000))


def test_too_many_header_columns_are_refused():
    data = crafted_xlsx({(1, c): f"c{c}" for c in range(1, 12)}, "A1:K1")
    with pytest.raises(ImportFileError, match="more than 10 columns"):
        read_table(data, COLUMNS, "a.xlsx", ReadLimits(max_columns=10))


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(SHEET, b"\0" * (3 * 1024 * 1024))
    data = out.getvalue()
    assert len(data) < 10_000
    with pytest.raises(ImportFileError, match="more than 2 MB once unpacked"):
        read_table(data, COLUMNS, "a.xlsx", ReadLimits(max_unpacked_bytes=2 * 1024 * 1024))


def test_csv_rows_beyond_the_limit_are_refused():
    head = "serial;name\n"
    ok = head + "".join(f"SN{i};x\n" for i in range(5))
    assert len(read_table(ok.encode(), COLUMNS, "", ReadLimits(max_rows=5)).rows) == 5
    with pytest.raises(ImportFileError, match="more than 5 rows"):
        read_table((ok + "SN9;x\n").encode(), COLUMNS, "", ReadLimits(max_rows=5))


def test_csv_overlong_lines_are_refused_with_their_line():
    data = ("serial;name\nSN1;ok\nSN2;" + "x" * 500 + "\n").encode()
    with pytest.raises(ImportFileError, match="Line 3 is longer than 200"):
        read_table(data, COLUMNS, "", ReadLimits(max_line_chars=200))
    # A field past the csv module's own limit (an unclosed quote swallowing the file).
    data = ('serial;name\nSN1;"' + "y" * 200_000 + "\n").encode()
    with pytest.raises(ImportFileError, match="Line 2 is longer"):
        read_table(data, COLUMNS, "")


def test_csv_extra_cells_beyond_the_header_are_dropped():
    data = b"serial;name\nSN1;A;extra;more\n"
    assert read_table(data, COLUMNS, "").rows == [(2, {"serial": "SN1", "name": "A"})]


def test_the_web_import_refuses_the_crafted_file_with_a_translated_message(login_as, registry):
    client = login_as("admin")
    data = crafted_xlsx({(1001, 1): "x"}, "A1:XFD1001")
    page = client.post(
        "/equipements/import",
        data={"file": (io.BytesIO(data), "equipements.xlsx")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert "La première ligne ne contient aucun nom de colonne." in page.get_data(as_text=True)


def test_the_limits_come_from_the_configuration(app):
    app.config["IMPORT_MAX_ROWS"] = 7
    with app.app_context():
        assert ReadLimits.current().max_rows == 7
