"""One exporter for every list: CSV (what French Excel opens) or XLSX, from plain values.

A caller gives the column headers and rows of plain values (str, int, float, Decimal,
date, datetime or None). CSV is UTF-8 with a BOM, ``;``-separated, CRLF; XLSX is a
write-only workbook with a bold, frozen header row. Both can be streamed.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return
as a formula. CSV cells that would be read so are neutralised with a leading ``'``;
:func:`restore` is the importers' inverse, so that export → import gives back the value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from werkzeug.wrappers import Response

Cell = str | int | float | Decimal | date | datetime | None

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
MEDIA_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"

# A cell a spreadsheet would run: it starts with a formula character, possibly after
# apostrophes (so that a value which itself starts with ' survives the round trip).
_RUNNABLE = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
# Characters XML 1.0 (hence XLSX) cannot hold.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: str) -> str:
    """'=SUM(A1)' → "'=SUM(A1)": a CSV cell no spreadsheet runs as a formula."""
    return "'" + value if _RUNNABLE.match(value) else value


def restore(value: str) -> str:
    """The inverse of :func:`neutralise`, for importers: "'=SUM(A1)" → '=SUM(A1)'.

    Only the apostrophe added before a formula character is removed; "'abc" stays.
    """
    return value[1:] if _NEUTRALISED.match(value) else value


def plain(value: Cell) -> str:
    """A value as CSV text: dates in ISO form, decimals with a dot, None as ''."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# -- CSV -----------------------------------------------------------------------------------
def csv_chunks(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, chunk_rows: int = 500
) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks (the first starts with the BOM)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buf.write(BOM)
    writer.writerow([neutralise(h) for h in headers])
    pending = 0
    try:
        for row in rows:
            writer.writerow([neutralise(plain(v)) for v in row])
            pending += 1
            if pending >= chunk_rows:
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
                pending = 0
    finally:
        # A download stopped half-way closes the rows' generator (and its cursor) now.
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    yield buf.getvalue().encode("utf-8")


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    return b"".join(csv_chunks(headers, rows))


# -- XLSX ----------------------------------------------------------------------------------
@dataclass
class Sheet:
    """One worksheet: a title, a header row and rows of plain values."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Sequence[int] = field(default_factory=tuple)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of ``sheets``, written row by row (openpyxl's write-only mode)."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for spec in sheets:
        sheet = book.create_sheet(title=spec.title[:31])
        sheet.freeze_panes = "A2"
        for index, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width

        def cell(value: Cell, sheet: Any = sheet) -> Any:
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, str):
                # Text stays text: never a formula nor an error code. An apostrophe that
                # precedes a formula character is doubled, as restore() removes one.
                value = _XML_ILLEGAL.sub("", value)
                if _NEUTRALISED.match(value):
                    value = "'" + value
            c = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                c.data_type = "s"
            elif isinstance(value, datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                c.number_format = "yyyy-mm-dd"
            return c

        header_cells = []
        for h in spec.headers:
            c = cell(h)
            c.font = bold
            header_cells.append(c)
        sheet.append(header_cells)
        for row in spec.rows:
            sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_bytes(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The whole file at once, e.g. for the command line."""
    if fmt == XLSX:
        return xlsx_bytes([Sheet("Export", headers, rows)])
    return csv_bytes(headers, rows)


def download(
    fmt: str,
    filename: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    sheet_title: str = "Export",
    widths: Sequence[int] = (),
    extra_sheets: Sequence[Sheet] = (),
) -> Response:
    """An attachment response: CSV streamed as it is written, XLSX built then sent.

    ``rows`` may be a lazy iterable reading the database: for CSV it runs while the body
    is sent, within the request's context.
    """
    if fmt == XLSX:
        body: Any = xlsx_bytes([Sheet(sheet_title, headers, rows, widths), *extra_sheets])
    elif fmt == CSV:
        body = csv_chunks(headers, rows)
        if has_request_context():
            body = stream_with_context(body)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response = Response(body, mimetype=MEDIA_TYPES[fmt].split(";")[0])
    if fmt == CSV:
        response.headers["Content-Type"] = MEDIA_TYPES[CSV]
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
