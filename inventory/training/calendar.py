"""The sessions' calendar: the iCalendar feed (RFC 5545), downloaded or subscribed to by a
private link that calendar apps can fetch without a session cookie."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.policy import Action, Subject
from inventory.training.choices import FORMAT_LABELS, MODE_LABELS
from inventory.training.lists import SessionFilters, list_options
from inventory.training.models import SessionMode, SessionStatus, TrainingSession
from inventory.training.times import ends_at


def calendar_sessions(
    session: Session, user: Subject, *, ecole: int | None = None, trainer: int | None = None
) -> list[TrainingSession]:
    """Sessions for the calendar feed: planned ones, and held ones so that a recorded
    session keeps its place in the subscribers' calendars; cancelled ones drop out."""
    if not policy.allowed(user, Action.READ):
        raise policy.Denied()
    stmt = SessionFilters(ecole=ecole, trainer=trainer).apply(select(TrainingSession), utcnow())
    stmt = (
        stmt.where(TrainingSession.status.in_([SessionStatus.PLANNED, SessionStatus.HELD]))
        .options(*list_options())
        .order_by(TrainingSession.starts_at, TrainingSession.id)
    )
    return list(session.scalars(policy.visible(user, stmt, TrainingSession)))


# -- the private subscription link ------------------------------------------------------------
def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:16]


def calendar_token(secret: str, user: User) -> str:
    """A private link to the user's feed, for calendar apps that carry no session cookie.
    It stops working when the password changes or the account is deactivated."""
    serializer = URLSafeSerializer(secret, salt="training-calendar")
    return serializer.dumps({"u": user.id, "h": _fingerprint(user)})


def user_from_calendar_token(session: Session, secret: str, token: str) -> User | None:
    try:
        data = URLSafeSerializer(secret, salt="training-calendar").loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or not user.active or _fingerprint(user) != data.get("h"):
        return None
    return user


# -- iCalendar ------------------------------------------------------------------------------
CRLF = "\r\n"


def ics_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets, never inside a UTF-8 character; each
    continuation line starts with one space (which counts in its octets)."""
    if len(line.encode()) <= limit:
        return line
    parts: list[str] = []
    current: list[str] = []
    size, room = 0, limit
    for char in line:
        width = len(char.encode())
        if size + width > room:
            parts.append("".join(current))
            current, size, room = [], 0, limit - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    url: str
    sequence: int


def ics_calendar(events: Iterable[Event], name: str, stamp: datetime | None = None) -> bytes:
    stamp = stamp or utcnow()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Socle//Accompagnement//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ics_text(name)}",
        "X-WR-TIMEZONE:Europe/Paris",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{ics_time(stamp)}",
            f"DTSTART:{ics_time(e.start)}",
            f"DTEND:{ics_time(e.end)}",
            f"SEQUENCE:{e.sequence}",
            f"SUMMARY:{ics_text(e.summary)}",
            f"LOCATION:{ics_text(e.location)}",
            f"DESCRIPTION:{ics_text(e.description)}",
            f"URL:{e.url}",
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return (CRLF.join(fold(line) for line in lines) + CRLF).encode()


def session_event(ts: TrainingSession, host: str, url: str, locale: str) -> Event:
    """One session as a calendar event (texts in the current locale)."""
    schools = [f"{e.name} ({e.commune.name})" for e in ts.schools]
    if ts.place:
        location = ts.place
    elif ts.mode is SessionMode.REMOTE:
        location = str(MODE_LABELS[SessionMode.REMOTE])
    else:
        location = "; ".join(
            " ".join(p for p in (e.name, e.address, e.postal_code, e.commune.name) if p)
            for e in ts.schools
        )
    lines = [
        f"{FORMAT_LABELS[ts.format]}, {MODE_LABELS[ts.mode]}",
        _("Schools: %(names)s", names="; ".join(schools)),
    ]
    if ts.topics:
        lines.append(_("Topics: %(names)s", names="; ".join(t.label(locale) for t in ts.topics)))
    if ts.trainers:
        lines.append(_("Trainers: %(names)s", names="; ".join(t.label for t in ts.trainers)))
    lines.append(url)
    return Event(
        uid=f"training-session-{ts.id}@{host}",
        start=ts.starts_at,
        end=ends_at(ts),
        summary=ts.title,
        location=location,
        description="\n".join(lines),
        url=url,
        sequence=ts.version,
    )
