"""Declarative base, constraint naming convention, portable column types, and the
multi-row insert that bulk writes and the change log share (:func:`insert_rows`)."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData, Table, bindparam, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here is mapped to a Table (none to a join or a subquery), so its
        # ``__table__`` has ``insert``/``update``/``delete`` and ``c`` of Columns.
        __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# The moment the services stamp their records with, when one is set (the demo tells its
# story at the dates it happened); else the clock's.
_moment: ContextVar[datetime | None] = ContextVar("stamped_moment", default=None)


def utcnow() -> datetime:
    return _moment.get() or datetime.now(UTC)


@contextmanager
def stamped_at(moment: datetime) -> Iterator[datetime]:
    """Stamp what is recorded in this context (creation times, lifecycle steps, change-log
    records…) with ``moment`` instead of now."""
    token = _moment.set(moment.astimezone(UTC))
    try:
        yield moment
    finally:
        _moment.reset(token)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column storing the members' values as strings."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


# PostgreSQL: how many parameters one multi-row INSERT of :func:`insert_rows` binds.
PARAMS_PER_INSERT = 500


def insert_rows(
    conn: Session | Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (dicts of the same keys) into ``table`` in the caller's transaction.

    SQLite: one executemany of the INSERT, the driver's cheapest path. PostgreSQL: the
    rows grouped a few dozen to a multi-row INSERT, the groups sent in one executemany
    (the rest row by row): psycopg pipelines one prepared statement over them, so what
    every execution costs the driver and the server is paid once a group, not once a row.
    (SQLAlchemy's "insertmanyvalues" renders a new statement of thousands of parameters
    for each batch instead, which psycopg parses anew each time: slower than row by row.)
    """
    if not rows:
        return
    dialect = conn.dialect if isinstance(conn, Connection) else conn.get_bind().dialect
    keys = tuple(rows[0])
    per = max(1, PARAMS_PER_INSERT // len(keys))
    if dialect.name != "postgresql" or len(rows) < 2 * per:
        conn.execute(insert(table), rows)
        return
    names = [[f"{key}__{i}" for key in keys] for i in range(per)]
    types = [table.c[key].type for key in keys]
    grouped = insert(table).values(
        [
            {key: bindparam(name, type_=t) for key, name, t in zip(keys, row, types, strict=True)}
            for row in names
        ]
    )
    full = len(rows) - len(rows) % per
    params = []
    for start in range(0, full, per):
        group: dict[str, Any] = {}
        for row, row_names in zip(rows[start : start + per], names, strict=True):
            group.update(zip(row_names, [row[key] for key in keys], strict=True))
        params.append(group)
    conn.execute(grouped, params)
    if full < len(rows):
        conn.execute(insert(table), rows[full:])
