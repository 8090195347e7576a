"""Rows found by a unique key, or added: safe when two transactions add the same one at
the same moment (two technicians typing the same new supplier, two imports of one file).

A read, then an INSERT, is not enough: both transactions read "absent", both insert, and
the second fails on the unique key when the first commits. Here the INSERT says ON
CONFLICT DO NOTHING on that key: the second waits for the first to commit (PostgreSQL;
SQLite lets one writer at a time anyway), inserts nothing, and reads the row the first
added. Its change-log record is written by whichever transaction really inserted it, in
that transaction, and only then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from inventory.core import audit
from inventory.core.db import conflict_insert

# The rows of one IN (…) read of keys: well under SQLite's limit of bound parameters.
_READ_CHUNK = 400


def find_or_add(
    session: Session,
    model: type[audit.Audited],
    key: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> dict[tuple[Any, ...], int]:
    """The id of each row of ``model`` whose ``key`` columns (those of one of its unique
    constraints) have the values of one of ``rows``: added with the rows' values when
    absent. ``rows`` give every column a new row needs (what they give is what its
    change-log record says); keyed by their ``key`` values, as a tuple. Meant for rows
    the caller found absent: each one present already costs an INSERT that does
    nothing."""
    table = model.__table__  # type: ignore[attr-defined]
    wanted = {tuple(row[k] for k in key): row for row in rows}
    if not wanted:
        return {}
    # Written first: the callers pass the rows they found absent, so the INSERT is what
    # usually happens; only the rows it skipped (there already) are read afterwards.
    stmt = (
        conflict_insert(session, table)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(table.c.id, *(table.c[k] for k in key))
    )
    found = {tuple(r[1:]): r[0] for r in session.execute(stmt, list(wanted.values()))}
    audit.log_created(session, model, [(i, wanted[k]) for k, i in found.items()])
    # There already, or added meanwhile by another transaction, now committed: as it is.
    if there := [k for k in wanted if k not in found]:
        found.update(_ids_of(session, table, key, there))
    return found


def _ids_of(
    session: Session, table: Any, key: Sequence[str], keys: list[tuple[Any, ...]]
) -> dict[tuple[Any, ...], int]:
    columns = [table.c[k] for k in key]
    found: dict[tuple[Any, ...], int] = {}
    for start in range(0, len(keys), _READ_CHUNK):
        chunk = keys[start : start + _READ_CHUNK]
        stmt = select(table.c.id, *columns).where(tuple_(*columns).in_(chunk))
        found.update({tuple(r[1:]): r[0] for r in session.execute(stmt)})
    return found
