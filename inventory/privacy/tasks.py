"""The privacy domain's periodic work: the purge of reporters' contact data."""

from __future__ import annotations

from flask import current_app

from inventory.core import jobs
from inventory.core.db import utcnow
from inventory.extensions import db
from inventory.privacy.retention import purge_contacts


@jobs.periodic(minute="40", hour="3")
def purge_reporter_contacts() -> None:
    """Each night (03:40 UTC), the contact data of tickets closed long enough ago."""
    purge_contacts(db.session, current_app.config, utcnow())
