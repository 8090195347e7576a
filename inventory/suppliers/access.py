"""How a scope narrows the suppliers' data: a supplier and its contracts with their
collectivité (municipal staff of it, auditors of an académie side where it owns a school);
a subscription with its service; maintenance with its item."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from inventory.assets.access import asset_rule, service_rule
from inventory.assets.models import Asset, DigitalService
from inventory.core import policy
from inventory.core.policy import Scope
from inventory.orgs.access import collectivite_rule
from inventory.orgs.models import Collectivite
from inventory.suppliers.models import (
    Contract,
    ContractItem,
    MaintenancePlan,
    MaintenanceRecord,
    ServiceSubscription,
    SubscriptionClassroom,
    Supplier,
)


def supplier_rule(scope: Scope) -> ColumnElement[bool]:
    return Supplier.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(scope)))


def contract_rule(scope: Scope) -> ColumnElement[bool]:
    return Contract.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(scope)))


def subscription_rule(scope: Scope) -> ColumnElement[bool]:
    return ServiceSubscription.service_id.in_(select(DigitalService.id).where(service_rule(scope)))


policy.register(Supplier, supplier_rule)
policy.register(Contract, contract_rule)
policy.register(
    ContractItem,
    lambda s: ContractItem.contract_id.in_(select(Contract.id).where(contract_rule(s))),
)
policy.register(ServiceSubscription, subscription_rule)
policy.register(
    SubscriptionClassroom,
    lambda s: SubscriptionClassroom.subscription_id.in_(
        select(ServiceSubscription.id).where(subscription_rule(s))
    ),
)
policy.register(
    MaintenancePlan, lambda s: MaintenancePlan.asset_id.in_(select(Asset.id).where(asset_rule(s)))
)
policy.register(
    MaintenanceRecord,
    lambda s: MaintenanceRecord.asset_id.in_(select(Asset.id).where(asset_rule(s))),
)
