"""Mail through the outbox: a message is a row written in the business transaction, sent by
a job once that transaction commits, and retried with a growing delay while the mail server
fails. A request never waits on (or fails because of) the mail server.

States: ``pending`` (to send, at ``next_attempt_at``), ``sending`` (a worker holds it),
``sent``, ``failed`` (gave up after ``OUTBOX_MAX_ATTEMPTS``), ``local`` (no mail server is
configured: kept here only, as in development and tests)."""

from __future__ import annotations

import enum
import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Integer, String, Text, event, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from inventory.core import jobs
from inventory.core.db import Base, UTCDateTime, utcnow
from inventory.extensions import db

log = logging.getLogger(__name__)

# A session that wrote messages asks, once it commits, for a job to send them.
_WROTE_MAIL = "outbox_wrote_mail"


class MailState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    LOCAL = "local"


class OutboxMessage(Base):
    """One mail to send (or sent, or kept locally when no mail server is configured)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=MailState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def send_mail(
    session: Session, config: Any, to: str, subject: str, body: str, html: str | None = None
) -> OutboxMessage:
    """Write a message to the outbox, in the caller's transaction (the caller commits); a
    job sends it once the transaction commits. ``config`` is kept for the callers' sake:
    what the mail server is, is read when sending."""
    record = OutboxMessage(
        to=to,
        subject=subject,
        body=body,
        html=html,
        state=MailState.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(record)
    session.info[_WROTE_MAIL] = True
    return record


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    # Only a session of the app (not a script's own) queues the sending job.
    if session.info.pop(_WROTE_MAIL, False) and has_app_context():
        try:
            jobs.enqueue(send_outbox)
        except Exception:  # the queue down: the periodic retry sends them later
            log.warning("outbox: the sending job could not be queued", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_mail(session: Session) -> None:
    session.info.pop(_WROTE_MAIL, None)


def backoff(attempts: int, base: float = 60.0, cap: float = 6 * 3600.0) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, 8… minutes, at most 6 h."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _smtp_send(config: Any, message: OutboxMessage) -> None:
    msg = EmailMessage()
    msg["From"] = config["SMTP_FROM"]
    msg["To"] = message.to
    msg["Subject"] = message.subject
    msg.set_content(message.body)
    if message.html:
        msg.add_alternative(message.html, subtype="html")
    port = int(config.get("SMTP_PORT") or 587)
    timeout = float(config.get("SMTP_TIMEOUT", 10))
    with smtplib.SMTP(config["SMTP_HOST"], port, timeout=timeout) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(msg)


def deliver_due(
    session: Session, config: Any, now: datetime | None = None, limit: int = 200
) -> int:
    """Send the messages whose time has come; how many were sent. Each is claimed first
    (``pending`` → ``sending``), so that two workers never send the same message."""
    now = now or utcnow()
    max_attempts = int(config.get("OUTBOX_MAX_ATTEMPTS", 10))
    # A worker that died while sending leaves its message claimed: it is due again later.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == MailState.SENDING,
            OutboxMessage.next_attempt_at < now - timedelta(minutes=10),
        )
        .values(state=MailState.PENDING)
    )
    session.commit()
    due = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == MailState.PENDING,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = 0
    for message_id in due:
        claim = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == MailState.PENDING)
            .values(state=MailState.SENDING, next_attempt_at=now)
        )
        session.commit()
        if not claim.rowcount:  # type: ignore[attr-defined]
            continue
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        if not config.get("SMTP_HOST"):
            message.state = MailState.LOCAL
            session.commit()
            continue
        message.attempts += 1
        try:
            _smtp_send(config, message)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.state = MailState.FAILED
            else:
                message.state = MailState.PENDING
                message.next_attempt_at = now + backoff(message.attempts)
            log.warning("mail %s to %s not sent: %s", message.id, message.to, exc)
        else:
            message.state = MailState.SENT
            message.sent_at = utcnow()
            sent += 1
        session.commit()
    return sent


@jobs.task
def send_outbox() -> None:
    deliver_due(db.session, current_app.config)


@jobs.periodic(minute="*")
def retry_outbox() -> None:
    """Every minute: the messages whose retry time has come."""
    deliver_due(db.session, current_app.config)


def recent_messages(
    session: Session, states: tuple[str, ...] = (), limit: int = 200
) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if states:
        stmt = stmt.where(OutboxMessage.state.in_(states))
    return list(session.scalars(stmt))
