"""A ticket saved twice at the same instant, through HTTP on the real database: two staff
members, each with a client of their own, load the same version of the ticket, then one
assigns it while the other moves its status. One save wins; the other answers 409 with
the translated conflict message and what was typed, never a server error."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select

from inventory.auth.models import User
from inventory.helpdesk.models import TICKET_TRANSITIONS, Ticket, TicketMessage, TicketStatus
from tests.concurrently import simultaneously
from tests.factories import build_world, count, fresh, report, signed_in

ROUNDS = 20
STAFF_MOVES = (TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING)
# The French message (the default language) of a ticket changed meanwhile.
CONFLICT_FR = "Quelqu&#39;un d&#39;autre a modifié ce ticket"


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


def _next_status(status: TicketStatus) -> TicketStatus:
    return next(s for s in STAFF_MOVES if s in TICKET_TRANSITIONS[status])


def test_an_assignment_and_a_status_change_at_the_same_instant(app, world, make_user, db_session):
    report(app.test_client(), world["token"], world["types"]["son"])
    ticket_id = db_session.scalar(select(Ticket.id))
    scope = [("collectivite", world["coll"])]
    assigner, email = signed_in(app, make_user, "technicien", scope)
    mover, _ = signed_in(app, make_user, "technicien", scope)
    tech_id = db_session.scalar(select(User.id).filter_by(email=email))

    for round_ in range(ROUNDS):
        before = fresh(db_session, Ticket, ticket_id)
        version, status, assignee = before.version, before.status, before.assignee_id
        wanted = _next_status(status)
        new_assignee = None if assignee else tech_id
        note = f"Passage prévu, tour {round_}"
        messages = count(db_session, TicketMessage, TicketMessage.ticket_id == ticket_id)

        assigned, moved = simultaneously(
            Ticket,
            partial(
                assigner.post,
                f"/tickets/{ticket_id}/assigner",
                data={"assignee": str(new_assignee or 0), "version": str(version)},
            ),
            partial(
                mover.post,
                f"/tickets/{ticket_id}/statut",
                data={"status": wanted.value, "note": note, "version": str(version)},
            ),
        )
        for answer in (assigned, moved):
            if isinstance(answer, BaseException):
                raise answer
        codes = sorted([assigned.status_code, moved.status_code])
        assert codes == [302, 409], (round_, assigned.status_code, moved.status_code)
        after = fresh(db_session, Ticket, ticket_id)
        loser = assigned if assigned.status_code == 409 else moved
        html = loser.get_data(as_text=True)
        assert CONFLICT_FR in html
        # The page shows the ticket as it is now, for a next save made knowingly.
        assert f'name="version" value="{after.version}"' in html
        if moved.status_code == 302:
            # The status moved, with its note; the assignment changed nothing.
            assert (after.status, after.assignee_id) == (wanted, assignee)
            assert count(db_session, TicketMessage, TicketMessage.ticket_id == ticket_id) == (
                messages + 1
            )
        else:
            # The assignment holds; the status change left nothing, and its note is kept
            # in the form for the next try.
            assert (after.status, after.assignee_id) == (status, new_assignee)
            assert note in html
            assert count(db_session, TicketMessage, TicketMessage.ticket_id == ticket_id) == (
                messages
            )
        assert after.version > version
