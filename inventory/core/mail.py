"""One mail layer: SMTP when configured, otherwise a local outbox read in the app and tests."""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from inventory.core.db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    """A message kept locally because no SMTP server is configured (or a copy of a sent one)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    sent: Mapped[bool] = mapped_column(default=False)


def send_mail(session: Any, config: Any, to: str, subject: str, body: str) -> OutboxMessage:
    """Send now through SMTP when configured; always keep a record in the outbox.

    The caller commits: the record belongs to the same transaction as the event it reports.
    """
    record = OutboxMessage(to=to, subject=subject, body=body, sent=False)
    session.add(record)
    host = config.get("SMTP_HOST")
    if host:
        msg = EmailMessage()
        msg["From"] = config["SMTP_FROM"]
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(host, int(config.get("SMTP_PORT") or 587), timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(msg)
        record.sent = True
    return record


def recent_messages(session: Any, limit: int = 200) -> list[OutboxMessage]:
    return list(
        session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    )
