"""Contracts signed with a supplier (maintenance, warranty extension, leasing): their dates,
cost, and the items they cover."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset
from inventory.core import policy, versioning
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.suppliers.models import Contract, ContractItem, ContractKind, Supplier
from inventory.suppliers.rules import SupplierError, check_amount, check_dates, clean, conflict


def _conflict() -> Any:
    return conflict(
        _l(
            "Someone else saved this contract while you were editing it. "
            "Check your changes and save again."
        )
    )


@dataclass
class ContractFields:
    kind: ContractKind
    reference: str
    title: str
    starts_on: date | None
    ends_on: date | None
    cost_per_year_cents: int | None = None
    notes: str | None = None

    def check(self) -> ContractFields:
        self.reference = clean(self.reference) or ""
        self.title = clean(self.title) or ""
        if not self.reference:
            raise SupplierError(_l("Give the contract's reference."), field="reference")
        if not self.title:
            raise SupplierError(_l("Say what the contract is for."), field="title")
        if self.starts_on is None:
            raise SupplierError(_l("Give the date the contract starts."), field="starts_on")
        if self.ends_on is None:
            raise SupplierError(_l("Give the date the contract ends."), field="ends_on")
        check_dates(self.starts_on, self.ends_on)
        check_amount(self.cost_per_year_cents, "cost")
        self.notes = (self.notes or "").strip() or None
        return self


def _covered_assets(
    session: Session, user: Subject, collectivite_id: int, tags: Iterable[str]
) -> list[Asset]:
    wanted = sorted({t.strip().upper() for t in tags if t.strip()})
    if not wanted:
        return []
    found = {
        a.tag.upper(): a
        for a in session.scalars(
            policy.visible(user, select(Asset).where(Asset.tag.in_(wanted)), Asset)
        )
    }
    unknown = [t for t in wanted if t not in found or found[t].collectivite_id != collectivite_id]
    if unknown:
        raise SupplierError(
            _l("No item of the collectivité has the tag: %(tags)s", tags=", ".join(unknown[:10])),
            field="items",
        )
    return [found[t] for t in wanted]


@guarded(_conflict)
def save_contract(
    session: Session,
    user: Subject,
    contract: Contract | None,
    fields: ContractFields,
    *,
    supplier: Supplier | None = None,
    item_tags: Iterable[str] | None = None,
    version: int | None = None,
) -> Contract:
    """Record a contract with ``supplier`` (new), or change one; ``item_tags`` (when given)
    are the tags of the items it covers, all the collectivité's."""
    target = supplier if contract is None else contract
    if target is None or not policy.can(user, Action.EDIT, target, session):
        raise policy.Denied()
    fields = fields.check()
    owner_id = supplier.collectivite_id if contract is None else contract.collectivite_id  # type: ignore[union-attr]
    supplier_id = supplier.id if contract is None else contract.supplier_id  # type: ignore[union-attr]
    same = select(Contract.id).where(
        Contract.supplier_id == supplier_id, Contract.reference == fields.reference
    )
    if contract is not None:
        same = same.where(Contract.id != contract.id)
    if session.scalar(same):
        raise SupplierError(
            _l("This supplier already has a contract with this reference."), "reference"
        )
    assets = None if item_tags is None else _covered_assets(session, user, owner_id, item_tags)
    if contract is None:
        contract = Contract(supplier_id=supplier_id, collectivite_id=owner_id, **fields.__dict__)
        session.add(contract)
    else:
        check_version(contract, version, _conflict())
        for key, value in fields.__dict__.items():
            if getattr(contract, key) != value:
                setattr(contract, key, value)
    if assets is not None:
        wanted = {a.id for a in assets}
        for row in list(contract.items):
            if row.asset_id not in wanted:
                contract.items.remove(row)
        have = {row.asset_id for row in contract.items}
        for asset in assets:
            if asset.id not in have:
                contract.items.append(ContractItem(asset=asset))
    versioning.commit(session, _conflict())
    return contract


def contract_detail(session: Session, user: Subject, contract_id: int) -> Contract:
    contract = policy.load_or_404(user, Contract, contract_id, session)
    session.scalars(
        select(Contract)
        .where(Contract.id == contract.id)
        .options(
            selectinload(Contract.items).selectinload(ContractItem.asset).selectinload(Asset.ecole),
            selectinload(Contract.supplier),
        )
    ).all()
    return contract


def contracts_of_item(session: Session, user: Subject, asset_id: int) -> list[Contract]:
    stmt = (
        select(Contract)
        .join(ContractItem, ContractItem.contract_id == Contract.id)
        .where(ContractItem.asset_id == asset_id)
        .options(selectinload(Contract.supplier))
        .order_by(Contract.ends_on.desc(), Contract.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Contract)))


def ending_contracts(session: Session, user: Subject, today: date, until: date) -> list[Contract]:
    """The contracts the user sees that end between today and ``until``, soonest first."""
    stmt = (
        select(Contract)
        .where(Contract.ends_on >= today, Contract.ends_on <= until)
        .options(selectinload(Contract.supplier))
        .order_by(Contract.ends_on, Contract.id)
        .limit(200)
    )
    return list(session.scalars(policy.visible(user, stmt, Contract)))
