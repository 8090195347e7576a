"""What the loans domain's use cases share: their error, labels, the settings they read."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from inventory.core.errors import ConflictError, DomainError
from inventory.loans.models import BookingStatus, BorrowerKind, Condition, LoanStatus


class LoanError(DomainError):
    """A booking or a loan refused by a rule."""


def kit_conflict() -> ConflictError:
    return ConflictError(
        _l("Someone else saved this kit at the same moment. Reload it and try again.")
    )


def loan_conflict() -> ConflictError:
    return ConflictError(
        _l("Someone else saved this loan at the same moment. Reload it and try again.")
    )


BOOKING_STATUS_LABELS = {
    BookingStatus.CONFIRMED: _l("confirmed"),
    BookingStatus.CANCELLED: _l("cancelled"),
}
BORROWER_LABELS = {
    BorrowerKind.CLASSROOM: _l("a classroom"),
    BorrowerKind.STAFF: _l("a staff member"),
    BorrowerKind.FAMILY: _l("a family"),
}
CONDITION_LABELS = {
    Condition.NEW: _l("new"),
    Condition.GOOD: _l("good"),
    Condition.WORN: _l("worn"),
    Condition.DAMAGED: _l("damaged"),
    Condition.MISSING: _l("missing"),
}
LOAN_STATUS_LABELS = {LoanStatus.OUT: _l("on loan"), LoanStatus.RETURNED: _l("returned")}

# Family data is erased this many days after the return (LOANS_FAMILY_RETENTION_DAYS).
DEFAULT_RETENTION_DAYS = 92
# The reminder goes this many days before the due date (LOANS_REMINDER_DAYS).
DEFAULT_REMINDER_DAYS = 3


def retention_days(config: Any) -> int:
    return int(config.get("LOANS_FAMILY_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)


def reminder_days(config: Any) -> int:
    return int(config.get("LOANS_REMINDER_DAYS") or DEFAULT_REMINDER_DAYS)
