"""The afterlife's figures for the dashboards of a collectivité, a département, an académie
(or the reader's whole scope): subscriptions and contracts ending within the alert window,
warranties ending soon, planned visits overdue, and the items retired this year by disposal
route. Each figure is one counting query, narrowed by the policy and by the dashboard's
object; the page links each to the list behind it (/echeances, /equipements/sorties)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, AssetStatus, DigitalService, Disposal, DisposalRoute
from inventory.core import policy
from inventory.core.policy import Subject
from inventory.orgs.models import Academie, Collectivite, Departement
from inventory.suppliers.models import Contract, MaintenancePlan, ServiceSubscription

# The dashboards these figures show on: the objects owning collectivités (None: the scope).
OWNERS = (Collectivite, Departement, Academie)


def collectivites_of(obj: Any) -> ColumnElement[bool] | None:
    """Which collectivités a dashboard's object covers, as a condition on their id
    column (applied by :func:`_owned`); None when the figures do not apply to it."""
    if obj is None:
        return true()
    if isinstance(obj, Collectivite):
        return Collectivite.id == obj.id
    if isinstance(obj, Departement):
        return Collectivite.departement_id == obj.id
    if isinstance(obj, Academie):
        return Collectivite.departement_id.in_(
            select(Departement.id).where(Departement.academie_id == obj.id)
        )
    return None


@dataclass(frozen=True)
class AfterlifeFigures:
    days: int  # the alert window, as /echeances lists it
    subscriptions: int
    contracts: int
    warranties: int
    overdue_visits: int
    year: int
    retired: dict[DisposalRoute, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.subscriptions
            or self.contracts
            or self.warranties
            or self.overdue_visits
            or self.retired
        )


def afterlife_figures(
    session: Session, user: Subject, obj: Any, *, today: date, days: int
) -> AfterlifeFigures | None:
    """The figures of ``obj``'s dashboard as ``user`` sees them (None: not its kind)."""
    where = collectivites_of(obj)
    if where is None:
        return None
    owned = select(Collectivite.id).where(where)
    until = today + timedelta(days=days)

    def count(stmt: Any, model: type) -> int:
        return int(session.scalar(policy.visible(user, stmt, model)) or 0)

    subscriptions = count(
        select(func.count(ServiceSubscription.id))
        .join(DigitalService, DigitalService.id == ServiceSubscription.service_id)
        .where(
            DigitalService.ends_on >= today,
            DigitalService.ends_on <= until,
            DigitalService.collectivite_id.in_(owned),
        ),
        ServiceSubscription,
    )
    contracts = count(
        select(func.count(Contract.id)).where(
            Contract.ends_on >= today,
            Contract.ends_on <= until,
            Contract.collectivite_id.in_(owned),
        ),
        Contract,
    )
    live = Asset.status.not_in([AssetStatus.RETIRED, AssetStatus.LOST])
    warranties = count(
        select(func.count(Asset.id)).where(
            Asset.warranty_end >= today,
            Asset.warranty_end <= until,
            live,
            Asset.collectivite_id.in_(owned),
        ),
        Asset,
    )
    overdue = count(
        select(func.count(MaintenancePlan.id))
        .join(Asset, Asset.id == MaintenancePlan.asset_id)
        .where(
            MaintenancePlan.active.is_(True),
            MaintenancePlan.next_due < today,
            live,
            Asset.collectivite_id.in_(owned),
        ),
        MaintenancePlan,
    )
    retired_stmt = (
        select(Disposal.route, func.count(Asset.id))
        .join(Disposal, Asset.disposal_id == Disposal.id)
        .where(
            Asset.status == AssetStatus.RETIRED,
            Disposal.disposed_on >= date(today.year, 1, 1),
            Disposal.disposed_on <= date(today.year, 12, 31),
            Disposal.collectivite_id.in_(owned),
        )
        .group_by(Disposal.route)
    )
    retired = {
        DisposalRoute(route): int(n)
        for route, n in session.execute(policy.visible(user, retired_stmt, Asset))
    }
    return AfterlifeFigures(
        days,
        subscriptions,
        contracts,
        warranties,
        overdue,
        today.year,
        {r: retired[r] for r in DisposalRoute if retired.get(r)},
    )
