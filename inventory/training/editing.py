"""Who may change a session, and how a change is saved.

Every write needs ``Action.TRAIN`` and *all* the session's schools in the user's scope (a
session shared with a school out of scope is readable, not editable). Sessions are
optimistically locked (:mod:`inventory.core.versioning`): a save names the version it was
loaded with, and any write, even one touching only linked rows, moves the version on.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.core import errors, policy, versioning
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


def stale_form() -> ConflictError:
    """A session saved by someone else since the form was loaded."""
    return ConflictError(
        _l(
            "Someone else saved this session while you were editing it. Nothing was "
            "saved: your entries are kept below, check them against the saved session "
            "and save again."
        )
    )


def lost_race() -> ConflictError:
    """A session found saved by someone else while this change was being written."""
    return ConflictError(
        _l("Someone else saved this session at the same moment. Reload it and try again.")
    )


def commit(session: Session) -> None:
    versioning.commit(session, lost_race())
