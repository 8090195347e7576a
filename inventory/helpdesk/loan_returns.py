"""A ticket for each item found missing at a loan's return. The loans domain comes before
the helpdesk and cannot open tickets itself: it emits ``loan.item_missing`` (core.events)
and this listener opens the ticket in the same transaction, so that the ticket exists if
and only if the return is recorded."""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.core import events
from inventory.helpdesk import notify
from inventory.helpdesk.models import ProblemType, Ticket, TicketStatus
from inventory.helpdesk.public import announce_new_ticket
from inventory.helpdesk.rules import in_default_language, new_follow_token

# The problem a missing item is filed under: "another problem", offered for every item.
PROBLEM_CODE = "autre"


@events.listen
def open_missing_item_ticket(session: Session, happened: events.Event) -> None:
    if happened.name != events.LOAN_ITEM_MISSING:
        return
    asset = session.get(Asset, happened.data["asset"])
    ptype = session.scalar(select(ProblemType).where(ProblemType.code == PROBLEM_CODE))
    if asset is None or asset.ecole is None or ptype is None:
        return
    config = current_app.config if has_app_context() else {}
    ticket = Ticket(
        asset=asset,
        classroom=asset.classroom,
        ecole=asset.ecole,
        collectivite_id=asset.collectivite_id,
        problem_type=ptype,
        description=in_default_language(
            config, _l("Missing at the return of loan #%(id)s.", id=happened.data["loan"])
        ),
        reporter_name=None,
        reporter_email=None,
        follow_token=new_follow_token(),
        status=TicketStatus.NEW,
        blocking=False,
        reports=1,
    )
    session.add(ticket)
    session.flush()
    if config:
        notify.notify_new_ticket(session, config, ticket)
    announce_new_ticket(session, ticket, ptype.code)
