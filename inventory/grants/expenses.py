"""Expense lines: an invoice checked against the dossier's scheme (its volets, and its dates
when it has a spending window), split over the covered schools, linked to the items it
paid for, with its file; and which invoices the scheme's dates leave out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from inventory.core import policy, uploads
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage
from inventory.core.versioning import check_version, guarded
from inventory.grants.aid import DateProblem, SchemeRules
from inventory.grants.common import (
    GrantError,
    Upload,
    accept_upload,
    commit,
    commit_with_file,
    lost_race,
    money,
    require,
    stale_form,
)
from inventory.grants.dossiers import (
    OPEN_STATUSES,
    STATUS_LABELS,
    covered_ids,
    dossier_detail,
)
from inventory.grants.links import LinkInput, ResolvedLink, resolve_links
from inventory.grants.models import Dossier, Expense, ExpenseAllocation, FundingLink
from inventory.grants.schemes import volets_of, window_text


@dataclass
class ExpenseFields:
    volet: str
    supplier: str
    invoice_number: str
    amount_ht_cents: int | None
    amount_ttc_cents: int | None
    invoice_date: date | None = None
    description: str | None = None

    def check(self, rules: Mapping[str, Any]) -> ExpenseFields:
        self.supplier = " ".join((self.supplier or "").split())
        self.invoice_number = (self.invoice_number or "").strip()
        self.description = (self.description or "").strip() or None
        if self.volet not in {code for code, _label in volets_of(rules)}:
            raise GrantError(_l("Choose a volet of the dossier's scheme."), field="volet")
        if not self.supplier:
            raise GrantError(_l("Give the supplier."), field="supplier")
        if not self.invoice_number:
            raise GrantError(_l("Give the invoice number."), field="invoice_number")
        if self.amount_ht_cents is None:
            raise GrantError(_l("Give the amount excluding VAT."), field="amount_ht")
        if self.amount_ttc_cents is None:
            raise GrantError(_l("Give the amount including VAT."), field="amount_ttc")
        if self.amount_ttc_cents < self.amount_ht_cents:
            raise GrantError(
                _l("The amount including VAT is lower than the amount without."),
                field="amount_ttc",
            )
        if self.amount_ttc_cents == 0:
            raise GrantError(_l("An invoice of 0 € is not an expense."), field="amount_ttc")
        typed = SchemeRules.from_data({**rules, "volets": []})
        if self.invoice_date is None and typed.has_window:
            raise GrantError(
                _l(
                    "Give the invoice date: the scheme pays for invoices dated %(window)s.",
                    window=LazyString(window_text, typed),
                ),
                field="invoice_date",
            )
        return self


@dataclass(frozen=True)
class AllocationInput:
    ecole_id: int
    amount_ht_cents: int | None
    amount_ttc_cents: int | None


def _resolve_allocations(
    session: Session, dossier: Dossier, fields: ExpenseFields, given: Sequence[AllocationInput]
) -> list[AllocationInput]:
    rows = [a for a in given if (a.amount_ht_cents or 0) != 0 or (a.amount_ttc_cents or 0) != 0]
    covered = covered_ids(dossier)
    if not rows:
        if len(covered) == 1:
            return [
                AllocationInput(
                    next(iter(covered)), fields.amount_ht_cents, fields.amount_ttc_cents
                )
            ]
        raise GrantError(_l("Split the invoice over the schools it concerns."), field="allocations")
    seen: set[int] = set()
    for a in rows:
        if a.ecole_id not in covered:
            raise GrantError(
                _l("An invoice is split only over the schools the dossier covers."),
                field="allocations",
            )
        if a.ecole_id in seen:
            raise GrantError(_l("A school appears twice in the split."), field="allocations")
        seen.add(a.ecole_id)
        if a.amount_ht_cents is None or a.amount_ttc_cents is None:
            raise GrantError(
                _l("Give both amounts, excluding and including VAT, for each school."),
                field="allocations",
            )
        if a.amount_ttc_cents < a.amount_ht_cents:
            raise GrantError(
                _l("For each school, the amount including VAT is at least the amount without."),
                field="allocations",
            )
    ht = sum(a.amount_ht_cents or 0 for a in rows)
    ttc = sum(a.amount_ttc_cents or 0 for a in rows)
    if ht != fields.amount_ht_cents or ttc != fields.amount_ttc_cents:
        raise GrantError(
            _l(
                "The schools' shares add up to %(ht)s excl. VAT and %(ttc)s incl. VAT, but the "
                "invoice is %(inv_ht)s excl. VAT and %(inv_ttc)s incl. VAT.",
                ht=money(ht),
                ttc=money(ttc),
                inv_ht=money(fields.amount_ht_cents),
                inv_ttc=money(fields.amount_ttc_cents),
            ),
            field="allocations",
        )
    return rows


def _check_open(dossier: Dossier) -> None:
    if dossier.status not in OPEN_STATUSES:
        raise GrantError(
            _l(
                "The dossier is %(status)s: its expenses can no longer change.",
                status=STATUS_LABELS[dossier.status],
            )
        )


def _fill_expense(
    expense: Expense,
    fields: ExpenseFields,
    allocations: Sequence[AllocationInput],
    links: Sequence[ResolvedLink],
) -> None:
    for name, value in fields.__dict__.items():
        setattr(expense, name, value)
    current = {a.ecole_id: a for a in expense.allocations}
    wanted = {a.ecole_id: a for a in allocations}
    for ecole_id, allocation in current.items():
        if ecole_id not in wanted:
            expense.allocations.remove(allocation)
    for ecole_id, a in wanted.items():
        row = current.get(ecole_id)
        if row is None:
            row = ExpenseAllocation(ecole_id=ecole_id)
            expense.allocations.append(row)
        row.amount_ht_cents = a.amount_ht_cents or 0
        row.amount_ttc_cents = a.amount_ttc_cents or 0
    _fill_links(expense, links)


def _fill_links(expense: Expense, links: Sequence[ResolvedLink]) -> None:
    by_item = {(link.asset_id, link.work_id): link for link in expense.links}
    keep = set()
    for r in links:
        key = (r.asset.id if r.asset else None, r.work.id if r.work else None)
        keep.add(key)
        link = by_item.get(key)
        if link is None:
            link = FundingLink(asset=r.asset, work=r.work)
            expense.links.append(link)
        link.amount_cents = r.amount_cents
    for key, link in by_item.items():
        if key not in keep:
            expense.links.remove(link)


def _store_invoice(
    expense: Expense, invoice: Upload | None, content_type: str | None, directory: Storage | None
) -> str | None:
    """Keep the invoice's file and name it on the expense; returns the stored name."""
    if invoice is None or content_type is None or directory is None:
        return None
    expense.stored_name = uploads.store(directory, invoice.data, content_type)
    expense.filename = uploads.clean_filename(invoice.filename, "fichier")
    return expense.stored_name


