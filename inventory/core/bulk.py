"""Bulk inserts for imports: rows staged as plain values, written table by table (multi-row
INSERTs on SQLite, COPY on PostgreSQL), with their change-log records, in the caller's
transaction.

The ORM's unit of work builds, tracks and cascades an object per row; an import creating
tens of thousands of schools or assets spends most of its time there. Staged rows skip all
of it, yet keep the two guarantees the ORM path gives: foreign keys between new rows
resolve (a staged row may reference another staged row), and every created row of an
audited model has its change-log record in the same transaction.
"""

from __future__ import annotations

import contextvars
import enum
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from datetime import date
from functools import partial
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from inventory.core import audit
from inventory.core.db import Base


class Staged:
    """A row waiting for :meth:`BulkInsert.flush`; ``id`` is known once it is written.

    Stands for the row wherever a foreign key is expected, like an ORM object would."""

    __slots__ = ("id", "model", "values")
    id: int | None
    model: type[Base] | Table
    values: dict[str, Any]

    def __init__(self, model: type[Base] | Table, values: dict[str, Any]) -> None:
        set_slot = object.__setattr__
        set_slot(self, "model", model)
        set_slot(self, "values", values)
        set_slot(self, "id", None)

    def __getattr__(self, name: str) -> Any:
        # Reached for a column name only (slots are found first): read like an ORM object.
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in Staged.__slots__:
            object.__setattr__(self, name, value)
        elif self.id is not None:
            raise RuntimeError("a written row is changed through the ORM, not its staged values")
        else:
            self.values[name] = value


def _resolve_references(values: dict[str, Any], keys: Sequence[str]) -> None:
    """Replace staged rows and ORM objects given as foreign keys (``keys``) by their ids,
    in place."""
    for key in keys:
        if key in values:
            values[key] = _id_of(values[key])


def _id_of(value: Any) -> Any:
    """A foreign key's value: the id of a staged row or ORM object, else the value."""
    if type(value) is int or value is None:
        return value
    if isinstance(value, Staged | Base):
        if value.id is None:
            raise RuntimeError("a staged row references a row that is not written yet")
        return value.id
    return value


def _table_of(model: type[Base] | Table) -> Table:
    return model if isinstance(model, Table) else model.__table__  # type: ignore[return-value]


_FOREIGN_KEYS: dict[Table, tuple[str, ...]] = {}


def _foreign_keys(table: Table) -> tuple[str, ...]:
    """The columns of ``table`` that may be given a staged row or an ORM object."""
    if table not in _FOREIGN_KEYS:
        _FOREIGN_KEYS[table] = tuple(c.key for c in table.c if c.foreign_keys)
    return _FOREIGN_KEYS[table]


Write = Callable[[], None]


def _now(write: Write) -> None:
    write()


# While writes run in the background, the interpreter is handed between threads every
# millisecond rather than every five: a write taking the interpreter back after each
# statement would otherwise wait for the busy caller, statement after statement.
_SWITCH_INTERVAL = 0.001
_switching = threading.Lock()
_switch_users = 0
_switch_before = 0.0


def _fine_switching(on: bool) -> None:
    global _switch_users, _switch_before
    with _switching:
        if on:
            if _switch_users == 0:
                _switch_before = sys.getswitchinterval()
                sys.setswitchinterval(min(_switch_before, _SWITCH_INTERVAL))
            _switch_users += 1
        else:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_before)


