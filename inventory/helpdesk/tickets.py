"""A ticket's life: the item that follows its tickets (under repair while a blocking one
is open), and the staff's work on one ticket: reading it, assigning it, moving it along
its statuses, and writing to the reporters or to the staff."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets import lifecycle
from inventory.assets.models import Asset, AssetStatus, EquipmentModel
from inventory.auth.models import User, UserScope
from inventory.core import audit, events, policy
from inventory.core.db import utcnow
from inventory.core.policy import Action, Role, ScopeKind, Subject
from inventory.core.versioning import check_version, guarded
from inventory.helpdesk import notify, repairs
from inventory.helpdesk.models import (
    OPEN_STATUSES,
    TICKET_TRANSITIONS,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from inventory.helpdesk.queue import queue_options
from inventory.helpdesk.rules import (
    DESCRIPTION_MAX,
    HELPDESK,
    MESSAGE_MAX,
    TICKET_STATUS_LABELS,
    HelpdeskError,
    commit,
    default_locale,
    in_default_language,
    lost_race,
    owner_id,
    stale_form,
)


# -- the item follows its tickets ---------------------------------------------------------
def sync_asset(session: Session, config: Any, ticket: Ticket) -> None:
    """An item is "under repair" while a blocking ticket on it is open, and back "in service"
    when the last one is resolved or closed. Each transition is logged with a note."""
    asset = ticket.asset
    if asset is None or not ticket.blocking:
        return
    if ticket.status in OPEN_STATUSES:
        if asset.status is AssetStatus.IN_SERVICE:
            note = in_default_language(
                config,
                _l(
                    "Ticket #%(id)s: %(problem)s",
                    id=ticket.id,
                    problem=ticket.problem_type.label(default_locale(config)),
                ),
            )
            lifecycle.change_status(
                session, HELPDESK, asset, AssetStatus.UNDER_REPAIR, note[:500], commit=False
            )
        return
    if asset.status is not AssetStatus.UNDER_REPAIR:
        return
    others = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.asset_id == asset.id,
            Ticket.id != ticket.id,
            Ticket.blocking.is_(True),
            Ticket.status.in_(OPEN_STATUSES),
        )
    )
    if not others:
        note = in_default_language(
            config,
            _l(
                "Ticket #%(id)s %(status)s",
                id=ticket.id,
                status=in_default_language(config, TICKET_STATUS_LABELS[ticket.status]),
            ),
        )
        lifecycle.change_status(
            session, HELPDESK, asset, AssetStatus.IN_SERVICE, note[:500], commit=False
        )


# -- the staff's work on one ticket ---------------------------------------------------------
def ticket_detail(session: Session, user: Subject, ticket_id: int) -> Ticket:
    ticket = policy.load_or_404(user, Ticket, ticket_id, session)
    session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .options(
            *queue_options(),
            selectinload(Ticket.messages),
            selectinload(Ticket.photos),
            selectinload(Ticket.followers),
            selectinload(Ticket.collectivite),
            selectinload(Ticket.asset).selectinload(Asset.category),
            selectinload(Ticket.asset)
            .selectinload(Asset.model)
            .selectinload(EquipmentModel.manufacturer),
        )
    ).all()
    return ticket


def assignable_users(session: Session, ticket: Ticket) -> list[User]:
    """The active IT staff (technicians) of the collectivité that owns the ticket's school."""
    stmt = (
        select(User)
        .join(UserScope, UserScope.user_id == User.id)
        .where(
            User.active.is_(True),
            User.role == Role.TECHNICIEN,
            UserScope.kind == ScopeKind.COLLECTIVITE,
            UserScope.ref_id == owner_id(ticket),
        )
        .order_by(User.name, User.id)
    )
    return list(session.scalars(stmt).unique())


def _check_edit(session: Session, user: Subject, ticket: Ticket, version: int | None) -> None:
    """The user may work the ticket, and it is still at the version their form shows: it
    stays claimed (locked) for this change until the commit."""
    if not policy.can(user, Action.EDIT, ticket, session):
        raise policy.Denied()
    check_version(ticket, version, stale_form())


def _author(user: Subject) -> tuple[int | None, str]:
    name = getattr(user, "name", None) or audit.current_actor().label
    return getattr(user, "id", None), str(name)[:200]


