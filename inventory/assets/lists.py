"""Lists of equipment: the list's filters and pages, exports' streams, an item's page,
the socle panels of a school and a classroom."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import True_

from inventory.assets import digital, socle
from inventory.assets.models import (
    Asset,
    AssetStatus,
    DigitalService,
    EquipmentCategory,
    EquipmentModel,
    NetworkWork,
    Placement,
    Referentiel,
    RequirementLevel,
    SocleRequirement,
)
from inventory.assets.socle import Coverage, PlaceStatus
from inventory.assets.works import works_of_classroom
from inventory.core import policy, search
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key, paginate_sorted
from inventory.core.policy import Subject
from inventory.core.sorting import Sort, SortSpec, in_order_of
from inventory.orgs.models import Classroom, Ecole


# -- lists -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssetFilters:
    q: str = ""
    ecole: int | None = None
    classroom: int | None = None
    collectivite: int | None = None
    category: int | None = None
    status: AssetStatus | None = None
    warranty_days: int | None = None
    missing_serial: bool = False
    missing_socle: bool = False
    ids: tuple[int, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AssetFilters:
        """The filters of a query string (the list's, or a link carrying them); a value
        that makes no sense is ignored, never an error."""

        def number(name: str) -> int | None:
            value = args.get(name, "")
            return int(value) if value.isdigit() and len(value) < 10 else None

        def flag(name: str) -> bool:
            return args.get(name, "") in {"y", "1", "on", "true"}

        status = args.get("status", "")
        warranty = number("warranty") if args.get("warranty") else number("warranty_days")
        return cls(
            q=args.get("q", "")[:100],
            collectivite=number("collectivite"),
            ecole=number("ecole"),
            classroom=number("classroom"),
            category=number("category"),
            status=AssetStatus(status) if status in AssetStatus._value2member_map_ else None,
            warranty_days=min(warranty, 3650) if warranty is not None else None,
            missing_serial=flag("missing_serial"),
            missing_socle=flag("missing_socle"),
            ids=tuple(
                int(i) for i in args.get("ids", "").split(",") if i.isdigit() and len(i) < 10
            ),
        )

    @classmethod
    def of_list(cls, args: Mapping[str, str]) -> AssetFilters:
        """The equipment list's filters, which its export reads too: what its form can
        choose (a list of ids only comes from a link, to the labels)."""
        return replace(cls.from_args(args), ids=())

    @property
    def placed(self) -> bool:
        return bool(self.ecole or self.classroom or self.collectivite)

    @property
    def search_too_short(self) -> bool:
        """A text of short words alone, over every place: its search would read the text
        of every item (two million nationally), and the list asks for more instead."""
        return bool(self.q.strip()) and not self.placed and not search.indexed(self.q)

    def apply(self, stmt: Select[Any], today: date | None = None) -> Select[Any]:
        placed = self.placed
        if self.q.strip():
            stmt = stmt.where(search.condition(Asset, self.q, lead=not placed))
        # With a place chosen, its index must lead: a place holds a few thousand items
        # at most, a category and status hundreds of thousands. SQLite, without
        # statistics, would take the category index for its two equalities; "+ 0"
        # keeps the category out of any index choice.
        category = Asset.category_id + 0 if placed else Asset.category_id
        for column, value in (
            (Asset.ecole_id, self.ecole),
            (Asset.classroom_id, self.classroom),
            (Asset.collectivite_id, self.collectivite),
            (category, self.category),
            (Asset.status, self.status),
        ):
            if value:
                stmt = stmt.where(column == value)
        if self.warranty_days is not None:
            today = today or date.today()
            stmt = stmt.where(
                Asset.warranty_end >= today,
                Asset.warranty_end <= today + timedelta(days=self.warranty_days),
            )
        if self.missing_serial:
            stmt = stmt.where(Asset.serial.is_(None))
        if self.missing_socle:
            stmt = stmt.where(socle.missing_clause(Asset.classroom_id))
        if self.ids:
            stmt = stmt.where(Asset.id.in_(self.ids))
        return stmt


def _list_options() -> list[Any]:
    return [
        selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
        selectinload(Asset.category),
        selectinload(Asset.ecole),
        selectinload(Asset.classroom),
    ]


# Beyond this many items a list says "more than" instead of counting them all, and its
# deep pages are reached next to a key instead of by number: both then cost the same at
# any depth of two million items.
LIST_COUNT_CAP = 10_000
# A text search reads up to this many ids of its items in one pass, and pages through
# them: its index is costly to run (tens of ms for a word found in thousands of items),
# and a count, a page and the seeks of deep pages would run it up to four times.
LIST_SEARCH_WINDOW = 20_000


# The columns the equipment list sorts by. Its own order, newest first, needs none. The
# category sorts in the catalogue's order and the status in the lifecycle's, as the
# filters list them, rather than by their codes; the model and the place by their names.
ASSET_SORT = SortSpec(
    columns={
        "tag": Asset.tag,
        "category": select(EquipmentCategory.position)
        .where(EquipmentCategory.id == Asset.category_id)
        .scalar_subquery(),
        "model": select(EquipmentModel.name)
        .where(EquipmentModel.id == Asset.model_id)
        .scalar_subquery(),
        "serial": Asset.serial,
        "place": select(Ecole.name).where(Ecole.id == Asset.ecole_id).scalar_subquery(),
        "status": in_order_of(Asset.status, AssetStatus),
        "warranty": Asset.warranty_end,
    },
    id=Asset.id,
)


def list_assets(
    session: Session,
    user: Subject,
    filters: AssetFilters,
    page: int,
    per_page: int,
    *,
    after: int | None = None,
    before: int | None = None,
    sort: Sort | None = None,
) -> KeyedPage[Asset]:
    """One page of the items matching ``filters``, newest first or in the order of
    ``sort`` (one of :data:`ASSET_SORT`); ``after``/``before``: the page next to that
    item's id (``before=0``: the last page). No item when the search text is too short
    to be looked up (``filters.search_too_short``)."""
    if filters.search_too_short:
        return KeyedPage(
            items=[],
            total=0,
            capped=False,
            per_page=per_page,
            first_index=0,
            has_prev=False,
            has_next=False,
        )
    keys: Select[Any] = policy.visible(user, filters.apply(select(Asset.id)), Asset)
    key: Any = Asset.id
    from_index = False
    text_only = replace(filters, q="") == AssetFilters()
    if text_only and isinstance(policy.condition(user, Asset), True_):
        # Every item visible and no other filter: the search index gives the ids alone.
        found = search.index_keys(session.get_bind().dialect.name, Asset, filters.q)
        if found is not None:
            (keys, key), from_index = found, True
    # The page names its items' categories from the list of all of them (its filter's).
    rows = select(Asset).options(
        selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
        selectinload(Asset.ecole),
        selectinload(Asset.classroom),
    )
    if sort is not None:
        # Sorted by a column: paged along (its value, id), with the policy's and the
        # filters' conditions (not the search index's ids, which come in id order).
        sorted_keys = policy.visible(user, filters.apply(select(Asset.id)), Asset)
        return paginate_sorted(
            session,
            rows,
            sorted_keys,
            sort,
            per_page=per_page,
            cap=LIST_COUNT_CAP,
            page=page,
            after=after,
            before=before,
        )
    return paginate_by_key(
        session,
        rows,
        keys,
        key,
        per_page=per_page,
        cap=LIST_COUNT_CAP,
        page=page,
        after=after,
        before=before,
        window=LIST_SEARCH_WINDOW if filters.q.strip() else None,
        unordered=from_index,
    )


def all_assets(session: Session, user: Subject, filters: AssetFilters) -> Iterable[Asset]:
    """Every asset matching, for exports: streamed in id order, eager-loaded per batch."""
    stmt = (
        policy.visible(user, filters.apply(select(Asset)), Asset)
        .options(*_list_options(), selectinload(Asset.collectivite))
        .order_by(Asset.id)
    )
    return session.scalars(stmt.execution_options(yield_per=1000))


def asset_detail(session: Session, user: Subject, asset_id: int) -> Asset:
    asset = policy.load_or_404(user, Asset, asset_id, session)
    session.scalars(
        select(Asset)
        .where(Asset.id == asset.id)
        .options(
            *_list_options(),
            selectinload(Asset.transitions),
            selectinload(Asset.photos),
            selectinload(Asset.collectivite),
            selectinload(Asset.disposal),
        )
    ).all()
    return asset


def assets_of(session: Session, user: Subject, **where: Any) -> list[Asset]:
    stmt = (
        select(Asset)
        .filter_by(**where)
        .options(*_list_options())
        .order_by(Asset.category_id, Asset.tag)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))


def target_classroom_ids(session: Session, classroom_ids: list[int]) -> set[int]:
    """Those of the classrooms that the socle programme aims at."""
    if not classroom_ids:
        return set()
    stmt = select(Classroom.id).where(Classroom.id.in_(classroom_ids), socle.target_clause())
    return set(session.scalars(stmt))


@dataclass
class ClassroomSoclePanel:
    status: PlaceStatus
    target: bool
    assets: list[Asset]
    works: list[NetworkWork]
    referentiel: Referentiel | None


def classroom_socle(session: Session, user: Subject, room: Classroom) -> ClassroomSoclePanel:
    """A classroom's equipment, works and socle checks, for its page."""
    return ClassroomSoclePanel(
        status=socle.classroom_status(session, [room.id])[room.id],
        target=bool(target_classroom_ids(session, [room.id])),
        assets=assets_of(session, user, classroom_id=room.id),
        works=works_of_classroom(session, user, room.id),
        referentiel=socle.current_referentiel(session),
    )


@dataclass
class SchoolSoclePanel:
    requirements: list[SocleRequirement]
    rooms: dict[int, PlaceStatus]
    targets: set[int]
    school: PlaceStatus
    shared: list[Asset]
    coverage: Coverage
    services: list[DigitalService]
    referentiel: Referentiel | None
    today: date

    @property
    def school_groups(self) -> list[tuple[RequirementLevel, list[socle.RequirementCheck]]]:
        """The school's own checks by level (school, then the director's)."""
        return [
            (level, [c for c in self.school.checks if c.requirement.level is level])
            for level in socle.SCHOOL_LEVELS
            if any(c.requirement.level is level for c in self.school.checks)
        ]


def school_socle(session: Session, user: Subject, ecole: Ecole) -> SchoolSoclePanel:
    """Per classroom and for the school itself: what the socle asks and what is there."""
    room_ids = [r.id for r in ecole.classrooms]
    return SchoolSoclePanel(
        requirements=socle.requirements(session, RequirementLevel.CLASSROOM),
        rooms=socle.classroom_status(session, room_ids),
        targets=target_classroom_ids(session, room_ids),
        school=socle.school_status(session, [ecole.id])[ecole.id],
        shared=assets_of(session, user, ecole_id=ecole.id, placement=Placement.SCHOOL),
        coverage=socle.coverage_by_school(session, [ecole.id])[ecole.id],
        services=digital.services_of_school(session, user, ecole.id),
        referentiel=socle.current_referentiel(session),
        today=socle.paris_today(),
    )


def missing_socle_classrooms(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    ecole: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Classroom]:
    """Target classrooms in scope that miss the socle, by school then classroom."""

    def narrowed(stmt: Select[Any]) -> Select[Any]:
        # The summary the school list's filter and the dashboards read: the same rooms.
        stmt = stmt.join(Ecole, Ecole.id == Classroom.ecole_id).where(socle.missing_clause())
        if collectivite:
            stmt = stmt.where(Ecole.collectivite_id == collectivite)
        if ecole:
            stmt = stmt.where(Classroom.ecole_id == ecole)
        return policy.visible(user, stmt, Classroom).order_by(
            Ecole.name, Ecole.id, Classroom.position, Classroom.id
        )

    rows = policy.visible(user, select(Classroom), Classroom).options(
        selectinload(Classroom.ecole).selectinload(Ecole.commune)
    )
    return paginate(session, rows, page, per_page, key_stmt=narrowed(select(Classroom.id)))
