"""Helpdesk rules: public reports, the staff queue, ticket work, notifications, figures and
inventory campaigns.

Public reports have no acting user: what a report changes on an item (the asset goes
"under repair") is done by the helpdesk itself, through the asset lifecycle, and logged
under the request's actor. Staff actions take the acting user and go through the policy.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import force_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.exc import StaleDataError

from inventory.assets import services as assets
from inventory.assets.models import (
    Asset,
    AssetStatus,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
)
from inventory.auth.models import User, UserScope
from inventory.core import audit, errors, policy, uploads
from inventory.core.db import DriverQuery, driver_cursor, utcnow
from inventory.core.errors import ConflictError, DomainError
from inventory.core.mail import send_mail
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Role, Scope, ScopeKind, Subject
from inventory.helpdesk import photos
from inventory.helpdesk.models import (
    OPEN_STATUSES,
    TICKET_TRANSITIONS,
    CampaignScan,
    CampaignStatus,
    InventoryCampaign,
    ProblemType,
    Subscription,
    Ticket,
    TicketFollower,
    TicketMessage,
    TicketPhoto,
    TicketStatus,
)
from inventory.labels import tokens
from inventory.labels.models import ScanToken
from inventory.labels.services import scan_target
from inventory.orgs.models import Classroom, Collectivite, Ecole

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 2000
MESSAGE_MAX = 5000
TICKET_STATUS_LABELS = {
    TicketStatus.NEW: _l("new"),
    TicketStatus.ACKNOWLEDGED: _l("acknowledged"),
    TicketStatus.IN_PROGRESS: _l("in progress"),
    TicketStatus.WAITING: _l("waiting for the supplier"),
    TicketStatus.RESOLVED: _l("resolved"),
    TicketStatus.CLOSED: lazy_pgettext("ticket status", "closed"),
    TicketStatus.REOPENED: _l("reopened"),
}

MODES = ("each", "digest", "none")
MODE_LABELS = {
    "each": _l("A mail for each new report"),
    "digest": _l("One mail a day with the new reports"),
    "none": _l("No mail"),
}


class HelpdeskError(DomainError):
    pass


class TicketConflict(HelpdeskError, ConflictError):
    """Someone else changed the ticket since the form was loaded."""


class DuplicateReport(HelpdeskError):
    """The same problem is already reported, open, on the same item: offer to join it."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(_l("This problem is already reported on this item."), field="problem")
        self.ticket = ticket


