"""How a scope narrows the network: as the school's equipment (its school in scope); a
collectivité's address plan as the collectivité."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from inventory.core import policy
from inventory.network.models import (
    AccessPointRoom,
    AddressPlan,
    Aggregate,
    DhcpRange,
    IpAddress,
    NetworkSocket,
    Prefix,
    Vlan,
    WifiNetwork,
)
from inventory.orgs.access import collectivite_rule, visible_ecole_ids
from inventory.orgs.models import Collectivite


def _visible_prefixes(scope: policy.Scope) -> Select[int]:
    return select(Prefix.id).where(Prefix.ecole_id.in_(visible_ecole_ids(scope)))


def _by_school(model: Any) -> policy.Rule:
    return lambda scope: model.ecole_id.in_(visible_ecole_ids(scope))


for _model in (Prefix, Vlan, WifiNetwork, AccessPointRoom, NetworkSocket):
    policy.register(_model, _by_school(_model))
policy.register(DhcpRange, lambda s: DhcpRange.prefix_id.in_(_visible_prefixes(s)))
policy.register(IpAddress, lambda s: IpAddress.prefix_id.in_(_visible_prefixes(s)))
policy.register(
    AddressPlan,
    lambda s: AddressPlan.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(s))),
)
policy.register(
    Aggregate,
    lambda s: Aggregate.plan_id.in_(
        select(AddressPlan.id).where(
            AddressPlan.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(s)))
        )
    ),
)
