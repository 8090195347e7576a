"""Equipment rules and writes: tags, lifecycle, placement, addresses, works, lists."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import True_

from inventory.assets import digital, socle
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetPhoto,
    AssetStatus,
    DigitalService,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    NetworkWork,
    Placement,
    Referentiel,
    RequirementLevel,
    SocleRequirement,
    StatusChange,
    TagCounter,
    WorkKind,
    WorkStatus,
    work_classrooms,
)
from inventory.assets.network import AddressError, normalize_ip, normalize_mac
from inventory.assets.socle import Coverage, PlaceStatus
from inventory.core import audit, policy, search, uploads, versioning
from inventory.core.db import utcnow
from inventory.core.errors import ConflictError, DomainError
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage
from inventory.core.text import fold
from inventory.core.versioning import check_version, guarded
from inventory.orgs.models import Classroom, Collectivite, Commune, Ecole


class AssetError(DomainError):
    pass


STATUS_LABELS = {
    AssetStatus.ORDERED: _l("ordered"),
    AssetStatus.DELIVERED: _l("delivered"),
    AssetStatus.INSTALLED: _l("installed"),
    AssetStatus.IN_SERVICE: _l("in service"),
    AssetStatus.UNDER_REPAIR: _l("under repair"),
    AssetStatus.RETIRED: _l("retired"),
    AssetStatus.LOST: _l("lost"),
}
PLACEMENT_LABELS = {
    Placement.CLASSROOM: _l("classroom"),
    Placement.SCHOOL: _l("school (shared)"),
    Placement.STORAGE: _l("storage"),
}
WORK_KIND_LABELS = {
    WorkKind.CABLING: _l("cabling"),
    WorkKind.WIFI: _l("wifi coverage"),
    WorkKind.INTERNET: _l("internet access upgrade"),
    WorkKind.CABINET: _l("network cabinet"),
}
WORK_STATUS_LABELS = {
    WorkStatus.PLANNED: _l("planned"),
    WorkStatus.ORDERED: _l("ordered"),
    WorkStatus.IN_PROGRESS: _l("in progress"),
    WorkStatus.DONE: _l("done"),
    WorkStatus.ACCEPTED: _l("accepted"),
    WorkStatus.CANCELLED: _l("cancelled"),
}


# -- catalogue ---------------------------------------------------------------------------
def categories(session: Session) -> list[EquipmentCategory]:
    return list(session.scalars(select(EquipmentCategory).order_by(EquipmentCategory.position)))


def category_by_code(session: Session, code: str) -> EquipmentCategory | None:
    return session.scalar(select(EquipmentCategory).filter_by(code=code))


def get_or_create_model(
    session: Session, manufacturer: str, name: str, category: EquipmentCategory
) -> EquipmentModel:
    """The catalogue model named so, created on first use; its category must agree."""
    manufacturer, name = " ".join(manufacturer.split()), " ".join(name.split())
    if not manufacturer or not name:
        raise AssetError(_l("Give the manufacturer and the model."), field="model")
    maker = session.scalar(
        select(Manufacturer).where(Manufacturer.name == manufacturer)
    ) or _find_folded(session, Manufacturer, manufacturer)
    if maker is None:
        maker = Manufacturer(name=manufacturer)
        session.add(maker)
        session.flush()
    model = session.scalar(select(EquipmentModel).filter_by(manufacturer_id=maker.id, name=name))
    if model is None:
        model = EquipmentModel(manufacturer=maker, name=name, category=category)
        session.add(model)
        session.flush()
    elif model.category_id != category.id:
        raise AssetError(
            _l(
                "The model %(model)s is catalogued as %(category)s.",
                model=model.full_name,
                category=model.category.name_fr,
            ),
            field="category",
        )
    return model


def _find_folded(session: Session, model: type[Manufacturer], name: str) -> Manufacturer | None:
    wanted = fold(name)
    return next((m for m in session.scalars(select(model)) if fold(m.name) == wanted), None)


# -- tags --------------------------------------------------------------------------------
def tag_prefix(coll: Collectivite) -> str:
    if coll.asset_tag_prefix:
        return coll.asset_tag_prefix
    letters = re.sub(r"[^A-Z]", "", fold(coll.name).upper())
    return (letters[:3] or "SOC").ljust(3, "X")


def next_tag(session: Session, coll: Collectivite, year: int) -> str:
    """The next free tag of the collectivité's pattern, e.g. ``CRE-2021-00042``.

    The counter row is bumped with one UPDATE … RETURNING, atomic on SQLite and PostgreSQL,
    so that two technicians adding items at once never get the same number.
    """
    bump = (
        update(TagCounter)
        .where(TagCounter.collectivite_id == coll.id, TagCounter.year == year)
        .values(last=TagCounter.last + 1)
        .returning(TagCounter.last)
    )
    prefix = f"{tag_prefix(coll)}-{year}-"
    number = session.execute(bump).scalar()
    if number is None:
        taken = session.scalars(select(Asset.tag).where(Asset.tag.startswith(prefix))).all()
        start = max((int(t[len(prefix) :]) for t in taken if t[len(prefix) :].isdigit()), default=0)
        session.add(TagCounter(collectivite_id=coll.id, year=year, last=start + 1))
        session.flush()
        number = start + 1
    # Collectivités may share a prefix (three letters of their names): skip the numbers
    # another one already used.
    while session.scalar(select(Asset.id).where(Asset.tag == f"{prefix}{number:05d}")):
        number = session.execute(bump).scalar()
    return f"{prefix}{number:05d}"


# -- placement ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Where:
    """Where an item goes: a classroom, a school (shared), or the collectivité's storage."""

    collectivite: Collectivite
    ecole: Ecole | None = None
    classroom: Classroom | None = None

    @property
    def placement(self) -> Placement:
        if self.classroom is not None:
            return Placement.CLASSROOM
        return Placement.SCHOOL if self.ecole is not None else Placement.STORAGE


