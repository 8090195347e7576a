"""How a scope narrows the loans domain: everything follows the school it belongs to."""

from __future__ import annotations

from sqlalchemy import select

from inventory.core import policy
from inventory.loans.models import Booking, Kit, Loan, LoanTerms
from inventory.orgs.access import collectivite_rule, visible_ecole_ids
from inventory.orgs.models import Collectivite

policy.register(Kit, lambda s: Kit.ecole_id.in_(visible_ecole_ids(s)))
policy.register(Loan, lambda s: Loan.ecole_id.in_(visible_ecole_ids(s)))
policy.register(
    Booking,
    lambda s: Booking.kit_id.in_(select(Kit.id).where(Kit.ecole_id.in_(visible_ecole_ids(s)))),
)
policy.register(
    LoanTerms,
    lambda s: LoanTerms.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(s))),
)
