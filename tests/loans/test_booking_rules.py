"""The booking rule, as a property: whatever bookings are asked for (single or weekly,
one after the other or at the same instant), no two confirmed bookings of a kit overlap,
and a request is refused exactly when it would overlap one already accepted."""

from __future__ import annotations

from datetime import time, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from inventory.extensions import db
from inventory.loans.bookings import BookingRequest, book, occurrences
from inventory.loans.models import Booking, BookingSlot, BookingStatus, Kit
from inventory.loans.rules import LoanError
from tests.concurrently import simultaneously
from tests.factories import ADMIN
from tests.loans.builders import next_weekday

MONDAY = next_weekday(0)


@st.composite
def requests(draw):
    start = draw(st.integers(32, 64))  # quarter hours from midnight: 8:00 to 16:00
    length = draw(st.integers(1, 8))
    day = MONDAY + timedelta(days=draw(st.integers(0, 11)))
    weeks = draw(st.integers(1, 3))
    return BookingRequest(
        day=day,
        start=time(start // 4, start % 4 * 15),
        end=time((start + length) // 4, (start + length) % 4 * 15),
        group_label=f"CM{draw(st.integers(1, 2))}",
        booked_by="Mme Martin",
        until=day + timedelta(weeks=weeks - 1) if weeks > 1 else None,
    )


def _overlaps(a, b):
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(asked=st.lists(requests(), min_size=1, max_size=8))
def test_no_two_accepted_bookings_of_a_kit_overlap(app, world, db_session, asked):
    with app.app_context():
        db_session.execute(delete(BookingSlot))
        db_session.execute(delete(Booking))
        db_session.commit()
        kit = db_session.get(Kit, world.kit_id)
        accepted: list[list] = []
        for req in asked:
            spans = occurrences(req)
            expected = not any(_overlaps(spans, other) for other in accepted)
            try:
                book(db_session, ADMIN, kit, req)
            except LoanError:
                assert not expected, f"{req} refused without a clash"
            else:
                assert expected, f"{req} accepted over a booking"
                accepted.append(spans)
        stored = db_session.scalars(
            select(Booking).where(
                Booking.kit_id == kit.id, Booking.status == BookingStatus.CONFIRMED
            )
        ).all()
        assert len(stored) == sum(len(a) for a in accepted)
        for i, a in enumerate(stored):
            for b in stored[i + 1 :]:
                assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at)


ROUNDS = 5


def _book_at(app, kit_id, start, end, group):
    """One teacher's booking, in an app context (a session, a connection) of its own."""
    with app.app_context():
        kit = db.session.get(Kit, kit_id)
        req = BookingRequest(next_weekday(1), start, end, group, "Mme Martin")
        try:
            book(db.session, None, kit, req)
        except LoanError:
            db.session.rollback()
            return "refused"
        finally:
            db.session.remove()
        return "booked"


def test_simultaneous_overlapping_requests_let_one_through(app, world, db_session):
    """Three teachers ask at the same instant for times that all share a quarter hour:
    one gets the kit, the others are refused; on both engines."""
    for round_ in range(ROUNDS):
        hour = 8 + round_
        outcomes = simultaneously(
            Kit,
            lambda h=hour: _book_at(app, world.kit_id, time(h, 0), time(h, 45), "CM1"),
            lambda h=hour: _book_at(app, world.kit_id, time(h, 30), time(h + 1, 0), "CM2"),
            lambda h=hour: _book_at(app, world.kit_id, time(h, 15), time(h, 45), "CE2"),
        )
        assert sorted(map(str, outcomes)) == ["booked", "refused", "refused"], outcomes
    db_session.expire_all()
    stored = db_session.scalars(
        select(Booking).where(Booking.status == BookingStatus.CONFIRMED).order_by(Booking.starts_at)
    ).all()
    assert len(stored) == ROUNDS
    for a, b in pairwise(stored):
        assert a.ends_at <= b.starts_at
