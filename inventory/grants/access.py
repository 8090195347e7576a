"""How a scope narrows grant data: by the dossier's collectivité."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select, true

from inventory.core import policy
from inventory.core.policy import Rule, Scope
from inventory.grants.models import (
    Dossier,
    DossierDocument,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    FundingLink,
    FundingScheme,
    Payment,
)
from inventory.orgs.access import collectivite_rule
from inventory.orgs.models import Collectivite


def dossier_rule(scope: Scope) -> ColumnElement[bool]:
    return Dossier.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(scope)))


def _visible_dossiers(scope: Scope) -> Select[int]:
    return select(Dossier.id).where(dossier_rule(scope))


def _in_visible_dossier(model: type[DossierSchool | Expense | Payment | DossierDocument]) -> Rule:
    """The rule of a model read through its dossier."""
    return lambda s: model.dossier_id.in_(_visible_dossiers(s))


policy.register(Dossier, dossier_rule)
policy.register(FundingScheme, lambda s: true())
for _model in (DossierSchool, Expense, Payment, DossierDocument):
    policy.register(_model, _in_visible_dossier(_model))
policy.register(
    ExpenseAllocation,
    lambda s: ExpenseAllocation.expense_id.in_(
        select(Expense.id).where(Expense.dossier_id.in_(_visible_dossiers(s)))
    ),
)
policy.register(
    FundingLink,
    lambda s: FundingLink.expense_id.in_(
        select(Expense.id).where(Expense.dossier_id.in_(_visible_dossiers(s)))
    ),
)
