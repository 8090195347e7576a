"""One framework for every tabular import (CSV or XLSX), from CLI, web upload or API.

An importer declares its fields with the header spellings it accepts, validates one row
at a time, and upserts on a natural key. The framework detects encoding, delimiter and
header variant, runs the rows in batches (one transaction per batch) and returns a report
of created / updated / unchanged / skipped / rejected rows, each rejection and each skip with
its line and reason. A row that is taken may carry warnings (something doubtful the import
accepted) and notes (what it changed, when a count alone does not say), also on its line.
"""

from __future__ import annotations

import csv
import gc
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from operator import itemgetter
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy.orm import scoped_session

from inventory.core.text import slug_key


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


class RowRejected(Exception):
    """Raised by an importer for a row it cannot take; the message is shown to the user."""

    def __init__(self, reason: Any, column: str | None = None) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.column = column


class RowSkipped(Exception):
    """Raised by an importer for a row it leaves out on purpose (a row of a kind it does
    not import); the reason is shown with the row's line. Nothing of the row is written."""

    def __init__(self, reason: Any) -> None:
        super().__init__(str(reason))
        self.reason = reason


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, no header, missing columns)."""


@dataclass
class Rejection:
    line: int
    reason: str
    key: str = ""


@dataclass
class RowMessage:
    """Something said about one row: a skip's reason, a warning, or what the row changed."""

    line: int
    key: str
    text: str


@dataclass
class SkipGroup:
    """The skipped rows that share a reason, with the first few of them."""

    reason: str
    count: int
    examples: list[RowMessage]


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    rejected: list[Rejection] = field(default_factory=list)
    # Said of the file as a whole (the school year read, a default applied…).
    notes: list[str] = field(default_factory=list)
    skipped_rows: list[RowMessage] = field(default_factory=list)
    warnings: list[RowMessage] = field(default_factory=list)
    # What a row changed, when its outcome alone does not say it (rooms re-labelled…).
    changes: list[RowMessage] = field(default_factory=list)
    rows: int = 0

    # A national file skips thousands of rows for a handful of reasons: shown grouped.
    EXAMPLES = 10

    def count(self, outcome: Outcome) -> None:
        self.counts[outcome.value] += 1

    def skipped_by_reason(self) -> list[SkipGroup]:
        """The skipped rows grouped by reason, the most frequent reason first."""
        groups: dict[str, SkipGroup] = {}
        for row in self.skipped_rows:
            group = groups.get(row.text)
            if group is None:
                group = groups[row.text] = SkipGroup(row.text, 0, [])
            group.count += 1
            if len(group.examples) < self.EXAMPLES:
                group.examples.append(row)
        return sorted(groups.values(), key=lambda g: (-g.count, g.reason))

    @property
    def created(self) -> int:
        return self.counts[Outcome.CREATED]

    @property
    def updated(self) -> int:
        return self.counts[Outcome.UPDATED]

    @property
    def unchanged(self) -> int:
        return self.counts[Outcome.UNCHANGED]

    @property
    def skipped(self) -> int:
        return self.counts[Outcome.SKIPPED]

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {self.skipped}, rejected {len(self.rejected)}, "
            f"warnings {len(self.warnings)}"
        )


@dataclass(frozen=True)
class Column:
    """A field an importer reads, with every header spelling that means it."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def spellings(self) -> tuple[str, ...]:
        return tuple(slug_key(a) for a in (self.name, *self.aliases))


Row = dict[str, str]


@dataclass
class Table:
    """Rows of a file with their source line numbers, keyed by importer field name."""

    rows: list[tuple[int, Row]]
    header: list[str]


class Importer(ABC):
    """Base class: subclasses set ``columns`` and implement :meth:`import_row`.

    ``import_row`` validates the whole row before it changes anything, and raises
    :class:`RowRejected` for a bad one, so that a rejected row leaves no trace and the
    batch needs no savepoint per row; it raises :class:`RowSkipped` for a row it leaves
    out on purpose. While it imports a row, it may :meth:`warn` of something doubtful it
    accepted and :meth:`note` what it changed: both are reported on the row's line (and
    dropped if the row is rejected after all).
    """

    columns: tuple[Column, ...] = ()
    batch_size = 2000

    def warn(self, message: Any) -> None:
        """A doubt about the row being imported (a broken check digit, a code that looks
        wrong): the row is taken, and the report shows the warning on its line."""
        self._row_messages().warnings.append(message)

    def note(self, message: Any) -> None:
        """What importing the row being imported changed, beyond its outcome."""
        self._row_messages().notes.append(message)

    def _row_messages(self) -> _RowMessages:
        # Subclasses set their own __init__ without calling this class's: created on use.
        messages = self.__dict__.get("_messages")
        if messages is None:
            messages = self.__dict__["_messages"] = _RowMessages()
        return messages

    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        """Load lookups once, filter rows; returns the rows to import."""
        return table.rows

    @abstractmethod
    def import_row(self, row: Row) -> Outcome:
        """Validate then upsert one row."""

    def key_of(self, row: Row) -> str:
        return ""

    def finish_batch(self) -> None:  # noqa: B027 - an optional hook
        """Called before each commit."""

    def commit(self, session: Any) -> None:
        """End a batch's transaction (an importer writing in the background ends it there)."""
        session.commit()

    def close(self, *, failed: bool = False) -> None:  # noqa: B027 - an optional hook
        """Called once the rows are done, before the last commit (or, ``failed``, before
        the caller rolls back)."""


