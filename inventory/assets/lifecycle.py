"""An item's life: recorded, edited, moved, through its statuses (alone or by
selection); what a person types about it and where it goes."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets import socle, supplier_link, tags
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetStatus,
    EquipmentModel,
    Placement,
    StatusChange,
    asset_search_text,
)
from inventory.assets.network import AddressError, normalize_ip, normalize_mac
from inventory.core import audit, events, policy, versioning
from inventory.core.bulk import BulkInsert
from inventory.core.db import utcnow
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.orgs.models import Classroom, Collectivite, Ecole


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
    AssetStatus.ON_LOAN: _l("on loan"),
}
PLACEMENT_LABELS = {
    Placement.CLASSROOM: _l("classroom"),
    Placement.SCHOOL: _l("school (shared)"),
    Placement.STORAGE: _l("storage"),
}


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
    for key, value in (
        ("classroom_id", classroom_id),
        ("ecole_id", ecole_id),
        ("collectivite_id", collectivite_id),
    ):
        if value:
            found = resolve_places(session, user, key, [value]).get(value)
            if found is None:
                raise policy.Denied()
            if isinstance(found, AssetError):
                raise found
            return found
    raise AssetError(_l("Choose where the item goes."), field="classroom")


_PLACES: dict[str, type[Classroom] | type[Ecole] | type[Collectivite]] = {
    "classroom_id": Classroom,
    "ecole_id": Ecole,
    "collectivite_id": Collectivite,
}


def resolve_places(
    session: Session, user: Subject, key: str, ids: Collection[int]
) -> dict[int, Where | AssetError]:
    """Many targets of one kind (``key``: classroom_id, ecole_id or collectivite_id) at
    once, through the policy: those where the user may edit, by id (a school with no
    owner: its refusal); the others are absent. One query per 500 ids."""
    if not policy.allowed(user, Action.EDIT):
        return {}
    model = _PLACES[key]
    wanted = sorted(set(ids))
    out: dict[int, Where | AssetError] = {}
    for n in range(0, len(wanted), 500):
        stmt: Any = select(model).where(model.id.in_(wanted[n : n + 500]))
        if model is Classroom:
            stmt = stmt.options(selectinload(Classroom.ecole).selectinload(Ecole.collectivite))
        elif model is Ecole:
            stmt = stmt.options(selectinload(Ecole.collectivite))
        for place in session.scalars(policy.visible(user, stmt, model)):
            try:
                out[place.id] = _where_of(place)
            except AssetError as exc:
                out[place.id] = exc
    return out


def _where_of(place: Classroom | Ecole | Collectivite) -> Where:
    if isinstance(place, Classroom):
        return Where(owner_of(place.ecole), place.ecole, place)
    if isinstance(place, Ecole):
        return Where(owner_of(place), place)
    return Where(place)


def owner_of(ecole: Ecole) -> Collectivite:
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
    end_of_life: date | None = None
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

    @classmethod
    def of(cls, asset: Asset, **changed: Any) -> AssetFields:
        """What ``asset`` has, as an edit starts from it, with ``changed`` instead."""
        return cls(**{name: changed.get(name, getattr(asset, name)) for name in EDITABLE})


# The fields an edit of an item may change: AssetFields' own, but its errors.
EDITABLE = tuple(f.name for f in fields(AssetFields) if f.name != "errors")


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
        raise _serial_taken(serial, clash)


def _tag_format(tag: str) -> str:
    tag = tag.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9._/-]{1,39}", tag):
        raise AssetError(
            _l("An asset tag has 2 to 40 letters, digits, '-', '.', '_' or '/'."), field="tag"
        )
    return tag


def _tag_taken(tag: str) -> AssetError:
    return AssetError(_l("The tag %(tag)s is already used.", tag=tag), field="tag")


def _serial_taken(serial: str, tag: str) -> AssetError:
    return AssetError(
        _l("Serial %(serial)s of this model is already %(tag)s.", serial=serial, tag=tag),
        field="serial",
    )


def _check_tag(session: Session, tag: str, asset_id: int | None = None) -> str:
    tag = _tag_format(tag)
    stmt = select(Asset.id).where(Asset.tag == tag)
    if asset_id:
        stmt = stmt.where(Asset.id != asset_id)
    if session.scalar(stmt):
        raise _tag_taken(tag)
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


@dataclass
class NewItem:
    """One item to record: where it goes, its model and first status, the values typed
    about it (:meth:`AssetFields.values`); without ``tag``, it is numbered in its
    collectivité's pattern for ``year`` (the purchase year, else this year)."""

    collectivite: Collectivite
    model: EquipmentModel
    placement: Placement
    status: AssetStatus
    values: dict[str, Any]
    ecole_id: int | None = None
    classroom_id: int | None = None
    tag: str | None = None
    year: int | None = None
    id: int | None = None  # once recorded

    @property
    def serial(self) -> str | None:
        return self.values.get("serial")

    @property
    def model_id(self) -> int | None:
        return self.model.id

    def number_year(self) -> int:
        return self.year or (self.values.get("purchase_date") or date.today()).year


