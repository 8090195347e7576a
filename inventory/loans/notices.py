"""The loans' periodic work: reminders before and after the due date, through the mail
outbox, and the erasure of families' data a configurable time after the return."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from inventory.core import addresses
from inventory.core.db import utcnow
from inventory.core.mail import send_mail
from inventory.loans.models import FAMILY_FIELDS, BorrowerKind, Loan, LoanStatus
from inventory.loans.rules import reminder_days, retention_days
from inventory.training.times import local_day


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if "@" in value and " " not in value else None


def due_reminders(session: Session, today: date, days: int) -> list[Loan]:
    """Open loans whose reminder is due: ``days`` before the due date (once), then once
    more when overdue."""
    soon = today + timedelta(days=days)
    stmt = (
        select(Loan)
        .options(joinedload(Loan.asset), joinedload(Loan.ecole))
        .where(
            Loan.status == LoanStatus.OUT,
            or_(
                # before the due date: never reminded yet
                (Loan.due_on <= soon) & Loan.reminded_on.is_(None),
                # overdue: not reminded since the due date
                (Loan.due_on < today)
                & (Loan.reminded_on.is_(None) | (Loan.reminded_on <= Loan.due_on)),
            ),
        )
        .order_by(Loan.due_on, Loan.id)
    )
    return list(session.scalars(stmt))


def send_reminders(session: Session, config: Any, today: date | None = None) -> int:
    """Write each due reminder to the outbox (to the guardian when the contact is an
    e-mail address, and to the school), in one transaction. Returns the mails written."""
    today = today or local_day(utcnow())
    base = addresses.base_url(config) or ""
    written = 0
    with force_locale(str(config.get("BABEL_DEFAULT_LOCALE") or "fr")):
        for loan in due_reminders(session, today, reminder_days(config)):
            overdue = loan.due_on < today
            subject = (
                _("Overdue loan: %(tag)s", tag=loan.asset.tag)
                if overdue
                else _(
                    "Loan due back on %(day)s: %(tag)s",
                    day=format_date(loan.due_on, "long"),
                    tag=loan.asset.tag,
                )
            )
            body = "\n".join(
                [
                    _(
                        "The item %(tag)s lent by %(school)s is due back on %(day)s.",
                        tag=loan.asset.tag,
                        school=loan.ecole.name,
                        day=format_date(loan.due_on, "long"),
                    ),
                    _("Please bring it back to the school.")
                    if not overdue
                    else _("The return date has passed: please bring it back to the school."),
                    f"{base}/prets/{loan.id}",
                ]
            )
            recipients = [_email(loan.guardian_contact), loan.ecole.email]
            for to in dict.fromkeys(r for r in recipients if r):
                send_mail(session, config, to, subject, body)
                written += 1
            loan.reminded_on = today
    session.commit()
    return written


def purge_family_data(session: Session, config: Any, now: datetime | None = None) -> int:
    """Erase the family's data of loans returned more than the retention time ago (the
    loan itself stays, as the item's history). Returns how many loans were purged."""
    now = now or utcnow()
    cutoff = local_day(now) - timedelta(days=retention_days(config))
    loans = list(
        session.scalars(
            select(Loan).where(
                Loan.borrower_kind == BorrowerKind.FAMILY,
                Loan.status == LoanStatus.RETURNED,
                Loan.returned_on <= cutoff,
                Loan.purged_at.is_(None),
            )
        )
    )
    for loan in loans:
        for name in FAMILY_FIELDS:
            setattr(loan, name, None)
        loan.purged_at = now
    session.commit()
    return len(loans)
