"""Who may change a session, and how a change is saved.

Every write needs ``Action.TRAIN`` and *all* the session's schools in the user's scope (a
session shared with a school out of scope is readable, not editable). Sessions are
optimistically locked: a save names the version it was loaded with, and any write, even
one touching only linked rows, moves the version on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Table, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from inventory.core import errors, policy
from inventory.core.errors import DomainError
from inventory.core.policy import Action, Subject
from inventory.orgs.models import Ecole
from inventory.training.models import TrainingSession


class TrainingError(DomainError):
    pass


class ConflictError(TrainingError, errors.ConflictError):
    """Someone else saved the session since it was loaded."""


def require_train(user: Subject) -> None:
    if not policy.allowed(user, Action.TRAIN):
        raise policy.Denied()


def _visible_school_count(session: Session, user: Subject, ids: Iterable[int]) -> int:
    ids = set(ids)
    if not ids:
        return 0
    stmt = select(func.count(Ecole.id)).where(Ecole.id.in_(ids), policy.condition(user, Ecole))
    return session.scalar(stmt) or 0


def may_edit(session: Session, user: Subject, ts: TrainingSession) -> bool:
    """Trainers (and admins) edit a session when every one of its schools is in scope."""
    if not policy.allowed(user, Action.TRAIN):
        return False
    ids = {e.id for e in ts.schools}
    return bool(ids) and _visible_school_count(session, user, ids) == len(ids)


def require_editable(session: Session, user: Subject, ts: TrainingSession) -> None:
    if not may_edit(session, user, ts):
        raise policy.Denied()


def check_version(loaded: int | None, ts: TrainingSession) -> None:
    if loaded is None or loaded != ts.version:
        raise ConflictError(
            _l(
                "Someone else saved this session while you were editing it. Nothing was "
                "saved: your entries are kept below, check them against the saved session "
                "and save again."
            )
        )


def claim(session: Session, ts: TrainingSession, loaded: int) -> None:
    """Bump the version if it is still the one the form was loaded with (compare-and-swap),
    so that any write, even one touching only linked rows, moves the version on."""
    table = cast(Table, TrainingSession.__table__)
    # An UPDATE's result is a CursorResult, which counts the rows it changed.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(table)
            .where(table.c.id == ts.id, table.c.version == loaded)
            .values(version=loaded + 1)
        ),
    )
    if result.rowcount != 1:
        session.rollback()
        check_version(None, ts)
    set_committed_value(ts, "version", loaded + 1)


def commit(session: Session) -> None:
    errors.commit(
        session,
        ConflictError(
            _l("Someone else saved this session at the same moment. Reload it and try again.")
        ),
    )
