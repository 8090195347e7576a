"""The staff's queue of tickets: its filters, its pages, what its filters offer, the
schools with the most open tickets, and the open tickets shown on an item's or a room's
page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset
from inventory.auth.models import User
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Action, Subject
from inventory.core.sorting import Sort, SortSpec, in_order_of
from inventory.helpdesk.models import OPEN_STATUSES, ProblemType, Ticket, TicketStatus
from inventory.orgs.models import Ecole

AGE_CHOICES = (1, 3, 7, 30)


@dataclass(frozen=True)
class TicketFilters:
    status: str = "open"  # "open", "all" or a TicketStatus value
    ecole: int | None = None
    problem_type: int | None = None
    older_than: int | None = None  # days
    assignee: str = ""  # "", "me", "none" or a user id
    asset: int | None = None
    classroom: int | None = None

    def apply(self, stmt: Select[Any], user: Subject, now: datetime | None = None) -> Select[Any]:
        if self.status == "open":
            stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
        elif self.status in TicketStatus._value2member_map_:
            stmt = stmt.where(Ticket.status == TicketStatus(self.status))
        for column, value in (
            (Ticket.ecole_id, self.ecole),
            (Ticket.problem_type_id, self.problem_type),
            (Ticket.asset_id, self.asset),
            (Ticket.classroom_id, self.classroom),
        ):
            if value:
                stmt = stmt.where(column == value)
        if self.older_than:
            stmt = stmt.where(Ticket.created_at <= (now or utcnow()) - timedelta(self.older_than))
        if self.assignee == "me":
            stmt = stmt.where(Ticket.assignee_id == getattr(user, "id", None))
        elif self.assignee == "none":
            stmt = stmt.where(Ticket.assignee_id.is_(None))
        elif self.assignee.isdigit():
            stmt = stmt.where(Ticket.assignee_id == int(self.assignee))
        return stmt


def queue_options() -> list[Any]:
    """What a list of tickets shows of each: its problem, school, room and item."""
    return [
        selectinload(Ticket.problem_type),
        selectinload(Ticket.ecole),
        selectinload(Ticket.classroom),
        selectinload(Ticket.asset).selectinload(Asset.model),
    ]


# The columns the queue sorts by. Its own order: the oldest open ticket first (the one
# waiting longest), or the newest first when closed ones are listed too.
TICKET_SORT = SortSpec(
    columns={
        "ticket": Ticket.id,
        "reported": Ticket.created_at,
        "school": select(Ecole.name).where(Ecole.id == Ticket.ecole_id).scalar_subquery(),
        "status": in_order_of(Ticket.status, TicketStatus),
        "reports": Ticket.reports,
    },
    id=Ticket.id,
)


def ticket_queue(
    session: Session,
    user: Subject,
    filters: TicketFilters,
    page: int,
    per_page: int,
    sort: Sort | None = None,
) -> Page[Ticket]:
    order: Sequence[Any]
    if sort is not None:
        order = sort.order_by()
    elif filters.status == "open":
        order = (Ticket.created_at, Ticket.id)
    else:
        order = (Ticket.created_at.desc(), Ticket.id.desc())
    rows = policy.visible(user, select(Ticket), Ticket).options(*queue_options())
    keys = policy.visible(user, filters.apply(select(Ticket.id), user), Ticket).order_by(*order)
    return paginate(session, rows, page, per_page, key_stmt=keys)


# Past this many tickets a keyed list stops counting.
KEYED_COUNT_CAP = 10_000


def tickets_by_key(
    session: Session,
    user: Subject,
    filters: TicketFilters,
    per_page: int,
    *,
    after: int | None = None,
) -> KeyedPage[Ticket]:
    """The queue's tickets newest first, read along their id (the API's cursor pages):
    a page costs the same at any depth."""
    rows = select(Ticket).options(*queue_options())
    keys = policy.visible(user, filters.apply(select(Ticket.id), user), Ticket)
    return paginate_by_key(
        session, rows, keys, Ticket.id, per_page=per_page, cap=KEYED_COUNT_CAP, after=after
    )


def user_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def open_counts_by_school(
    session: Session, user: Subject, limit: int = 20
) -> list[tuple[Ecole, int]]:
    """The schools with the most open tickets, in the user's scope."""
    count = func.count(Ticket.id)
    stmt = policy.visible(
        user,
        select(Ticket.ecole_id, count)
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.ecole_id)
        .order_by(count.desc(), Ticket.ecole_id)
        .limit(limit),
        Ticket,
    )
    rows = session.execute(stmt).all()
    schools = {
        e.id: e
        for e in session.scalars(
            select(Ecole)
            .where(Ecole.id.in_([r[0] for r in rows]))
            .options(selectinload(Ecole.commune))
        )
    }
    return [(schools[ecole_id], n) for ecole_id, n in rows if ecole_id in schools]


@dataclass
class QueueChoices:
    schools: list[tuple[int, str]]
    problem_types: list[ProblemType]
    assignees: list[tuple[int, str]]


def queue_choices(session: Session, user: Subject) -> QueueChoices:
    """What the queue's filters offer: schools and assignees that have tickets in scope."""
    school_ids = select(Ticket.ecole_id).distinct()
    school_ids = policy.visible(user, school_ids, Ticket)
    schools = session.execute(
        select(Ecole.id, Ecole.name).where(Ecole.id.in_(school_ids)).order_by(Ecole.name)
    ).all()
    assignee_ids = policy.visible(
        user, select(Ticket.assignee_id).where(Ticket.assignee_id.is_not(None)).distinct(), Ticket
    )
    assignees = session.execute(
        select(User.id, User.name).where(User.id.in_(assignee_ids)).order_by(User.name)
    ).all()
    types = list(session.scalars(select(ProblemType).order_by(ProblemType.position)))
    return QueueChoices([(i, n) for i, n in schools], types, [(i, n) for i, n in assignees])


def open_tickets_for(
    session: Session,
    user: Subject,
    *,
    asset_id: int | None = None,
    classroom_id: int | None = None,
) -> list[Ticket]:
    """Open tickets of one item or one room (its own and its items'), in scope."""
    if not policy.allowed(user, Action.READ) or not (asset_id or classroom_id):
        return []
    stmt = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    if asset_id:
        stmt = stmt.where(Ticket.asset_id == asset_id)
    else:
        stmt = stmt.where(Ticket.classroom_id == classroom_id)
    stmt = policy.visible(user, stmt, Ticket).options(*queue_options()).order_by(Ticket.id)
    return list(session.scalars(stmt.limit(50)))
