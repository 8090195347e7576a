"""Booking a classe mobile through the pages: signed in and by the school's public link,
clashes refused with who holds the kit, weekly series, cancellation, the iCalendar feed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from inventory.loans.models import Booking, BookingSlot, BookingStatus
from tests.factories import login
from tests.loans.builders import next_weekday


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.post("/language", data={"lang": "en", "next": "/"})
    return client


def _form(day, start="09:00", end="10:30", group="CM1 B", who="Mme Lefèvre", until=""):
    return {
        "day": day.isoformat(),
        "start": start,
        "end": end,
        "group_label": group,
        "booked_by": who,
        "until": until,
    }


def _confirmed(db_session, kit_id):
    db_session.expire_all()
    return db_session.scalar(
        select(func.count(Booking.id)).where(
            Booking.kit_id == kit_id, Booking.status == BookingStatus.CONFIRMED
        )
    )


def test_a_signed_in_booking_then_a_clash_names_who_holds_the_kit(app, world, db_session):
    client = _client(app, world.users["director"])
    tuesday = next_weekday(1)
    answer = client.post(f"/prets/kits/{world.kit_id}/reserver", data=_form(tuesday))
    assert answer.status_code == 302
    page = client.get(f"/prets/kits/{world.kit_id}?semaine={tuesday.isoformat()}")
    assert "CM1 B" in page.text and "09:00" in page.text and "10:30" in page.text

    clash = client.post(
        f"/prets/kits/{world.kit_id}/reserver",
        data=_form(tuesday, "10:15", "11:00", group="CE2 A", who="M. Petit"),
    )
    assert clash.status_code == 422
    assert "already booked" in clash.text and "CM1 B" in clash.text and "Mme Lefèvre" in clash.text
    assert _confirmed(db_session, world.kit_id) == 1
    # Back to back is no clash.
    after = client.post(
        f"/prets/kits/{world.kit_id}/reserver", data=_form(tuesday, "10:30", "11:00", "CE2 A")
    )
    assert after.status_code == 302
    assert _confirmed(db_session, world.kit_id) == 2


def test_a_weekly_series_is_refused_whole_when_one_week_clashes(app, world, db_session):
    client = _client(app, world.users["director"])
    monday = next_weekday(0)
    third = monday + timedelta(weeks=2)
    assert (
        client.post(
            f"/prets/kits/{world.kit_id}/reserver", data=_form(third, "14:00", "15:00", "CP")
        ).status_code
        == 302
    )
    series = _form(monday, "13:30", "14:30", "CM2", until=(monday + timedelta(weeks=5)).isoformat())
    refused = client.post(f"/prets/kits/{world.kit_id}/reserver", data=series)
    assert refused.status_code == 422 and "CP" in refused.text
    assert _confirmed(db_session, world.kit_id) == 1
    series["start"], series["end"] = "09:00", "10:00"
    assert client.post(f"/prets/kits/{world.kit_id}/reserver", data=series).status_code == 302
    assert _confirmed(db_session, world.kit_id) == 7  # six weeks and the CP's hour

    # Cancelling the series from its fourth week frees those weeks' quarter hours.
    fourth = db_session.scalars(
        select(Booking).where(Booking.group_label == "CM2").order_by(Booking.starts_at)
    ).all()[3]
    answer = client.post(f"/prets/reservations/{fourth.id}/annuler", data={"series": "y"})
    assert answer.status_code == 302
    assert _confirmed(db_session, world.kit_id) == 4
    slots = db_session.scalar(
        select(func.count()).select_from(BookingSlot).where(BookingSlot.kit_id == world.kit_id)
    )
    assert slots == 3 * 4 + 4  # three CM2 hours and the CP's hour, four quarters each


def test_bad_times_are_refused_with_a_clear_message(app, world, db_session):
    client = _client(app, world.users["director"])
    day = next_weekday(2)
    odd = client.post(f"/prets/kits/{world.kit_id}/reserver", data=_form(day, "09:10", "10:00"))
    assert odd.status_code == 422 and "quarter hour" in odd.text
    backwards = client.post(
        f"/prets/kits/{world.kit_id}/reserver", data=_form(day, "11:00", "10:00")
    )
    assert backwards.status_code == 422 and "after the start" in backwards.text
    # What was typed is kept.
    assert 'value="CM1 B"' in backwards.text
    assert _confirmed(db_session, world.kit_id) == 0


def test_the_public_link_books_without_an_account_and_feeds_a_calendar(app, world, db_session):
    client = app.test_client()
    thursday = next_weekday(3)
    page = client.get(f"/reserver/{world.token}?lang=en")
    assert page.status_code == 200 and "Classe mobile 1" in page.text
    done = client.post(f"/reserver/{world.token}?lang=en", data=_form(thursday, group="CE1 C"))
    assert done.status_code == 200 and "1 booking recorded" in done.text
    clash = client.post(f"/reserver/{world.token}?lang=en", data=_form(thursday, group="CP"))
    assert clash.status_code == 422 and "CE1 C" in clash.text
    feed = client.get(f"/reserver/{world.token}/calendrier.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert "SUMMARY:Classe mobile 1 — CE1 C" in feed.text
    unknown = client.get("/reserver/0000000000000000?lang=en")
    assert unknown.status_code == 200 and "Unknown booking link" in unknown.text

    # A new link: the old one stops working.
    director = _client(app, world.users["director"])
    assert director.post(f"/prets/kits/{world.kit_id}/lien").status_code == 302
    assert "Unknown booking link" in client.get(f"/reserver/{world.token}?lang=en").text


def test_other_collectivites_neither_see_nor_book_the_kit(app, world, db_session):
    other = _client(app, world.users["other"])
    assert other.get(f"/prets/kits/{world.kit_id}").status_code == 404
    day = next_weekday(1)
    assert other.post(f"/prets/kits/{world.kit_id}/reserver", data=_form(day)).status_code == 404
    auditor = _client(app, world.users["auditor"])
    assert auditor.get(f"/prets/kits/{world.kit_id}").status_code == 200
    assert auditor.post(f"/prets/kits/{world.kit_id}/reserver", data=_form(day)).status_code == 404
    assert _confirmed(db_session, world.kit_id) == 0
