"""Mail about tickets: to the reporters (their report recorded, its progress, the staff's
messages) and to the staff (a new report at once, or a daily digest, as each chose).

Every mail is an outbox row written in the transaction of the report or the staff action
that causes it, and sent by a job after it commits: a failing mail server never loses
either, and the outbox retries until the server answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.auth.models import User, UserScope
from inventory.core import addresses, policy
from inventory.core.db import utcnow
from inventory.core.mail import send_mail
from inventory.core.policy import Action, Role, ScopeKind
from inventory.helpdesk.models import Subscription, Ticket, TicketStatus
from inventory.helpdesk.queue import queue_options
from inventory.helpdesk.rules import (
    TICKET_STATUS_LABELS,
    HelpdeskError,
    default_locale,
    in_default_language,
    owner_id,
    reporter_emails,
)

MODES = ("each", "digest", "none")
MODE_LABELS = {
    "each": _l("A mail for each new report"),
    "digest": _l("One mail a day with the new reports"),
    "none": _l("No mail"),
}


def _send(session: Session, config: Any, to: str, subject: str, body: str) -> None:
    send_mail(session, config, to, subject, body)


def _base(config: Any) -> str:
    # Without BASE_URL (a production app not configured yet), a mail carries the bare path.
    return addresses.base_url(config) or ""


def follow_url(config: Any, ticket: Ticket) -> str:
    return f"{_base(config)}/suivi/{ticket.follow_token}"


def ticket_url(config: Any, ticket: Ticket) -> str:
    return f"{_base(config)}/tickets/{ticket.id}"


def _what(config: Any, ticket: Ticket) -> str:
    """The item or room in words, as the public pages say it (no serial, no address)."""
    locale = default_locale(config)
    if ticket.asset is not None:
        return f"{ticket.asset.category.label(locale)} {ticket.asset.tag}"
    if ticket.classroom is not None:
        return ticket.classroom.name
    return ticket.ecole.name


def _status_text(config: Any, status: TicketStatus) -> str:
    return in_default_language(config, TICKET_STATUS_LABELS[status])


# -- to the reporters --------------------------------------------------------------------
def mail_report_recorded(
    session: Session, config: Any, ticket: Ticket, email: str, *, joined: bool
) -> None:
    """Tell a reporter that their report is recorded (or added to the same problem's)."""
    intro = (
        _l("This problem had already been reported: your report was added to it.")
        if joined
        else _l("Thank you: your report is recorded and the IT service has been told.")
    )
    body = "\n\n".join(
        [
            in_default_language(config, intro),
            in_default_language(
                config,
                _l(
                    "Problem: %(problem)s\nItem: %(what)s\nSchool: %(school)s",
                    problem=ticket.problem_type.label(default_locale(config)),
                    what=_what(config, ticket),
                    school=ticket.ecole.name,
                ),
            ),
            in_default_language(
                config, _l("Follow it here: %(url)s", url=follow_url(config, ticket))
            ),
        ]
    )
    subject = in_default_language(config, _l("Your report #%(id)s is recorded", id=ticket.id))
    _send(session, config, email, subject, body)


def mail_new_status(session: Session, config: Any, ticket: Ticket, note: str) -> None:
    """Tell every follower of the ticket its new status, with the staff's note."""
    emails = reporter_emails(ticket)
    if not emails:
        return
    status = _status_text(config, ticket.status)
    parts = [
        in_default_language(
            config,
            _l(
                "Your report about %(what)s is now: %(status)s.",
                what=_what(config, ticket),
                status=status,
            ),
        )
    ]
    if note:
        parts.append(note)
    parts.append(
        in_default_language(config, _l("Follow it here: %(url)s", url=follow_url(config, ticket)))
    )
    subject = in_default_language(
        config, _l("Your report #%(id)s: %(status)s", id=ticket.id, status=status)
    )
    for email in emails:
        _send(session, config, email, subject, "\n\n".join(parts))


def mail_staff_message(session: Session, config: Any, ticket: Ticket, body: str) -> None:
    """Send the staff's message on a ticket to each of its followers."""
    emails = reporter_emails(ticket)
    if not emails:
        return
    text = "\n\n".join(
        [
            in_default_language(
                config,
                _l(
                    "The IT service wrote about your report on %(what)s:",
                    what=_what(config, ticket),
                ),
            ),
            body,
            in_default_language(
                config, _l("Follow it here: %(url)s", url=follow_url(config, ticket))
            ),
        ]
    )
    subject = in_default_language(
        config, _l("Your report #%(id)s: a message from the IT service", id=ticket.id)
    )
    for email in emails:
        _send(session, config, email, subject, text)


# -- to the staff ------------------------------------------------------------------------
def default_mode(user: User) -> str:
    return "each" if user.role is Role.TECHNICIEN else "none"


def subscription_mode(session: Session, user: User) -> str:
    mode = session.scalar(select(Subscription.mode).where(Subscription.user_id == user.id))
    return mode if mode in MODES else default_mode(user)


def set_subscription(session: Session, user: User, mode: str) -> None:
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    if mode not in MODES:
        raise HelpdeskError(_l("Choose how to be told."), field="mode")
    sub = session.scalar(select(Subscription).where(Subscription.user_id == user.id))
    if sub is None:
        sub = Subscription(user_id=user.id, mode=mode)
        session.add(sub)
    else:
        sub.mode = mode
    session.commit()


def staff_recipients(session: Session, ticket: Ticket) -> list[User]:
    """Who is told of a new ticket at once: the collectivité's technicians (unless they
    chose otherwise) and whoever chose "each" and may read the ticket."""
    technicians = (
        select(User.id)
        .join(UserScope, UserScope.user_id == User.id)
        .where(
            User.role == Role.TECHNICIEN,
            UserScope.kind == ScopeKind.COLLECTIVITE,
            UserScope.ref_id == owner_id(ticket),
        )
    )
    chose_each = select(Subscription.user_id).where(Subscription.mode == "each")
    candidates = session.scalars(
        select(User)
        .where(User.active.is_(True), User.id.in_(technicians) | User.id.in_(chose_each))
        .order_by(User.id)
    ).all()
    modes = dict(
        session.execute(
            select(Subscription.user_id, Subscription.mode).where(
                Subscription.user_id.in_([u.id for u in candidates])
            )
        ).all()
    )
    return [
        u
        for u in candidates
        if modes.get(u.id, default_mode(u)) == "each"
        and policy.can(u, Action.READ, ticket, session)
    ]


def notify_new_ticket(session: Session, config: Any, ticket: Ticket) -> int:
    """Tell the staff who chose it of a new ticket at once; how many were told."""
    locale = default_locale(config)
    subject = in_default_language(
        config,
        _l("[Socle] New report #%(id)s — %(school)s", id=ticket.id, school=ticket.ecole.name),
    )
    lines = [
        in_default_language(
            config,
            _l(
                "Problem: %(problem)s\nItem: %(what)s\nSchool: %(school)s",
                problem=ticket.problem_type.label(locale),
                what=_what(config, ticket),
                school=ticket.ecole.name,
            ),
        ),
        ticket.description,
        in_default_language(config, _l("Open the ticket: %(url)s", url=ticket_url(config, ticket))),
    ]
    recipients = staff_recipients(session, ticket)
    for user in recipients:
        _send(session, config, user.email, subject, "\n\n".join(lines))
    return len(recipients)


def send_digests(session: Session, config: Any, now: datetime | None = None) -> int:
    """One mail per user who chose the daily digest, listing the tickets created in their
    scope since their last digest (or the last day). Returns how many mails went out."""
    now = now or utcnow()
    locale = default_locale(config)
    sent = 0
    rows = session.execute(
        select(Subscription, User)
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.mode == "digest", User.active.is_(True))
        .order_by(User.id)
    ).all()
    for sub, user in rows:
        since = sub.last_digest_at or now - timedelta(days=1)
        stmt = policy.visible(
            user,
            select(Ticket)
            .where(Ticket.created_at > since, Ticket.created_at <= now)
            .options(*queue_options())
            .order_by(Ticket.id),
            Ticket,
        )
        tickets = list(session.scalars(stmt))
        if tickets:
            lines = [
                f"#{t.id} — {t.ecole.name} — {t.problem_type.label(locale)} — "
                f"{_what(config, t)}\n{ticket_url(config, t)}"
                for t in tickets
            ]
            subject = in_default_language(config, _l("[Socle] New reports: %(n)d", n=len(tickets)))
            _send(session, config, user.email, subject, "\n\n".join(lines))
            sent += 1
        sub.last_digest_at = now
    session.commit()
    return sent
