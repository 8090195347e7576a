"""Bulk inserts for imports: rows staged as plain values, written table by table in one
multi-row INSERT each, with their change-log records, in the caller's transaction.

The ORM's unit of work builds, tracks and cascades an object per row; an import creating
tens of thousands of schools or assets spends most of its time there. Staged rows skip all
of it, yet keep the two guarantees the ORM path gives: foreign keys between new rows
resolve (a staged row may reference another staged row), and every created row of an
audited model has its change-log record in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
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


def _key(value: Any) -> Any:
    """A foreign-key value: an id, or the id of a staged row or an ORM object."""
    if type(value) in audit.SCALAR_TYPES:
        return value
    if isinstance(value, Staged | Base):
        if value.id is None:
            raise RuntimeError("a staged row references a row that is not written yet")
        return value.id
    return value


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

    def _write(self, connection: Any, table: Table, rows: list[Staged], actor: audit.Actor) -> None:
        # One INSERT per set of keys: an executemany binds the same columns in every row.
        by_keys: dict[tuple[str, ...], list[Staged]] = {}
        for row in rows:
            object.__setattr__(row, "values", {k: _key(v) for k, v in row.values.items()})
            by_keys.setdefault(tuple(row.values), []).append(row)
        has_id = "id" in table.c
        for group in by_keys.values():
            params = [row.values for row in group]
            if has_id:
                ids = self._insert_returning_ids(connection, table, params)
                for row, new_id in zip(group, ids, strict=True):
                    row.id = new_id
            else:
                connection.execute(insert(table), params)
        model = rows[0].model
        if isinstance(model, type) and issubclass(model, audit.Audited):
            records = [audit.created_record(model, row.id, row.values, actor) for row in rows]
            connection.execute(insert(audit.AuditRecord.__table__), records)

    @staticmethod
    def _insert_returning_ids(
        connection: Any, table: Table, params: list[dict[str, Any]]
    ) -> list[int]:
        """The new ids, in the order of ``params``, from multi-row INSERTs."""
        if connection.dialect.name != "sqlite":
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list(connection.execute(statement, params).scalars())
        # SQLite can only keep RETURNING in parameter order by inserting one row at a time.
        # It gives the rows of a multi-row INSERT the next rowids in turn, under its
        # database-wide write lock, so the sorted ids are in parameter order.
        statement = insert(table).returning(table.c.id)
        return sorted(connection.execute(statement, params).scalars())
