"""What paid for one item: the dossiers whose invoices are linked to an asset or to network
works, the invoice and the amount each link covers, the item's share of each dossier's
aid, and what is left for the collectivité to pay.

The aid is the funding engine's (:func:`inventory.grants.breakdown.dossier_aid`), never
recomputed here: an invoice's aid is the aid of each school it is split over, in
proportion to the invoice's part of that school's counted spending in the volet; an item's
share is the invoice's aid in proportion to the amount linked to the item. An invoice the
scheme's dates leave out brings no aid. Only the links the user may see are read
(``policy.visible``): a role that cannot see a dossier sees no amount of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, NetworkWork
from inventory.core import policy
from inventory.core.policy import Subject
from inventory.grants.aid import AidResult, SchemeRules
from inventory.grants.breakdown import dossier_aid, invoice_label
from inventory.grants.dossiers import _detail_options
from inventory.grants.models import Dossier, Expense, FundingLink


@dataclass(frozen=True)
class FundedBy:
    """One invoice of one dossier that paid for the item."""

    dossier: Dossier
    expense: Expense
    invoice: str
    linked_cents: int  # what the invoice paid for the item, incl. VAT
    aid_cents: int  # the item's share of the dossier's aid through this invoice
    eligible: bool  # False when the scheme's dates leave the invoice out


@dataclass
class ItemFunding:
    """The funding of one item, for its page's panel."""

    price_cents: int | None
    lines: list[FundedBy] = field(default_factory=list)

    @property
    def funded(self) -> bool:
        return bool(self.lines)

    @property
    def linked_cents(self) -> int:
        return sum(line.linked_cents for line in self.lines)

    @property
    def aid_cents(self) -> int:
        return sum(line.aid_cents for line in self.lines)

    @property
    def cost_cents(self) -> int:
        """The item's cost: its price when known (invoices never fund beyond it), else what
        the invoices linked to it paid."""
        return max(self.price_cents or 0, self.linked_cents)

    @property
    def remainder_cents(self) -> int:
        """What the collectivité paid itself: the cost less the aid."""
        return max(self.cost_cents - self.aid_cents, 0)

    @property
    def dossiers(self) -> list[Dossier]:
        seen: dict[int, Dossier] = {}
        for line in self.lines:
            seen.setdefault(line.dossier.id, line.dossier)
        return list(seen.values())


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def invoice_aid(dossier: Dossier, result: AidResult, expense: Expense) -> Decimal:
    """The part of the dossier's aid that comes from ``expense`` (exact, unrounded)."""
    if expense.id in {x.expense_id for x in result.excluded}:
        return Decimal(0)
    vat_included = SchemeRules.from_data(dossier.rules).vat_included
    volet = next((v for v in result.volets if v.code == expense.volet), None)
    if volet is None:
        return Decimal(0)
    total = Decimal(0)
    for allocation in expense.allocations:
        spent = volet.spending_by_school.get(allocation.ecole_id, 0)
        aid = volet.by_school.get(allocation.ecole_id, 0)
        if not spent or not aid:
            continue
        counted = allocation.amount_ttc_cents if vat_included else allocation.amount_ht_cents
        total += Decimal(aid) * Decimal(counted) / Decimal(spent)
    return total


def _links(session: Session, user: Subject, where: ColumnElement[bool]) -> list[FundingLink]:
    stmt = policy.visible(
        user, select(FundingLink).where(where).order_by(FundingLink.id), FundingLink
    )
    return list(session.scalars(stmt))


def _dossiers(session: Session, user: Subject, ids: Iterable[int]) -> dict[int, Dossier]:
    stmt = policy.visible(
        user, select(Dossier).where(Dossier.id.in_(list(ids))).options(*_detail_options()), Dossier
    )
    return {d.id: d for d in session.scalars(stmt)}


def _funding(
    session: Session, user: Subject, links: list[FundingLink], price: int | None
) -> ItemFunding:
    out = ItemFunding(price_cents=price)
    if not links:
        return out
    expenses = {
        e.id: e
        for e in session.scalars(
            select(Expense).where(Expense.id.in_({link.expense_id for link in links}))
        )
    }
    dossiers = _dossiers(session, user, {e.dossier_id for e in expenses.values()})
    results: dict[int, AidResult] = {}
    for link in links:
        dossier = dossiers.get(expenses[link.expense_id].dossier_id)
        if dossier is None:
            continue
        # The dossier's own copy of the invoice, with its allocations loaded.
        expense = next(e for e in dossier.expenses if e.id == link.expense_id)
        if dossier.id not in results:
            results[dossier.id] = dossier_aid(dossier)
        result = results[dossier.id]
        share = Decimal(0)
        if expense.amount_ttc_cents:
            share = (
                invoice_aid(dossier, result, expense)
                * Decimal(link.amount_cents)
                / Decimal(expense.amount_ttc_cents)
            )
        excluded = expense.id in {x.expense_id for x in result.excluded}
        out.lines.append(
            FundedBy(
                dossier=dossier,
                expense=expense,
                invoice=invoice_label(expense),
                linked_cents=link.amount_cents,
                aid_cents=_round(share),
                eligible=not excluded,
            )
        )
    return out


def asset_funding(session: Session, user: Subject, asset: Asset) -> ItemFunding:
    """The dossiers, invoices and aid behind one asset, as ``user`` may see them."""
    links = _links(session, user, FundingLink.asset_id == asset.id)
    return _funding(session, user, links, asset.price_ttc_cents)


def work_funding(session: Session, user: Subject, work: NetworkWork) -> ItemFunding:
    """The dossiers, invoices and aid behind network works, as ``user`` may see them."""
    links = _links(session, user, FundingLink.work_id == work.id)
    return _funding(session, user, links, work.invoice_cents)