class BackgroundWrites:
    """A connection's writes run in turn on a thread of their own, while the caller
    prepares the next ones: the drivers let go of the interpreter while the database
    works, so that an import validates its next rows as the last ones are written.

    The caller gives the connection to the writes only: it :meth:`wait` s for them before
    it uses the connection itself, and :meth:`close` s them in the end. After a failed
    write, the writes still queued are skipped and :meth:`wait` raises the error."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writes")
        self._pending: list[Future[None]] = []
        self._stopped = False
        self._closed = False
        _fine_switching(True)

    def submit(self, write: Write) -> None:
        # The change log's actor and the like live in context variables: the thread runs
        # each write in a copy of the caller's context.
        self._pending.append(self._thread.submit(self._run, contextvars.copy_context(), write))

    def _run(self, context: contextvars.Context, write: Write) -> None:
        if self._stopped:
            return
        try:
            context.run(write)
        except BaseException:
            self._stopped = True
            raise

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self, *, discard: bool = False) -> None:
        """Wait for the queued writes (raising the first error), or with ``discard``,
        skip those not started (the caller is failing and will roll back)."""
        try:
            if discard:
                self._stopped = True
                wait_all(self._pending)
                self._pending = []
            else:
                self.wait()
        finally:
            self._thread.shutdown(wait=True)
            if not self._closed:
                self._closed = True
                _fine_switching(False)


class Checkpoints:
    """SQLite copies its write-ahead log back into the database at each commit that
    leaves the log past 1,000 pages, in the committing connection. For a write in many
    batches, that is a pause at every commit of the writes: here, the copy of each
    batch's pages runs on a connection and thread of its own (:meth:`after_commit`),
    while the next batch is written. On other engines, nothing happens.

    Created before the writes on the connection start, released after they end: the
    first commit after :meth:`release` copies what is left, as usual."""

    def __init__(self, connection: Connection) -> None:
        self._driver: Any = None
        if connection.dialect.name != "sqlite":
            return
        self._driver = connection.connection.driver_connection
        (self._pages,) = self._driver.execute("PRAGMA wal_autocheckpoint").fetchone()
        self._driver.execute("PRAGMA wal_autocheckpoint=0")
        self._own = connection.engine.raw_connection()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoints")
        self._pending: list[Future[Any]] = []

    def after_commit(self) -> None:
        """Copy the log's committed pages back, in the background (a passive checkpoint:
        it waits for no one, and copies what no reader still needs)."""
        if self._driver is not None:
            self._pending.append(self._thread.submit(self._copy))

    def _copy(self) -> None:
        cursor = self._own.cursor()
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            cursor.close()

    def release(self) -> None:
        if self._driver is None:
            return
        driver, self._driver = self._driver, None
        try:
            for future in self._pending:
                future.result()
        finally:
            self._thread.shutdown(wait=True)
            self._own.close()
            driver.execute(f"PRAGMA wal_autocheckpoint={int(self._pages)}")


class BulkInsert:
    """Stage rows with :meth:`add` (or, as columns, :meth:`add_columns`), write them all
    with :meth:`flush` (parents first); with ``writes``, the writes that return nothing
    run in the background (:class:`BackgroundWrites`)."""

    def __init__(self, session: Session, writes: BackgroundWrites | None = None) -> None:
        self.session = session
        self.writes = writes
        self.staged: dict[Table, list[Staged]] = {}
        self.unreferenced: dict[Table, list[dict[str, list[Any]]]] = {}

    def add(self, model: type[Base] | Table, **values: Any) -> Staged:
        row = Staged(model, values)
        self.staged.setdefault(_table_of(model), []).append(row)
        return row

    def add_columns(self, model: type[Base] | Table, **columns: list[Any]) -> None:
        """Rows no other row references and whose ids are not wanted, given column by
        column (each key's values, row by row; foreign keys may be staged rows): written
        after the staged rows, without reading ids back, hence without waiting for the
        writes before them, and with no object per row."""
        if len({len(values) for values in columns.values()}) > 1:
            raise ValueError("columns of unequal lengths")
        if isinstance(model, type) and issubclass(model, audit.Audited):
            raise TypeError("an audited row's change-log record needs its id: use add()")
        self.unreferenced.setdefault(_table_of(model), []).append(columns)

    def __len__(self) -> int:
        staged = sum(len(rows) for rows in self.staged.values())
        return staged + sum(
            len(next(iter(c.values()), ())) for cs in self.unreferenced.values() for c in cs
        )

    def flush(self) -> None:
        if not self.staged and not self.unreferenced:
            return
        connection = self.session.connection()
        actor = audit.current_actor()
        # sorted_tables puts every table after the tables its foreign keys point to.
        for table in Base.metadata.sorted_tables:
            if rows := self.staged.pop(table, None):
                self._write(connection, table, rows, actor)
        for table in Base.metadata.sorted_tables:
            for columns in self.unreferenced.pop(table, ()):
                for key in _foreign_keys(table):
                    if key in columns:
                        columns[key] = [_id_of(v) for v in columns[key]]
                _insert_columns(connection, table, columns, run=self._run)
        if self.staged or self.unreferenced:  # a table outside the metadata: a mistake
            raise RuntimeError(f"unknown tables staged: {[*self.staged, *self.unreferenced]}")

    def _run(self, write: Write) -> None:
        (self.writes.submit if self.writes is not None else _now)(write)

    def _write(
        self,
        connection: Connection,
        table: Table,
        rows: list[Staged],
        actor: audit.Actor,
    ) -> None:
        # One write per set of keys: every row of a write binds the same columns.
        by_keys: dict[tuple[str, ...], list[Staged]] = {}
        references = _foreign_keys(table)
        for row in rows:
            _resolve_references(row.values, references)
            by_keys.setdefault(tuple(row.values), []).append(row)
        for group in by_keys.values():
            params = [row.values for row in group]
            if "id" in table.c:
                ids = self._insert_returning_ids(connection, table, params)
                for row, new_id in zip(group, ids, strict=True):
                    row.id = new_id
            else:
                _insert_many(connection, table, params, run=self._run)
        model = rows[0].model
        if isinstance(model, type) and issubclass(model, audit.Audited):
            records = audit.created_columns(model, rows, actor)
            # Their changes come serialised (as the JSON column would): no second pass.
            _insert_columns(
                connection,
                audit.AuditRecord.__table__,  # type: ignore[arg-type]
                records,
                serialised=("changes",),
                run=self._run,
            )

    def _insert_returning_ids(
        self, connection: Connection, table: Table, params: list[dict[str, Any]]
    ) -> list[int]:
        """The new ids, in the order of ``params``."""
        if "id" in params[0]:
            _insert_many(connection, table, params, run=self._run)
            return [p["id"] for p in params]
        # What follows reads from the connection: the writes before must be done (on
        # SQLite, the largest id is only known once every earlier row is in).
        if self.writes is not None:
            self.writes.wait()
        dialect = connection.dialect.name
        if dialect == "postgresql" and (
            sequence := connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.fullname}
            )
        ):
            # The ids drawn from the table's sequence first, then the rows copied with them.
            drawn = connection.scalars(
                text("SELECT nextval(:sequence) FROM generate_series(1, :n)"),
                {"sequence": sequence, "n": len(params)},
            )
            ids = sorted(drawn)
        elif dialect == "sqlite":
            # SQLite cannot keep RETURNING in parameter order but one row at a time. The
            # first row gets the table's largest id plus one; from this write to the commit,
            # SQLite's database-wide write lock keeps every other connection from
            # inserting, so the ids that follow are free: the other rows are given them.
            first = connection.execute(insert(table).returning(table.c.id), params[0]).scalar_one()
            ids = list(range(first, first + len(params)))
            params = params[1:]
        else:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list(connection.execute(statement, params).scalars())
        given = ids[len(ids) - len(params) :]
        for p, i in zip(params, given, strict=True):
            p["id"] = i  # the staged row's own values: its id is known from here on
        _insert_many(connection, table, params, run=self._run)
        return ids


def _insert_many(
    connection: Connection,
    table: Table,
    params: list[dict[str, Any]],
    serialised: Sequence[str] = (),
    run: Callable[[Write], None] = _now,
) -> None:
    """Rows (all with the keys of the first) written without RETURNING, in bulk.

    The values are converted here, column by column, by each column type's own bind
    processor (``serialised`` columns hold values converted already): SQLAlchemy's
    executemany rebuilds and checks a parameter dict per row, and the drivers then parse
    the statement again, which together cost more than the database's insert. A column
    converts each distinct date, timestamp or enum member once: an import's rows share
    them. PostgreSQL receives the rows by COPY. SQLite gets multi-row INSERTs rather than
    the driver's executemany (one statement per row): a full-text index kept by a
    trigger writes its pending terms at the end of every statement.

    The statements and their values are prepared here; ``run`` executes them (now, or in
    the background: :class:`BackgroundWrites`)."""
    if params:
        values = {key: [row[key] for row in params] for key in params[0]}
        _insert_columns(connection, table, values, serialised, run)


def _insert_columns(
    connection: Connection,
    table: Table,
    values: dict[str, list[Any]],
    serialised: Sequence[str] = (),
    run: Callable[[Write], None] = _now,
) -> None:
    """:func:`_insert_many` for rows given as columns: each key's values, row by row."""
    rows = len(next(iter(values.values()), ()))
    if not rows:
        return
    dialect = connection.dialect
    keys = list(values)
    if (
        dialect.name not in ("sqlite", "postgresql")
        or any(key not in table.c for key in keys)
        # A default computed in Python for a column not given: SQLAlchemy computes it.
        or any(c.default is not None and c.key not in values for c in table.c)
    ):
        params = [dict(zip(keys, row, strict=True)) for row in zip(*values.values(), strict=True)]
        run(partial(connection.execute, insert(table), params))
        return
    columns = [table.c[key] for key in keys]
    converted = [
        _convert_column(
            values[key],
            None if key in serialised else c.type.dialect_impl(dialect).bind_processor(dialect),
            not isinstance(c.type, JSON),
        )
        for key, c in zip(keys, columns, strict=True)
    ]
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(c.name) for c in columns)
    if dialect.name == "postgresql":
        copy_sql = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
        driver = connection.connection.driver_connection  # in this transaction
        run(partial(_copy, driver, copy_sql, converted))
        return
    head = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES "
    one_row = f"({', '.join('?' * len(keys))})"
    per_statement = max(
        1,
        min(
            dialect.insertmanyvalues_page_size, dialect.insertmanyvalues_max_parameters // len(keys)
        ),
    )
    full = head + ", ".join([one_row] * per_statement)
    statements = []
    for start in range(0, rows, per_statement):
        end = start + per_statement
        flat = tuple(chain.from_iterable(zip(*(c[start:end] for c in converted), strict=True)))
        n = min(end, rows) - start
        sql = full if n == per_statement else head + ", ".join([one_row] * n)
        statements.append((sql, flat))
    run(partial(_execute_all, connection.connection.driver_connection, statements))


def _copy(driver: Any, copy_sql: str, columns: list[list[Any]]) -> None:
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)


def _execute_all(driver: Any, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    # On the driver's cursor: the statements and their values are final.
    cursor = driver.cursor()
    try:
        for sql, values in statements:
            cursor.execute(sql, values)
    finally:
        cursor.close()


_MISSING = object()


def _convert_column(
    values: list[Any], process: Callable[[Any], Any] | None, may_share: bool
) -> list[Any]:
    """One column's values as the driver takes them."""
    if process is None:
        return values
    kinds = {type(v) for v in values} - {type(None)}
    (kind,) = kinds if len(kinds) == 1 else (None,)
    if not may_share or kind is None or not issubclass(kind, date | enum.Enum):
        return [None if v is None else process(v) for v in values]
    # One kind of value (equal values convert alike), most of them repeated.
    done: dict[Any, Any] = {}
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        result = done.get(v, _MISSING)
        if result is _MISSING:
            result = done[v] = process(v)
        out.append(result)
    return out