def record_items(
    session: Session, items: Sequence[NewItem], *, reserved: Collection[str] = ()
) -> list[int]:
    """Write new items, the one way items are created (a form, quick add, an import):
    those without a tag numbered (:func:`tags.next_tags_of_many`, a block per
    collectivité and year, all bumped at once), each with its first lifecycle step and
    its change-log record, and the socle summary of the classrooms that items enter in
    service. Their ids, in order; each item's ``tag`` and ``id`` are set. ``reserved``:
    tags the numbering leaves free.

    Written as one set (:class:`inventory.core.bulk.BulkInsert`: one executemany of the
    table's INSERT on PostgreSQL), in the session's transaction: the session's flush
    hooks see no object, hence the change log (core.audit's bulk path) and the summary
    are written here."""
    now = utcnow()
    groups: dict[tuple[int, int], list[NewItem]] = defaultdict(list)
    for item in items:
        if not item.tag:
            groups[(item.collectivite.id, item.number_year())].append(item)
    # Collectivités may share a prefix (three letters of their names): the tags handed
    # out here are taken for the next ones, though not written yet (next_tags_of_many
    # keeps them apart).
    taken = {*reserved, *(item.tag for item in items if item.tag)}
    wanted = [(group[0].collectivite, year, len(group)) for (_, year), group in groups.items()]
    numbered = tags.next_tags_of_many(session, wanted, reserved=taken)
    for group, found in zip(groups.values(), numbered, strict=True):
        for item, tag in zip(group, found, strict=True):
            item.tag = tag
    # The suppliers typed, linked to the directory (found or created) in this transaction.
    supplier_link.link_values(session, [(i.collectivite.id, i.values) for i in items])
    _write(session, list(items), now)
    # Only items in service count in the summary: other new items change nothing.
    rooms = {
        i.classroom_id
        for i in items
        if i.status is AssetStatus.IN_SERVICE and i.classroom_id is not None
    }
    if rooms:
        socle.refresh(session.connection(), rooms)
    return [item.id for item in items]  # type: ignore[misc]


def _write(session: Session, items: list[NewItem], now: datetime) -> None:
    if not items:
        return
    rows = [
        {
            **_NO_VALUES,
            **item.values,
            "tag": item.tag,
            "model_id": item.model.id,
            "category_id": item.model.category_id,
            "collectivite_id": item.collectivite.id,
            "ecole_id": item.ecole_id,
            "classroom_id": item.classroom_id,
            "placement": item.placement,
            "status": item.status,
            "status_since": now,
            "created_at": now,
            "version": 1,
            # What the mapper hook on Asset computes for an item written by the unit of work.
            "search_text": asset_search_text(
                item.tag, item.serial, item.model.manufacturer.name, item.model.name
            ),
        }
        for item in items
    ]
    # Staged rows written in one set (core.bulk): on PostgreSQL the ids drawn from the
    # sequence in one query, then one executemany of the table's INSERT, prepared once;
    # on SQLite multi-row INSERTs with the ids returned, matched back by tag (unique).
    # Their change-log records are written by core.audit's bulk path as they are.
    staged = BulkInsert(session)
    written = [staged.add(Asset, **row) for row in rows]
    staged.flush()
    for item, row in zip(items, written, strict=True):
        item.id = row.id
    write_steps(session, [(item.id, None, item.status, now) for item in items])  # type: ignore[misc]


