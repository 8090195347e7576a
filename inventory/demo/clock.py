"""When the demo's story happens: the services stamp what they record with these moments
(:func:`inventory.core.db.stamped_at`), so that the history, the lifecycle steps and the
delays the dashboards measure read as a real year of the programme."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from inventory.core.db import stamped_at

PARIS = ZoneInfo("Europe/Paris")
# The registry and the accounts were set up before the call for projects opened.
SET_UP = date(2021, 1, 4)


def moment(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS)


def on(day: date, hour: int = 9, minute: int = 0, *, days: int = 0):  # type: ignore[no-untyped-def]
    """Stamp what follows at ``day`` (plus ``days``), ``hour``:``minute`` in Paris."""
    return stamped_at(moment(day + timedelta(days=days), hour, minute))
