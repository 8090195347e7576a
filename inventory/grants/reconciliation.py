"""Reconciliation: spending against aid against money received, and the items behind them
(funded items not yet in service, items in service without funding, near spending
deadlines, spending above caps, money received above the computed aid)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, AssetStatus, EquipmentModel, NetworkWork, WorkStatus
from inventory.core import policy
from inventory.core.policy import Subject
from inventory.grants.breakdown import dossier_aid
from inventory.grants.dossiers import OPEN_STATUSES
from inventory.grants.models import (
    Dossier,
    DossierSchool,
    DossierStatus,
    Expense,
    FundingLink,
    Payment,
)

NOT_YET_IN_SERVICE = (AssetStatus.ORDERED, AssetStatus.DELIVERED, AssetStatus.INSTALLED)
WORKS_DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)
DEADLINE_DAYS = 60


@dataclass
class FundedItem:
    kind: str
    item: Asset | NetworkWork
    funded_cents: int
    dossiers: list[Dossier]


@dataclass
class CapExcess:
    dossier: Dossier
    kind: str
    ecole: str | None
    volet: str | None
    spent_cents: int
    limit_cents: int

    @property
    def above_cents(self) -> int:
        return self.spent_cents - self.limit_cents


@dataclass
class OverReceived:
    """A dossier whose money received goes above its computed aid."""

    dossier: Dossier
    received_cents: int
    aid_cents: int

    @property
    def above_cents(self) -> int:
        return self.received_cents - self.aid_cents


@dataclass
class Reconciliation:
    funded_not_in_service: list[FundedItem]
    unfunded_assets: list[Asset]
    unfunded_assets_total: int
    unfunded_works: list[NetworkWork]
    deadlines: list[Dossier]
    over_caps: list[CapExcess]
    limit: int
    over_received: list[OverReceived] = field(default_factory=list)


def _funding_by_item(
    session: Session, user: Subject, column: Any, ids: list[int]
) -> tuple[dict[int, int], dict[int, list[Dossier]]]:
    if not ids:
        return {}, {}
    stmt = policy.visible(
        user,
        select(FundingLink)
        .where(column.in_(ids))
        .options(selectinload(FundingLink.expense).selectinload(Expense.dossier)),
        FundingLink,
    )
    totals: dict[int, int] = defaultdict(int)
    dossiers: dict[int, dict[int, Dossier]] = defaultdict(dict)
    for link in session.scalars(stmt):
        key = link.asset_id if link.asset_id is not None else link.work_id
        assert key is not None
        totals[key] += link.amount_cents
        d = link.expense.dossier
        dossiers[key][d.id] = d
    return dict(totals), {k: list(v.values()) for k, v in dossiers.items()}


def reconciliation(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    today: date | None = None,
    limit: int = 200,
) -> Reconciliation:
    """What the finance officer checks: funded items not yet in service, items in service
    without any funding, dossiers whose spending deadline is near, spending above caps,
    and money received above the computed aid."""
    today = today or date.today()
    funded_asset_ids = select(FundingLink.asset_id).where(
        FundingLink.asset_id.isnot(None), policy.condition(user, FundingLink)
    )
    funded_work_ids = select(FundingLink.work_id).where(
        FundingLink.work_id.isnot(None), policy.condition(user, FundingLink)
    )
    a_stmt = select(Asset).where(
        Asset.id.in_(funded_asset_ids), Asset.status.in_(NOT_YET_IN_SERVICE)
    )
    w_stmt = select(NetworkWork).where(
        NetworkWork.id.in_(funded_work_ids), NetworkWork.status.notin_(WORKS_DONE)
    )
    unfunded_a = select(Asset).where(
        Asset.status == AssetStatus.IN_SERVICE,
        ~exists().where(FundingLink.asset_id == Asset.id),
    )
    unfunded_w = select(NetworkWork).where(
        NetworkWork.status.in_(WORKS_DONE),
        ~exists().where(FundingLink.work_id == NetworkWork.id),
    )
    d_stmt = select(Dossier).where(Dossier.status.in_(OPEN_STATUSES - {DossierStatus.PAID}))
    if collectivite:
        a_stmt = a_stmt.where(Asset.collectivite_id == collectivite)
        w_stmt = w_stmt.where(NetworkWork.collectivite_id == collectivite)
        unfunded_a = unfunded_a.where(Asset.collectivite_id == collectivite)
        unfunded_w = unfunded_w.where(NetworkWork.collectivite_id == collectivite)
        d_stmt = d_stmt.where(Dossier.collectivite_id == collectivite)
    asset_opts = [
        selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
        selectinload(Asset.category),
        selectinload(Asset.ecole),
        selectinload(Asset.classroom),
    ]
    pending_assets = list(
        session.scalars(
            policy.visible(user, a_stmt, Asset)
            .options(*asset_opts)
            .order_by(Asset.tag)
            .limit(limit)
        )
    )
    pending_works = list(
        session.scalars(
            policy.visible(user, w_stmt, NetworkWork)
            .options(selectinload(NetworkWork.ecole))
            .order_by(NetworkWork.id)
            .limit(limit)
        )
    )
    totals_a, dossiers_a = _funding_by_item(
        session, user, FundingLink.asset_id, [a.id for a in pending_assets]
    )
    totals_w, dossiers_w = _funding_by_item(
        session, user, FundingLink.work_id, [w.id for w in pending_works]
    )
    funded: list[FundedItem] = [
        FundedItem("asset", a, totals_a.get(a.id, 0), dossiers_a.get(a.id, []))
        for a in pending_assets
    ] + [
        FundedItem("work", w, totals_w.get(w.id, 0), dossiers_w.get(w.id, []))
        for w in pending_works
    ]
    visible_unfunded = policy.visible(user, unfunded_a, Asset)
    unfunded_total = (
        session.scalar(select(func.count()).select_from(visible_unfunded.subquery())) or 0
    )
    unfunded_assets = list(
        session.scalars(visible_unfunded.options(*asset_opts).order_by(Asset.tag).limit(limit))
    )
    unfunded_works = list(
        session.scalars(
            policy.visible(user, unfunded_w, NetworkWork)
            .options(selectinload(NetworkWork.ecole))
            .order_by(NetworkWork.id)
            .limit(limit)
        )
    )
    visible_dossiers = policy.visible(user, d_stmt, Dossier)
    deadlines = list(
        session.scalars(
            visible_dossiers.where(
                Dossier.spending_deadline >= today,
                Dossier.spending_deadline <= today + timedelta(days=DEADLINE_DAYS),
            )
            .options(selectinload(Dossier.collectivite))
            .order_by(Dossier.spending_deadline)
        )
    )
    over: list[CapExcess] = []
    with_spending = visible_dossiers.where(
        exists().where(Expense.dossier_id == Dossier.id)
    ).options(
        selectinload(Dossier.collectivite),
        selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
        selectinload(Dossier.expenses).selectinload(Expense.allocations),
    )
    for dossier in session.scalars(with_spending.order_by(Dossier.id)):
        over.extend(cap_excesses(dossier))
    received = select(Dossier).where(
        exists().where(Payment.dossier_id == Dossier.id, Payment.received_cents > 0)
    )
    if collectivite:
        received = received.where(Dossier.collectivite_id == collectivite)
    over_received = []
    for dossier in session.scalars(
        policy.visible(user, received, Dossier)
        .options(
            selectinload(Dossier.collectivite),
            selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
            selectinload(Dossier.expenses).selectinload(Expense.allocations),
            selectinload(Dossier.payments),
        )
        .order_by(Dossier.id)
    ):
        total = sum(p.received_cents or 0 for p in dossier.payments)
        aid = dossier_aid(dossier).aid_cents
        if total > aid:
            over_received.append(OverReceived(dossier, total, aid))
    return Reconciliation(
        over_received=over_received,
        funded_not_in_service=funded,
        unfunded_assets=unfunded_assets,
        unfunded_assets_total=unfunded_total,
        unfunded_works=unfunded_works,
        deadlines=deadlines,
        over_caps=over,
        limit=limit,
    )


def cap_excesses(dossier: Dossier) -> list[CapExcess]:
    """Where the dossier's spending goes beyond what its rules subsidise."""
    result = dossier_aid(dossier)
    names = {s.ecole_id: s.ecole.name for s in dossier.schools}
    spent: dict[tuple[str | None, int | None], int] = {}
    out: list[CapExcess] = []
    for step in result.steps:
        if step.text == "spending":
            spent[(step.volet, step.ecole_id)] = step.amount_cents
        elif step.text == "spending_cap":
            out.append(
                CapExcess(
                    dossier,
                    "spending_cap",
                    names.get(step.ecole_id or 0),
                    step.volet,
                    spent.get((step.volet, step.ecole_id), 0),
                    step.amount_cents,
                )
            )
        elif step.text == "convention_max":
            out.append(
                CapExcess(
                    dossier,
                    "convention_max",
                    None,
                    None,
                    step.params["computed"],
                    step.amount_cents,
                )
            )
    return out
