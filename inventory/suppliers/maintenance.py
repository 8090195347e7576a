"""Maintenance of an item: records of repairs (from a ticket or not), planned visits on a
schedule, and what the item has cost so far (warranty claims: inventory.suppliers.claims)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, AssetStatus
from inventory.core import addresses, policy, versioning
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.suppliers.directory import supplier_of_collectivite
from inventory.suppliers.models import MaintenanceKind, MaintenancePlan, MaintenanceRecord, Supplier
from inventory.suppliers.rules import SupplierError, add_months, check_amount, clean, conflict


def _conflict() -> Any:
    return conflict(
        _l(
            "Someone else saved these planned visits while you were editing them. "
            "Check your changes and save again."
        )
    )


@dataclass
class WorkFields:
    """What a person says of maintenance done."""

    done_on: date | None
    description: str
    cost_cents: int | None = None
    duration_minutes: int | None = None
    under_warranty: bool = False
    supplier_id: int | None = None

    def check(self) -> WorkFields:
        self.description = clean(self.description) or ""
        if not self.description:
            raise SupplierError(_l("Say what was done."), field="description")
        if self.done_on is None:
            raise SupplierError(_l("Give the day it was done."), field="done_on")
        check_amount(self.cost_cents, "cost")
        if self.duration_minutes is not None and self.duration_minutes < 0:
            raise SupplierError(_l("A duration cannot be negative."), field="duration")
        return self


def _may_edit(session: Session, user: Subject, asset: Asset) -> None:
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()


def add_record(
    session: Session,
    user: Subject,
    asset: Asset,
    kind: MaintenanceKind,
    fields: WorkFields,
    *,
    supplier: Supplier | None,
    ticket_id: int | None = None,
    plan: MaintenancePlan | None = None,
) -> MaintenanceRecord:
    """A record of maintenance of ``asset`` (a repair, a visit, a claim), added to the
    session: the caller's service commits it."""
    record = MaintenanceRecord(
        asset=asset,
        kind=kind,
        supplier_id=supplier.id if supplier else None,
        ticket_id=ticket_id,
        plan=plan,
        done_on=fields.done_on,
        description=fields.description,
        cost_cents=fields.cost_cents or 0,
        duration_minutes=fields.duration_minutes,
        under_warranty=fields.under_warranty,
        created_by_id=getattr(user, "id", None),
    )
    session.add(record)
    return record


def record_maintenance(
    session: Session,
    user: Subject,
    asset: Asset,
    fields: WorkFields,
    *,
    ticket_id: int | None = None,
) -> MaintenanceRecord:
    """Record a repair of ``asset`` (from the ticket ``ticket_id`` when given: the helpdesk,
    above this domain, checks the ticket is the item's)."""
    _may_edit(session, user, asset)
    fields = fields.check()
    supplier = supplier_of_collectivite(
        session, user, asset.collectivite_id, fields.supplier_id or asset.supplier_id
    )
    record = add_record(
        session, user, asset, MaintenanceKind.REPAIR, fields, supplier=supplier, ticket_id=ticket_id
    )
    session.commit()
    return record


@dataclass
class PlanFields:
    title: str
    every_months: int | None
    next_due: date | None
    supplier_id: int | None = None

    def check(self) -> PlanFields:
        self.title = clean(self.title) or ""
        if not self.title:
            raise SupplierError(_l("Say what the visit is for."), field="title")
        if not self.every_months or not 1 <= self.every_months <= 120:
            raise SupplierError(_l("A visit comes every 1 to 120 months."), field="every_months")
        if self.next_due is None:
            raise SupplierError(_l("Give the day the first visit is due."), field="next_due")
        return self


def plan_maintenance(
    session: Session, user: Subject, asset: Asset, fields: PlanFields
) -> MaintenancePlan:
    """Plan visits of ``asset`` every so many months, the first on ``next_due``."""
    _may_edit(session, user, asset)
    fields = fields.check()
    supplier = supplier_of_collectivite(
        session, user, asset.collectivite_id, fields.supplier_id or asset.supplier_id
    )
    plan = MaintenancePlan(
        asset=asset,
        supplier_id=supplier.id if supplier else None,
        title=fields.title,
        every_months=fields.every_months,
        next_due=fields.next_due,
        active=True,
    )
    session.add(plan)
    session.commit()
    return plan