class _Helpdesk:
    """The helpdesk itself, for what a public report changes on an item."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


HELPDESK = _Helpdesk()


def new_follow_token() -> str:
    return secrets.token_urlsafe(24)


def _text(config: Any, lazy: Any) -> str:
    """A (lazy) message in the default language: mails and notes are read by people who
    may not share the language of whoever caused them."""
    with force_locale(config.get("BABEL_DEFAULT_LOCALE") or "fr"):
        return str(lazy)


def _commit(session: Session) -> None:
    errors.commit(
        session,
        TicketConflict(
            _l("Someone else changed this ticket at the same moment. Check it and try again.")
        ),
    )


# -- the public scan page ------------------------------------------------------------------
@dataclass
class Target:
    """What a scanned label designates: an item (in its room) or a room."""

    token: ScanToken
    asset: Asset | None
    classroom: Classroom | None
    ecole: Ecole | None

    @property
    def is_room(self) -> bool:
        return self.asset is None

    @property
    def revoked(self) -> bool:
        return self.token.revoked_at is not None

    @property
    def item(self) -> Asset | Classroom | None:
        return self.asset if self.asset is not None else self.classroom


def find_target(session: Session, value: str) -> Target | None:
    token = scan_target(session, value)
    if token is None or (token.asset is None and token.classroom is None):
        return None
    asset = token.asset
    room = asset.classroom if asset is not None else token.classroom
    ecole = asset.ecole if asset is not None else token.classroom.ecole  # type: ignore[union-attr]
    return Target(token, asset, room, ecole)


def problem_types_for(session: Session, target: Target) -> list[ProblemType]:
    """The problems a reporter may pick: room problems for a room, else those of the item's
    equipment category (a type without categories applies to every item)."""
    stmt = (
        select(ProblemType)
        .where(ProblemType.active.is_(True), ProblemType.for_rooms.is_(target.is_room))
        .order_by(ProblemType.position, ProblemType.id)
    )
    code = target.asset.category.code if target.asset is not None else None
    return _offered(list(session.scalars(stmt)), target.is_room, code)


def _on_target(target: Target) -> Any:
    if target.asset is not None:
        return Ticket.asset_id == target.asset.id
    return (Ticket.classroom_id == target.classroom.id) & Ticket.asset_id.is_(None)  # type: ignore[union-attr]


def open_tickets_on(session: Session, target: Target) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(_on_target(target), Ticket.status.in_(OPEN_STATUSES))
        .options(selectinload(Ticket.problem_type))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )
    return list(session.scalars(stmt))


def find_duplicate(session: Session, target: Target, problem_type_id: int) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(
            _on_target(target),
            Ticket.problem_type_id == problem_type_id,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.id)
        .limit(1)
    )
    return session.scalar(stmt)


# -- what the public page shows, as plain values ------------------------------------------
# The page's content is read as plain rows rather than ORM objects: it is the most
# requested page, and it is cached (in the view) under exactly this content, so that a
# change to anything it shows (a new or closed ticket, a renamed room, a problem type)
# gives another key. The statements are built once: building a select and its cache key
# costs several times the indexed lookups themselves.
@dataclass(frozen=True)
class OpenProblem:
    """An open ticket as the public page shows it: its kind, date, status and count only."""

    label_fr: str
    label_en: str
    created_at: datetime
    status: TicketStatus
    reports: int

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


@dataclass(frozen=True)
class ProblemChoice:
    """A problem a reporter may pick on the public page."""

    id: int
    label_fr: str
    label_en: str
    category_codes: str
    for_rooms: bool

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


@dataclass(frozen=True)
class PublicPage:
    """What the public page of a scanned label may say, and nothing else: never a serial,
    an address, a price or a person's name. Hashable: it is the page cache's key."""

    token: str
    revoked: bool
    asset_tag: str | None  # None: a room's label
    category_code: str | None
    category_fr: str | None
    category_en: str | None
    model_name: str | None
    classroom: str | None
    school: str | None
    open_problems: tuple[OpenProblem, ...]
    choices: tuple[ProblemChoice, ...]

    @property
    def is_room(self) -> bool:
        return self.asset_tag is None

    @property
    def name(self) -> str:
        """The item's tag, or the room's name."""
        return (self.classroom if self.asset_tag is None else self.asset_tag) or ""

    def category(self, locale: str) -> str:
        return (self.category_en if locale == "en" else self.category_fr) or ""


def _offered(types: Sequence[Any], for_room: bool, category_code: str | None) -> list[Any]:
    """The active problem types (ProblemType or ProblemChoice, already ordered) offered for
    a room, or for an item of ``category_code``: a type without categories fits every item."""
    return [
        t
        for t in types
        if t.for_rooms == for_room
        and (for_room or not t.category_codes or category_code in t.category_codes.split(","))
    ]


def _open(ticket: Any) -> Any:
    # Equalities rather than IN: an expanding IN is re-rendered on every execution.
    return or_(*(ticket.status == status for status in OPEN_STATUSES))


_ItemTicket, _RoomTicket = aliased(Ticket), aliased(Ticket)
_CHOICE_COLUMNS = (
    ProblemType.id,
    ProblemType.label_fr,
    ProblemType.label_en,
    ProblemType.category_codes,
    ProblemType.for_rooms,
)
# The page's read, in one round trip: first the item, its place and its open problems
# (one row each, or one row without any), then the active problem types. Each part
# leaves the other's columns empty.
_PAGE_ROWS = (
    select(
        literal(0).label("part"),
        ScanToken.token,
        ScanToken.revoked_at,
        ScanToken.asset_id,
        ScanToken.classroom_id,
        Asset.tag,
        EquipmentCategory.code,
        EquipmentCategory.name_fr,
        EquipmentCategory.name_en,
        Manufacturer.name,
        EquipmentModel.name,
        Classroom.name,
        Ecole.name,
        ProblemType.label_fr,
        ProblemType.label_en,
        func.coalesce(_ItemTicket.created_at, _RoomTicket.created_at).label("opened"),
        func.coalesce(_ItemTicket.status, _RoomTicket.status),
        func.coalesce(_ItemTicket.reports, _RoomTicket.reports),
        func.coalesce(_ItemTicket.id, _RoomTicket.id).label("ticket"),
        literal(None, Integer).label("choice"),
        *(literal(None, c.type) for c in _CHOICE_COLUMNS[1:]),
        literal(None, Integer).label("position"),
    )
    .select_from(ScanToken)
    .outerjoin(Asset, Asset.id == ScanToken.asset_id)
    .outerjoin(EquipmentModel, EquipmentModel.id == Asset.model_id)
    .outerjoin(Manufacturer, Manufacturer.id == EquipmentModel.manufacturer_id)
    .outerjoin(EquipmentCategory, EquipmentCategory.id == Asset.category_id)
    # An item's room and school are its own; a room label's are the room's.
    .outerjoin(
        Classroom,
        Classroom.id
        == case((ScanToken.asset_id.is_(None), ScanToken.classroom_id), else_=Asset.classroom_id),
    )
    .outerjoin(
        Ecole,
        Ecole.id == case((ScanToken.asset_id.is_(None), Classroom.ecole_id), else_=Asset.ecole_id),
    )
    # An item's tickets, or a room's own (not those of the items in it): at most one of
    # the two joins finds rows.
    .outerjoin(_ItemTicket, (_ItemTicket.asset_id == ScanToken.asset_id) & _open(_ItemTicket))
    .outerjoin(
        _RoomTicket,
        ScanToken.asset_id.is_(None)
        & (_RoomTicket.classroom_id == ScanToken.classroom_id)
        & _RoomTicket.asset_id.is_(None)
        & _open(_RoomTicket),
    )
    .outerjoin(
        ProblemType,
        ProblemType.id == func.coalesce(_ItemTicket.problem_type_id, _RoomTicket.problem_type_id),
    )
    .where(ScanToken.token == bindparam("token"))
)
_PAGE_COLUMNS = len(_PAGE_ROWS.selected_columns) - len(_CHOICE_COLUMNS) - 1
_CHOICE_ROWS = select(
    literal(1),
    *(literal(None, c.type) for c in list(_PAGE_ROWS.selected_columns)[1:_PAGE_COLUMNS]),
    *_CHOICE_COLUMNS,
    ProblemType.position,
).where(ProblemType.active.is_(True))
_PAGE = union_all(_PAGE_ROWS, _CHOICE_ROWS).order_by(
    literal_column("part"),
    literal_column("opened").desc(),
    literal_column("ticket").desc(),
    literal_column("position"),
    literal_column("choice"),
)
_PAGE_QUERY = DriverQuery(_PAGE, "token")


class _ChoicesMemo:
    """The active problem types as last read, with what each kind of item is offered of
    them: read on every page (a handful of rows, exact whichever way they changed), turned
    into choices again only when they differ."""

    def __init__(self) -> None:
        # One tuple, replaced whole, so that a concurrent reader sees a consistent state.
        self.state: tuple[list[tuple[Any, ...]], dict[Any, tuple[ProblemChoice, ...]]] = ([], {})

    def offered(
        self, rows: list[tuple[Any, ...]], is_room: bool, category_code: str | None
    ) -> tuple[ProblemChoice, ...]:
        seen, by_kind = self.state
        if rows != seen:
            by_kind = {}
            self.state = (rows, by_kind)
        key = (is_room, category_code)
        choices = by_kind.get(key)
        if choices is None:
            offered = _offered([ProblemChoice(*r) for r in rows], is_room, category_code)
            choices = by_kind[key] = tuple(offered)
        return choices


_CHOICES = _ChoicesMemo()


def public_page(engine: Engine, value: str) -> PublicPage | None:
    """The public page's content for a scanned token; None for an unknown token, or one
    whose item is gone. One round trip of indexed reads, no ORM object.

    It reads on the driver's cursor (core.db.DriverQuery) rather than through a session:
    the page writes nothing, and a session's setup and teardown, or even SQLAlchemy's
    execution of a statement, would cost more than the reads."""
    value = tokens.normalize_token(value)
    if not tokens.well_formed(value):
        return None
    with driver_cursor(engine) as cursor:
        rows = _PAGE_QUERY.rows(cursor, engine.dialect, value)
    page = [r[1:_PAGE_COLUMNS] for r in rows if r[0] == 0]
    if not page:
        return None
    first = page[0]
    token, revoked_at, asset_id, classroom_id, tag, code, cat_fr, cat_en = first[:8]
    maker, model, room, school = first[8:12]
    if asset_id is None and classroom_id is None:
        return None
    if revoked_at is not None:
        return PublicPage(token, True, tag, None, None, None, None, None, None, (), ())
    is_room = asset_id is None
    types = [r[_PAGE_COLUMNS:-1] for r in rows if r[0] == 1]
    return PublicPage(
        token=token,
        revoked=False,
        asset_tag=tag,
        category_code=code,
        category_fr=cat_fr,
        category_en=cat_en,
        model_name=None if is_room else f"{maker} {model}",
        classroom=room,
        school=school,
        open_problems=tuple(OpenProblem(*r[12:17]) for r in page if r[12] is not None),
        choices=_CHOICES.offered(types, is_room, code),
    )


@dataclass
class Report:
    """What a reporter sends from the public page."""

    problem_type_id: int | None
    description: str
    name: str | None = None
    email: str | None = None
    photo: bytes | None = None


@dataclass
class ReportOutcome:
    ticket: Ticket
    joined: bool


def reporter_emails(ticket: Ticket) -> list[str]:
    """The addresses that follow a ticket: the reporter's, then those of who joined it."""
    return [f.email for f in ticket.followers]


