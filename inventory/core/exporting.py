"""One exporter for every list: CSV (what French Excel opens) or XLSX, from plain values.

A caller gives the column headers and rows of plain values (str, int, float, Decimal,
:class:`Money`, date, datetime or None). Headers are made unique (a repeated name gets
" (2)"), so that a spreadsheet or a script can tell every column apart.

CSV comes in a :class:`Dialect`. By default (:data:`FRENCH`) it is UTF-8 with a BOM,
``;``-separated, CRLF, numbers with a decimal comma: what a French spreadsheet opens as
numbers. ``?csv=plain`` on any export's address gives :data:`PLAIN` instead: ``,``-separated,
dot decimals, no BOM, for scripts and English spreadsheets. Dates are ISO (2025-03-12) in
both: every spreadsheet reads them as dates, and the importers read them back. The
open-data files keep the ministry's form (:data:`MINISTRY`: ``;`` and dot decimals).

XLSX is a write-only workbook with a bold, frozen header row; its cells are typed: numbers
as numbers (amounts formatted ``#,##0.00``), dates as dates. CSV can be streamed.

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

from flask import has_request_context, request, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from werkzeug.wrappers import Response


class Money(Decimal):
    """An amount in euros, to the cent: ``#,##0.00`` in a workbook."""


def money(cents: int | None) -> Money | None:
    """Cents as a :class:`Money` in euros: 210000 → 2100.00."""
    return None if cents is None else Money(Decimal(int(cents)).scaleb(-2))


Cell = str | int | float | Decimal | date | datetime | None

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
MEDIA_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"
MONEY_FORMAT = "#,##0.00"
DECIMAL_FORMAT = "#,##0.0##"
INTEGER_FORMAT = "0"


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written: its separator, its decimal mark, and whether a BOM
    (which tells Excel the file is UTF-8) starts it."""

    delimiter: str
    decimal: str
    bom: bool


FRENCH = Dialect(";", ",", True)
PLAIN = Dialect(",", ".", False)
MINISTRY = Dialect(";", ".", True)  # the open-data files, as data.education.gouv.fr has them
# The query argument that asks any export for the plain variant: ?csv=plain.
PLAIN_ARG, PLAIN_VALUE = "csv", "plain"


def requested_dialect(default: Dialect = FRENCH) -> Dialect:
    """:data:`PLAIN` when the request asks for it (``?csv=plain``), else ``default``."""
    if has_request_context() and request.args.get(PLAIN_ARG) == PLAIN_VALUE:
        return PLAIN
    return default


def unique_headers(headers: Sequence[str]) -> list[str]:
    """The headers with every repeat told apart: ["Items", "Items"] → ["Items", "Items (2)"]."""
    taken: set[str] = set()
    out = []
    for h in map(str, headers):
        name, n = h, 1
        while name in taken:
            n += 1
            name = f"{h} ({n})"
        taken.add(name)
        out.append(name)
    return out


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


def plain(value: Cell, dialect: Dialect = PLAIN) -> str:
    """A value as CSV text: dates in ISO form, numbers with the dialect's decimal mark
    (never in exponent form), booleans as 1 and 0, None as ''."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", dialect.decimal)
    return str(value)


# -- CSV -----------------------------------------------------------------------------------
def csv_chunks(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    chunk_rows: int = 500,
    dialect: Dialect = FRENCH,
) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks (the first starts with the BOM if the dialect
    has one)."""
    buf = io.StringIO()
    writer = csv.writer(
        buf, delimiter=dialect.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
    )
    if dialect.bom:
        buf.write(BOM)
    writer.writerow([neutralise(h) for h in unique_headers(headers)])
    pending = 0
    try:
        for row in rows:
            writer.writerow([neutralise(plain(v, dialect)) for v in row])
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


def csv_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], dialect: Dialect = FRENCH
) -> bytes:
    return b"".join(csv_chunks(headers, rows, dialect=dialect))


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
            number_format = None
            if isinstance(value, Money):
                value, number_format = float(value), MONEY_FORMAT
            elif isinstance(value, Decimal | float):
                value, number_format = float(value), DECIMAL_FORMAT
            elif isinstance(value, int) and not isinstance(value, bool):
                number_format = INTEGER_FORMAT
            elif isinstance(value, str):
                # Text stays text: never a formula nor an error code. An apostrophe that
                # precedes a formula character is doubled, as restore() removes one.
                value = _XML_ILLEGAL.sub("", value)
                if _NEUTRALISED.match(value):
                    value = "'" + value
            c = WriteOnlyCell(sheet, value=value)
            if number_format is not None:
                c.number_format = number_format
            elif isinstance(value, str):
                c.data_type = "s"
            elif isinstance(value, datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                c.number_format = "yyyy-mm-dd"
            return c

        header_cells = []
        for h in unique_headers(spec.headers):
            c = cell(h)
            c.font = bold
            header_cells.append(c)
        sheet.append(header_cells)
        for row in spec.rows:
            sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_bytes(
    fmt: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    dialect: Dialect = FRENCH,
) -> bytes:
    """The whole file at once, e.g. for the command line."""
    if fmt == XLSX:
        return xlsx_bytes([Sheet("Export", headers, rows)])
    return csv_bytes(headers, rows, dialect)


def download(
    fmt: str,
    filename: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    sheet_title: str = "Export",
    widths: Sequence[int] = (),
    extra_sheets: Sequence[Sheet] = (),
    csv_dialect: Dialect = FRENCH,
) -> Response:
    """An attachment response: CSV streamed as it is written, XLSX built then sent.

    CSV is written in ``csv_dialect``, or in :data:`PLAIN` when the request asks for it
    (``?csv=plain``). ``rows`` may be a lazy iterable reading the database: for CSV it runs
    while the body is sent, within the request's context.
    """
    if fmt == XLSX:
        body: Any = xlsx_bytes([Sheet(sheet_title, headers, rows, widths), *extra_sheets])
    elif fmt == CSV:
        body = csv_chunks(headers, rows, dialect=requested_dialect(csv_dialect))
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
