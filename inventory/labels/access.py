"""How a scope narrows label data."""

from __future__ import annotations

from sqlalchemy import or_, select, true

from inventory.assets.access import asset_rule
from inventory.assets.models import Asset
from inventory.core import policy
from inventory.labels.models import LabelFormat, PrintJob, ScanToken
from inventory.orgs.access import collectivite_rule, visible_ecole_ids
from inventory.orgs.models import Classroom, Collectivite

policy.register(LabelFormat, lambda s: true())
policy.register(
    ScanToken,
    lambda s: or_(
        ScanToken.asset_id.in_(select(Asset.id).where(asset_rule(s))),
        ScanToken.classroom_id.in_(
            select(Classroom.id).where(Classroom.ecole_id.in_(visible_ecole_ids(s)))
        ),
    ),
)
policy.register(
    PrintJob,
    lambda s: PrintJob.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(s))),
)
