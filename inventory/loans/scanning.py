"""A kit checked out or in by scanning its labels: what was scanned, what is missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.labels import tokens
from inventory.loans.custody import Borrower, check_in, check_out, commit_loans
from inventory.loans.models import Condition, Kit, Loan, LoanStatus


def identify(session: Session, user: Subject, raw: str) -> Asset | None:
    """The item a scanned label (its URL or code) or a typed tag designates, if visible."""
    token = tokens.find(session, raw)
    if token is not None and token.asset_id:
        stmt = select(Asset).where(Asset.id == token.asset_id)
    else:
        stmt = select(Asset).where(Asset.tag == raw.strip().upper())
    return session.scalar(policy.visible(user, stmt, Asset))


@dataclass
class ScanCount:
    """The kit's items split by whether they were scanned; codes that named no item of
    the kit are kept apart."""

    scanned: list[Asset] = field(default_factory=list)
    missing: list[Asset] = field(default_factory=list)
    strangers: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [a.id for a in self.scanned]


def count_scan(kit: Kit, seen_ids: Sequence[int], strangers: Sequence[str] = ()) -> ScanCount:
    seen = set(seen_ids)
    return ScanCount(
        scanned=[a for a in kit.items if a.id in seen],
        missing=[a for a in kit.items if a.id not in seen],
        strangers=list(strangers),
    )


def add_scan(
    session: Session, user: Subject, kit: Kit, seen_ids: Sequence[int], raw: str
) -> tuple[list[int], str | None]:
    """The ids scanned so far with ``raw``'s item added; or the code back when it names no
    item of the kit."""
    asset = identify(session, user, raw) if raw.strip() else None
    if asset is None or asset.id not in {a.id for a in kit.items}:
        return list(seen_ids), raw.strip()[:80] or None
    ids = list(dict.fromkeys([*seen_ids, asset.id]))
    return ids, None


def check_out_kit(
    session: Session,
    user: Subject,
    kit: Kit,
    seen_ids: Sequence[int],
    who: Borrower,
    *,
    starts_on: date,
    due_on: date,
) -> list[Loan]:
    """Lend the scanned items of the kit, in one transaction."""
    if not policy.can(user, Action.EDIT, kit, session):
        raise policy.Denied()
    made = [
        check_out(
            session, user, a, who, starts_on=starts_on, due_on=due_on, kit_id=kit.id, commit=False
        )
        for a in count_scan(kit, seen_ids).scanned
    ]
    commit_loans(session)
    return made


def check_in_kit(
    session: Session,
    user: Subject,
    kit: Kit,
    seen_ids: Sequence[int],
    *,
    returned_on: date,
    missing_lost: bool,
) -> tuple[int, int]:
    """Record the return of the kit's open loans: the scanned items in good condition;
    the others missing when ``missing_lost`` (each opens a ticket), else still out.
    Returns (returned, missing)."""
    if not policy.can(user, Action.EDIT, kit, session):
        raise policy.Denied()
    item_ids = [a.id for a in kit.items]
    open_loans = list(
        session.scalars(
            select(Loan).where(Loan.asset_id.in_(item_ids), Loan.status == LoanStatus.OUT)
        )
    )
    seen = set(seen_ids)
    returned = missing = 0
    for loan in open_loans:
        if loan.asset_id in seen:
            condition = Condition.GOOD
            returned += 1
        elif missing_lost:
            condition = Condition.MISSING
            missing += 1
        else:
            continue
        check_in(
            session, user, loan, None, returned_on=returned_on, condition=condition, commit=False
        )
    session.commit()
    return returned, missing