def add_expense(
    session: Session,
    user: Subject,
    dossier: Dossier,
    fields: ExpenseFields,
    *,
    allocations: Sequence[AllocationInput] = (),
    links: Sequence[LinkInput] = (),
    invoice: Upload | None = None,
    upload_dir: Storage | None = None,
) -> Expense:
    """Record an invoice: split over the covered schools (a dossier of one school takes it
    all by default) and linked to the items it paid for."""
    require(user, Action.FINANCE, dossier, session)
    _check_open(dossier)
    fields = fields.check(dossier.rules)
    allocs = _resolve_allocations(session, dossier, fields, allocations)
    resolved = resolve_links(session, user, dossier, fields.amount_ttc_cents, links, None)
    content_type = accept_upload(invoice, "invoice_file") if invoice else None
    expense = Expense(dossier=dossier)
    _fill_expense(expense, fields, allocs, resolved)
    written = _store_invoice(expense, invoice, content_type, upload_dir)
    session.add(expense)
    commit_with_file(session, upload_dir, written)
    return expense


@guarded(lost_race)
def update_expense(
    session: Session,
    user: Subject,
    expense: Expense,
    *,
    version: int | None,
    fields: ExpenseFields,
    allocations: Sequence[AllocationInput] = (),
    links: Sequence[LinkInput] = (),
    invoice: Upload | None = None,
    upload_dir: Storage | None = None,
) -> Expense:
    """Save an edit made on a copy loaded at ``version``: a conflicting save changes nothing."""
    require(user, Action.FINANCE, expense, session)
    check_version(expense, version, stale_form())
    dossier = expense.dossier
    _check_open(dossier)
    fields = fields.check(dossier.rules)
    allocs = _resolve_allocations(session, dossier, fields, allocations)
    resolved = resolve_links(session, user, dossier, fields.amount_ttc_cents, links, expense.id)
    content_type = accept_upload(invoice, "invoice_file") if invoice else None
    _fill_expense(expense, fields, allocs, resolved)
    old = expense.stored_name
    written = _store_invoice(expense, invoice, content_type, upload_dir)
    # The allocations and links are part of the expense: any save gives it a new version.
    flag_modified(expense, "supplier")
    commit_with_file(session, upload_dir, written)
    if written is not None and upload_dir is not None:
        uploads.remove(upload_dir, old)
    return expense


@guarded(lost_race)
def relink_expense(
    session: Session,
    user: Subject,
    expense: Expense,
    links: Sequence[LinkInput],
    *,
    version: int | None,
) -> Expense:
    """Say which items and works the invoice paid for: those named, the others unlinked."""
    require(user, Action.FINANCE, expense, session)
    check_version(expense, version, stale_form())
    dossier = expense.dossier
    _check_open(dossier)
    resolved = resolve_links(session, user, dossier, expense.amount_ttc_cents, links, expense.id)
    _fill_links(expense, resolved)
    commit(session)
    return expense


@guarded(lost_race)
def delete_expense(
    session: Session,
    user: Subject,
    expense: Expense,
    *,
    version: int | None = None,
    upload_dir: Storage | None = None,
) -> None:
    require(user, Action.FINANCE, expense, session)
    check_version(expense, version, stale_form())
    _check_open(expense.dossier)
    old = expense.stored_name
    session.delete(expense)
    commit(session)
    if upload_dir is not None:
        uploads.remove(upload_dir, old)


def expense_detail(session: Session, user: Subject, expense_id: int, action: Action) -> Expense:
    expense = policy.load_or_404(user, Expense, expense_id, session, action)
    dossier_detail(session, user, expense.dossier_id, action)
    return expense


def ineligible_expenses(
    dossier: Dossier, rules: Mapping[str, Any] | None = None
) -> dict[int, DateProblem]:
    """The dossier's expenses that its rules' dates leave out (the aid, the claim file and
    its exports count none of them), with the reason."""
    typed = SchemeRules.from_data({**(dossier.rules if rules is None else rules), "volets": []})
    out = {}
    for e in dossier.expenses:
        problem = typed.date_problem(e.invoice_date)
        if problem is not None:
            out[e.id] = problem
    return out