def _follow(ticket: Ticket, email: str) -> None:
    if email not in reporter_emails(ticket):
        ticket.followers.append(TicketFollower(email=email))


def report_problem(
    session: Session,
    config: Any,
    target: Target,
    report: Report,
    *,
    photo_dir: Path,
    join: bool = False,
) -> ReportOutcome:
    """Record a public report: a new ticket, or one more report on the same open problem.

    Raises :class:`DuplicateReport` when the problem is already open on the item and the
    reporter has not yet chosen to join it.
    """
    if target.revoked:
        raise HelpdeskError(_l("This label has been replaced: scan the new label."))
    if target.ecole is None or target.ecole.collectivite_id is None:
        raise HelpdeskError(
            _l("This item is not recorded in a school: tell the IT service directly.")
        )
    ptype = next(
        (t for t in problem_types_for(session, target) if t.id == report.problem_type_id), None
    )
    if ptype is None:
        raise HelpdeskError(_l("Choose the problem."), field="problem")
    description = (report.description or "").strip()
    if not description:
        raise HelpdeskError(_l("Describe the problem in a few words."), field="description")
    if len(description) > DESCRIPTION_MAX:
        raise HelpdeskError(_l("At most %(n)d characters.", n=DESCRIPTION_MAX), field="description")
    name = (report.name or "").strip()[:120] or None
    email = (report.email or "").strip().lower() or None
    clean_photo = photos.reencode(report.photo) if report.photo else None

    duplicate = find_duplicate(session, target, ptype.id)
    if duplicate is not None and not join:
        raise DuplicateReport(duplicate)

    stored = uploads.store(photo_dir, clean_photo, uploads.JPEG) if clean_photo else None
    try:
        if duplicate is not None:
            ticket = duplicate
            ticket.reports += 1
            ticket.messages.append(
                TicketMessage(
                    author_id=None, author_label=name or "-", internal=False, body=description
                )
            )
            if email:
                _follow(ticket, email)
        else:
            ticket = Ticket(
                asset=target.asset,
                classroom=target.classroom,
                ecole=target.ecole,
                collectivite_id=target.ecole.collectivite_id,
                problem_type=ptype,
                description=description,
                reporter_name=name,
                reporter_email=email,
                follow_token=new_follow_token(),
                status=TicketStatus.NEW,
                blocking=ptype.blocking,
                reports=1,
            )
            if email:
                _follow(ticket, email)
            session.add(ticket)
        if stored is not None and clean_photo is not None:
            ticket.photos.append(
                TicketPhoto(stored_name=stored, content_type=uploads.JPEG, size=len(clean_photo))
            )
        session.flush()
        sync_asset(session, config, ticket)
        if duplicate is None:
            notify_new_ticket(session, config, ticket)
        if email:
            _mail_reporter_received(session, config, ticket, email, joined=duplicate is not None)
        session.commit()
    except StaleDataError:
        session.rollback()
        uploads.remove(photo_dir, stored)
        raise HelpdeskError(
            _l("Someone reported this problem at the same moment: send your report again.")
        ) from None
    except Exception:
        session.rollback()
        uploads.remove(photo_dir, stored)
        raise
    return ReportOutcome(ticket, joined=duplicate is not None)


