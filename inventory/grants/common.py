"""What every grant use case shares: its errors, the policy check and commit that raise
them, the formatting of amounts and days (also used outside requests: CLI, PDF), and the
files kept with expenses and dossiers.

Every grant function takes the session and the acting user. Writes check
``policy.can(user, Action.FINANCE, obj, session)`` (schemes: ``Action.ADMIN``); reads go
through ``policy.visible``. A rule that refuses a change raises :class:`GrantError`
(translated message, and the form field it concerns); nothing is saved then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.core import errors, policy, uploads, versioning
from inventory.core.errors import DomainError
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage


class GrantError(DomainError):
    """A grant rule refused the change: a translated message, and the field it concerns."""


class ConflictError(GrantError, errors.ConflictError):
    """Someone else saved the dossier since it was loaded."""


def require(user: Subject, action: Action, obj: Any, session: Session) -> None:
    if not policy.can(user, action, obj, session):
        raise policy.Denied()


def lost_race() -> ConflictError:
    """Someone else's save met at the same instant (at a flush or the commit)."""
    return ConflictError(
        _l("Someone else saved this record at the same moment. Reload it and try again.")
    )


def stale_form() -> ConflictError:
    """The record moved on since the user's form was loaded."""
    return ConflictError(
        _l(
            "Someone else saved this record while you were editing it. Nothing was saved: "
            "your changes are shown below, check them against the current version and "
            "save again."
        )
    )


def commit(session: Session) -> None:
    versioning.commit(session, lost_race())


def money(cents: int | None) -> str:
    """1735000 → '17 350,00 €' in French, '17,350.00 €' in English."""
    if cents is None:
        return ""
    return format_decimal(Decimal(cents) / 100, format="#,##0.00") + "\u00a0€"


def percent(rate: Decimal) -> str:
    """0.70 → '70 %' in French, '70%' in English; 0.525 → '52,5 %'."""
    sign = "\u00a0%" if str(get_locale()).startswith("fr") else "%"
    return format_decimal(Decimal(rate) * 100, format="#,##0.##") + sign


def day(value: date | None) -> str:
    """A day as the pages show it: '14 janv. 2021' in French, 'Jan 14, 2021' in English."""
    return format_date(value, "medium") if value else ""


MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def accept_upload(upload: Upload, field_name: str) -> str:
    return uploads.accept(upload.data, FILE_TYPES, MAX_FILE_BYTES, field_name)


def commit_with_file(session: Session, directory: Storage | None, written: str | None) -> None:
    try:
        commit(session)
    except Exception:
        if directory is not None:
            uploads.remove(directory, written)
        raise
