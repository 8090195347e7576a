"""The loans' figures for the dashboards: each cart's usage (booked hours per school week),
the devices on loan, the overdue loans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.policy import Subject
from inventory.loans.models import BookingSlot, Kit, Loan, LoanStatus
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Collectivite,
    Departement,
    Ecole,
)
from inventory.training.times import local_day, to_utc

WEEKS = 6  # the usage is measured over the last school weeks


def _of(obj: Any) -> ColumnElement[bool]:
    """The schools of a dashboard's object (None: the user's whole scope)."""
    if isinstance(obj, Ecole):
        return Ecole.id == obj.id
    if isinstance(obj, Collectivite):
        return Ecole.collectivite_id == obj.id
    if isinstance(obj, Circonscription):
        return Ecole.circonscription_id == obj.id
    if isinstance(obj, Departement):
        return Ecole.departement_id == obj.id
    if isinstance(obj, Academie):
        return Ecole.departement_id.in_(
            select(Departement.id).where(Departement.academie_id == obj.id)
        )
    return true()


@dataclass(frozen=True)
class KitUsage:
    kit_id: int
    name: str
    school: str
    hours_per_week: float


@dataclass(frozen=True)
class LoanFigures:
    kits: list[KitUsage]
    on_loan: int
    overdue: int
    weeks: int


def week_window(today: date, weeks: int = WEEKS) -> tuple[datetime, datetime]:
    """The last ``weeks`` whole weeks before this one (Monday 00:00 Paris time)."""
    monday = today - timedelta(days=today.weekday())
    return to_utc(monday - timedelta(weeks=weeks), datetime.min.time()), to_utc(
        monday, datetime.min.time()
    )


def loan_figures(
    session: Session, user: Subject, obj: Any = None, now: datetime | None = None
) -> LoanFigures:
    today = local_day(now or utcnow())
    start, end = week_window(today)
    schools = policy.visible(user, select(Ecole.id).where(_of(obj)), Ecole)
    # A confirmed booking holds one slot per quarter hour: its hours are its slots / 4.
    quarters = func.count(BookingSlot.booking_id)
    rows = session.execute(
        select(Kit.id, Kit.name, Ecole.name, quarters)
        .join(Ecole, Ecole.id == Kit.ecole_id)
        .outerjoin(
            BookingSlot,
            (BookingSlot.kit_id == Kit.id)
            & (BookingSlot.starts_at >= start)
            & (BookingSlot.starts_at < end),
        )
        .where(Kit.ecole_id.in_(schools))
        .group_by(Kit.id, Kit.name, Ecole.name)
        .order_by(Ecole.name, Kit.name)
    ).all()
    kits = [KitUsage(k, n, s, round((q or 0) / 4 / WEEKS, 1)) for k, n, s, q in rows]
    open_loans = select(func.count(Loan.id)).where(
        Loan.status == LoanStatus.OUT, Loan.ecole_id.in_(schools)
    )
    on_loan = session.scalar(open_loans) or 0
    overdue = session.scalar(open_loans.where(Loan.due_on < today)) or 0
    return LoanFigures(kits, on_loan, overdue, WEEKS)
