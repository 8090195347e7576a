"""Optimistic locking, declared once for every record that several people edit.

A versioned record carries ``version`` (:class:`Versioned`), which moves on at every save:
the ORM's UPDATE names the version it read and finds no row when someone saved first.
Three pieces turn that into the record's conflict message, never an error page:

- :func:`check_version`, the one check a save makes before changing anything: it claims
  the record at the version the user's form was loaded with, in one UPDATE that both
  compares and locks (PostgreSQL keeps the row locked until the commit, SQLite its write
  lock), so that a second save made at the same instant waits, then finds the version
  moved on and gets the conflict;
- :func:`guarded`, around a whole service call: wherever the ORM flushes a record someone
  else saved meanwhile (an autoflush while a collection loads, an explicit flush, the
  commit), the caller gets the domain's conflict, the session rolled back;
- :func:`commit`, the guarded commit of a service that is not guarded as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Integer, inspect, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from inventory.core.errors import ConflictError

P = ParamSpec("P")
R = TypeVar("R")


class Versioned:
    """Mixin of an optimistically locked model: ``version`` is 1 when the row is created
    and the ORM's version counter (``version_id_col``)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def check_version(obj: Versioned, expected: int | None, conflict: ConflictError) -> None:
    """Claim ``obj`` for this transaction, at ``expected`` (the version the user's form was
    loaded with; None when the caller holds no form: the version loaded here), or raise
    ``conflict``.

    Call it before changing anything. The claim is ``UPDATE … SET version = version + 1
    WHERE id = … AND version = …``: it checks through the UPDATE's own version clause,
    and it locks what it read until the commit, so the rest of the save cannot meet a
    stale row. It also moves the version on, so that any save, even one that only adds
    a linked row (a ticket's message, a session's attendees), gives a new version.
    """
    state = inspect(obj)
    session = state.session
    if session is None or state.identity is None:
        raise ValueError("check_version needs a record loaded in a session")
    mapper = state.mapper
    column = mapper.version_id_col
    key = mapper.get_property_by_column(column).key
    with session.no_autoflush:
        loaded = getattr(obj, key)
        if expected is not None and expected != loaded:
            raise conflict
        where = [c == v for c, v in zip(mapper.primary_key, state.identity, strict=True)]
        result = cast(
            CursorResult[Any],
            session.execute(
                update(column.table).where(*where, column == loaded).values({column: loaded + 1})
            ),
        )
    if result.rowcount != 1:
        raise conflict
    # What the database now holds, without a change of its own for the ORM (nor the
    # change log) to write: the ORM's own UPDATE, if any, will name this version.
    set_committed_value(obj, key, loaded + 1)


@contextmanager
def conflicts_as(session: Session, conflict: Callable[[], ConflictError]) -> Iterator[None]:
    """Inside, a record found saved by someone else (the ORM's StaleDataError, at any
    flush) rolls the session back and raises ``conflict()``."""
    try:
        yield
    except StaleDataError:
        session.rollback()
        raise conflict() from None


def guarded(
    conflict: Callable[[], ConflictError],
) -> Callable[[Callable[Concatenate[Session, P], R]], Callable[Concatenate[Session, P], R]]:
    """Run a service (its session first) inside :func:`conflicts_as`: the whole call,
    reads included, so that no autoflush can escape as a server error."""

    def decorate(
        service: Callable[Concatenate[Session, P], R],
    ) -> Callable[Concatenate[Session, P], R]:
        @wraps(service)
        def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with conflicts_as(session, conflict):
                return service(session, *args, **kwargs)

        return run

    return decorate


def commit(session: Session, conflict: ConflictError) -> None:
    """Commit; when a versioned row was saved by someone else meanwhile, roll back and
    raise ``conflict``, worded for what was being saved."""
    with conflicts_as(session, lambda: conflict):
        session.commit()
