"""A ticket the staff open themselves (a phone call, a visit, an alert of their MDM): on
an item or a room of their scope, with a problem offered for it, as a public report would
record it, but never merged into an open ticket of the same problem: that one is named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.helpdesk import notify
from inventory.helpdesk.models import Ticket, TicketStatus
from inventory.helpdesk.public import announce_new_ticket, find_duplicate_on, problem_types_on
from inventory.helpdesk.rules import (
    DESCRIPTION_MAX,
    HelpdeskError,
    TicketConflict,
    commit,
    new_follow_token,
)
from inventory.helpdesk.tickets import sync_asset
from inventory.orgs.models import Classroom


@dataclass(frozen=True)
class StaffReport:
    """What a member of the staff records: the item (or, without one, the room)."""

    problem_type_id: int | None
    description: str
    asset_id: int | None = None
    classroom_id: int | None = None


def open_ticket(session: Session, config: Any, user: Subject, report: StaffReport) -> Ticket:
    """A new ticket on an item or a room the user may work on (else 404)."""
    policy.require(user, Action.EDIT)
    asset: Asset | None = None
    if report.asset_id:
        asset = policy.load_or_404(user, Asset, report.asset_id, session, Action.EDIT)
        room, ecole = asset.classroom, asset.ecole
        if ecole is None:
            raise HelpdeskError(
                _l("This item is not in a school: place it before opening a ticket on it."),
                field="asset_id",
            )
    elif report.classroom_id:
        room = policy.load_or_404(user, Classroom, report.classroom_id, session, Action.EDIT)
        ecole = room.ecole
    else:
        raise HelpdeskError(_l("Give the item or the room of the problem."), field="asset_id")
    ptype = next(
        (t for t in problem_types_on(session, asset) if t.id == report.problem_type_id), None
    )
    if ptype is None:
        raise HelpdeskError(
            _l("Choose a problem offered for this item or room."), field="problem_type_id"
        )
    description = (report.description or "").strip()
    if not description:
        raise HelpdeskError(_l("Describe the problem in a few words."), field="description")
    if len(description) > DESCRIPTION_MAX:
        raise HelpdeskError(_l("At most %(n)d characters.", n=DESCRIPTION_MAX), field="description")
    duplicate = find_duplicate_on(session, asset, room, ptype.id)
    if duplicate is not None:
        raise TicketConflict(
            _l(
                "Ticket #%(id)s is already open for this problem: add a message to it.",
                id=duplicate.id,
            )
        )
    owner = ecole.collectivite_id or (asset.collectivite_id if asset is not None else None)
    if owner is None:
        raise HelpdeskError(
            _l("This school belongs to no collectivité: no one could work the ticket."),
            field="classroom_id",
        )
    ticket = Ticket(
        asset=asset,
        classroom=room,
        ecole=ecole,
        collectivite_id=owner,
        problem_type=ptype,
        description=description,
        reporter_name=(getattr(user, "name", None) or None),
        reporter_email=None,
        follow_token=new_follow_token(),
        status=TicketStatus.NEW,
        blocking=ptype.blocking,
        reports=1,
    )
    session.add(ticket)
    session.flush()
    sync_asset(session, config, ticket)
    notify.notify_new_ticket(session, config, ticket)
    announce_new_ticket(session, ticket, ptype.code)
    commit(session)
    return ticket
