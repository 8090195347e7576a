"""Rows staged as plain values and written table by table with SQLAlchemy's bulk insert,
with their change-log records, in the caller's transaction. On SQLite,
``insert(...).returning(...)``: a few multi-row statements, ids matched back by the
columns that tell the rows apart, or read back in the rows' order where none does. On
PostgreSQL, the ids are drawn from the table's sequence first and the rows sent with
them (:func:`inventory.core.db.insert_rows`: one executemany of the table's INSERT).

The registry import creates tens of thousands of académies, communes, schools; an
object per row in the unit of work would cost most of its time. Staged rows keep the two
guarantees the unit of work gives: foreign keys between new rows resolve (a staged row
may reference another staged row, or an ORM object), and every created row of an audited
model has its change-log record (:func:`inventory.core.audit.log_created`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from inventory.core import audit
from inventory.core.db import Base, insert_rows


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


def _id_of(value: Any) -> Any:
    """A foreign key's value: the id of a staged row or ORM object, else the value."""
    if isinstance(value, Staged | Base):
        row: Any = value  # every model a foreign key points to has an integer ``id``
        if row.id is None:
            raise RuntimeError("a staged row references a row that is not written yet")
        return row.id
    return value


def _table_of(model: type[Base] | Table) -> Table:
    return model if isinstance(model, Table) else model.__table__


def _foreign_keys(table: Table) -> Sequence[str]:
    """The columns of ``table`` that may be given a staged row or an ORM object."""
    return [c.key for c in table.c if c.foreign_keys]


# Column types whose values come back from RETURNING equal to what was sent (no rounding,
# no parsing): the ones a row may be matched back by.
_MATCHABLE = (Integer, String, Date, Boolean, Enum)


def _natural_key(
    table: Table, given: tuple[str, ...], params: list[dict[str, Any]]
) -> tuple[str, ...] | None:
    """Columns that tell apart the rows of one statement, to match the ids it returns back
    to them: a unique constraint or index the rows fill, else all the rows' plain columns,
    when no two rows of the statement repeat them (RETURNING returns only its own rows)."""
    candidates = [
        tuple(c.key for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ] + [tuple(c.key for c in index.columns) for index in table.indexes if index.unique]
    candidates.append(tuple(k for k in given if isinstance(table.c[k].type, _MATCHABLE)))
    for names in candidates:
        if names and set(names) <= set(given):
            keys = {tuple(p[name] for name in names) for p in params}
            if len(keys) == len(params):
                return names
    return None


class BulkInsert:
    """Stage rows with :meth:`add` (or, as columns, :meth:`add_columns`), write them all
    with :meth:`flush` (parents first)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.staged: dict[Table, list[Staged]] = {}
        self.unreferenced: dict[Table, list[dict[str, Any]]] = {}

    def add(self, model: type[Base] | Table, **values: Any) -> Staged:
        row = Staged(model, values)
        self.staged.setdefault(_table_of(model), []).append(row)
        return row

    def add_columns(self, model: type[Base] | Table, **columns: list[Any]) -> None:
        """Rows no other row references and whose ids are not wanted, given column by
        column (each key's values, row by row; foreign keys may be staged rows): written
        after the staged rows."""
        if len({len(values) for values in columns.values()}) > 1:
            raise ValueError("columns of unequal lengths")
        if isinstance(model, type) and issubclass(model, audit.Audited):
            raise TypeError("an audited row's change-log record needs its id: use add()")
        rows = [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]
        self.unreferenced.setdefault(_table_of(model), []).extend(rows)

    def __len__(self) -> int:
        return sum(map(len, self.staged.values())) + sum(map(len, self.unreferenced.values()))

    def flush(self) -> None:
        # sorted_tables puts every table after the tables its foreign keys point to.
        for table in Base.metadata.sorted_tables:
            if rows := self.staged.pop(table, None):
                self._write(table, rows)
        for table in Base.metadata.sorted_tables:
            if params := self.unreferenced.pop(table, None):
                keys = _foreign_keys(table)
                for p in params:
                    for key in keys:
                        if key in p:
                            p[key] = _id_of(p[key])
                insert_rows(self.session, table, params)
        if self.staged or self.unreferenced:  # a table outside the metadata: a mistake
            raise RuntimeError(f"unknown tables staged: {[*self.staged, *self.unreferenced]}")

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _new_ids(self, table: Table, count: int) -> list[int]:
        """``count`` new ids from the sequence of ``table``'s id (PostgreSQL), in one query."""
        sequence = func.pg_get_serial_sequence(table.name, "id")
        drawn = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        # As one array: a row of the result each would cost more than the query.
        ids = self.session.scalar(select(func.array(drawn.scalar_subquery())))
        return cast(list[int], ids)

    def _write(self, table: Table, rows: list[Staged]) -> None:
        keys = _foreign_keys(table)
        for row in rows:
            for key in keys:
                if key in row.values:
                    row.values[key] = _id_of(row.values[key])
        if "id" in table.c and self._dialect() == "postgresql":
            # The ids drawn from the table's sequence in one query, then the rows sent
            # with them by insert_rows (RETURNING would make SQLAlchemy render a new
            # INSERT of thousands of parameters a batch, each parsed anew: slower).
            for row, new_id in zip(rows, self._new_ids(table, len(rows)), strict=True):
                row.id = row.values["id"] = new_id
        # One statement per set of keys: every row of an executemany binds the same ones.
        by_keys: dict[tuple[str, ...], list[Staged]] = {}
        for row in rows:
            by_keys.setdefault(tuple(row.values), []).append(row)
        for key_names, group in by_keys.items():
            params = [row.values for row in group]
            if "id" not in table.c or "id" in key_names:
                insert_rows(self.session, table, params)
                continue
            natural = _natural_key(table, key_names, params)
            if natural:
                # Ids matched back by the rows' natural key: the statements stay multi-row
                # on every engine (SQLite cannot return ids in the rows' order, so asking
                # for that order sends one INSERT a row there).
                columns = [table.c[name] for name in natural]
                found = self.session.execute(insert(table).returning(table.c.id, *columns), params)
                by_key = {tuple(r[1:]): r[0] for r in found}
                for row in group:
                    row.id = by_key[tuple(row.values[name] for name in natural)]
                continue
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids = self.session.execute(stmt, params).scalars().all()
            for row, new_id in zip(group, ids, strict=True):
                row.id = new_id
        model = rows[0].model
        if isinstance(model, type) and issubclass(model, audit.Audited):
            # An audited model has an ``id`` column: every row's id was read back above.
            written = [(cast(int, row.id), row.values) for row in rows]
            audit.log_created(self.session, model, written)
