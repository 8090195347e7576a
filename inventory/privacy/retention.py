"""How long reporters' contact data is kept: a reporter's name and address, and the
addresses that follow a ticket, are deleted once the ticket has been closed for
``REPORTER_CONTACT_RETENTION_MONTHS`` months (6 by default), by a daily job.

The ticket stays whole otherwise (its problem, its messages, its dates), and so does its
change log: the contact columns are private to it (``__audit_private__``), so that it
recorded that a name or an address was given, never which, and the purge's own record
says that they were cleared."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.helpdesk.models import Ticket, TicketFollower, TicketMessage, TicketStatus

# A reporter's message shows this instead of the name once the contact is purged.
NO_NAME = "-"
# Tickets purged per flush: a first run on an old database may meet many.
CHUNK = 500


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months earlier (the 31st becomes the month's last day)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def cutoff(config: Mapping[str, Any], now: datetime) -> datetime:
    """Tickets closed before this moment have their contact data deleted."""
    return months_before(now, int(config.get("REPORTER_CONTACT_RETENTION_MONTHS", 6)))


def has_contact() -> Any:
    """A ticket that still holds some contact data."""
    return or_(
        Ticket.reporter_name.is_not(None),
        Ticket.reporter_email.is_not(None),
        exists().where(TicketFollower.ticket_id == Ticket.id),
    )


def _by_reporter(message: TicketMessage) -> bool:
    """A message a reporter wrote from the public side (a second report of the problem):
    no account, not internal, no status change (the staff's have one)."""
    return message.author_id is None and not message.internal and message.status_to is None


def forget_reporter(ticket: Ticket) -> None:
    """Delete the reporter's name and address from ``ticket`` and the name from the
    messages the reporter wrote (the other reporters' stay)."""
    name = ticket.reporter_name
    ticket.reporter_name = None
    ticket.reporter_email = None
    for message in ticket.messages:
        if _by_reporter(message) and name and message.author_label == name:
            message.author_label = NO_NAME


def forget_contact(ticket: Ticket) -> None:
    """Delete what identifies every reporter of ``ticket``: the reporter's name and
    address, the addresses that follow it, the names on the reporters' messages."""
    forget_reporter(ticket)
    ticket.followers.clear()
    for message in ticket.messages:
        if _by_reporter(message) and message.author_label != NO_NAME:
            message.author_label = NO_NAME


@dataclass(frozen=True)
class PurgeResult:
    tickets: int
    cutoff: datetime


def purge_contacts(session: Session, config: Mapping[str, Any], now: datetime) -> PurgeResult:
    """Delete the contact data of the tickets closed before :func:`cutoff`, in chunks,
    and commit; how many tickets were purged."""
    limit = cutoff(config, now)
    done = 0
    while True:
        stmt = (
            select(Ticket)
            .where(
                Ticket.status == TicketStatus.CLOSED,
                Ticket.closed_at.is_not(None),
                Ticket.closed_at < limit,
                has_contact(),
            )
            .options(selectinload(Ticket.followers), selectinload(Ticket.messages))
            .order_by(Ticket.id)
            .limit(CHUNK)
        )
        tickets = list(session.scalars(stmt))
        if not tickets:
            break
        for ticket in tickets:
            forget_contact(ticket)
        session.commit()
        done += len(tickets)
    return PurgeResult(done, limit)
