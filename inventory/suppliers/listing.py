"""The suppliers' records read along their id, for the API's cursor pages: suppliers,
contracts, subscriptions, each narrowed by the policy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import DigitalService, DigitalServiceSchool
from inventory.core import policy
from inventory.core.pagination import KeyedPage, paginate_by_key
from inventory.core.policy import Subject
from inventory.suppliers.models import (
    ClaimStatus,
    Contract,
    ContractItem,
    MaintenanceKind,
    MaintenanceRecord,
    ServiceSubscription,
    Supplier,
)
from inventory.suppliers.rules import KEYED_COUNT_CAP


def suppliers_by_key(
    session: Session, user: Subject, per_page: int, *, after: int | None
) -> KeyedPage[Supplier]:
    keys = policy.visible(user, select(Supplier.id), Supplier)
    return paginate_by_key(
        session,
        select(Supplier),
        keys,
        Supplier.id,
        per_page=per_page,
        cap=KEYED_COUNT_CAP,
        after=after,
    )


def contracts_by_key(
    session: Session, user: Subject, per_page: int, *, after: int | None, supplier: int | None
) -> KeyedPage[Contract]:
    keys = policy.visible(user, select(Contract.id), Contract)
    if supplier:
        keys = keys.where(Contract.supplier_id == supplier)
    rows = select(Contract).options(selectinload(Contract.items).load_only(ContractItem.asset_id))
    return paginate_by_key(
        session, rows, keys, Contract.id, per_page=per_page, cap=KEYED_COUNT_CAP, after=after
    )


def subscriptions_by_key(
    session: Session, user: Subject, per_page: int, *, after: int | None
) -> KeyedPage[ServiceSubscription]:
    keys = policy.visible(user, select(ServiceSubscription.id), ServiceSubscription)
    rows = select(ServiceSubscription).options(
        selectinload(ServiceSubscription.service)
        .selectinload(DigitalService.coverage)
        .load_only(DigitalServiceSchool.ecole_id),
        selectinload(ServiceSubscription.classrooms),
    )
    return paginate_by_key(
        session,
        rows,
        keys,
        ServiceSubscription.id,
        per_page=per_page,
        cap=KEYED_COUNT_CAP,
        after=after,
    )


def claims_by_key(
    session: Session,
    user: Subject,
    per_page: int,
    *,
    after: int | None,
    status: ClaimStatus | None = None,
) -> KeyedPage[MaintenanceRecord]:
    """The warranty claims in the user's scope (where they stand, if asked), by id."""
    keys = policy.visible(user, select(MaintenanceRecord.id), MaintenanceRecord).where(
        MaintenanceRecord.kind == MaintenanceKind.CLAIM
    )
    if status is not None:
        keys = keys.where(MaintenanceRecord.claim_status == status)
    return paginate_by_key(
        session,
        select(MaintenanceRecord),
        keys,
        MaintenanceRecord.id,
        per_page=per_page,
        cap=KEYED_COUNT_CAP,
        after=after,
    )
