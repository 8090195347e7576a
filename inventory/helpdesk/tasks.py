"""The helpdesk's periodic work: the staff's daily digest of new reports."""

from __future__ import annotations

from flask import current_app

from inventory.core import jobs
from inventory.extensions import db
from inventory.helpdesk.notify import send_digests


@jobs.periodic(minute="0", hour="5")
def daily_digests() -> None:
    """Each morning (05:00 UTC, 06:00 or 07:00 in Paris), the digests of who chose one."""
    send_digests(db.session, current_app.config)