@guarded(_conflict)
def record_visit(
    session: Session,
    user: Subject,
    plan: MaintenancePlan,
    fields: WorkFields,
    *,
    version: int | None = None,
) -> MaintenanceRecord:
    """Record the visit of a plan: its record, and the next visit due so many months after
    the one due (not after the day done: a late or early visit keeps the schedule), past
    the day done."""
    if not policy.can(user, Action.EDIT, plan, session):
        raise policy.Denied()
    fields = fields.check()
    check_version(plan, version, _conflict())
    supplier = supplier_of_collectivite(
        session, user, plan.asset.collectivite_id, fields.supplier_id or plan.supplier_id
    )
    record = add_record(
        session, user, plan.asset, MaintenanceKind.VISIT, fields, supplier=supplier, plan=plan
    )
    done_on = fields.done_on or plan.next_due  # checked: never None here
    due = add_months(plan.next_due, plan.every_months)
    while due <= done_on:  # a visit long overdue: the first due date after it
        due = add_months(due, plan.every_months)
    plan.next_due = due
    versioning.commit(session, _conflict())
    return record


def stop_plan(session: Session, user: Subject, plan: MaintenancePlan) -> None:
    if not policy.can(user, Action.EDIT, plan, session):
        raise policy.Denied()
    plan.active = False
    session.commit()


def records_of(session: Session, user: Subject, asset_id: int) -> list[MaintenanceRecord]:
    stmt = (
        select(MaintenanceRecord)
        .where(MaintenanceRecord.asset_id == asset_id)
        .options(selectinload(MaintenanceRecord.supplier))
        .order_by(MaintenanceRecord.done_on.desc(), MaintenanceRecord.id.desc())
    )
    return list(session.scalars(policy.visible(user, stmt, MaintenanceRecord)))


def plans_of(session: Session, user: Subject, asset_id: int) -> list[MaintenancePlan]:
    stmt = (
        select(MaintenancePlan)
        .where(MaintenancePlan.asset_id == asset_id, MaintenancePlan.active.is_(True))
        .options(selectinload(MaintenancePlan.supplier))
        .order_by(MaintenancePlan.next_due, MaintenancePlan.id)
    )
    return list(session.scalars(policy.visible(user, stmt, MaintenancePlan)))


@dataclass(frozen=True)
class Ownership:
    purchase_cents: int | None
    maintenance_cents: int
    records: int

    @property
    def total_cents(self) -> int:
        return (self.purchase_cents or 0) + self.maintenance_cents


def cost_of_ownership(session: Session, user: Subject, asset: Asset) -> Ownership:
    """The item's purchase price (incl. VAT) and the cost of its maintenance so far."""
    total, count = session.execute(
        policy.visible(
            user,
            select(func.coalesce(func.sum(MaintenanceRecord.cost_cents), 0), func.count()).where(
                MaintenanceRecord.asset_id == asset.id
            ),
            MaintenanceRecord,
        )
    ).one()
    return Ownership(asset.price_ttc_cents, int(total), int(count))


def due_plans(
    session: Session, user: Subject, *, until: date, limit: int = 200
) -> list[MaintenancePlan]:
    """The active plans the user sees whose next visit is due by ``until``, oldest first."""
    stmt = (
        select(MaintenancePlan)
        .where(MaintenancePlan.active.is_(True), MaintenancePlan.next_due <= until)
        .options(
            selectinload(MaintenancePlan.asset).selectinload(Asset.ecole),
            selectinload(MaintenancePlan.supplier),
        )
        .order_by(MaintenancePlan.next_due, MaintenancePlan.id)
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, MaintenancePlan)))


def warranties_ending(
    session: Session, user: Subject, *, today: date, until: date, limit: int = 200
) -> list[Asset]:
    """The items the user sees, not retired, whose warranty ends between today and
    ``until``."""
    stmt = (
        select(Asset)
        .where(
            Asset.warranty_end >= today,
            Asset.warranty_end <= until,
            Asset.status.not_in([AssetStatus.RETIRED, AssetStatus.LOST]),
        )
        .options(selectinload(Asset.ecole), selectinload(Asset.category))
        .order_by(Asset.warranty_end, Asset.id)
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))


def asset_url(config: Any, asset_id: int) -> str:
    return f"{addresses.base_url(config) or ''}/equipements/{asset_id}"