@guarded(lost_race)
def assign(
    session: Session,
    user: Subject,
    ticket: Ticket,
    assignee_id: int | None,
    *,
    version: int | None,
) -> Ticket:
    _check_edit(session, user, ticket, version)
    if assignee_id and assignee_id not in {u.id for u in assignable_users(session, ticket)}:
        raise HelpdeskError(
            _l("Choose a member of the IT staff of this collectivité."), field="assignee"
        )
    ticket.assignee_id = assignee_id or None
    commit(session)
    return ticket


def next_statuses(ticket: Ticket) -> list[TicketStatus]:
    return [s for s in TicketStatus if s in TICKET_TRANSITIONS[ticket.status]]


@guarded(lost_race)
def change_status(
    session: Session,
    config: Any,
    user: Subject,
    ticket: Ticket,
    to: TicketStatus,
    *,
    version: int | None,
    note: str | None = None,
    resolution: str | None = None,
    back_in_service: bool = False,
) -> Ticket:
    """Move the ticket along TICKET_TRANSITIONS; resolving needs a resolution text. The
    reporter hears of it by mail; the item's status follows (and, with
    ``back_in_service``, a resolved ticket's item under repair goes back in service)."""
    _check_edit(session, user, ticket, version)
    before = ticket.status
    if to not in TICKET_TRANSITIONS[ticket.status]:
        raise HelpdeskError(
            _l(
                "A ticket %(current)s cannot become %(wanted)s.",
                current=TICKET_STATUS_LABELS[ticket.status],
                wanted=TICKET_STATUS_LABELS[to],
            ),
            field="status",
        )
    note = (note or "").strip()
    if len(note) > DESCRIPTION_MAX:
        raise HelpdeskError(_l("At most %(n)d characters.", n=DESCRIPTION_MAX), field="note")
    now = utcnow()
    if to is TicketStatus.RESOLVED:
        resolution = (resolution or "").strip()
        if not resolution:
            raise HelpdeskError(_l("Describe what was done."), field="resolution")
        if len(resolution) > DESCRIPTION_MAX:
            raise HelpdeskError(
                _l("At most %(n)d characters.", n=DESCRIPTION_MAX), field="resolution"
            )
        ticket.resolution = resolution
        ticket.resolved_at = now
        note = resolution
    elif to is TicketStatus.CLOSED:
        ticket.closed_at = now
    elif to is TicketStatus.REOPENED:
        ticket.resolution = None
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = to
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    author_id, label = _author(user)
    ticket.messages.append(
        TicketMessage(
            author_id=author_id, author_label=label, internal=False, body=note, status_to=to
        )
    )
    session.flush()
    sync_asset(session, config, ticket)
    if back_in_service and to is TicketStatus.RESOLVED:
        repairs.return_to_service(session, config, user, ticket)
    notify.mail_new_status(session, config, ticket, note)
    told = {"ticket": ticket.id, "ecole": ticket.ecole_id, "asset": ticket.asset_id}
    events.emit(
        session,
        events.TICKET_STATUS_CHANGED,
        ticket.collectivite_id,
        **told,
        from_status=str(before),
        to_status=str(to),
    )
    if to is TicketStatus.RESOLVED:
        events.emit(
            session,
            events.TICKET_RESOLVED,
            ticket.collectivite_id,
            **told,
            resolution=ticket.resolution,
        )
    commit(session)
    return ticket


@guarded(lost_race)
def add_message(
    session: Session,
    config: Any,
    user: Subject,
    ticket: Ticket,
    body: str,
    *,
    internal: bool,
    version: int | None,
) -> TicketMessage:
    """An internal note (staff only) or a message the reporter sees and receives by mail."""
    _check_edit(session, user, ticket, version)
    body = (body or "").strip()
    if not body:
        raise HelpdeskError(_l("Write the message."), field="body")
    if len(body) > MESSAGE_MAX:
        raise HelpdeskError(_l("At most %(n)d characters.", n=MESSAGE_MAX), field="body")
    author_id, label = _author(user)
    message = TicketMessage(
        author_id=author_id, author_label=label, internal=internal, body=body, status_to=None
    )
    ticket.messages.append(message)
    if not internal:
        if ticket.first_response_at is None:
            ticket.first_response_at = utcnow()
        notify.mail_staff_message(session, config, ticket, body)
    commit(session)
    return message