@dataclass
class _RowMessages:
    warnings: list[Any] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.warnings or self.notes)

    def clear(self) -> None:
        self.warnings.clear()
        self.notes.clear()

    def move_to(self, report: ImportReport, line: int, key: str) -> None:
        report.warnings.extend(RowMessage(line, key, str(m)) for m in self.warnings)
        report.changes.extend(RowMessage(line, key, str(m)) for m in self.notes)
        self.clear()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_l("The file is neither UTF-8 nor Windows-1252 text."))


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(_l("The file is empty.")) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num
        for values in reader:
            start = line + 1
            line = reader.line_num
            if any(v.strip() for v in values):
                yield start, values

    return header, rows()


def _read_xlsx(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(_l("The spreadsheet cannot be read.")) from exc
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        header = ["" if v is None else str(v) for v in next(it)]
    except StopIteration:
        raise ImportFileError(_l("The file is empty.")) from None

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if hasattr(v, "isoformat"):
            return v.isoformat()
        return str(v)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(it, start=2):
            cells = [cell(v) for v in values]
            if any(c.strip() for c in cells):
                yield number, cells

    return header, rows()


def read_table(data: bytes, columns: tuple[Column, ...], filename: str = "") -> Table:
    """Parse CSV or XLSX bytes into rows keyed by the importer's field names."""
    is_xlsx = data[:2] == b"PK" or filename.lower().endswith(".xlsx")
    header, raw_rows = _read_xlsx(data) if is_xlsx else _read_csv(data)
    keys = [slug_key(h) for h in header]
    positions: dict[str, int] = {}
    for col in columns:
        for k in col.spellings():
            if k in keys:
                positions[col.name] = keys.index(k)
                break
    missing = [c.name for c in columns if c.required and c.name not in positions]
    if missing:
        raise ImportFileError(_l("Missing columns: %(columns)s.", columns=", ".join(missing)))
    rows = []
    names, places = list(positions), list(positions.values())
    # A national file has tens of thousands of rows: a full row takes its fields with one
    # C-level getter; only a short one (trailing cells left out) is read field by field.
    width = max(places, default=-1) + 1
    pick = itemgetter(*places) if len(places) > 1 else None
    strip = str.strip
    for line, values in raw_rows:
        if pick is not None and len(values) >= width:
            rows.append((line, dict(zip(names, map(strip, pick(values)), strict=True))))
        else:
            rows.append(
                (
                    line,
                    {
                        name: (values[i].strip() if i < len(values) else "")
                        for name, i in positions.items()
                    },
                )
            )
    return Table(rows=rows, header=header)


def run_import(
    importer: Importer,
    source: bytes | IO[bytes],
    *,
    session: Any,
    filename: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Run ``importer`` over ``source``; commits once per batch. Never raises on a bad row."""
    data = source if isinstance(source, bytes) else source.read()
    report = ImportReport()
    table = read_table(data, importer.columns, filename)
    # A national file holds tens of thousands of rows, each adding objects to the session.
    # While it runs: no cyclic garbage collection (every pass would scan the whole growing
    # session), and no expiry at the batch commits (expiring every object at each commit,
    # then reloading the ones still used, grows with the rows already imported). Both are
    # restored before the last commit, which expires everything as usual.
    plain = session.registry() if isinstance(session, scoped_session) else session
    expire_on_commit = plain.expire_on_commit
    collecting = gc.isenabled()
    gc.disable()
    plain.expire_on_commit = False
    messages = importer._row_messages()
    try:
        pending = 0
        for line, row in importer.prepare(table, report):
            report.rows += 1
            try:
                outcome = importer.import_row(row)
            except RowRejected as exc:
                messages.clear()
                report.rejected.append(Rejection(line, str(exc.reason), importer.key_of(row)))
                continue
            except RowSkipped as exc:
                messages.clear()
                report.count(Outcome.SKIPPED)
                report.skipped_rows.append(RowMessage(line, importer.key_of(row), str(exc.reason)))
                continue
            if messages:
                messages.move_to(report, line, importer.key_of(row))
            report.count(outcome)
            pending += 1
            if pending >= importer.batch_size:
                importer.finish_batch()
                importer.commit(session)
                pending = 0
                if progress:
                    progress(report.rows)
        importer.finish_batch()
        importer.close()
    except BaseException:
        importer.close(failed=True)
        raise
    finally:
        plain.expire_on_commit = expire_on_commit
        if collecting:
            gc.enable()
    session.commit()
    return report
