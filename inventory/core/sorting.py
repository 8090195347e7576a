"""Sorting a list by one of its columns: each list declares its sortable columns once (a
:class:`SortSpec`), and the query string's ``sort`` (``tag``, or ``-tag`` for descending)
picks one of them.

A list is ordered by the key (whether the value is missing, the value, the row's id): the
id breaks ties, so that the order is total and the same at every request, and missing
values (NULL) come last in ascending order and first in descending order on every engine,
whatever its own habit (PostgreSQL puts NULLs last, SQLite first). :func:`after_key`
gives the rows that follow a key in that order, which key paging seeks from
(:func:`inventory.core.pagination.paginate_sorted`); :meth:`Sort.order_by` orders the
lists paged by number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, and_, case, or_


@dataclass(frozen=True)
class SortSpec:
    """The columns a list may be sorted by (the name the URL carries → its SQL value),
    its rows' id (the tie-break), and its own order when none is asked for (``default``:
    a column name, ``-name`` for descending; None: the list's own order)."""

    columns: Mapping[str, Any]
    id: Any
    default: str | None = None

    def read(self, value: str | None) -> Sort | None:
        """The sort a query string asks for; an unknown column is ignored (the list's
        default order), never an error: links outlive columns."""
        value = (value or self.default or "").strip()
        descending = value.startswith("-")
        name = value.removeprefix("-")
        if name not in self.columns:
            return None
        return Sort(self, name, descending)


@dataclass(frozen=True)
class Sort:
    """One column of a :class:`SortSpec`, ascending or descending."""

    spec: SortSpec
    name: str
    descending: bool = False

    @property
    def value(self) -> Any:
        return self.spec.columns[self.name]

    @property
    def arg(self) -> str:
        """The ``sort`` argument of this order."""
        return f"-{self.name}" if self.descending else self.name

    def order_by(self) -> list[Any]:
        """The ORDER BY of the key: missing last (ascending), the value, the id. A column
        that cannot be NULL orders by its value and the id alone: the same order, which an
        index on (value, id) gives without sorting the whole table at every page."""
        parts = [self.value, self.spec.id]
        if may_be_missing(self.value):
            parts.insert(0, self.value.is_(None))
        return [p.desc() for p in parts] if self.descending else [p.asc() for p in parts]

    def toggled(self, name: str) -> str:
        """The ``sort`` argument of a column's header link: that column ascending, or
        reversed when it is the one the list is sorted by."""
        if name == self.name:
            return name if self.descending else f"-{name}"
        return name

    def aria(self, name: str) -> str | None:
        """``aria-sort`` of a column's header: only on the column the list is sorted by."""
        if name != self.name:
            return None
        return "descending" if self.descending else "ascending"


def may_be_missing(value: Any) -> bool:
    """Whether a sort value may be NULL: any expression but a NOT NULL column."""
    column = getattr(value, "expression", value)
    return not (isinstance(column, Column) and not column.nullable)


def in_order_of(column: Any, values: Iterable[Any]) -> Any:
    """A sort value that follows ``values``' order (an enum's: a lifecycle), rather than
    the alphabetical order of their codes."""
    return case({v: n for n, v in enumerate(values)}, value=column)


def after_key(sort: Sort, value: Any, row_id: Any, *, reverse: bool = False) -> ColumnElement[bool]:
    """The rows that come after the key (``value``, ``row_id``) in ``sort``'s order (or
    before it, ``reverse``). Written without row-value comparisons, which SQLite and
    PostgreSQL read differently with NULLs: a missing value is its own case."""
    column, ids = sort.value, sort.spec.id
    forward = not sort.descending if not reverse else sort.descending
    if forward:  # ascending: values, then the missing ones
        if value is None:
            return and_(column.is_(None), ids > row_id)
        return or_(column.is_(None), column > value, and_(column == value, ids > row_id))
    # descending: the missing ones, then values
    if value is None:
        return or_(column.is_not(None), and_(column.is_(None), ids < row_id))
    return and_(column.is_not(None), or_(column < value, and_(column == value, ids < row_id)))


def headers(spec: SortSpec, sort: Sort | None) -> dict[str, dict[str, Any]]:
    """What the header links of a list need, per column: its ``sort`` argument and its
    ``aria-sort`` (the filters they carry are the list's own)."""
    current = sort or Sort(spec, "", False)
    return {
        name: {"sort": current.toggled(name), "aria": current.aria(name)} for name in spec.columns
    }
