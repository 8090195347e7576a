"""How the loans domain's records read in the history and the journal. The family's
personal data is never in the change log (Loan.__audit_exclude__)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.loans.models import Booking, Kit, Loan, LoanTerms
from inventory.loans.rules import (
    BOOKING_STATUS_LABELS,
    BORROWER_LABELS,
    CONDITION_LABELS,
    LOAN_STATUS_LABELS,
)


def init_app(_app: Flask) -> None:
    describe(
        Kit,
        _l("Kit"),
        {
            "name": _l("Name"),
            "active": _l("Offered for booking"),
            "items": _l("Items"),
            "ecole_id": _l("School"),
            "collectivite_id": _l("Collectivité"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        Booking,
        _l("Booking"),
        {
            "kit_id": _l("Kit"),
            "starts_at": _l("Starts at"),
            "ends_at": _l("Ends at"),
            "status": Field(_l("Status"), labels=BOOKING_STATUS_LABELS),
            "group_label": _l("Class"),
            "booked_by": _l("Booked by"),
            "classroom_id": _l("Classroom"),
            "series": _l("Series"),
            "created_by_id": _l("Created by"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        Loan,
        _l("Loan"),
        {
            "asset_id": _l("Item"),
            "kit_id": _l("Kit"),
            "ecole_id": _l("School"),
            "collectivite_id": _l("Collectivité"),
            "borrower_kind": Field(_l("Lent to"), labels=BORROWER_LABELS),
            "classroom_id": _l("Classroom"),
            "staff_name": _l("Staff member"),
            "status": Field(_l("Status"), labels=LOAN_STATUS_LABELS),
            "starts_on": _l("Lent on"),
            "due_on": _l("To be returned by"),
            "returned_on": _l("Returned on"),
            "condition_out": Field(_l("Condition"), labels=CONDITION_LABELS),
            "condition_in": Field(_l("Condition at the return"), labels=CONDITION_LABELS),
            "return_notes": _l("Notes"),
            "reminded_on": _l("Reminded on"),
            "purged_at": _l("Family data erased on"),
            "created_by_id": _l("Created by"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        LoanTerms,
        _l("Loan conditions"),
        {"text": _l("Conditions"), "collectivite_id": _l("Collectivité")},
    )
