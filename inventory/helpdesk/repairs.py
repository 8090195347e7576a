"""The item of a ticket taken out of service and back: a member of the IT staff who may
change the item's status puts it under repair from the ticket's page, and may put it back
in service when resolving the ticket. The item's status goes through the asset lifecycle
(its transitions, its log of statuses and the change log), in the ticket's transaction."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.assets import lifecycle
from inventory.assets.models import TRANSITIONS, Asset, AssetStatus
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.helpdesk.models import OPEN_STATUSES, Ticket, TicketMessage
from inventory.helpdesk.rules import (
    HelpdeskError,
    TicketConflict,
    commit,
    in_default_language,
    lost_race,
    stale_form,
)


def item_changed() -> TicketConflict:
    """The item was saved by someone else since the ticket's page was loaded."""
    return TicketConflict(
        _l(
            "Someone else changed this item while you were working on the ticket: its "
            "status was not changed. Check the item, then try again."
        )
    )


def may_repair(session: Session, user: Subject, ticket: Ticket) -> bool:
    """May ``user`` put the ticket's item under repair now? (an open ticket on an item that
    may go under repair, and the right to change that item)."""
    asset = ticket.asset
    return (
        asset is not None
        and ticket.status in OPEN_STATUSES
        and AssetStatus.UNDER_REPAIR in TRANSITIONS[asset.status]
        and policy.can(user, Action.EDIT, asset, session)
    )


def may_return_to_service(session: Session, user: Subject, ticket: Ticket) -> bool:
    """Is the ticket's item under repair, and may ``user`` put it back in service?"""
    asset = ticket.asset
    return (
        asset is not None
        and asset.status is AssetStatus.UNDER_REPAIR
        and policy.can(user, Action.EDIT, asset, session)
    )


def _note(config: Any, ticket: Ticket, text: str | None) -> str:
    label = in_default_language(config, _l("Ticket #%(id)s", id=ticket.id))
    text = (text or "").strip()
    return f"{label}: {text}"[:500] if text else label


@guarded(lost_race)
def put_under_repair(
    session: Session,
    config: Any,
    user: Subject,
    ticket: Ticket,
    *,
    version: int | None,
    asset_version: int | None,
    note: str | None = None,
) -> Asset:
    """Set the ticket's item under repair, checked against the versions of the ticket and
    of the item the user's page showed; the ticket keeps an internal note of it."""
    if not policy.can(user, Action.EDIT, ticket, session):
        raise policy.Denied()
    asset = ticket.asset
    if asset is None:
        raise HelpdeskError(_l("This ticket is about the room itself, not an item."))
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    check_version(ticket, version, stale_form())
    check_version(asset, asset_version, item_changed())
    if ticket.status not in OPEN_STATUSES:
        raise HelpdeskError(_l("The ticket is no longer open."))
    if asset.status is AssetStatus.UNDER_REPAIR:
        raise HelpdeskError(_l("The item is already under repair."), field="repair_note")
    lifecycle.change_status(
        session, user, asset, AssetStatus.UNDER_REPAIR, _note(config, ticket, note), commit=False
    )
    name = str(getattr(user, "name", "") or "")[:200]
    ticket.messages.append(
        TicketMessage(
            author_id=getattr(user, "id", None),
            author_label=name or "-",
            internal=True,
            body=in_default_language(config, _l("Item %(tag)s put under repair.", tag=asset.tag)),
            status_to=None,
        )
    )
    commit(session)
    return asset


def return_to_service(session: Session, config: Any, user: Subject, ticket: Ticket) -> None:
    """Put the resolved ticket's item back in service, if it is still under repair (the
    caller commits, with the resolution)."""
    asset = ticket.asset
    if asset is None or asset.status is not AssetStatus.UNDER_REPAIR:
        return
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    lifecycle.change_status(
        session, user, asset, AssetStatus.IN_SERVICE, _note(config, ticket, None), commit=False
    )
