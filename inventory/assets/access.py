"""How a scope narrows equipment: by the school for school items, by owner for storage."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, true

from inventory.assets.models import (
    Asset,
    AssetPhoto,
    ClassroomSocle,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    NetworkWork,
    SocleRequirement,
)
from inventory.core import policy
from inventory.core.policy import Scope, ScopeKind
from inventory.orgs.access import collectivite_rule, visible_ecole_ids
from inventory.orgs.models import Collectivite


def asset_rule(scope: Scope) -> ColumnElement[bool]:
    if ids := scope.of(ScopeKind.COLLECTIVITE):
        # Municipal staff see everything their collectivités own, storage included.
        direct = Asset.collectivite_id.in_(ids)
        if len(scope.ids) == 1:
            return direct
        return or_(direct, Asset.ecole_id.in_(visible_ecole_ids(scope)))
    school_items = Asset.ecole_id.in_(visible_ecole_ids(scope))
    storage = and_(
        Asset.ecole_id.is_(None),
        Asset.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(scope))),
    )
    return or_(school_items, storage)


policy.register(Asset, asset_rule)
policy.register(
    AssetPhoto, lambda s: AssetPhoto.asset_id.in_(select(Asset.id).where(asset_rule(s)))
)
policy.register(ClassroomSocle, lambda s: ClassroomSocle.ecole_id.in_(visible_ecole_ids(s)))
policy.register(NetworkWork, lambda s: NetworkWork.ecole_id.in_(visible_ecole_ids(s)))
for _model in (EquipmentCategory, EquipmentModel, Manufacturer, SocleRequirement):
    policy.register(_model, lambda s: true())
