"""The equipment's end of life: expected dates (a model's, an item's own), a batch of
items retired together with its disposal route (reuse, donation, a DEEE collection by an
eco-organism), its date, the eco-organism's reference and certificate, and the register
of retired items.

Each item of a batch goes through the one status path (:func:`lifecycle.change_status`):
its lifecycle step, its change-log record and the socle summary are written as for any
retirement; the batch only adds where the items went."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets import lifecycle
from inventory.assets.lifecycle import AssetError
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetStatus,
    Disposal,
    DisposalRoute,
    EquipmentModel,
)
from inventory.core import policy, uploads
from inventory.core.exporting import Cell, money
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage
from inventory.core.versioning import guarded

ROUTE_LABELS = {
    DisposalRoute.REUSE: _l("reuse (réemploi)"),
    DisposalRoute.DONATION: _l("donation"),
    DisposalRoute.DEEE: _l("DEEE collection by an eco-organism"),
}
CERTIFICATE_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG)
CERTIFICATE_MAX_BYTES = 10 * 1024 * 1024
# The folder of the equipment's uploads that keeps the certificates.
CERTIFICATE_AREA = "disposals"
# The most items one batch retires (a form's ticked rows: a page of the list at most).
BATCH_MAX = 1000
# The API's list of batches counts this many at most.
DISPOSAL_COUNT_CAP = 10_000


# -- expected end of life ------------------------------------------------------------------
def set_model_end_of_life(
    session: Session, user: Subject, model: EquipmentModel, day: date | None
) -> EquipmentModel:
    """The date items of ``model`` are expected to reach their end of life (None: unknown)."""
    policy.require(user, Action.ADMIN)
    if model.end_of_life != day:
        model.end_of_life = day
        session.commit()
    return model


# -- a batch -------------------------------------------------------------------------------
@dataclass
class DisposalFields:
    """What a person types about a batch; ``check`` normalises and validates it."""

    route: DisposalRoute | None
    disposed_on: date | None
    organism: str | None = None
    organism_reference: str | None = None
    note: str | None = None

    def check(self, today: date) -> DisposalFields:
        for name in ("organism", "organism_reference", "note"):
            value = getattr(self, name)
            setattr(self, name, (value or "").strip() or None)
        if self.route is None:
            raise AssetError(_l("Choose where the items go."), field="route")
        if self.disposed_on is None:
            raise AssetError(_l("Give the date the items left."), field="disposed_on")
        if self.disposed_on > today:
            raise AssetError(_l("The items cannot have left after today."), field="disposed_on")
        if self.route is DisposalRoute.DEEE and not self.organism:
            raise AssetError(
                _l("A DEEE collection names the eco-organism that collected the items."),
                field="organism",
            )
        return self


@dataclass
class RetireResult:
    disposal: Disposal | None = None
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def chosen_items(session: Session, user: Subject, ids: Iterable[int]) -> list[Asset]:
    """The items of ``ids`` the user may see, by tag, with what the batch page shows."""
    wanted = sorted(set(ids))[:BATCH_MAX]
    if not wanted:
        return []
    stmt = (
        select(Asset)
        .where(Asset.id.in_(wanted))
        .options(
            selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
            selectinload(Asset.ecole),
            selectinload(Asset.classroom),
        )
        .order_by(Asset.tag)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))


@guarded(lifecycle.lost_race)
def retire_batch(
    session: Session,
    user: Subject,
    asset_ids: Iterable[int],
    fields: DisposalFields,
    *,
    certificate: bytes | None,
    directory: Storage,
    today: date,
) -> RetireResult:
    """Retire the items of ``asset_ids`` together by one disposal route, with its
    certificate (PDF, JPEG or PNG). Items of another collectivité than the first one's,
    or that cannot be retired (already retired), are listed as refused, not lost; the
    batch is written when at least one item leaves."""
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    fields = fields.check(today)
    items = chosen_items(session, user, asset_ids)
    if not items:
        raise AssetError(_l("Select at least one item."), field="ids")
    content_type = None
    if certificate:
        content_type = uploads.accept(
            certificate, CERTIFICATE_TYPES, CERTIFICATE_MAX_BYTES, "certificate"
        )
    owner = items[0].collectivite_id
    result = RetireResult()
    leaving: list[Asset] = []
    for asset in items:
        if asset.collectivite_id != owner:
            result.refused.append(
                (asset.tag, str(_l("It belongs to another collectivité than the batch's.")))
            )
        elif AssetStatus.RETIRED not in TRANSITIONS[asset.status]:
            result.refused.append(
                (
                    asset.tag,
                    str(
                        _l(
                            "An item %(current)s cannot be retired.",
                            current=lifecycle.STATUS_LABELS[asset.status],
                        )
                    ),
                )
            )
        elif not policy.can(user, Action.EDIT, asset, session):
            result.refused.append((asset.tag, str(_l("You may not change this item."))))
        else:
            leaving.append(asset)
    if not leaving:
        session.rollback()
        return result
    disposal = Disposal(
        collectivite_id=owner,
        route=fields.route,
        disposed_on=fields.disposed_on,
        organism=fields.organism,
        organism_reference=fields.organism_reference,
        note=fields.note,
    )
    stored = None
    if certificate and content_type:
        stored = uploads.store(directory, certificate, content_type)
        disposal.certificate_name = stored
        disposal.certificate_type = content_type
        disposal.certificate_size = len(certificate)
    session.add(disposal)
    note = str(_l("Disposal: %(route)s", route=ROUTE_LABELS[fields.route]))  # type: ignore[index]
    for asset in leaving:
        lifecycle.change_status(session, user, asset, AssetStatus.RETIRED, note, commit=False)
        asset.disposal = disposal
        result.done.append(asset.tag)
    try:
        lifecycle.commit_edit(session)
    except Exception:
        uploads.remove(directory, stored)
        raise
    result.disposal = disposal
    return result


def disposals_by_key(
    session: Session, user: Subject, per_page: int, after: int | None = None
) -> KeyedPage[Disposal]:
    """The batches the user may see, newest first, a page after the batch of id ``after``
    (the API's cursor), each with its items."""
    rows = select(Disposal).options(selectinload(Disposal.assets))
    keys = policy.visible(user, select(Disposal.id), Disposal)
    return paginate_by_key(
        session, rows, keys, Disposal.id, per_page=per_page, cap=DISPOSAL_COUNT_CAP, after=after
    )


def load_disposal(session: Session, user: Subject, disposal_id: int) -> Disposal:
    """A batch in the user's scope, with its items (404 outside)."""
    disposal = policy.load_or_404(user, Disposal, disposal_id, session)
    session.scalars(
        select(Asset)
        .where(Asset.disposal_id == disposal.id)
        .options(selectinload(Asset.model).selectinload(EquipmentModel.manufacturer))
    ).all()
    return disposal


# -- the register --------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterFilters:
    collectivite: int | None = None
    route: DisposalRoute | None = None
    year: int | None = None


def _register_stmt(user: Subject, filters: RegisterFilters) -> Select[Any]:
    stmt = (
        select(Asset)
        .join(Disposal, Asset.disposal_id == Disposal.id)
        .where(Asset.status == AssetStatus.RETIRED)
        .options(
            selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
            selectinload(Asset.ecole),
            selectinload(Asset.disposal).selectinload(Disposal.collectivite),
        )
        .order_by(Disposal.disposed_on.desc(), Disposal.id.desc(), Asset.tag)
    )
    if filters.collectivite:
        stmt = stmt.where(Disposal.collectivite_id == filters.collectivite)
    if filters.route:
        stmt = stmt.where(Disposal.route == filters.route)
    if filters.year:
        stmt = stmt.where(
            Disposal.disposed_on >= date(filters.year, 1, 1),
            Disposal.disposed_on <= date(filters.year, 12, 31),
        )
    return policy.visible(user, stmt, Asset)


def register_page(
    session: Session, user: Subject, filters: RegisterFilters, page: int, per_page: int
) -> Page[Asset]:
    """A page of the register: retired items with the batch each left by."""
    return paginate(session, _register_stmt(user, filters), page, per_page)


def register_headers() -> list[str]:
    return [
        str(h)
        for h in (
            _l("Asset tag"),
            _l("Serial number"),
            _l("Model"),
            _l("Collectivité"),
            _l("School"),
            _l("Purchase date"),
            _l("Price incl. VAT"),
            _l("Disposal route"),
            _l("Disposal date"),
            _l("Eco-organism"),
            _l("Eco-organism's reference"),
            _l("Certificate"),
        )
    ]


def register_rows(
    session: Session, user: Subject, filters: RegisterFilters
) -> Iterator[Sequence[Cell]]:
    """The register's rows for an export, a chunk of items per query."""
    stmt = _register_stmt(user, filters).execution_options(yield_per=500)
    yes, no = str(_l("yes")), str(_l("no"))
    for asset in session.scalars(stmt):
        disposal = asset.disposal
        assert disposal is not None  # as the query joins
        yield (
            asset.tag,
            asset.serial,
            asset.model.full_name,
            disposal.collectivite.name,
            asset.ecole.name if asset.ecole else None,
            asset.purchase_date,
            money(asset.price_ttc_cents),
            str(ROUTE_LABELS[disposal.route]),
            disposal.disposed_on,
            disposal.organism,
            disposal.organism_reference,
            yes if disposal.certificate_name else no,
        )
