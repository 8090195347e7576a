"""The suppliers' periodic work: the alerts before subscriptions, contracts and warranties
end."""

from __future__ import annotations

from flask import current_app

from inventory.assets.socle import paris_today
from inventory.core import jobs
from inventory.extensions import db
from inventory.suppliers.alerts import send_expiry_alerts


@jobs.periodic(minute="30", hour="5")
def expiry_alerts() -> None:
    """Each morning (05:30 UTC), the alerts of what ends soon, in the outbox."""
    send_expiry_alerts(db.session, current_app.config, paris_today())
