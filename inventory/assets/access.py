"""How a scope narrows equipment: by the school for school items, by owner for storage;
digital services as the equipment of the schools they cover."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import aliased

from inventory.assets.models import (
    Asset,
    AssetPhoto,
    ClassroomSocle,
    DigitalService,
    DigitalServiceSchool,
    Disposal,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    NetworkWork,
    Referentiel,
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


def service_rule(scope: Scope) -> ColumnElement[bool]:
    """Like an item: municipal staff see what their collectivités provide; the académie's
    side, the services covering a school of its scope (and the owner's, covering none)."""
    # An alias: the query narrowed may read the coverage table itself.
    coverage = aliased(DigitalServiceSchool)
    covers = coverage.service_id == DigitalService.id
    covered = exists().where(covers, coverage.ecole_id.in_(visible_ecole_ids(scope)))
    if ids := scope.of(ScopeKind.COLLECTIVITE):
        direct = DigitalService.collectivite_id.in_(ids)
        return direct if len(scope.ids) == 1 else or_(direct, covered)
    unplaced = and_(
        ~exists().where(covers),
        DigitalService.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(scope))),
    )
    return or_(covered, unplaced)


policy.register(Asset, asset_rule)
policy.register(DigitalService, service_rule)
policy.register(
    DigitalServiceSchool,
    lambda s: DigitalServiceSchool.service_id.in_(select(DigitalService.id).where(service_rule(s))),
)
policy.register(
    AssetPhoto, lambda s: AssetPhoto.asset_id.in_(select(Asset.id).where(asset_rule(s)))
)
# A batch as the items it took away: municipal staff see their collectivités' batches,
# the académie's side those that took an item of a school of its scope.
policy.register(Disposal, lambda s: Disposal.id.in_(select(Asset.disposal_id).where(asset_rule(s))))
policy.register(ClassroomSocle, lambda s: ClassroomSocle.ecole_id.in_(visible_ecole_ids(s)))
policy.register(NetworkWork, lambda s: NetworkWork.ecole_id.in_(visible_ecole_ids(s)))
# Reference data, the same for everyone.
for _model in (EquipmentCategory, EquipmentModel, Manufacturer, Referentiel, SocleRequirement):
    policy.register(_model, lambda s: true())
