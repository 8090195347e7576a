"""What the suppliers' use cases share: errors, labels, the SIRET check, money input."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from inventory.core.errors import ConflictError, DomainError
from inventory.orgs.identifiers import is_valid_siret
from inventory.suppliers.models import AlertSubject, ClaimStatus, ContractKind, MaintenanceKind


class SupplierError(DomainError):
    pass


CONTRACT_KIND_LABELS = {
    ContractKind.MAINTENANCE: _l("maintenance"),
    ContractKind.WARRANTY: _l("warranty extension"),
    ContractKind.LEASING: _l("leasing"),
}
MAINTENANCE_KIND_LABELS = {
    MaintenanceKind.REPAIR: _l("repair"),
    MaintenanceKind.VISIT: _l("planned visit"),
    MaintenanceKind.CLAIM: _l("warranty claim"),
}
# Where a warranty claim stands, in the words of the item's page and the claims' list.
CLAIM_STATUS_LABELS = {
    ClaimStatus.SENT: _l("awaiting the supplier"),
    ClaimStatus.REPAIRED: _l("repaired under warranty"),
    ClaimStatus.REPLACED: _l("replaced under warranty"),
    ClaimStatus.REFUSED: _l("refused by the supplier"),
}
ALERT_SUBJECT_LABELS = {
    AlertSubject.SUBSCRIPTION: _l("subscription"),
    AlertSubject.CONTRACT: _l("contract"),
    AlertSubject.WARRANTY: _l("warranty"),
}


def conflict(message: Any) -> ConflictError:
    """A stale save, in the words of what was being saved."""
    return ConflictError(message)


def clean(text: str | None) -> str | None:
    """One line of text with its spaces tidied, or None when empty."""
    return " ".join((text or "").split()) or None


def normalize_siret(value: str | None, field: str = "siret") -> str | None:
    """A SIRET without its spaces, checked: 14 digits with a valid Luhn key."""
    digits = "".join((value or "").split())
    if not digits:
        return None
    if not is_valid_siret(digits):
        raise SupplierError(
            _l("A SIRET is 14 digits whose check digit (Luhn) is right."), field=field
        )
    return digits


def check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise SupplierError(_l("The end comes before the start."), field="ends_on")


def check_amount(cents: int | None, field: str) -> int | None:
    if cents is not None and cents < 0:
        raise SupplierError(_l("An amount cannot be negative."), field=field)
    return cents


def add_months(day: date, months: int) -> date:
    """``day`` so many months later, on the month's last day when it has fewer."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return date(year, month, min(day.day, last))


# The API's key-paged lists count their matches up to this many.
KEYED_COUNT_CAP = 10_000