def resolve_where(
    session: Session,
    user: Subject,
    *,
    classroom_id: int | None = None,
    ecole_id: int | None = None,
    collectivite_id: int | None = None,
) -> Where:
    """Load the target through the policy: the user must be allowed to edit there."""
    if classroom_id:
        room = policy.load_or_404(user, Classroom, classroom_id, session, Action.EDIT)
        ecole = room.ecole
        return Where(_owner(ecole), ecole, room)
    if ecole_id:
        ecole = policy.load_or_404(user, Ecole, ecole_id, session, Action.EDIT)
        return Where(_owner(ecole), ecole)
    if collectivite_id:
        coll = policy.load_or_404(user, Collectivite, collectivite_id, session, Action.EDIT)
        return Where(coll)
    raise AssetError(_l("Choose where the item goes."), field="classroom")


def _owner(ecole: Ecole) -> Collectivite:
    if ecole.collectivite is None:
        raise AssetError(_l("This school has no owning collectivité."), field="classroom")
    return ecole.collectivite


# -- fields ------------------------------------------------------------------------------
@dataclass
class AssetFields:
    """What a person types about an item; ``check`` normalises and validates it."""

    serial: str | None = None
    supplier: str | None = None
    order_number: str | None = None
    invoice_number: str | None = None
    purchase_date: date | None = None
    price_ht_cents: int | None = None
    price_ttc_cents: int | None = None
    warranty_end: date | None = None
    mac: str | None = None
    mac_wifi: str | None = None
    ip: str | None = None
    notes: str | None = None
    errors: dict[str, Any] = field(default_factory=dict)

    def check(self) -> AssetFields:
        for name in ("serial", "supplier", "order_number", "invoice_number", "notes"):
            value = getattr(self, name)
            setattr(self, name, value.strip() or None if isinstance(value, str) else value)
        if self.serial:
            self.serial = self.serial.upper()
        for name in ("mac", "mac_wifi"):
            try:
                setattr(self, name, normalize_mac(getattr(self, name)))
            except AddressError:
                raise AssetError(
                    _l("«%(value)s» is not a MAC address.", value=getattr(self, name)), field=name
                ) from None
        try:
            self.ip = normalize_ip(self.ip)
        except AddressError:
            raise AssetError(
                _l("«%(value)s» is not an IP address.", value=self.ip), field="ip"
            ) from None
        if (
            self.price_ht_cents is not None
            and self.price_ttc_cents is not None
            and self.price_ttc_cents < self.price_ht_cents
        ):
            raise AssetError(
                _l("The price including VAT is lower than the price without."), field="price_ttc"
            )
        if self.purchase_date and self.warranty_end and self.warranty_end < self.purchase_date:
            raise AssetError(_l("The warranty ends before the purchase."), field="warranty_end")
        return self

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"}