# The optional columns of a new item, all written (None when not given): every row of a
# batch then binds the same columns, one statement for them all.
_NO_VALUES: dict[str, Any] = dict.fromkeys(AssetFields().values())


def write_steps(
    session: Session,
    steps: Sequence[tuple[int, AssetStatus | None, AssetStatus, datetime]],
) -> None:
    """Lifecycle steps (item id, from, to, when) of items changed without the unit of
    work (recorded in bulk, or changed by an import), by the acting person."""
    if not steps:
        return
    actor = audit.current_actor()
    rows = [
        {
            "asset_id": asset_id,
            "from_status": before,
            "to_status": after,
            "at": at,
            "actor_id": actor.user_id,
            "actor_label": actor.label,
            "note": None,
        }
        for asset_id, before, after, at in steps
    ]
    session.execute(insert(StatusChange.__table__), rows)


@dataclass
class TypedItem:
    """One new item as a person or a script typed it, before :func:`check_items`."""

    where: Where
    model: EquipmentModel
    status: AssetStatus
    fields: AssetFields
    tag: str | None = None
    year: int | None = None


# Lookups of many typed items are made this many values at a time (SQLite's bound limit).
_CHECK_CHUNK = 500


def check_items(
    session: Session, typed: Sequence[TypedItem]
) -> tuple[list[NewItem], dict[int, AssetError]]:
    """Check typed items, one or thousands, the same way: their fields, their serials
    (unique per model, in the registry and among them), their tags. The items to record,
    in order, and the refusals by position (the first of each item). The registry is
    read a chunk of items per query, not one query per item."""
    refused: dict[int, AssetError] = {}
    checked: dict[int, tuple[AssetFields, str | None]] = {}
    for i, one in enumerate(typed):
        try:
            fields = one.fields.check()
            checked[i] = (fields, _tag_format(one.tag) if one.tag else None)
        except AssetError as exc:
            refused[i] = exc
    serial_of: dict[int, tuple[int, str]] = {}
    for i, (f, _tag) in checked.items():
        if f.serial:
            serial_of[i] = (typed[i].model.id, f.serial)
    tag_of = {i: tag for i, (_f, tag) in checked.items() if tag}
    known_serials: dict[tuple[int, str], str] = {}
    wanted = sorted(set(serial_of.values()))
    pairs = set(wanted)
    models_wanted = sorted({model_id for model_id, _serial in wanted})
    for n in range(0, len(wanted), _CHECK_CHUNK):
        chunk = wanted[n : n + _CHECK_CHUNK]
        # The models (a few) and the serials each as a list: the unique (model, serial)
        # index is searched for both lists, where a list of pairs plans as an OR of
        # hundreds of terms. The rows of a model that match a serial of another are
        # dropped here.
        stmt = select(Asset.model_id, Asset.serial, Asset.tag).where(
            Asset.model_id.in_(models_wanted),
            Asset.serial.in_(sorted({serial for _model_id, serial in chunk})),
        )
        for model_id, serial, tag in session.execute(stmt):
            if serial is not None and (model_id, serial) in pairs:
                known_serials[(model_id, serial)] = tag
    tags_wanted = sorted(set(tag_of.values()))
    known_tags: set[str] = set()
    for n in range(0, len(tags_wanted), _CHECK_CHUNK):
        tags_chunk = tags_wanted[n : n + _CHECK_CHUNK]
        known_tags.update(session.scalars(select(Asset.tag).where(Asset.tag.in_(tags_chunk))))
    seen_serials: set[tuple[int, str]] = set()
    for i, key in serial_of.items():
        if key in known_serials:
            refused.setdefault(i, _serial_taken(key[1], known_serials[key]))
        elif key in seen_serials:
            refused.setdefault(i, _serial_typed_twice(key[1]))
        seen_serials.add(key)
    seen_tags: set[str] = set()
    for i, tag in tag_of.items():
        if tag in known_tags or tag in seen_tags:
            refused.setdefault(i, _tag_taken(tag))
        seen_tags.add(tag)
    items = [
        NewItem(
            collectivite=one.where.collectivite,
            model=one.model,
            placement=one.where.placement,
            status=one.status,
            values=checked[i][0].values(),
            ecole_id=one.where.ecole.id if one.where.ecole else None,
            classroom_id=one.where.classroom.id if one.where.classroom else None,
            tag=checked[i][1],
            year=one.year,
        )
        for i, one in enumerate(typed)
        if i not in refused
    ]
    return items, refused


