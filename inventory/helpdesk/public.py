"""The public side of a label: what its page shows (read in one round trip), the report a
teacher sends from it without an account, and the reporter's follow-up page.

The page may say what the item is, where it is and which problems are open on it, and
nothing else: never a serial, an address, a price or a person's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CompoundSelect,
    Integer,
    bindparam,
    case,
    func,
    lambda_stmt,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from inventory.assets.models import Asset, EquipmentCategory, EquipmentModel, Manufacturer
from inventory.core import events, uploads
from inventory.core.storage import Storage
from inventory.helpdesk import notify, photos
from inventory.helpdesk.models import (
    OPEN_STATUSES,
    ProblemType,
    Ticket,
    TicketMessage,
    TicketPhoto,
    TicketStatus,
)
from inventory.helpdesk.rules import (
    DESCRIPTION_MAX,
    HelpdeskError,
    add_follower,
    new_follow_token,
)
from inventory.helpdesk.tickets import sync_asset
from inventory.labels import tokens
from inventory.labels.models import ScanToken
from inventory.orgs.models import Classroom, Ecole


class DuplicateReport(HelpdeskError):
    """The same problem is already reported, open, on the same item: offer to join it."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(_l("This problem is already reported on this item."), field="problem")
        self.ticket = ticket


# -- what the page shows ------------------------------------------------------------------
# The page is the most requested one, a label's first scan on a teacher's phone: what it
# shows is read in one statement, as rows rather than ORM objects, and handed to the
# template as these plain values.
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


class ProblemChoice(NamedTuple):
    """A problem a reporter may pick on the public page (a named tuple: the page's rendered
    form is kept under its choices, and a tuple of tuples hashes without Python code)."""

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
    an address, a price or a person's name."""

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
    # Equalities rather than IN: an expanding IN is rendered again on every execution.
    return or_(*(ticket.status == status for status in OPEN_STATUSES))


def _empty(type_: Any) -> Any:
    """An empty column of a part of the union: a NULL written in the SQL (not a bound
    parameter, which would be made again on every execution), read as ``type_``."""
    return type_coerce(null(), type_)


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
        literal_column("0", Integer).label("part"),
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
        _empty(Integer).label("choice"),
        *(_empty(c.type) for c in _CHOICE_COLUMNS[1:]),
        _empty(Integer).label("position"),
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
    literal_column("1", Integer),
    *(_empty(c.type) for c in list(_PAGE_ROWS.selected_columns)[1:_PAGE_COLUMNS]),
    *_CHOICE_COLUMNS,
    ProblemType.position,
).where(ProblemType.active.is_(True))
_PAGE_UNION: CompoundSelect[*tuple[Any, ...]] = union_all(_PAGE_ROWS, _CHOICE_ROWS).order_by(
    literal_column("part"),
    literal_column("opened").desc(),
    literal_column("ticket").desc(),
    literal_column("position"),
    literal_column("choice"),
)
# Run as a lambda statement: SQLAlchemy keys its compiled form by the lambda's code rather
# than by walking the whole union at every execution (a third of the read's Python work),
# and the lambda closes over nothing, so that key is the same for every token.
_PAGE = lambda_stmt(lambda: _PAGE_UNION)


def public_page(session: Session, value: str) -> PublicPage | None:
    """What the page of a scanned label shows; None for an unknown token, or one whose
    item is gone. One statement of indexed reads."""
    token = tokens.read_token(value)
    if token is None:
        return None
    # Plain rows, no ORM entity: read on the session's own connection (its transaction),
    # without the ORM's execution steps, which have nothing to do for them.
    rows = session.connection().execute(_PAGE, {"token": token}).all()
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
    types = [ProblemChoice(*r[_PAGE_COLUMNS:-1]) for r in rows if r[0] == 1]
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
        choices=tuple(_offered(types, is_room, code)),
    )


# -- where a report goes ------------------------------------------------------------------
@dataclass
class Target:
    """What a scanned label designates, as objects a report is recorded on: an item (in
    its room) or a room."""

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


