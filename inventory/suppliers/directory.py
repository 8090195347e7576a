"""The suppliers' directory: a collectivité's suppliers, their contacts and SIRET, and the
items that link to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset
from inventory.core import policy, versioning
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.orgs.models import Collectivite
from inventory.suppliers.models import Contract, Supplier
from inventory.suppliers.rules import SupplierError, clean, conflict, normalize_siret


def _conflict() -> Any:
    return conflict(
        _l(
            "Someone else saved this supplier while you were editing it. "
            "Check your changes and save again."
        )
    )


@dataclass
class SupplierFields:
    """What a person types about a supplier; ``check`` normalises and validates it."""

    name: str
    siret: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    notes: str | None = None

    def check(self) -> SupplierFields:
        self.name = clean(self.name) or ""
        if not self.name:
            raise SupplierError(_l("Give the supplier's name."), field="name")
        self.siret = normalize_siret(self.siret)
        self.address = (self.address or "").strip() or None
        self.phone = clean(self.phone)
        self.email = clean(self.email)
        if self.email and ("@" not in self.email or " " in self.email):
            raise SupplierError(_l("This is not an email address."), field="email")
        self.notes = (self.notes or "").strip() or None
        return self


def _check_unique(
    session: Session, collectivite_id: int, fields: SupplierFields, own_id: int | None
) -> None:
    same = select(Supplier.id).where(Supplier.collectivite_id == collectivite_id)
    if own_id is not None:
        same = same.where(Supplier.id != own_id)
    if session.scalar(same.where(func.lower(Supplier.name) == fields.name.lower())):
        raise SupplierError(_l("This collectivité already has a supplier of this name."), "name")
    if fields.siret and session.scalar(same.where(Supplier.siret == fields.siret)):
        raise SupplierError(
            _l("This collectivité already has a supplier with this SIRET."), "siret"
        )


@guarded(_conflict)
def save_supplier(
    session: Session,
    user: Subject,
    supplier: Supplier | None,
    fields: SupplierFields,
    *,
    collectivite: Collectivite | None = None,
    version: int | None = None,
    commit: bool = True,
) -> Supplier:
    """Record a supplier of ``collectivite`` (new), or change one."""
    if supplier is None:
        if collectivite is None or not policy.can(user, Action.EDIT, collectivite, session):
            raise policy.Denied()
    elif not policy.can(user, Action.EDIT, supplier, session):
        raise policy.Denied()
    fields = fields.check()
    owner_id = collectivite.id if supplier is None else supplier.collectivite_id  # type: ignore[union-attr]
    _check_unique(session, owner_id, fields, supplier.id if supplier else None)
    if supplier is None:
        supplier = Supplier(collectivite_id=owner_id, **fields.__dict__)
        session.add(supplier)
    else:
        check_version(supplier, version, _conflict())
        for key, value in fields.__dict__.items():
            if getattr(supplier, key) != value:
                setattr(supplier, key, value)
    if commit:
        versioning.commit(session, _conflict())
    return supplier


def supplier_detail(session: Session, user: Subject, supplier_id: int) -> Supplier:
    supplier = policy.load_or_404(user, Supplier, supplier_id, session)
    session.scalars(
        select(Supplier)
        .where(Supplier.id == supplier.id)
        .options(
            selectinload(Supplier.contracts).selectinload(Contract.items),
            selectinload(Supplier.collectivite),
        )
    ).all()
    return supplier


def list_suppliers(
    session: Session, user: Subject, *, q: str = "", page: int = 1, per_page: int = 50
) -> Page[Supplier]:
    keys = policy.visible(user, select(Supplier.id), Supplier)
    if words := (q or "").strip()[:100]:
        pattern = f"%{words.lower()}%"
        keys = keys.where(
            or_(func.lower(Supplier.name).like(pattern), Supplier.siret.like(f"%{words}%"))
        )
    keys = keys.order_by(Supplier.name, Supplier.id)
    rows = policy.visible(user, select(Supplier), Supplier).options(
        selectinload(Supplier.collectivite)
    )
    return paginate(session, rows, page, per_page, key_stmt=keys)


def suppliers_of(session: Session, user: Subject, collectivite_id: int) -> list[Supplier]:
    """A collectivité's suppliers the user may see, by name (for a form's choices)."""
    stmt = (
        select(Supplier)
        .where(Supplier.collectivite_id == collectivite_id)
        .order_by(Supplier.name, Supplier.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Supplier)))


def supplier_of_collectivite(
    session: Session, user: Subject, collectivite_id: int, supplier_id: int | None
) -> Supplier | None:
    """The chosen supplier, which must be one of the collectivité's the user sees."""
    if not supplier_id:
        return None
    supplier = session.scalar(
        policy.visible(user, select(Supplier).where(Supplier.id == supplier_id), Supplier)
    )
    if supplier is None or supplier.collectivite_id != collectivite_id:
        raise SupplierError(_l("Choose one of the collectivité's suppliers."), field="supplier")
    return supplier


def link_item(
    session: Session, user: Subject, asset: Asset, supplier_id: int | None
) -> Supplier | None:
    """Link an item to a supplier of its collectivité (or to none); its supplier's name,
    as the lists and exports show it, follows."""
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    supplier = supplier_of_collectivite(session, user, asset.collectivite_id, supplier_id)
    asset.supplier_id = supplier.id if supplier else None
    if supplier is not None:
        asset.supplier = supplier.name
    session.commit()
    return supplier


def items_of(session: Session, user: Subject, supplier: Supplier, limit: int = 50) -> list[Asset]:
    """The items linked to the supplier (the latest first)."""
    stmt = (
        select(Asset)
        .where(Asset.supplier_id == supplier.id)
        .options(selectinload(Asset.category), selectinload(Asset.ecole))
        .order_by(Asset.id.desc())
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))
