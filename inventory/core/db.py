"""Declarative base, constraint naming convention and portable column types."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, Select
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase
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


def utcnow() -> datetime:
    return datetime.now(UTC)


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


class DriverQuery:
    """A fixed Core ``select`` run on the driver's own cursor, for the hottest reads.

    SQLAlchemy's execution path (cache key, parameters, result metadata) costs several
    times what the database takes to answer a read by a unique index. Here the statement
    is compiled once per dialect with its constant values written into the SQL and one
    parameter left to the driver; the rows are typed as SQLAlchemy would type them, by
    the result processors of the statement's column types.
    """

    _SLOT = "driver-query-parameter-slot"

    def __init__(self, statement: Select[Any], parameter: str | None = None) -> None:
        self.statement = statement
        self.parameter = parameter
        self._compiled: dict[str, tuple[str, list[tuple[int, Callable[[Any], Any]]]]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, list[tuple[int, Callable[[Any], Any]]]]:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        stmt = self.statement
        if self.parameter is not None:
            stmt = stmt.params({self.parameter: self._SLOT})
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if self.parameter is not None:
            quoted = f"'{self._SLOT}'"
            if sql.count(quoted) != 1:
                raise ValueError(f"parameter {self.parameter!r} must appear once")
            # A dialect whose driver reads "%s" writes a literal '%' as "%%" already.
            sql = sql.replace(quoted, "?" if dialect.paramstyle == "qmark" else "%s")
        processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None)
            for c in stmt.selected_columns
        ]
        typed = [(i, p) for i, p in enumerate(processors) if p is not None]
        self._compiled[dialect.name] = (sql, typed)
        return sql, typed

    def rows(self, cursor: Any, dialect: Dialect, value: Any = None) -> list[tuple[Any, ...]]:
        sql, typed = self._compile(dialect)
        cursor.execute(sql, () if self.parameter is None else (value,))
        raw = cursor.fetchall()
        if not typed:
            return [tuple(r) for r in raw]
        out = []
        for r in raw:
            row = list(r)
            for i, process in typed:
                if row[i] is not None:
                    row[i] = process(row[i])
            out.append(tuple(row))
        return out


@contextmanager
def driver_cursor(engine: Engine) -> Iterator[Any]:
    """A cursor of a pooled connection for reads, given back to the pool on exit.

    On PostgreSQL the reads run outside a transaction: a transaction would cost a BEGIN
    and a ROLLBACK, and the driver forgets its prepared statements at every rollback, so
    that a statement read again and again would be planned again every time."""
    connection = engine.raw_connection()
    driver = connection.driver_connection
    autocommit = engine.dialect.name == "postgresql" and not driver.autocommit  # type: ignore[union-attr]
    try:
        if autocommit:
            driver.autocommit = True  # type: ignore[union-attr]
        cursor = connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
    finally:
        try:
            if autocommit:
                driver.autocommit = False  # type: ignore[union-attr]
        finally:
            connection.close()
