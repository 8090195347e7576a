"""The money of the awarded dossiers, per school: spending, eligible spending, aid (computed by
the grants' engine, :func:`compute_aid`), the convention's maximum, what was paid and what is
left to claim. Computed when asked: the summaries keep the per-school result (reports.refresh),
so no copy of it is held by a worker."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    select,
)
from sqlalchemy.orm import Session

from inventory.grants.aid import SchemeRules, SchoolFacts, Spending, compute_aid, split
from inventory.grants.models import (
    Dossier,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    Payment,
)
from inventory.reports.indicators import (
    AWARDED,
    Context,
    Facts,
)
from inventory.reports.levels import Schools, chunks


# -- money ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DossierFigures:
    """One dossier's computed figures, per school."""

    collectivite_id: int
    convention_max_cents: int | None
    classes: dict[int, int]
    spending: dict[int, int]
    eligible: dict[int, int]
    aid: dict[int, int]

    @property
    def schools(self) -> list[int]:
        return sorted(set(self.classes) | set(self.spending))

    @property
    def approved(self) -> dict[int, int]:
        weights = {e: self.classes.get(e, 0) for e in self.classes}
        if not sum(weights.values()):
            weights = dict.fromkeys(self.classes, 1)
        return split(self.convention_max_cents or 0, weights) if weights else {}

    def paid_weights(self) -> dict[int, int]:
        """How a payment is shared among the schools: by computed aid, else by classes."""
        for weights in (self.aid, self.classes):
            if sum(weights.values()) > 0:
                return dict(weights)
        return dict.fromkeys(self.schools, 1)


def awarded_dossier_ids(ctx: Context, schools: Schools) -> Select[Any]:
    """Awarded dossiers the reader may see that cover at least one of ``schools``."""
    return ctx.visible(
        select(Dossier.id).where(
            Dossier.status.in_(AWARDED),
            Dossier.id.in_(
                select(DossierSchool.dossier_id).where(DossierSchool.ecole_id.in_(schools))
            ),
        ),
        Dossier,
    )


def dossier_figures(session: Session, wanted: Select[Any]) -> dict[int, DossierFigures]:
    """The figures of the dossiers ``wanted`` selects, computed with :func:`compute_aid`,
    a thousand dossiers per round of queries."""
    ids = list(session.scalars(wanted.order_by(None)))
    return _compute_dossiers(session, sorted(ids))


@lru_cache(maxsize=256)
def _rules(data: str) -> SchemeRules:
    """A scheme's rules, parsed once per distinct text: a pure function of its input (a
    dossier's rules are a copy of its scheme's), so the memo can never be out of date."""
    return SchemeRules.from_data(json.loads(data))


def _compute_dossiers(session: Session, ids: Sequence[int]) -> dict[int, DossierFigures]:
    out: dict[int, DossierFigures] = {}
    for chunk in chunks(ids):
        heads = {
            r[0]: r
            for r in session.execute(
                select(
                    Dossier.id, Dossier.rules, Dossier.convention_max_cents, Dossier.collectivite_id
                ).where(Dossier.id.in_(chunk))
            )
        }
        facts: dict[int, list[SchoolFacts]] = defaultdict(list)
        for d, e, classes, pupils in session.execute(
            select(
                DossierSchool.dossier_id,
                DossierSchool.ecole_id,
                DossierSchool.classes,
                DossierSchool.pupils,
            ).where(DossierSchool.dossier_id.in_(chunk))
        ):
            facts[d].append(SchoolFacts(e, "", classes or 0, pupils or 0))
        spending: dict[int, list[Spending]] = defaultdict(list)
        for d, volet, e, ht, ttc, on, x in session.execute(
            select(
                Expense.dossier_id,
                Expense.volet,
                ExpenseAllocation.ecole_id,
                ExpenseAllocation.amount_ht_cents,
                ExpenseAllocation.amount_ttc_cents,
                Expense.invoice_date,
                Expense.id,
            )
            .join(Expense, Expense.id == ExpenseAllocation.expense_id)
            .where(Expense.dossier_id.in_(chunk))
            .order_by(ExpenseAllocation.id)
        ):
            spending[d].append(Spending(volet, e, ht or 0, ttc or 0, on, x))
        for dossier_id, (_id, rules, maximum, coll) in heads.items():
            out[dossier_id] = _figures(
                coll,
                _rules(json.dumps(rules, sort_keys=True)),
                facts[dossier_id],
                spending[dossier_id],
                maximum,
            )
    return out


