"""Domain errors raised by services, and the commit that turns a lost race into one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError


class DomainError(Exception):
    """A rule refused a change; ``message`` is translated and shown to the user."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """Someone else saved the record since it was loaded (answered with 409)."""


def commit(session: Session, conflict: ConflictError) -> None:
    """Commit; when a versioned row was saved by someone else meanwhile (the ORM's
    version check), roll back and raise ``conflict``, worded for what was being saved."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise conflict from None