def _serial_typed_twice(serial: str) -> AssetError:
    return AssetError(_l("Serial typed twice: %(serials)s.", serials=serial), field="serial")


def _new_item(
    session: Session,
    where: Where,
    model: EquipmentModel,
    status: AssetStatus,
    fields: AssetFields,
    tag: str | None,
    year: int | None,
) -> NewItem:
    """A typed item checked (:func:`check_items`); its first refusal raised."""
    items, refused = check_items(session, [TypedItem(where, model, status, fields, tag, year)])
    if refused:
        raise refused[0]
    return items[0]


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
    item = _new_item(session, where, model, status, fields or AssetFields(), tag, year)
    (asset_id,) = record_items(session, [item])
    asset = session.get_one(Asset, asset_id)
    if commit:
        session.commit()
    return asset


class ItemsRefused(AssetError):
    """Some of many typed items cannot be recorded; ``refused``: why, by position."""

    def __init__(self, refused: dict[int, AssetError]) -> None:
        first = refused[min(refused)]
        super().__init__(first.message, first.field)
        self.refused = refused


def create_assets(
    session: Session, user: Subject, typed: Sequence[TypedItem], *, commit: bool = True
) -> list[NewItem]:
    """Record many typed items at once, all or none: checked together
    (:func:`check_items`), any refusal raises :class:`ItemsRefused` and nothing is
    written; else written by :func:`record_items` (ids and tags set on the items)."""
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    items, refused = check_items(session, typed)
    if refused:
        raise ItemsRefused(refused)
    record_items(session, items)
    if commit:
        session.commit()
    return items


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
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    items = [
        _new_item(
            session,
            where,
            model,
            status,
            AssetFields(
                **{**fields.values(), "serial": serial, "mac": None, "mac_wifi": None, "ip": None}
            ),
            None,
            None,
        )
        for serial in cleaned
    ]
    ids = record_items(session, items)
    by_id = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    session.commit()
    return [by_id[i] for i in ids]


def lost_race() -> ConflictError:
    """Someone else's save of the item met at the same instant (a flush or the commit)."""
    return ConflictError(
        _l("Someone else saved this item at the same moment. Reload it and try again.")
    )


def announce_status(session: Session, asset: Asset, before: AssetStatus) -> None:
    """Tell the item's new status (``core.events``), in the caller's transaction: every
    path that changes a status (one item, a selection, an import) tells it the same way."""
    events.emit(
        session,
        events.ASSET_STATUS_CHANGED,
        asset.collectivite_id,
        asset=asset.id,
        tag=asset.tag,
        ecole=asset.ecole_id,
        from_status=str(before),
        to_status=str(asset.status),
    )


@guarded(lost_race)
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
    before = asset.status
    _record_transition(asset, to, note)
    announce_status(session, asset, before)
    if commit:
        commit_edit(session)
    return asset


@guarded(lost_race)
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
    typed_before = asset.supplier
    for key, value in fields.values().items():
        setattr(asset, key, value)
    if _renamed(typed_before, asset.supplier) or (asset.supplier and not asset.supplier_id):
        supplier_link.relink(session, asset)
    commit_edit(session)
    return asset


def _renamed(before: str | None, after: str | None) -> bool:
    """Whether the supplier typed names another one (letter case and spaces aside)."""
    return supplier_link.name_key(before) != supplier_link.name_key(after)


@guarded(lost_race)
def move_asset(
    session: Session, user: Subject, asset: Asset, where: Where, *, commit: bool = True
) -> Asset:
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    moved = asset.collectivite_id != where.collectivite.id
    asset.collectivite_id = where.collectivite.id
    if moved and asset.supplier_id is not None:
        # The entry was the former collectivité's: the new one's of the same name.
        supplier_link.relink(session, asset)
    asset.ecole_id = where.ecole.id if where.ecole else None
    asset.classroom_id = where.classroom.id if where.classroom else None
    asset.placement = where.placement
    if commit:
        commit_edit(session)
    return asset


def commit_edit(session: Session) -> None:
    versioning.commit(session, lost_race())


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


@guarded(lost_race)
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
    commit_edit(session)
    return result