def _figures(
    collectivite_id: int,
    rules: SchemeRules,
    schools: Sequence[SchoolFacts],
    spending: Sequence[Spending],
    maximum: int | None,
) -> DossierFigures:
    # Spending is what the scheme's dates let count (an invoice dated outside its window is
    # not the programme's spending); eligible spending and aid are per school, as computed.
    result = compute_aid(rules, schools, spending, maximum)
    spent = result.spending_by_school
    eligible = {e: result.eligible_by_school.get(e, 0) for e in spent}
    return DossierFigures(
        collectivite_id=collectivite_id,
        convention_max_cents=maximum,
        classes={s.ecole_id: s.classes for s in schools},
        spending=dict(spent),
        eligible=dict(eligible),
        aid=result.by_school,
    )


def received_payments(
    session: Session, ctx: Context, wanted: Select[Any]
) -> dict[int, dict[str, int]]:
    """Per dossier, the money received per month (YYYY-MM)."""
    stmt = ctx.visible(
        select(Payment.dossier_id, Payment.received_on, Payment.received_cents).where(
            Payment.dossier_id.in_(wanted),
            Payment.received_cents.isnot(None),
            Payment.received_on.isnot(None),
        ),
        Payment,
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for dossier_id, on, cents in session.execute(stmt):
        if on is None or cents is None:  # excluded by the query: the columns are nullable
            continue
        month = on.strftime("%Y-%m")
        out[dossier_id][month] = out[dossier_id].get(month, 0) + cents
    return out


def school_money(figures: DossierFigures, payments: Mapping[str, int]) -> dict[int, Facts]:
    """A dossier's money per school: spending, eligible, aid, approved, paid, left to claim.

    Payments are shared month by month, so that the monthly trend and the totals agree."""
    out: dict[int, Facts] = {}
    approved = figures.approved
    weights = figures.paid_weights()
    paid: dict[int, dict[str, int]] = defaultdict(dict)
    for month, cents in sorted(payments.items()):
        for ecole_id, share in split(cents, weights).items():
            if share:
                paid[ecole_id][month] = share
    for ecole_id in figures.schools:
        f = Facts()
        c = f
        c["spending_cents"] = figures.spending.get(ecole_id, 0)
        c["eligible_cents"] = figures.eligible.get(ecole_id, 0)
        c["aid_cents"] = figures.aid.get(ecole_id, 0)
        c["approved_cents"] = approved.get(ecole_id, 0)
        f.paid_by_month = paid.get(ecole_id, {})
        c["paid_cents"] = sum(f.paid_by_month.values())
        c["left_to_claim_cents"] = max(0, c["aid_cents"] - c["paid_cents"])
        out[ecole_id] = f
    return out


def money_by_dossier(
    session: Session, ctx: Context, schools: Schools, ecole_ids: set[int]
) -> dict[int, dict[int, Facts]]:
    """dossier id → school id → the dossier's money at that school, for ``ecole_ids``."""
    wanted = awarded_dossier_ids(ctx, schools)
    figures = dossier_figures(session, wanted)
    payments = received_payments(session, ctx, wanted)
    out: dict[int, dict[int, Facts]] = {}
    for dossier_id, fig in figures.items():
        per_school = school_money(fig, payments.get(dossier_id, {}))
        kept = {e: f for e, f in per_school.items() if e in ecole_ids}
        for f in kept.values():
            f.dossiers.add(dossier_id)
        out[dossier_id] = kept
    return out


def money_facts(
    session: Session, ctx: Context, schools: Schools, ecole_ids: set[int]
) -> dict[int, Facts]:
    out: dict[int, Facts] = defaultdict(Facts)
    for per_school in money_by_dossier(session, ctx, schools, ecole_ids).values():
        for ecole_id, f in per_school.items():
            out[ecole_id].add(f)
    return out
