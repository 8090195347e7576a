"""A person's data, found by email across the domains, for an administrator to export
(JSON or CSV) or erase: the tickets they reported (name, address, what they wrote), the
tickets they follow, the mail sent to them, and the account that has this address.

Erasure deletes the contact data as the retention job does (:func:`retention.forget_contact`)
whatever the ticket's state, the follows and the mail; an account is not erased here (its
name signs the change log's records: it is deactivated on its own page), and the answer
says so."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from inventory.auth.models import User
from inventory.core import policy
from inventory.core.errors import DomainError
from inventory.core.exporting import Cell
from inventory.core.mail import OutboxMessage
from inventory.core.policy import Action, Subject
from inventory.helpdesk.models import Ticket, TicketFollower
from inventory.privacy.retention import forget_reporter

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class PrivacyError(DomainError):
    pass


def normalise_email(text: str | None) -> str:
    email = (text or "").strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise PrivacyError(_l("Type the person's email address."), field="email")
    return email


@dataclass
class PersonData:
    """What Socle holds about one address, in plain values by domain."""

    email: str
    accounts: list[dict[str, Any]] = field(default_factory=list)
    reported: list[dict[str, Any]] = field(default_factory=list)
    followed: list[dict[str, Any]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.reported or self.followed or self.mails)

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        return {
            "email": self.email,
            **{
                name: [{k: plain(v) for k, v in row.items()} for row in getattr(self, name)]
                for name in ("accounts", "reported", "followed", "mails")
            },
        }


def _reported(session: Session, user: Subject, email: str) -> Any:
    stmt = (
        select(Ticket)
        .where(Ticket.reporter_email == email)
        .options(selectinload(Ticket.ecole), selectinload(Ticket.messages))
        .order_by(Ticket.id)
    )
    return session.scalars(policy.visible(user, stmt, Ticket))


def _followed(session: Session, user: Subject, email: str) -> Any:
    stmt = (
        select(Ticket)
        .join(TicketFollower, TicketFollower.ticket_id == Ticket.id)
        .where(TicketFollower.email == email)
        .options(selectinload(Ticket.ecole))
        .order_by(Ticket.id)
    )
    return session.scalars(policy.visible(user, stmt, Ticket))


def _mails(session: Session, email: str) -> Any:
    return session.scalars(
        select(OutboxMessage)
        .where(func.lower(OutboxMessage.to) == email)
        .order_by(OutboxMessage.id)
    )


def find_person(session: Session, user: Subject, text: str | None) -> PersonData:
    """Everything held about the address ``text`` (an administrator's search)."""
    policy.require(user, Action.ADMIN)
    email = normalise_email(text)
    data = PersonData(email)
    for account in session.scalars(select(User).where(func.lower(User.email) == email)):
        data.accounts.append(
            {
                "id": account.id,
                "name": account.name,
                "email": account.email,
                "role": str(account.role),
                "active": account.active,
                "created_at": account.created_at,
                "last_login_at": account.last_login_at,
            }
        )
    for ticket in _reported(session, user, email):
        data.reported.append(
            {
                "ticket": ticket.id,
                "school": ticket.ecole.name,
                "created_at": ticket.created_at,
                "status": str(ticket.status),
                "reporter_name": ticket.reporter_name,
                "reporter_email": ticket.reporter_email,
                "description": ticket.description,
                "closed_at": ticket.closed_at,
            }
        )
    for ticket in _followed(session, user, email):
        data.followed.append(
            {"ticket": ticket.id, "school": ticket.ecole.name, "status": str(ticket.status)}
        )
    for mail in _mails(session, email):
        data.mails.append(
            {
                "id": mail.id,
                "created_at": mail.created_at,
                "subject": mail.subject,
                "state": mail.state,
                "sent_at": mail.sent_at,
            }
        )
    return data


def csv_headers() -> list[str]:
    return [str(h) for h in (_l("Kind"), _l("Reference"), _l("Field"), _l("Value"))]


def csv_rows(data: PersonData) -> Iterator[Sequence[Cell]]:
    """One row per value held: its kind (accounts, reported…), the record, the field."""
    for kind, rows in data.as_json().items():
        if kind == "email":
            continue
        for row in rows:
            reference = next(iter(row.values()), None)
            for name, value in row.items():
                yield (kind, str(reference), name, None if value is None else str(value))


@dataclass
class Erasure:
    tickets: int = 0
    follows: int = 0
    mails: int = 0
    accounts: list[str] = field(default_factory=list)  # kept: deactivated on their page


def erase_person(session: Session, user: Subject, text: str | None) -> Erasure:
    """Delete the address's contact data from every ticket (reported or followed), and
    the mail sent to it; commit. The accounts with this address are listed, kept."""
    policy.require(user, Action.ADMIN)
    email = normalise_email(text)
    result = Erasure()
    for ticket in list(_reported(session, user, email)):
        forget_reporter(ticket)
        result.tickets += 1
    follows = list(session.scalars(select(TicketFollower).where(TicketFollower.email == email)))
    for follow in follows:
        session.delete(follow)
    result.follows = len(follows)
    gone = session.execute(delete(OutboxMessage).where(func.lower(OutboxMessage.to) == email))
    result.mails = gone.rowcount or 0  # type: ignore[attr-defined]
    result.accounts = list(
        session.scalars(select(User.name).where(func.lower(User.email) == email))
    )
    session.commit()
    return result
