"""The retention of reporters' contact data: the nightly purge, run through the job queue
as its scheduler runs it, deletes the name and the address of tickets closed long enough
ago and keeps the ticket and its change log readable; the change log never held them."""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from inventory.core import jobs
from inventory.core.audit import HIDDEN, AuditRecord
from inventory.core.db import utcnow
from inventory.extensions import db
from inventory.helpdesk import tickets
from inventory.helpdesk.models import Ticket, TicketFollower, TicketStatus
from inventory.privacy.retention import months_before, purge_contacts
from tests.factories import ADMIN, build_world, count, fresh, login, report

PURGE = "inventory.privacy.tasks.purge_reporter_contacts"
NAME, EMAIL = "Jeanne Rapporteuse", "jeanne.rapporteuse@example.org"


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


def _reported_and_closed(app, db_session, world, token, *, name, email, closed_days_ago):
    """A report from a label's page, closed by the staff, its closing moved back in time."""
    assert report(app.test_client(), token, world["types"]["son"], name=name, email=email)
    ticket_id = db_session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        tickets.change_status(
            db.session, app.config, ADMIN, ticket, TicketStatus.CLOSED, version=ticket.version
        )
    db_session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(closed_at=utcnow() - timedelta(days=closed_days_ago))
    )
    db_session.commit()
    return ticket_id


def _run_as_scheduled(app, tmp_path, name):
    """What the consumer's scheduler does at 03:40 UTC: read the periodic tasks due, queue
    the one named, take it from the queue and run it."""
    app.config.update(JOBS_URL=f"sqlite:///{tmp_path / 'queue.db'}", JOBS_IMMEDIATE=False)
    app.extensions.pop("socle_jobs", None)
    huey = jobs.queue(app).huey
    due = [t for t in huey.read_periodic(datetime(2026, 12, 8, 3, 40)) if t.name == name]
    assert len(due) == 1, "the purge is not scheduled at 03:40"
    huey.enqueue(due[0])
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())
    assert huey.pending_count() == 0


def test_the_nightly_purge_deletes_old_contacts_and_keeps_ticket_and_log(
    app, world, db_session, make_user, tmp_path
):
    old = _reported_and_closed(
        app, db_session, world, world["token"], name=NAME, email=EMAIL, closed_days_ago=200
    )
    recent = _reported_and_closed(
        app,
        db_session,
        world,
        world["token2"],
        name="Paul Récent",
        email="paul.recent@example.org",
        closed_days_ago=30,
    )
    assert count(db_session, TicketFollower, TicketFollower.ticket_id == old) == 1

    _run_as_scheduled(app, tmp_path, PURGE)

    purged = fresh(db_session, Ticket, old)
    assert (purged.reporter_name, purged.reporter_email) == (None, None)
    assert count(db_session, TicketFollower, TicketFollower.ticket_id == old) == 0
    # The ticket is whole otherwise: its problem, its status, its dates, its messages.
    assert purged.description == "Le stylet ne répond plus."
    assert purged.status is TicketStatus.CLOSED and purged.closed_at is not None
    kept = fresh(db_session, Ticket, recent)
    assert (kept.reporter_name, kept.reporter_email) == ("Paul Récent", "paul.recent@example.org")
    assert count(db_session, TicketFollower, TicketFollower.ticket_id == recent) == 1

    # The change log never held the name nor the address; it tells that they were given,
    # then cleared by the system's purge.
    records = db_session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    logged = json.dumps([r.changes for r in records], ensure_ascii=False)
    assert NAME not in logged and EMAIL not in logged and "Paul Récent" not in logged
    mine = [r for r in records if r.object_type == "tickets" and r.object_id == old]
    assert mine[0].changes["reporter_name"] == [None, HIDDEN]
    assert mine[0].changes["reporter_email"] == [None, HIDDEN]
    purge = mine[-1]
    assert purge.actor_label == "system"
    assert purge.changes["reporter_name"] == [HIDDEN, None]
    assert purge.changes["reporter_email"] == [HIDDEN, None]

    # The staff still read the ticket and its history, with nothing of the reporter.
    staff = app.test_client()
    assert login(staff, make_user("technicien", [("collectivite", world["coll"])])).status_code
    page = staff.get(f"/tickets/{old}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Le stylet ne répond plus." in html
    assert NAME not in html and EMAIL not in html
    journal = staff.get("/journal").get_data(as_text=True)
    assert f"#{old}" in journal
    assert NAME not in journal and EMAIL not in journal


def test_the_retention_is_configurable(app, world, db_session):
    app.config["REPORTER_CONTACT_RETENTION_MONTHS"] = 1  # as config.py or the environment says
    ticket_id = _reported_and_closed(
        app, db_session, world, world["token"], name=NAME, email=EMAIL, closed_days_ago=40
    )
    with app.app_context():
        done = purge_contacts(db.session, app.config, utcnow())
    assert done.tickets == 1
    assert fresh(db_session, Ticket, ticket_id).reporter_email is None
    # The notice says the configured delay.
    page = app.test_client().get("/confidentialite?lang=en").get_data(as_text=True)
    assert "deleted 1 months after the ticket closes" in page


def test_an_open_ticket_keeps_its_contact_however_old(app, world, db_session):
    assert report(app.test_client(), world["token"], world["types"]["son"], name=NAME, email=EMAIL)
    db_session.execute(update(Ticket).values(created_at=utcnow() - timedelta(days=900)))
    db_session.commit()
    with app.app_context():
        assert purge_contacts(db.session, app.config, utcnow()).tickets == 0
    assert db_session.scalar(select(Ticket.reporter_email)) == EMAIL


@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31)),
    st.integers(min_value=0, max_value=60),
)
def test_months_before_goes_back_whole_months(moment, months):
    moment = moment.replace(tzinfo=UTC)
    back = months_before(moment, months)
    assert back <= moment
    assert (moment.year * 12 + moment.month) - (back.year * 12 + back.month) == months
    assert back.day == min(moment.day, calendar.monthrange(back.year, back.month)[1])
    assert back.time() == moment.time() and back.tzinfo == moment.tzinfo
