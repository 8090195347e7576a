"""The ``loans`` blueprint, and what its pages share: the week shown and its calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, request
from sqlalchemy.orm import Session

from inventory.core.db import utcnow
from inventory.loans.bookings import kit_bookings
from inventory.loans.models import Booking, Kit
from inventory.loans.rules import (
    BOOKING_STATUS_LABELS,
    BORROWER_LABELS,
    CONDITION_LABELS,
    LOAN_STATUS_LABELS,
)
from inventory.training.times import local, local_day, to_utc
from inventory.web import share_labels

bp = Blueprint("loans", __name__)

share_labels(
    bp,
    loan_borrower_labels=BORROWER_LABELS,
    loan_condition_labels=CONDITION_LABELS,
    loan_status_labels=LOAN_STATUS_LABELS,
    booking_status_labels=BOOKING_STATUS_LABELS,
)


@dataclass(frozen=True)
class Day:
    day: date
    bookings: list[Booking]


@dataclass(frozen=True)
class Week:
    monday: date
    days: list[Day]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(weeks=1)

    @property
    def next(self) -> date:
        return self.monday + timedelta(weeks=1)


def week_asked() -> date:
    """The Monday of the week the page shows (``?semaine=YYYY-MM-DD``, else this week)."""
    raw = request.args.get("semaine", "")
    try:
        day = date.fromisoformat(raw) if raw else local_day(utcnow())
    except ValueError:
        day = local_day(utcnow())
    return day - timedelta(days=day.weekday())


def week_of(session: Session, kit: Kit, monday: date) -> Week:
    """The kit's bookings of the school week (Monday to Saturday), day by day."""
    start = to_utc(monday, time(0, 0))
    end = to_utc(monday + timedelta(days=6), time(0, 0))
    found = kit_bookings(session, kit, start, end)
    days = [
        Day(d, [b for b in found if local(b.starts_at).date() == d])
        for d in (monday + timedelta(days=i) for i in range(6))
    ]
    return Week(monday, days)


def form_day(value: Any) -> date | None:
    return value if isinstance(value, date) and not isinstance(value, datetime) else None