def _check_serial(
    session: Session, model: EquipmentModel, serial: str | None, asset_id: int | None = None
) -> None:
    if not serial:
        return
    stmt = select(Asset.tag).where(Asset.model_id == model.id, Asset.serial == serial)
    if asset_id:
        stmt = stmt.where(Asset.id != asset_id)
    clash = session.scalar(stmt)
    if clash:
        raise AssetError(
            _l("Serial %(serial)s of this model is already %(tag)s.", serial=serial, tag=clash),
            field="serial",
        )


def _check_tag(session: Session, tag: str, asset_id: int | None = None) -> str:
    tag = tag.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9._/-]{1,39}", tag):
        raise AssetError(
            _l("An asset tag has 2 to 40 letters, digits, '-', '.', '_' or '/'."), field="tag"
        )
    stmt = select(Asset.id).where(Asset.tag == tag)
    if asset_id:
        stmt = stmt.where(Asset.id != asset_id)
    if session.scalar(stmt):
        raise AssetError(_l("The tag %(tag)s is already used.", tag=tag), field="tag")
    return tag


def address_conflicts(session: Session, user: Subject, asset: Asset) -> list[tuple[str, Asset]]:
    """Other items in the user's scope that use one of this item's MAC or IP addresses."""
    conflicts: list[tuple[str, Asset]] = []
    for attr in ("mac", "mac_wifi", "ip"):
        value = getattr(asset, attr)
        if not value:
            continue
        columns = [Asset.mac, Asset.mac_wifi] if attr != "ip" else [Asset.ip]
        stmt = select(Asset).where(or_(*(c == value for c in columns)), Asset.id != asset.id)
        for other in session.scalars(policy.visible(user, stmt, Asset).limit(5)):
            conflicts.append((value, other))
    return conflicts


# -- lifecycle ---------------------------------------------------------------------------
def _record_transition(asset: Asset, to: AssetStatus, note: str | None = None) -> None:
    actor = audit.current_actor()
    asset.transitions.append(
        StatusChange(
            from_status=asset.status if asset.id else None,
            to_status=to,
            actor_id=actor.user_id,
            actor_label=actor.label,
            note=note,
        )
    )
    asset.status = to
    asset.status_since = utcnow()


def create_asset(
    session: Session,
    user: Subject,
    *,
    where: Where,
    model: EquipmentModel,
    status: AssetStatus = AssetStatus.DELIVERED,
    fields: AssetFields | None = None,
    tag: str | None = None,
    year: int | None = None,
    commit: bool = True,
) -> Asset:
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    fields = (fields or AssetFields()).check()
    _check_serial(session, model, fields.serial)
    tag = (
        _check_tag(session, tag)
        if tag
        else next_tag(
            session, where.collectivite, year or (fields.purchase_date or date.today()).year
        )
    )
    asset = Asset(
        tag=tag,
        model=model,
        category_id=model.category_id,
        collectivite_id=where.collectivite.id,
        ecole_id=where.ecole.id if where.ecole else None,
        classroom_id=where.classroom.id if where.classroom else None,
        placement=where.placement,
        status=status,
        **fields.values(),
    )
    _record_transition(asset, status)
    session.add(asset)
    if commit:
        session.commit()
    return asset


def quick_add(
    session: Session,
    user: Subject,
    *,
    where: Where,
    model: EquipmentModel,
    serials: Sequence[str],
    status: AssetStatus,
    fields: AssetFields,
) -> list[Asset]:
    """Many identical items at once: one line per serial (typed or scanned)."""
    cleaned = [s.strip().upper() for s in serials if s.strip()]
    if not cleaned:
        raise AssetError(_l("Type or scan at least one serial number."), field="serials")
    if len(cleaned) > 500:
        raise AssetError(_l("At most 500 items at once."), field="serials")
    duplicates = sorted({s for s in cleaned if cleaned.count(s) > 1})
    if duplicates:
        raise AssetError(
            _l("Serial typed twice: %(serials)s.", serials=", ".join(duplicates)), field="serials"
        )
    created = []
    for serial in cleaned:
        item = AssetFields(
            **{**fields.values(), "serial": serial, "mac": None, "mac_wifi": None, "ip": None}
        )
        created.append(
            create_asset(
                session, user, where=where, model=model, status=status, fields=item, commit=False
            )
        )
    session.commit()
    return created


def _lost_race() -> ConflictError:
    return ConflictError(
        _l("Someone else saved this item at the same moment. Reload it and try again.")
    )


