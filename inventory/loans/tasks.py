"""The loans' periodic jobs: reminders each morning, the families' data erased each night."""

from __future__ import annotations

from flask import current_app

from inventory.core import jobs
from inventory.extensions import db
from inventory.loans.notices import purge_family_data, send_reminders


@jobs.periodic(minute="30", hour="6")
def loan_reminders() -> None:
    """At 06:30 UTC, the reminders of loans due soon or overdue."""
    send_reminders(db.session, current_app.config)


@jobs.periodic(minute="15", hour="2")
def purge_loans_family_data() -> None:
    """At 02:15 UTC, the family data of loans returned longer ago than the retention."""
    purge_family_data(db.session, current_app.config)