_asset = joinedload(ScanToken.asset)
# The whole chain of many-to-one links a report needs, in one statement.
_TARGET_OPTIONS = (
    _asset.joinedload(Asset.model).joinedload(EquipmentModel.manufacturer),
    _asset.joinedload(Asset.category),
    _asset.joinedload(Asset.ecole),
    _asset.joinedload(Asset.classroom),
    joinedload(ScanToken.classroom).joinedload(Classroom.ecole),
)


def find_target(session: Session, value: str) -> Target | None:
    """The item or room of a scanned token; None for an unknown token or a gone item."""
    token = tokens.find(session, value, *_TARGET_OPTIONS)
    if token is None or (token.asset is None and token.classroom is None):
        return None
    asset = token.asset
    room = asset.classroom if asset is not None else token.classroom
    ecole = asset.ecole if asset is not None else token.classroom.ecole  # type: ignore[union-attr]
    return Target(token, asset, room, ecole)


def problem_types_for(session: Session, target: Target) -> list[ProblemType]:
    """The problems a reporter may pick: room problems for a room, else those of the item's
    equipment category (a type without categories applies to every item)."""
    return problem_types_on(session, target.asset)


def problem_types_on(session: Session, asset: Asset | None) -> list[ProblemType]:
    """The problems of an item (``asset``) or, without one, of a room: the public report's
    and the staff's (helpdesk.staff) choice."""
    is_room = asset is None
    stmt = (
        select(ProblemType)
        .where(ProblemType.active.is_(True), ProblemType.for_rooms.is_(is_room))
        .order_by(ProblemType.position, ProblemType.id)
    )
    code = asset.category.code if asset is not None else None
    return _offered(list(session.scalars(stmt)), is_room, code)


def _on_item(asset: Asset | None, classroom: Classroom | None) -> Any:
    if asset is not None:
        return Ticket.asset_id == asset.id
    assert classroom is not None  # a target without an item is a room
    return (Ticket.classroom_id == classroom.id) & Ticket.asset_id.is_(None)


def find_duplicate(session: Session, target: Target, problem_type_id: int) -> Ticket | None:
    """The open ticket of the same problem on the same item or room, if any."""
    return find_duplicate_on(session, target.asset, target.classroom, problem_type_id)


def find_duplicate_on(
    session: Session, asset: Asset | None, classroom: Classroom | None, problem_type_id: int
) -> Ticket | None:
    """The open ticket of the same problem on ``asset`` (else on the room), if any."""
    stmt = (
        select(Ticket)
        .where(
            _on_item(asset, classroom),
            Ticket.problem_type_id == problem_type_id,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.id)
        .limit(1)
    )
    return session.scalar(stmt)


# -- the report ---------------------------------------------------------------------------
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


def report_problem(
    session: Session,
    config: Any,
    target: Target,
    report: Report,
    *,
    photo_dir: Storage,
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
                add_follower(ticket, email)
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
                add_follower(ticket, email)
            session.add(ticket)
        if stored is not None and clean_photo is not None:
            ticket.photos.append(
                TicketPhoto(stored_name=stored, content_type=uploads.JPEG, size=len(clean_photo))
            )
        session.flush()
        sync_asset(session, config, ticket)
        if duplicate is None:
            notify.notify_new_ticket(session, config, ticket)
            announce_new_ticket(session, ticket, ptype.code)
        if email:
            notify.mail_report_recorded(
                session, config, ticket, email, joined=duplicate is not None
            )
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


# -- the follow-up page --------------------------------------------------------------------
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


def announce_new_ticket(session: Session, ticket: Ticket, problem: str) -> None:
    """Tell the collectivité's subscribed tools of a new ticket, in its transaction: the
    same event whether a teacher reported it or the staff opened it."""
    events.emit(
        session,
        events.TICKET_CREATED,
        ticket.collectivite_id,
        ticket=ticket.id,
        ecole=ticket.ecole_id,
        asset=ticket.asset_id,
        problem=problem,
        description=ticket.description,
        status=str(ticket.status),
    )