@guarded(_lost_race)
def change_status(
    session: Session,
    user: Subject,
    asset: Asset,
    to: AssetStatus,
    note: str | None = None,
    *,
    commit: bool = True,
) -> Asset:
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    if to == asset.status:
        return asset
    if to not in TRANSITIONS[asset.status]:
        raise AssetError(
            _l(
                "An item %(current)s cannot become %(wanted)s.",
                current=STATUS_LABELS[asset.status],
                wanted=STATUS_LABELS[to],
            ),
            field="status",
        )
    _record_transition(asset, to, note)
    if commit:
        _commit(session)
    return asset


@guarded(_lost_race)
def update_asset(
    session: Session,
    user: Subject,
    asset: Asset,
    *,
    version: int,
    fields: AssetFields,
    tag: str,
    model: EquipmentModel,
) -> Asset:
    """Save an edit made on a copy loaded at ``version``; a newer save wins nothing silently."""
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    check_version(
        asset,
        version,
        ConflictError(
            _l(
                "Someone else saved this item while you were editing it. "
                "Your changes are shown below: check them and save again."
            )
        ),
    )
    fields = fields.check()
    _check_serial(session, model, fields.serial, asset.id)
    asset.tag = _check_tag(session, tag, asset.id)
    asset.model, asset.category_id = model, model.category_id
    for key, value in fields.values().items():
        setattr(asset, key, value)
    _commit(session)
    return asset


@guarded(_lost_race)
def move_asset(
    session: Session, user: Subject, asset: Asset, where: Where, *, commit: bool = True
) -> Asset:
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    asset.collectivite_id = where.collectivite.id
    asset.ecole_id = where.ecole.id if where.ecole else None
    asset.classroom_id = where.classroom.id if where.classroom else None
    asset.placement = where.placement
    if commit:
        _commit(session)
    return asset


def _commit(session: Session) -> None:
    versioning.commit(session, _lost_race())


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


@guarded(_lost_race)
def bulk_update(
    session: Session,
    user: Subject,
    asset_ids: Iterable[int],
    *,
    status: AssetStatus | None = None,
    where: Where | None = None,
) -> BulkResult:
    """Change the status of, or move, a selection; items that cannot are listed, not lost."""
    result = BulkResult()
    stmt = policy.visible(user, select(Asset).where(Asset.id.in_(list(asset_ids))), Asset)
    for asset in session.scalars(stmt.order_by(Asset.tag)):
        try:
            if status is not None:
                change_status(session, user, asset, status, commit=False)
            if where is not None:
                move_asset(session, user, asset, where, commit=False)
        except AssetError as exc:
            result.refused.append((asset.tag, str(exc.message)))
        else:
            result.done.append(asset.tag)
    _commit(session)
    return result


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


def list_assets(
    session: Session,
    user: Subject,
    filters: AssetFilters,
    page: int,
    per_page: int,
    *,
    after: int | None = None,
    before: int | None = None,
) -> KeyedPage[Asset]:
    """One page of the items matching ``filters``, newest first; ``after``/``before``:
    the page next to that item's id (``before=0``: the last page). No item when the
    search text is too short to be looked up (``filters.search_too_short``)."""
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
        )
    ).all()
    return asset


# -- network works -----------------------------------------------------------------------
WORK_DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)


@dataclass
class WorkFields:
    kind: WorkKind
    title: str
    status: WorkStatus = WorkStatus.PLANNED
    contractor: str | None = None
    quote_cents: int | None = None
    invoice_cents: int | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    accepted_on: date | None = None
    notes: str | None = None

    def check(self) -> WorkFields:
        self.title = self.title.strip()
        if not self.title:
            raise AssetError(_l("Give the works a title."), field="title")
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            a, b = getattr(self, start), getattr(self, end)
            if a and b and b < a:
                raise AssetError(_l("The end comes before the start."), field=end)
        if self.status is WorkStatus.ACCEPTED and not self.accepted_on:
            raise AssetError(_l("Give the acceptance date of accepted works."), field="accepted_on")
        return self


@guarded(_lost_race)
def save_work(
    session: Session,
    user: Subject,
    work: NetworkWork | None,
    *,
    ecole: Ecole,
    fields: WorkFields,
    classroom_ids: Iterable[int],
    version: int | None = None,
) -> NetworkWork:
    if not policy.can(user, Action.EDIT, ecole, session):
        raise policy.Denied()
    fields = fields.check()
    rooms = list(
        session.scalars(
            select(Classroom).where(
                Classroom.id.in_(list(classroom_ids)), Classroom.ecole_id == ecole.id
            )
        )
    )
    if work is None:
        work = NetworkWork(ecole_id=ecole.id, collectivite_id=_owner(ecole).id, **fields.__dict__)
        session.add(work)
    else:
        check_version(
            work,
            version,
            ConflictError(
                _l(
                    "Someone else saved these works while you were editing "
                    "them. Check your changes and save again."
                )
            ),
        )
        for key, value in fields.__dict__.items():
            setattr(work, key, value)
    work.classrooms = rooms
    _commit(session)
    return work


