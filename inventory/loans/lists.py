"""The lists of loans: who holds what, overdue first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.policy import Subject
from inventory.loans.models import Kit, Loan, LoanStatus
from inventory.training.times import local_day

LIMIT = 500


def open_loans(
    session: Session,
    user: Subject,
    *,
    ecole_id: int | None = None,
    overdue_only: bool = False,
    today: date | None = None,
) -> list[Loan]:
    """The loans still out in the user's scope, the oldest due date first."""
    stmt = (
        select(Loan)
        .options(joinedload(Loan.asset), joinedload(Loan.ecole), joinedload(Loan.classroom))
        .where(Loan.status == LoanStatus.OUT)
    )
    if ecole_id is not None:
        stmt = stmt.where(Loan.ecole_id == ecole_id)
    if overdue_only:
        stmt = stmt.where(Loan.due_on < (today or local_day(utcnow())))
    stmt = stmt.order_by(Loan.due_on, Loan.id).limit(LIMIT)
    return list(session.scalars(policy.visible(user, stmt)))


def kit_loans(session: Session, kit: Kit) -> dict[int, Loan]:
    """The open loans of the kit's items, by item."""
    ids = [a.id for a in kit.items]
    if not ids:
        return {}
    stmt = select(Loan).where(Loan.asset_id.in_(ids), Loan.status == LoanStatus.OUT)
    return {loan.asset_id: loan for loan in session.scalars(stmt)}


def is_overdue(loan: Loan, today: date | None = None) -> bool:
    return loan.status is LoanStatus.OUT and loan.due_on < (today or local_day(utcnow()))
