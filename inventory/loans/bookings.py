"""Bookings of a kit: one slot or a weekly series for a term, clashes refused, cancellation.

The guarantee against a clash is in the database: a confirmed booking holds one
:class:`BookingSlot` row per quarter hour it covers, and (kit, quarter hour) is that
table's primary key. Two requests for overlapping times, however simultaneous and on
either engine, cannot both commit: the second's INSERT meets the first's key (PostgreSQL
waits for the first transaction, then fails; SQLite serialises writers). The query made
before writing only finds the clash early, to name who holds the kit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import format_datetime, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload

from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.loans.models import Booking, BookingSlot, BookingStatus, Kit
from inventory.loans.rules import LoanError
from inventory.orgs.models import Classroom
from inventory.training.times import local, to_utc

SLOT = timedelta(minutes=15)
LONGEST = timedelta(hours=10)  # a school day
MAX_WEEKS = 45  # a school year, at most, in one series
ATTEMPTS = 3  # writes tried when a simultaneous booking got in first


@dataclass(frozen=True)
class BookingRequest:
    """What a teacher asks for, in the school's time: a day, a start and an end, repeated
    every week until ``until`` when given."""

    day: date
    start: time
    end: time
    group_label: str
    booked_by: str
    until: date | None = None
    classroom_id: int | None = None


def _on_quarter(at: time) -> bool:
    return at.minute % 15 == 0 and at.second == 0 and at.microsecond == 0


def occurrences(req: BookingRequest) -> list[tuple[datetime, datetime]]:
    """The (start, end) in UTC of each booking the request makes, checked."""
    if not req.group_label.strip():
        raise LoanError(_l("Say which class the kit is for (CM1 B…)."), field="group_label")
    if not req.booked_by.strip():
        raise LoanError(_l("Give the name of who books."), field="booked_by")
    if not (_on_quarter(req.start) and _on_quarter(req.end)):
        raise LoanError(_l("Bookings start and end on a quarter hour (9:00, 9:15…)."), "start")
    if req.end <= req.start:
        raise LoanError(_l("The end must come after the start."), field="end")
    days = [req.day]
    if req.until is not None:
        if req.until < req.day:
            raise LoanError(_l("The last week comes before the first day."), field="until")
        while days[-1] + timedelta(weeks=1) <= req.until:
            days.append(days[-1] + timedelta(weeks=1))
        if len(days) > MAX_WEEKS:
            raise LoanError(_l("A series holds at most %(n)d weeks.", n=MAX_WEEKS), field="until")
    spans = [(to_utc(d, req.start), to_utc(d, req.end)) for d in days]
    if spans[0][1] - spans[0][0] > LONGEST:
        raise LoanError(_l("A booking lasts a school day at most."), field="end")
    return spans


def slots_of(start: datetime, end: datetime) -> list[datetime]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += SLOT
    return out


def clashes(session: Session, kit_id: int, spans: list[tuple[datetime, datetime]]) -> list[Booking]:
    """The confirmed bookings of the kit that overlap any of ``spans``."""
    if not spans:
        return []
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    candidates = session.scalars(
        select(Booking)
        .where(
            Booking.kit_id == kit_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.starts_at < last,
            Booking.ends_at > first,
        )
        .order_by(Booking.starts_at)
    )
    return [b for b in candidates if any(b.starts_at < e and b.ends_at > s for s, e in spans)]


def clash_message(booking: Booking) -> LoanError:
    start = local(booking.starts_at)
    return LoanError(
        _l(
            "The kit is already booked on %(when)s–%(end)s by %(group)s (%(who)s).",
            when=format_datetime(start, "EEEE d MMMM HH:mm"),
            end=format_time(local(booking.ends_at), "HH:mm"),
            group=booking.group_label,
            who=booking.booked_by,
        ),
        field="start",
    )


def book(
    session: Session,
    user: Subject | None,
    kit: Kit,
    req: BookingRequest,
) -> list[Booking]:
    """Book ``kit``: signed in (``user`` must be allowed to edit the kit), or through the
    school's public link (``user`` None: the caller found the kit by its token)."""
    if user is not None and not policy.can(user, Action.EDIT, kit, session):
        raise policy.Denied()
    if not kit.active:
        raise LoanError(_l("This kit is not offered for booking any more."), field="start")
    spans = occurrences(req)
    if req.classroom_id is not None:
        room = session.get(Classroom, req.classroom_id)
        if room is None or room.ecole_id != kit.ecole_id:
            raise LoanError(_l("Choose a classroom of the kit's school."), field="classroom_id")
    series = secrets.token_hex(8) if len(spans) > 1 else None
    kit_id = kit.id
    for _attempt in range(ATTEMPTS):
        found = clashes(session, kit_id, spans)
        if found:
            raise clash_message(found[0])
        made = [
            Booking(
                kit=kit,
                starts_at=s,
                ends_at=e,
                status=BookingStatus.CONFIRMED,
                group_label=req.group_label.strip()[:60],
                booked_by=req.booked_by.strip()[:120],
                classroom_id=req.classroom_id,
                series=series,
                created_by_id=getattr(user, "id", None),
            )
            for s, e in spans
        ]
        try:
            session.add_all(made)
            session.flush()
            session.add_all(
                BookingSlot(kit_id=kit_id, starts_at=at, booking_id=b.id)
                for b in made
                for at in slots_of(b.starts_at, b.ends_at)
            )
            session.commit()
            return made
        except IntegrityError:
            # An overlapping booking committed first: the next look names it.
            session.rollback()
        except OperationalError as exc:
            # SQLite: another writer committed since this transaction's first read; the
            # next attempt reads again (and meets its slots if they overlap).
            if not _busy(exc):
                raise
            session.rollback()
    raise LoanError(_l("The kit was just booked at this time."), field="start")


def _busy(exc: OperationalError) -> bool:
    return str(getattr(exc.orig, "sqlite_errorname", "")).startswith("SQLITE_BUSY")


def cancel(session: Session, user: Subject, booking: Booking, *, series: bool = False) -> int:
    """Cancel a booking (and, with ``series``, the rest of its series from it on): its
    quarter hours are free again. Returns how many bookings were cancelled."""
    if not policy.can(user, Action.EDIT, booking, session):
        raise policy.Denied()
    targets = [booking]
    if series and booking.series:
        targets = list(
            session.scalars(
                select(Booking).where(
                    Booking.series == booking.series,
                    Booking.starts_at >= booking.starts_at,
                    Booking.status == BookingStatus.CONFIRMED,
                )
            )
        )
    targets = [b for b in targets if b.status is BookingStatus.CONFIRMED]
    for b in targets:
        b.status = BookingStatus.CANCELLED
    if targets:
        session.execute(
            delete(BookingSlot).where(BookingSlot.booking_id.in_([b.id for b in targets]))
        )
    session.commit()
    return len(targets)


def kit_bookings(session: Session, kit: Kit, start: datetime, end: datetime) -> list[Booking]:
    """The kit's confirmed bookings that meet [start, end), in order (one indexed range)."""
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.kit_id == kit.id,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.starts_at < end,
                Booking.starts_at >= start - LONGEST,
                Booking.ends_at > start,
            )
            .order_by(Booking.starts_at, Booking.id)
        )
    )


def booking_detail(session: Session, user: Subject, booking_id: int) -> Booking:
    booking = policy.load_or_404(user, Booking, booking_id, session)
    return session.scalars(
        select(Booking).options(joinedload(Booking.kit)).where(Booking.id == booking.id)
    ).one()