def works_of(session: Session, user: Subject, **where: Any) -> list[NetworkWork]:
    stmt = (
        select(NetworkWork)
        .filter_by(**where)
        .options(selectinload(NetworkWork.classrooms), selectinload(NetworkWork.ecole))
        .order_by(NetworkWork.planned_start.desc(), NetworkWork.id.desc())
    )
    return list(session.scalars(policy.visible(user, stmt, NetworkWork)))


def assets_of(session: Session, user: Subject, **where: Any) -> list[Asset]:
    stmt = (
        select(Asset)
        .filter_by(**where)
        .options(*_list_options())
        .order_by(Asset.category_id, Asset.tag)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))


# -- pages: photos, lists of works, socle views (appended for the equipment pages) -------
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = (uploads.JPEG, uploads.PNG, uploads.WEBP)


def store_photo(
    session: Session, user: Subject, asset: Asset, data: bytes, directory: Storage
) -> AssetPhoto:
    """Keep a JPEG, PNG or WebP photo of ``asset`` under ``directory`` with a random name."""
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    content_type = uploads.accept(data, PHOTO_TYPES, PHOTO_MAX_BYTES, "photo")
    name = uploads.store(directory, data, content_type)
    photo = AssetPhoto(asset=asset, stored_name=name, content_type=content_type, size=len(data))
    session.add(photo)
    try:
        session.commit()
    except Exception:
        session.rollback()
        uploads.remove(directory, name)
        raise
    return photo


def delete_photo(session: Session, user: Subject, photo: AssetPhoto, directory: Storage) -> None:
    if not policy.can(user, Action.EDIT, photo, session):
        raise policy.Denied()
    name = photo.stored_name
    session.delete(photo)
    session.commit()
    uploads.remove(directory, name)


@dataclass(frozen=True)
class WorkFilters:
    ecole: int | None = None
    collectivite: int | None = None
    kind: WorkKind | None = None
    status: WorkStatus | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        for column, value in (
            (NetworkWork.ecole_id, self.ecole),
            (NetworkWork.collectivite_id, self.collectivite),
            (NetworkWork.kind, self.kind),
            (NetworkWork.status, self.status),
        ):
            if value:
                stmt = stmt.where(column == value)
        return stmt


def list_works(
    session: Session, user: Subject, filters: WorkFilters, page: int, per_page: int
) -> Page[NetworkWork]:
    order = (NetworkWork.id.desc(),)
    rows = policy.visible(user, select(NetworkWork), NetworkWork).options(
        selectinload(NetworkWork.classrooms), selectinload(NetworkWork.ecole)
    )
    keys = policy.visible(user, filters.apply(select(NetworkWork.id)), NetworkWork).order_by(*order)
    return paginate(session, rows, page, per_page, key_stmt=keys)


def work_detail(session: Session, user: Subject, work_id: int) -> NetworkWork:
    work = policy.load_or_404(user, NetworkWork, work_id, session)
    session.scalars(
        select(NetworkWork)
        .where(NetworkWork.id == work.id)
        .options(
            selectinload(NetworkWork.classrooms),
            selectinload(NetworkWork.ecole).selectinload(Ecole.classrooms),
            selectinload(NetworkWork.collectivite),
        )
    ).all()
    return work


def works_of_classroom(session: Session, user: Subject, classroom_id: int) -> list[NetworkWork]:
    """The network works that cover one classroom."""
    stmt = (
        select(NetworkWork)
        .join(work_classrooms, work_classrooms.c.work_id == NetworkWork.id)
        .where(work_classrooms.c.classroom_id == classroom_id)
        .order_by(NetworkWork.id.desc())
    )
    return list(session.scalars(policy.visible(user, stmt, NetworkWork)))


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


@dataclass
class PlaceChoices:
    """Collectivités and schools to choose from in forms; ``more``: the list was cut."""

    collectivites: list[Collectivite]
    schools: list[Ecole]
    more: bool = False