def follow_ticket(session: Session, follow_token: str) -> Ticket | None:
    """The ticket of a follow-up link, with what its public page shows."""
    if not follow_token or len(follow_token) > 40:
        return None
    stmt = (
        select(Ticket)
        .where(Ticket.follow_token == follow_token)
        .options(
            selectinload(Ticket.problem_type),
            selectinload(Ticket.messages),
            selectinload(Ticket.ecole),
            selectinload(Ticket.classroom),
            selectinload(Ticket.asset).selectinload(Asset.category),
            selectinload(Ticket.asset)
            .selectinload(Asset.model)
            .selectinload(EquipmentModel.manufacturer),
        )
    )
    return session.scalar(stmt)


# -- the asset follows its tickets -----------------------------------------------------------
def sync_asset(session: Session, config: Any, ticket: Ticket) -> None:
    """An item is "under repair" while a blocking ticket on it is open, and back "in service"
    when the last one is resolved or closed. Each transition is logged with a note."""
    asset = ticket.asset
    if asset is None or not ticket.blocking:
        return
    if ticket.status in OPEN_STATUSES:
        if asset.status is AssetStatus.IN_SERVICE:
            note = _text(
                config,
                _l(
                    "Ticket #%(id)s: %(problem)s",
                    id=ticket.id,
                    problem=ticket.problem_type.label(config.get("BABEL_DEFAULT_LOCALE") or "fr"),
                ),
            )
            assets.change_status(
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
        note = _text(
            config,
            _l(
                "Ticket #%(id)s %(status)s",
                id=ticket.id,
                status=_text(config, TICKET_STATUS_LABELS[ticket.status]),
            ),
        )
        assets.change_status(
            session, HELPDESK, asset, AssetStatus.IN_SERVICE, note[:500], commit=False
        )


# -- staff: the queue --------------------------------------------------------------------
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


def _queue_options() -> list[Any]:
    return [
        selectinload(Ticket.problem_type),
        selectinload(Ticket.ecole),
        selectinload(Ticket.classroom),
        selectinload(Ticket.asset).selectinload(Asset.model),
    ]


def ticket_queue(
    session: Session, user: Subject, filters: TicketFilters, page: int, per_page: int
) -> Page[Ticket]:
    if filters.status == "open":
        order: tuple[Any, ...] = (Ticket.created_at, Ticket.id)
    else:
        order = (Ticket.created_at.desc(), Ticket.id.desc())
    rows = policy.visible(user, select(Ticket), Ticket).options(*_queue_options())
    keys = policy.visible(user, filters.apply(select(Ticket.id), user), Ticket).order_by(*order)
    return paginate(session, rows, page, per_page, key_stmt=keys)


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
    stmt = policy.visible(user, stmt, Ticket).options(*_queue_options()).order_by(Ticket.id)
    return list(session.scalars(stmt.limit(50)))


# -- staff: one ticket -------------------------------------------------------------------
def ticket_detail(session: Session, user: Subject, ticket_id: int) -> Ticket:
    ticket = policy.load_or_404(user, Ticket, ticket_id, session)
    session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .options(
            *_queue_options(),
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


def _owner_id(ticket: Ticket) -> int:
    return ticket.ecole.collectivite_id or ticket.collectivite_id


def assignable_users(session: Session, ticket: Ticket) -> list[User]:
    """The active IT staff (technicians) of the collectivité that owns the ticket's school."""
    stmt = (
        select(User)
        .join(UserScope, UserScope.user_id == User.id)
        .where(
            User.active.is_(True),
            User.role == Role.TECHNICIEN,
            UserScope.kind == ScopeKind.COLLECTIVITE,
            UserScope.ref_id == _owner_id(ticket),
        )
        .order_by(User.name, User.id)
    )
    return list(session.scalars(stmt).unique())


def _check_edit(session: Session, user: Subject, ticket: Ticket, version: int | None) -> None:
    if not policy.can(user, Action.EDIT, ticket, session):
        raise policy.Denied()
    if version is not None and version != ticket.version:
        raise TicketConflict(
            _l(
                "Someone else changed this ticket while you were working on it. "
                "Your text is kept below: check the ticket, then send again."
            )
        )


def _author(user: Subject) -> tuple[int | None, str]:
    name = getattr(user, "name", None) or audit.current_actor().label
    return getattr(user, "id", None), str(name)[:200]


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
    _commit(session)
    return ticket


def next_statuses(ticket: Ticket) -> list[TicketStatus]:
    return [s for s in TicketStatus if s in TICKET_TRANSITIONS[ticket.status]]


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
) -> Ticket:
    """Move the ticket along TICKET_TRANSITIONS; resolving needs a resolution text. The
    reporter hears of it by mail; the item's status follows."""
    _check_edit(session, user, ticket, version)
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
    _mail_reporter_status(session, config, ticket, note)
    _commit(session)
    return ticket


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
        _mail_reporter_message(session, config, ticket, body)
    _commit(session)
    return message


# -- mail --------------------------------------------------------------------------------
def _send(session: Session, config: Any, to: str, subject: str, body: str) -> None:
    """Queue and send one mail; a failing SMTP server leaves it unsent in the outbox rather
    than losing the report or the staff action that caused it."""
    try:
        send_mail(session, config, to, subject, body)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to %s not sent: %s", to, exc)


def _base(config: Any) -> str:
    return str(config.get("BASE_URL") or "").rstrip("/")


def follow_url(config: Any, ticket: Ticket) -> str:
    return f"{_base(config)}/suivi/{ticket.follow_token}"


def ticket_url(config: Any, ticket: Ticket) -> str:
    return f"{_base(config)}/tickets/{ticket.id}"


def _what(config: Any, ticket: Ticket) -> str:
    """The item or room in words, as the public pages say it (no serial, no address)."""
    locale = config.get("BABEL_DEFAULT_LOCALE") or "fr"
    if ticket.asset is not None:
        return f"{ticket.asset.category.label(locale)} {ticket.asset.tag}"
    if ticket.classroom is not None:
        return ticket.classroom.name
    return ticket.ecole.name


def _status_text(config: Any, status: TicketStatus) -> str:
    return _text(config, TICKET_STATUS_LABELS[status])


def _mail_reporter_received(
    session: Session, config: Any, ticket: Ticket, email: str, *, joined: bool
) -> None:
    intro = (
        _l("This problem had already been reported: your report was added to it.")
        if joined
        else _l("Thank you: your report is recorded and the IT service has been told.")
    )
    body = "\n\n".join(
        [
            _text(config, intro),
            _text(
                config,
                _l(
                    "Problem: %(problem)s\nItem: %(what)s\nSchool: %(school)s",
                    problem=ticket.problem_type.label(config.get("BABEL_DEFAULT_LOCALE") or "fr"),
                    what=_what(config, ticket),
                    school=ticket.ecole.name,
                ),
            ),
            _text(config, _l("Follow it here: %(url)s", url=follow_url(config, ticket))),
        ]
    )
    subject = _text(config, _l("Your report #%(id)s is recorded", id=ticket.id))
    _send(session, config, email, subject, body)


def _mail_reporter_status(session: Session, config: Any, ticket: Ticket, note: str) -> None:
    emails = reporter_emails(ticket)
    if not emails:
        return
    status = _status_text(config, ticket.status)
    parts = [
        _text(
            config,
            _l(
                "Your report about %(what)s is now: %(status)s.",
                what=_what(config, ticket),
                status=status,
            ),
        )
    ]
    if note:
        parts.append(note)
    parts.append(_text(config, _l("Follow it here: %(url)s", url=follow_url(config, ticket))))
    subject = _text(config, _l("Your report #%(id)s: %(status)s", id=ticket.id, status=status))
    for email in emails:
        _send(session, config, email, subject, "\n\n".join(parts))


def _mail_reporter_message(session: Session, config: Any, ticket: Ticket, body: str) -> None:
    emails = reporter_emails(ticket)
    if not emails:
        return
    text = "\n\n".join(
        [
            _text(
                config,
                _l(
                    "The IT service wrote about your report on %(what)s:",
                    what=_what(config, ticket),
                ),
            ),
            body,
            _text(config, _l("Follow it here: %(url)s", url=follow_url(config, ticket))),
        ]
    )
    subject = _text(config, _l("Your report #%(id)s: a message from the IT service", id=ticket.id))
    for email in emails:
        _send(session, config, email, subject, text)


# -- notifications to staff --------------------------------------------------------------
def default_mode(user: User) -> str:
    return "each" if user.role is Role.TECHNICIEN else "none"


def subscription_mode(session: Session, user: User) -> str:
    mode = session.scalar(select(Subscription.mode).where(Subscription.user_id == user.id))
    return mode if mode in MODES else default_mode(user)


def set_subscription(session: Session, user: User, mode: str) -> None:
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    if mode not in MODES:
        raise HelpdeskError(_l("Choose how to be told."), field="mode")
    sub = session.scalar(select(Subscription).where(Subscription.user_id == user.id))
    if sub is None:
        sub = Subscription(user_id=user.id, mode=mode)
        session.add(sub)
    else:
        sub.mode = mode
    session.commit()


def staff_recipients(session: Session, ticket: Ticket) -> list[User]:
    """Who is told of a new ticket at once: the collectivité's technicians (unless they
    chose otherwise) and whoever chose "each" and may read the ticket."""
    technicians = (
        select(User.id)
        .join(UserScope, UserScope.user_id == User.id)
        .where(
            User.role == Role.TECHNICIEN,
            UserScope.kind == ScopeKind.COLLECTIVITE,
            UserScope.ref_id == _owner_id(ticket),
        )
    )
    chose_each = select(Subscription.user_id).where(Subscription.mode == "each")
    candidates = session.scalars(
        select(User)
        .where(User.active.is_(True), User.id.in_(technicians) | User.id.in_(chose_each))
        .order_by(User.id)
    ).all()
    modes = dict(
        session.execute(
            select(Subscription.user_id, Subscription.mode).where(
                Subscription.user_id.in_([u.id for u in candidates])
            )
        ).all()
    )
    return [
        u
        for u in candidates
        if modes.get(u.id, default_mode(u)) == "each"
        and policy.can(u, Action.READ, ticket, session)
    ]


def notify_new_ticket(session: Session, config: Any, ticket: Ticket) -> int:
    locale = config.get("BABEL_DEFAULT_LOCALE") or "fr"
    subject = _text(
        config,
        _l("[Socle] New report #%(id)s — %(school)s", id=ticket.id, school=ticket.ecole.name),
    )
    lines = [
        _text(
            config,
            _l(
                "Problem: %(problem)s\nItem: %(what)s\nSchool: %(school)s",
                problem=ticket.problem_type.label(locale),
                what=_what(config, ticket),
                school=ticket.ecole.name,
            ),
        ),
        ticket.description,
        _text(config, _l("Open the ticket: %(url)s", url=ticket_url(config, ticket))),
    ]
    recipients = staff_recipients(session, ticket)
    for user in recipients:
        _send(session, config, user.email, subject, "\n\n".join(lines))
    return len(recipients)


def send_digests(session: Session, config: Any, now: datetime | None = None) -> int:
    """One mail per user who chose the daily digest, listing the tickets created in their
    scope since their last digest (or the last day). Returns how many mails went out."""
    now = now or utcnow()
    locale = config.get("BABEL_DEFAULT_LOCALE") or "fr"
    sent = 0
    rows = session.execute(
        select(Subscription, User)
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.mode == "digest", User.active.is_(True))
        .order_by(User.id)
    ).all()
    for sub, user in rows:
        since = sub.last_digest_at or now - timedelta(days=1)
        stmt = policy.visible(
            user,
            select(Ticket)
            .where(Ticket.created_at > since, Ticket.created_at <= now)
            .options(*_queue_options())
            .order_by(Ticket.id),
            Ticket,
        )
        tickets = list(session.scalars(stmt))
        if tickets:
            lines = [
                f"#{t.id} — {t.ecole.name} — {t.problem_type.label(locale)} — "
                f"{_what(config, t)}\n{ticket_url(config, t)}"
                for t in tickets
            ]
            subject = _text(config, _l("[Socle] New reports: %(n)d", n=len(tickets)))
            _send(session, config, user.email, subject, "\n\n".join(lines))
            sent += 1
        sub.last_digest_at = now
    session.commit()
    return sent


