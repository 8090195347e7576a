"""What every helpdesk use case shares: its errors, the ticket statuses in words, the
limits of what people write, the helpdesk itself as an actor, and the ticket's followers.

Public reports have no acting user: what a report changes on an item (the asset goes
"under repair") is done by the helpdesk itself (:data:`HELPDESK`), through the asset
lifecycle, and logged under the request's actor. Staff actions take the acting user and
go through the policy.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import force_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.core import versioning
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Role, Scope
from inventory.helpdesk.models import Ticket, TicketFollower, TicketStatus

DESCRIPTION_MAX = 2000
MESSAGE_MAX = 5000
TICKET_STATUS_LABELS = {
    TicketStatus.NEW: _l("new"),
    TicketStatus.ACKNOWLEDGED: _l("acknowledged"),
    TicketStatus.IN_PROGRESS: _l("in progress"),
    TicketStatus.WAITING: _l("waiting for the supplier"),
    TicketStatus.RESOLVED: _l("resolved"),
    TicketStatus.CLOSED: lazy_pgettext("ticket status", "closed"),
    TicketStatus.REOPENED: _l("reopened"),
}


class HelpdeskError(DomainError):
    pass


class TicketConflict(HelpdeskError, ConflictError):
    """Someone else changed the ticket since the form was loaded."""


class _Helpdesk:
    """The helpdesk itself, for what a public report changes on an item."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


HELPDESK = _Helpdesk()


def default_locale(config: Any) -> str:
    return str(config.get("BABEL_DEFAULT_LOCALE") or "fr")


def in_default_language(config: Any, lazy: Any) -> str:
    """A (lazy) message in the default language: mails and notes are read by people who
    may not share the language of whoever caused them."""
    with force_locale(default_locale(config)):
        return str(lazy)


def lost_race() -> TicketConflict:
    """A ticket found saved by someone else while this change was being written."""
    return TicketConflict(
        _l("Someone else changed this ticket at the same moment. Check it and try again.")
    )


def stale_form() -> TicketConflict:
    """A ticket saved by someone else since the form was loaded."""
    return TicketConflict(
        _l(
            "Someone else changed this ticket while you were working on it. "
            "Your text is kept below: check the ticket, then send again."
        )
    )


def commit(session: Session) -> None:
    """Commit a change to a ticket; a lost race becomes :class:`TicketConflict`."""
    versioning.commit(session, lost_race())


def new_follow_token() -> str:
    return secrets.token_urlsafe(24)


def reporter_emails(ticket: Ticket) -> list[str]:
    """The addresses that follow a ticket: the reporter's, then those of who joined it."""
    return [f.email for f in ticket.followers]


def add_follower(ticket: Ticket, email: str) -> None:
    if email not in reporter_emails(ticket):
        ticket.followers.append(TicketFollower(email=email))


def owner_id(ticket: Ticket) -> int:
    """The collectivité that owns the ticket's school (its staff work the ticket)."""
    return ticket.ecole.collectivite_id or ticket.collectivite_id