def place_choices(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    q: str = "",
    include: int | None = None,
    limit: int = 300,
) -> PlaceChoices:
    # A national scope holds 35,000 collectivités: offer the first ones, and the chosen one.
    colls = list(
        session.scalars(
            policy.visible(
                user,
                select(Collectivite).order_by(Collectivite.name, Collectivite.id),
                Collectivite,
            ).limit(limit + 1)
        )
    )
    cut = len(colls) > limit
    colls = colls[:limit]
    if collectivite and all(c.id != collectivite for c in colls):
        chosen = session.scalar(
            policy.visible(
                user, select(Collectivite).where(Collectivite.id == collectivite), Collectivite
            )
        )
        if chosen is not None:
            colls.insert(0, chosen)
    stmt = select(Ecole).options(selectinload(Ecole.commune)).order_by(Ecole.name, Ecole.id)
    if collectivite:
        stmt = stmt.where(Ecole.collectivite_id == collectivite)
    stmt = stmt.where(*search.matches(session, Ecole, q))
    schools = list(session.scalars(policy.visible(user, stmt, Ecole).limit(limit + 1)))
    more = cut or len(schools) > limit
    schools = schools[:limit]
    if include and all(e.id != include for e in schools):
        extra = session.scalar(
            policy.visible(
                user,
                select(Ecole).where(Ecole.id == include).options(selectinload(Ecole.commune)),
                Ecole,
            )
        )
        if extra is not None:
            schools.insert(0, extra)
    return PlaceChoices(colls, schools, more)


@dataclass
class FilterChoices:
    """The collectivités and schools a list's filters offer, as (id, label) pairs;
    ``more``: the lists were cut."""

    collectivites: list[tuple[int, str]]
    schools: list[tuple[int, str]]
    more: bool = False


def filter_choices(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    ecole: int | None = None,
    limit: int = 100,
) -> FilterChoices:
    """What :func:`place_choices` offers, for the filters of a list: ids and labels read
    as rows. A list is shown far more often than a form, and building a few hundred
    objects here cost more than its page of items."""
    colls = [
        (i, name)
        for i, name in session.execute(
            policy.visible(
                user,
                select(Collectivite.id, Collectivite.name)
                .order_by(Collectivite.name, Collectivite.id)
                .limit(limit + 1),
                Collectivite,
            )
        )
    ]
    cut = len(colls) > limit
    colls = colls[:limit]
    if collectivite and all(i != collectivite for i, _name in colls):
        chosen = session.execute(
            policy.visible(
                user,
                select(Collectivite.id, Collectivite.name).where(Collectivite.id == collectivite),
                Collectivite,
            )
        ).first()
        if chosen is not None:
            colls.insert(0, (chosen[0], chosen[1]))

    stmt = select(Ecole.id, Ecole.name, Commune.name).join(Commune, Commune.id == Ecole.commune_id)
    if collectivite:
        stmt = stmt.where(Ecole.collectivite_id == collectivite)
    rows = session.execute(
        policy.visible(user, stmt.order_by(Ecole.name, Ecole.id).limit(limit + 1), Ecole)
    )
    found = [(i, f"{name} ({commune})") for i, name, commune in rows]
    more = cut or len(found) > limit
    found = found[:limit]
    if ecole and all(i != ecole for i, _label in found):
        extra = session.execute(policy.visible(user, stmt.where(Ecole.id == ecole), Ecole)).first()
        if extra is not None:
            found.insert(0, (extra[0], f"{extra[1]} ({extra[2]})"))
    return FilterChoices(colls, found, more)


def collectivites_by_id(session: Session, user: Subject, ids: Iterable[int]) -> list[Collectivite]:
    """The collectivités of these ids that ``user`` may see, by name."""
    stmt = select(Collectivite).where(Collectivite.id.in_(list(ids)))
    return list(
        session.scalars(policy.visible(user, stmt, Collectivite).order_by(Collectivite.name))
    )


def visible_school(session: Session, user: Subject, ecole_id: int) -> Ecole | None:
    """The school of that id, with its commune, when ``user`` may see it."""
    stmt = select(Ecole).where(Ecole.id == ecole_id).options(selectinload(Ecole.commune))
    return session.scalar(policy.visible(user, stmt, Ecole))


def classrooms_of(session: Session, user: Subject, ecole_id: int) -> list[Classroom]:
    stmt = (
        select(Classroom)
        .where(Classroom.ecole_id == ecole_id)
        .order_by(Classroom.position, Classroom.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Classroom)))
