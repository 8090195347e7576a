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

import enum
from collections.abc import Callable, Sequence
from datetime import date
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
        value = values.get(key)
        # The exact type first: most values are plain ids, and an import has millions.
        if type(value) is not int and isinstance(value, Staged | Base):
            if value.id is None:
                raise RuntimeError("a staged row references a row that is not written yet")
            values[key] = value.id


_FOREIGN_KEYS: dict[Table, tuple[str, ...]] = {}


def _foreign_keys(table: Table) -> tuple[str, ...]:
    """The columns of ``table`` that may be given a staged row or an ORM object."""
    if table not in _FOREIGN_KEYS:
        _FOREIGN_KEYS[table] = tuple(c.key for c in table.c if c.foreign_keys)
    return _FOREIGN_KEYS[table]


class BulkInsert:
    """Stage rows with :meth:`add`, write them all with :meth:`flush` (parents first)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.staged: dict[Table, list[Staged]] = {}

    def add(self, model: type[Base] | Table, **values: Any) -> Staged:
        row = Staged(model, values)
        table = model if isinstance(model, Table) else model.__table__
        self.staged.setdefault(table, []).append(row)  # type: ignore[arg-type]
        return row

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.staged.values())

    def flush(self) -> None:
        if not self.staged:
            return
        connection = self.session.connection()
        actor = audit.current_actor()
        # sorted_tables puts every table after the tables its foreign keys point to.
        for table in Base.metadata.sorted_tables:
            rows = self.staged.pop(table, None)
            if rows:
                self._write(connection, table, rows, actor)
        if self.staged:  # a table outside the metadata: a programming error
            raise RuntimeError(f"unknown tables staged: {list(self.staged)}")

    def _write(
        self, connection: Connection, table: Table, rows: list[Staged], actor: audit.Actor
    ) -> None:
        # One write per set of keys: every row of a write binds the same columns.
        by_keys: dict[tuple[str, ...], list[Staged]] = {}
        references = _foreign_keys(table)
        for row in rows:
            _resolve_references(row.values, references)
            by_keys.setdefault(tuple(row.values), []).append(row)
        has_id = "id" in table.c
        for group in by_keys.values():
            params = [row.values for row in group]
            if has_id:
                ids = self._insert_returning_ids(connection, table, params)
                for row, new_id in zip(group, ids, strict=True):
                    row.id = new_id
            else:
                _insert_many(connection, table, params)
        model = rows[0].model
        if isinstance(model, type) and issubclass(model, audit.Audited):
            records = audit.created_records(model, rows, actor)
            # Their changes come serialised (as the JSON column would): no second pass.
            _insert_many(
                connection,
                audit.AuditRecord.__table__,  # type: ignore[arg-type]
                records,
                serialised=("changes",),
            )

    @staticmethod
    def _insert_returning_ids(
        connection: Connection, table: Table, params: list[dict[str, Any]]
    ) -> list[int]:
        """The new ids, in the order of ``params``."""
        if "id" in params[0]:
            _insert_many(connection, table, params)
            return [p["id"] for p in params]
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
        _insert_many(connection, table, params)
        return ids


def _insert_many(
    connection: Connection,
    table: Table,
    params: list[dict[str, Any]],
    serialised: Sequence[str] = (),
) -> None:
    """Rows (all with the keys of the first) written without RETURNING, in bulk.

    The values are converted here, column by column, by each column type's own bind
    processor (``serialised`` columns hold values converted already): SQLAlchemy's
    executemany rebuilds and checks a parameter dict per row, and the drivers then parse
    the statement again, which together cost more than the database's insert. A column
    converts each distinct date, timestamp or enum member once: an import's rows share
    them. PostgreSQL receives the rows by COPY. SQLite gets multi-row INSERTs rather than
    the driver's executemany (one statement per row): a full-text index kept by a
    trigger writes its pending terms at the end of every statement."""
    if not params:
        return
    dialect = connection.dialect
    keys = list(params[0])
    if (
        dialect.name not in ("sqlite", "postgresql")
        or any(key not in table.c for key in keys)
        # A default computed in Python for a column not given: SQLAlchemy computes it.
        or any(c.default is not None and c.key not in params[0] for c in table.c)
    ):
        connection.execute(insert(table), params)
        return
    columns = [table.c[key] for key in keys]
    converted = [
        _convert_column(
            [row[key] for row in params],
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
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
            for row in zip(*converted, strict=True):
                copy.write_row(row)
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
    for start in range(0, len(params), per_statement):
        end = start + per_statement
        values = tuple(chain.from_iterable(zip(*(c[start:end] for c in converted), strict=True)))
        n = min(end, len(params)) - start
        sql = full if n == per_statement else head + ", ".join([one_row] * n)
        connection.exec_driver_sql(sql, values)


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
