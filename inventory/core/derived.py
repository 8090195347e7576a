"""Stale marks: which derived data a business change has made out of date.

Derived data (the dashboards' summary tables, say) is kept in the database, so that every
worker reads the same copy. What keeps it honest is a mark written *in the same
transaction* as the change that makes it stale: a row of :class:`StaleMark` naming a kind
of key (``"school"``, ``"dossier"``…, chosen by the domain that keeps the data) and the key
(None: every key of that kind). The domain that keeps the data reads the marks, refreshes
what they name and deletes the marks it read, by id: a mark written meanwhile by a
transaction that commits later stays for the next refresh.

Domains say which of their models' changes mark what, once at start-up:

- :func:`watch` a mapped class: after each flush, every new, changed or deleted object of
  that class gives its marks (a function of the object and of what happened to it, which
  may read the attributes' history, see :func:`before`);
- :func:`watch_rows` a table: rows inserted outside the unit of work (bulk writes,
  ``session.execute(insert(...), rows)``) give their marks from their columns' values. The
  ORM's own inserts of that table are seen there too, so :func:`watch` need not mark new
  objects of such a class.

``core`` knows nothing of the domains: the registry is filled by them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column
from sqlalchemy.sql.dml import Insert

from inventory.core.db import Base, UTCDateTime, utcnow

Mark = tuple[str, int | None]
# What happened to an object in a flush.
CREATE, UPDATE, DELETE = "create", "update", "delete"
# (object, what happened to it) → its marks.
Marker = Callable[[Any, str], Iterable[Mark]]


class StaleMark(Base):
    """Derived data of ``kind`` keyed ``key`` (None: all of that kind) is out of date."""

    __tablename__ = "stale_marks"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    key: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_watched: dict[type, list[Marker]] = {}
# The registry's lookups by class, filled as classes are met (emptied by each watch).
_markers_of: dict[type, list[Marker]] = {}
# Per table: (column, kind) pairs; a row marks (kind, its value in column).
_watched_rows: dict[str, list[tuple[str, str]]] = {}
# The classes whose inserts are seen by their table's watch (not again by the flush's).
_inserts_seen: set[type] = set()


def watch(model: type, marker: Marker) -> None:
    """After every flush, each new, changed or deleted ``model`` object gives its marks."""
    _watched.setdefault(model, []).append(marker)
    _markers_of.clear()


def watch_rows(table: Table | Any, columns: dict[str, str], model: type | None = None) -> None:
    """Rows inserted into ``table`` mark (kind, value) for each ``column: kind`` given (a
    NULL value marks nothing); a row that leaves such a column out, as an INSERT … SELECT
    does, marks (kind, None). ``model``, when given, is the
    mapped class of the table: its new objects are then left to this watch."""
    name = table.name if isinstance(table, Table) else table.__tablename__
    _watched_rows.setdefault(name, []).extend(columns.items())
    if model is not None:
        _inserts_seen.add(model)


def before(obj: Any, attr: str) -> list[Any]:
    """The values ``attr`` had before this flush's change to it (empty if unchanged)."""
    history = attributes.get_history(obj, attr, passive=attributes.PASSIVE_NO_INITIALIZE)
    return [v for v in history.deleted if v is not None]


def write(connection: Connection, marks: Iterable[Mark]) -> None:
    """Write these marks in the connection's transaction (the same as the change)."""
    now = utcnow()
    rows = [{"kind": k, "key": key, "at": now} for k, key in sorted(set(marks), key=_order)]
    if rows:
        connection.execute(insert(StaleMark), rows)


def _order(mark: Mark) -> tuple[str, int]:
    return mark[0], -1 if mark[1] is None else mark[1]


def _markers(cls: type) -> list[Marker]:
    """The markers of a class and of its bases (a flush may hold thousands of objects of a
    few classes: looked up once per class)."""
    found = _markers_of.get(cls)
    if found is None:
        found = _markers_of[cls] = [m for klass in cls.__mro__ for m in _watched.get(klass, ())]
    return found


@event.listens_for(Session, "after_flush")
def _mark_after_flush(session: Session, flush_context: Any) -> None:
    marks: set[Mark] = set()
    for objs, change in (
        (session.new, CREATE),
        (session.dirty, UPDATE),
        (session.deleted, DELETE),
    ):
        for obj in objs:
            cls = type(obj)
            if change == CREATE and cls in _inserts_seen:
                continue
            for marker in _markers(cls):
                marks.update(marker(obj, change))
    if marks:
        write(session.connection(), marks)


@event.listens_for(Engine, "after_execute")
def _mark_inserted_rows(
    conn: Connection,
    clauseelement: Any,
    multiparams: Any,
    params: Any,
    execution_options: Any,
    result: Any,
) -> None:
    if not _watched_rows or not isinstance(clauseelement, Insert):
        return
    table = clauseelement.table
    watched = _watched_rows.get(getattr(table, "name", ""))
    if not watched:
        return
    # Each row's values as bound (an INSERT … SELECT has none: it marks every key).
    rows = getattr(result.context, "compiled_parameters", None) or [{}]
    marks: set[Mark] = set()
    for column, kind in watched:
        for row in rows:
            if column not in row:
                marks.add((kind, None))
            elif row[column] is not None:
                marks.add((kind, row[column]))
    write(conn, marks)