# -- service figures ---------------------------------------------------------------------
@dataclass
class Figures:
    collectivite: Collectivite
    open: int = 0
    total: int = 0
    resolved: int = 0
    first_response: timedelta | None = None
    resolution: timedelta | None = None


@dataclass
class ModelFigures:
    model: EquipmentModel
    tickets: int
    items: int

    @property
    def per_100(self) -> float | None:
        return 100 * self.tickets / self.items if self.items else None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def service_figures(
    session: Session, user: Subject, *, days: int = 365, now: datetime | None = None
) -> list[Figures]:
    """Per collectivité in scope: open tickets, and over the last ``days`` the tickets,
    the median time to the first response and to the resolution."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    open_rows = session.execute(
        policy.visible(
            user,
            select(Ticket.collectivite_id, func.count(Ticket.id))
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.collectivite_id),
            Ticket,
        )
    ).all()
    rows = session.execute(
        policy.visible(
            user,
            select(
                Ticket.collectivite_id,
                Ticket.created_at,
                Ticket.first_response_at,
                Ticket.resolved_at,
            ).where(Ticket.created_at >= since),
            Ticket,
        )
    ).all()
    firsts: dict[int, list[timedelta]] = defaultdict(list)
    fixes: dict[int, list[timedelta]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for coll_id, created, first, resolved in rows:
        totals[coll_id] += 1
        if first is not None:
            firsts[coll_id].append(first - created)
        if resolved is not None:
            fixes[coll_id].append(resolved - created)
    opens = dict(open_rows)
    ids = set(opens) | set(totals)
    colls = {c.id: c for c in session.scalars(select(Collectivite).where(Collectivite.id.in_(ids)))}
    out = [
        Figures(
            collectivite=colls[i],
            open=opens.get(i, 0),
            total=totals.get(i, 0),
            resolved=len(fixes.get(i, [])),
            first_response=_median(firsts.get(i, [])),
            resolution=_median(fixes.get(i, [])),
        )
        for i in ids
        if i in colls
    ]
    return sorted(out, key=lambda f: (-f.open, f.collectivite.name))


def failing_models(
    session: Session, user: Subject, *, collectivite: int | None = None, limit: int = 10
) -> list[ModelFigures]:
    """The models with the most tickets in scope, with how many such items are in scope."""
    count = func.count(Ticket.id)
    stmt = (
        select(Asset.model_id, count)
        .select_from(Ticket)
        .join(Asset, Asset.id == Ticket.asset_id)
        .group_by(Asset.model_id)
        .order_by(count.desc(), Asset.model_id)
        .limit(limit)
    )
    if collectivite:
        stmt = stmt.where(Ticket.collectivite_id == collectivite)
    rows = session.execute(policy.visible(user, stmt, Ticket)).all()
    if not rows:
        return []
    model_ids = [r[0] for r in rows]
    item_stmt = (
        select(Asset.model_id, func.count(Asset.id))
        .where(Asset.model_id.in_(model_ids))
        .group_by(Asset.model_id)
    )
    if collectivite:
        item_stmt = item_stmt.where(Asset.collectivite_id == collectivite)
    items = dict(session.execute(policy.visible(user, item_stmt, Asset)).all())
    models = {
        m.id: m
        for m in session.scalars(
            select(EquipmentModel)
            .where(EquipmentModel.id.in_(model_ids))
            .options(
                selectinload(EquipmentModel.manufacturer), selectinload(EquipmentModel.category)
            )
        )
    }
    return [ModelFigures(models[i], n, items.get(i, 0)) for i, n in rows if i in models]


# -- inventory campaigns -----------------------------------------------------------------
EXPECTED_STATUSES = (
    AssetStatus.DELIVERED,
    AssetStatus.INSTALLED,
    AssetStatus.IN_SERVICE,
    AssetStatus.UNDER_REPAIR,
)
_SCAN_URL = re.compile(r"/q/([^/?#\s]+)", re.IGNORECASE)


def campaigns(session: Session, user: Subject, limit: int = 200) -> list[InventoryCampaign]:
    stmt = (
        select(InventoryCampaign)
        .options(selectinload(InventoryCampaign.ecole).selectinload(Ecole.commune))
        .order_by(InventoryCampaign.id.desc())
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, InventoryCampaign)))


def start_campaign(session: Session, user: Subject, ecole: Ecole) -> InventoryCampaign:
    """A new campaign for the school, or the one already open."""
    if not policy.can(user, Action.EDIT, ecole, session):
        raise policy.Denied()
    if ecole.collectivite_id is None:
        raise HelpdeskError(_l("This school has no owning collectivité."), field="ecole")
    current = session.scalar(
        select(InventoryCampaign).where(
            InventoryCampaign.ecole_id == ecole.id,
            InventoryCampaign.status == CampaignStatus.OPEN,
        )
    )
    if current is not None:
        return current
    campaign = InventoryCampaign(
        ecole_id=ecole.id,
        collectivite_id=ecole.collectivite_id,
        started_by_id=getattr(user, "id", None),
        status=CampaignStatus.OPEN,
    )
    session.add(campaign)
    session.commit()
    return campaign


def _check_campaign(session: Session, user: Subject, campaign: InventoryCampaign) -> None:
    if not policy.can(user, Action.EDIT, campaign, session):
        raise policy.Denied()


def _room_of(session: Session, campaign: InventoryCampaign, classroom_id: int | None) -> Classroom:
    room = session.get(Classroom, classroom_id) if classroom_id else None
    if room is None or room.ecole_id != campaign.ecole_id:
        raise HelpdeskError(_l("Choose a classroom of this school."), field="classroom")
    return room


def visit_room(
    session: Session, user: Subject, campaign: InventoryCampaign, classroom_id: int | None
) -> Classroom:
    """Start checking a room: from now on, what it should hold and is not scanned is missing."""
    _check_campaign(session, user, campaign)
    if campaign.status is not CampaignStatus.OPEN:
        raise HelpdeskError(_l("This campaign is closed."), field="classroom")
    room = _room_of(session, campaign, classroom_id)
    seen = session.scalar(
        select(CampaignScan.id)
        .where(CampaignScan.campaign_id == campaign.id, CampaignScan.classroom_id == room.id)
        .limit(1)
    )
    if seen is None:
        session.add(
            CampaignScan(campaign_id=campaign.id, classroom_id=room.id, asset_id=None, raw="")
        )
        session.commit()
    return room


@dataclass
class ScanOutcome:
    kind: str  # found | misplaced | unknown | room
    raw: str
    asset: Asset | None = None
    room: Classroom | None = None
    again: bool = False


def identify(session: Session, user: Subject, raw: str) -> tuple[Asset | None, Classroom | None]:
    """The item (or room) a typed tag, a label code or a scanned label URL designates,
    among those the user may see."""
    value = raw.strip()
    match = _SCAN_URL.search(value)
    code = match.group(1) if match else value
    token = tokens.find(session, code)
    if token is not None:
        if token.asset_id:
            stmt = select(Asset).where(Asset.id == token.asset_id)
            return session.scalar(policy.visible(user, stmt, Asset)), None
        if token.classroom_id:
            stmt = select(Classroom).where(Classroom.id == token.classroom_id)
            return None, session.scalar(policy.visible(user, stmt, Classroom))
    stmt = select(Asset).where(Asset.tag == code.upper())
    return session.scalar(policy.visible(user, stmt, Asset)), None


def _placed(asset: Asset, scanned_room_id: int | None, campaign: InventoryCampaign) -> bool:
    if asset.classroom_id is not None:
        return asset.classroom_id == scanned_room_id
    # An item shared by the school (no room of its own) is where it should be anywhere in it.
    return asset.ecole_id == campaign.ecole_id


def record_scan(
    session: Session,
    user: Subject,
    campaign: InventoryCampaign,
    classroom_id: int | None,
    raw: str,
) -> ScanOutcome:
    _check_campaign(session, user, campaign)
    if campaign.status is not CampaignStatus.OPEN:
        raise HelpdeskError(_l("This campaign is closed."), field="code")
    room = _room_of(session, campaign, classroom_id)
    raw = (raw or "").strip()[:200]
    if not raw:
        raise HelpdeskError(_l("Type or scan a code."), field="code")
    asset, scanned_room = identify(session, user, raw)
    if scanned_room is not None and scanned_room.ecole_id == campaign.ecole_id:
        visit_room(session, user, campaign, scanned_room.id)
        return ScanOutcome("room", raw, room=scanned_room)
    if asset is None:
        session.add(CampaignScan(campaign_id=campaign.id, classroom_id=room.id, raw=raw))
        session.commit()
        return ScanOutcome("unknown", raw, room=room)
    scan = session.scalar(
        select(CampaignScan).where(
            CampaignScan.campaign_id == campaign.id, CampaignScan.asset_id == asset.id
        )
    )
    again = scan is not None
    if scan is None:
        scan = CampaignScan(campaign_id=campaign.id, asset_id=asset.id)
        session.add(scan)
    scan.classroom_id, scan.raw, scan.at = room.id, raw, utcnow()
    session.commit()
    kind = "found" if _placed(asset, room.id, campaign) else "misplaced"
    return ScanOutcome(kind, raw, asset=asset, room=room, again=again)


@dataclass
class RoomProgress:
    room: Classroom
    visited: bool
    scanned: int
    expected: int


@dataclass
class CampaignResults:
    found: list[CampaignScan] = field(default_factory=list)
    misplaced: list[CampaignScan] = field(default_factory=list)
    missing: list[Asset] = field(default_factory=list)
    unknown: list[CampaignScan] = field(default_factory=list)
    rooms: list[RoomProgress] = field(default_factory=list)

    def in_room(self, room_id: int) -> list[tuple[str, CampaignScan]]:
        rows = [("found", s) for s in self.found if s.classroom_id == room_id]
        rows += [("misplaced", s) for s in self.misplaced if s.classroom_id == room_id]
        rows += [("unknown", s) for s in self.unknown if s.classroom_id == room_id]
        return sorted(rows, key=lambda r: r[1].id)


def _asset_options() -> list[Any]:
    return [
        selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
        selectinload(Asset.category),
        selectinload(Asset.classroom),
        selectinload(Asset.ecole),
    ]


def campaign_results(
    session: Session, user: Subject, campaign: InventoryCampaign
) -> CampaignResults:
    """Found (scanned in their recorded room), misplaced (scanned elsewhere), missing
    (expected in a checked room, never scanned) and unknown codes."""
    scans = list(
        session.scalars(
            select(CampaignScan)
            .where(CampaignScan.campaign_id == campaign.id)
            .options(
                selectinload(CampaignScan.asset).options(*_asset_options()),
                selectinload(CampaignScan.classroom),
            )
            .order_by(CampaignScan.id)
        )
    )
    results = CampaignResults()
    visited = {s.classroom_id for s in scans if s.classroom_id}
    scanned_ids = {s.asset_id for s in scans if s.asset_id}
    for scan in scans:
        if scan.asset is not None:
            placed = _placed(scan.asset, scan.classroom_id, campaign)
            (results.found if placed else results.misplaced).append(scan)
        elif scan.raw:
            results.unknown.append(scan)
    rooms = list(
        session.scalars(
            select(Classroom)
            .where(Classroom.ecole_id == campaign.ecole_id)
            .order_by(Classroom.position, Classroom.id)
        )
    )
    expected = list(
        session.scalars(
            policy.visible(
                user,
                select(Asset)
                .where(
                    Asset.ecole_id == campaign.ecole_id,
                    Asset.classroom_id.is_not(None),
                    Asset.status.in_(EXPECTED_STATUSES),
                )
                .options(*_asset_options())
                .order_by(Asset.tag),
                Asset,
            )
        )
    )
    results.missing = [a for a in expected if a.classroom_id in visited and a.id not in scanned_ids]
    per_room_expected: dict[int, int] = defaultdict(int)
    for a in expected:
        per_room_expected[a.classroom_id] += 1  # type: ignore[index]
    per_room_scanned: dict[int, int] = defaultdict(int)
    for s in scans:
        if s.asset_id and s.classroom_id:
            per_room_scanned[s.classroom_id] += 1
    results.rooms = [
        RoomProgress(r, r.id in visited, per_room_scanned[r.id], per_room_expected[r.id])
        for r in rooms
    ]
    return results


def movable(scan: CampaignScan, campaign: InventoryCampaign) -> bool:
    """A misplaced item can be moved to where it was scanned when the school's
    collectivité owns it (a move never hands an item to another owner)."""
    return (
        scan.asset is not None
        and scan.classroom_id is not None
        and scan.asset.collectivite_id == campaign.collectivite_id
    )


def move_here(
    session: Session, user: Subject, campaign: InventoryCampaign, scan_id: int | None
) -> Asset:
    """Record a misplaced item in the room where it was scanned."""
    _check_campaign(session, user, campaign)
    scan = session.get(CampaignScan, scan_id) if scan_id else None
    if scan is None or scan.campaign_id != campaign.id or scan.asset_id is None:
        raise HelpdeskError(_l("Unknown scan."), field="scan")
    asset = policy.load_or_404(user, Asset, scan.asset_id, session, Action.EDIT)
    if not movable(scan, campaign):
        raise HelpdeskError(_l("This item belongs to another collectivité."), field="scan")
    where = assets.resolve_where(session, user, classroom_id=scan.classroom_id)
    return assets.move_asset(session, user, asset, where)


def close_campaign(session: Session, user: Subject, campaign: InventoryCampaign) -> None:
    _check_campaign(session, user, campaign)
    if campaign.status is CampaignStatus.OPEN:
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = utcnow()
        session.commit()


def _place(asset: Asset) -> str:
    if asset.classroom is not None:
        return asset.classroom.name
    if asset.ecole is not None:
        return asset.ecole.name
    return ""


def report_rows(results: CampaignResults, labels: dict[str, str]) -> Iterator[list[Any]]:
    """The campaign report as rows: result, tag, category, model, recorded place, scanned in,
    code read, when."""
    for kind, scans in (("found", results.found), ("misplaced", results.misplaced)):
        for s in scans:
            a = s.asset
            assert a is not None
            yield [
                labels[kind],
                a.tag,
                a.category.name_fr,
                a.model.full_name,
                _place(a),
                s.classroom.name if s.classroom else "",
                s.raw,
                s.at,
            ]
    for a in results.missing:
        yield [
            labels["missing"],
            a.tag,
            a.category.name_fr,
            a.model.full_name,
            _place(a),
            "",
            "",
            None,
        ]
    for s in results.unknown:
        yield [
            labels["unknown"],
            "",
            "",
            "",
            "",
            s.classroom.name if s.classroom else "",
            s.raw,
            s.at,
        ]
