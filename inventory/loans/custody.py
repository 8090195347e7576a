"""Custody: an item checked out to a classroom, a staff member or a family, and back.

The item's status follows (on loan at the check-out; in service, under repair or lost at
the check-in, by its condition), through the assets' one lifecycle. A missing item at the
return is told as a business event (``loan.item_missing``): the helpdesk, above this
domain, listens and opens a ticket in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from inventory.assets import lifecycle
from inventory.assets.models import TRANSITIONS, Asset, AssetStatus
from inventory.core import events, policy
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.loans.models import BorrowerKind, Condition, Loan, LoanStatus
from inventory.loans.rules import LoanError, loan_conflict
from inventory.orgs.models import Classroom

# The item's status after its return, by the condition it comes back in.
STATUS_AFTER = {
    Condition.NEW: AssetStatus.IN_SERVICE,
    Condition.GOOD: AssetStatus.IN_SERVICE,
    Condition.WORN: AssetStatus.IN_SERVICE,
    Condition.DAMAGED: AssetStatus.UNDER_REPAIR,
    Condition.MISSING: AssetStatus.LOST,
}


@dataclass(frozen=True)
class Borrower:
    """Who takes the item. For a family: the pupil's first name and class, one guardian's
    name and contact (an e-mail address or a phone number), nothing more."""

    kind: BorrowerKind
    classroom_id: int | None = None
    staff_name: str = ""
    pupil_first_name: str = ""
    pupil_class: str = ""
    guardian_name: str = ""
    guardian_contact: str = ""


def _required(value: str, field: str, message: Any) -> str:
    value = (value or "").strip()
    if not value:
        raise LoanError(message, field=field)
    return value


def _borrower_fields(session: Session, asset: Asset, who: Borrower) -> dict[str, object]:
    if who.kind is BorrowerKind.CLASSROOM:
        room = session.get(Classroom, who.classroom_id) if who.classroom_id else None
        if room is None or room.ecole_id != asset.ecole_id:
            raise LoanError(_l("Choose a classroom of the item's school."), field="classroom_id")
        return {"classroom_id": room.id}
    if who.kind is BorrowerKind.STAFF:
        name = _required(who.staff_name, "staff_name", _l("Give the staff member's name."))
        return {"staff_name": name[:120]}
    return {
        "pupil_first_name": _required(
            who.pupil_first_name, "pupil_first_name", _l("Give the pupil's first name.")
        )[:60],
        "pupil_class": _required(who.pupil_class, "pupil_class", _l("Give the pupil's class."))[
            :30
        ],
        "guardian_name": _required(
            who.guardian_name, "guardian_name", _l("Give the guardian's name.")
        )[:120],
        "guardian_contact": _required(
            who.guardian_contact,
            "guardian_contact",
            _l("Give an e-mail address or a phone number."),
        )[:200],
    }


def check_out(
    session: Session,
    user: Subject,
    asset: Asset,
    who: Borrower,
    *,
    starts_on: date,
    due_on: date,
    condition: Condition = Condition.GOOD,
    kit_id: int | None = None,
    commit: bool = True,
) -> Loan:
    """Lend ``asset`` (the user must be allowed to edit it) until ``due_on``."""
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    if asset.ecole_id is None:
        raise LoanError(_l("This item is not in a school: place it before lending it."), "asset")
    if AssetStatus.ON_LOAN not in TRANSITIONS[asset.status]:
        raise LoanError(
            _l(
                "%(tag)s is %(status)s: it cannot be lent.",
                tag=asset.tag,
                status=lifecycle.STATUS_LABELS[asset.status],
            ),
            field="asset",
        )
    if due_on < starts_on:
        raise LoanError(_l("The return date comes before the loan's start."), field="due_on")
    if condition is Condition.MISSING:
        raise LoanError(_l("An item lent cannot be missing."), field="condition_out")
    loan = Loan(
        collectivite_id=asset.collectivite_id,
        ecole_id=asset.ecole_id,
        asset=asset,
        kit_id=kit_id,
        borrower_kind=who.kind,
        status=LoanStatus.OUT,
        starts_on=starts_on,
        due_on=due_on,
        condition_out=condition,
        created_by_id=getattr(user, "id", None),
        **_borrower_fields(session, asset, who),
    )
    session.add(loan)
    lifecycle.change_status(
        session, user, asset, AssetStatus.ON_LOAN, str(_l("Lent")), commit=False
    )
    if commit:
        commit_loans(session)
    return loan


def commit_loans(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise LoanError(_l("This item is already on loan."), field="asset") from None


@guarded(loan_conflict)
def check_in(
    session: Session,
    user: Subject,
    loan: Loan,
    version: int | None,
    *,
    returned_on: date,
    condition: Condition,
    notes: str = "",
    commit: bool = True,
) -> Loan:
    """Record the return of ``loan``'s item and the condition it came back in."""
    if not policy.can(user, Action.EDIT, loan, session):
        raise policy.Denied()
    check_version(loan, version, loan_conflict())
    if loan.status is not LoanStatus.OUT:
        raise LoanError(_l("This loan's return is recorded already."), field="condition_in")
    if returned_on < loan.starts_on:
        raise LoanError(_l("The return comes before the loan's start."), field="returned_on")
    loan.status = LoanStatus.RETURNED
    loan.returned_on = returned_on
    loan.condition_in = condition
    loan.return_notes = (notes or "").strip() or None
    asset = loan.asset
    lifecycle.change_status(
        session, user, asset, STATUS_AFTER[condition], str(_l("Returned")), commit=False
    )
    if condition is Condition.MISSING:
        events.emit(
            session,
            events.LOAN_ITEM_MISSING,
            asset.collectivite_id,
            loan=loan.id,
            asset=asset.id,
            tag=asset.tag,
            ecole=loan.ecole_id,
            kit=loan.kit_id,
        )
    if commit:
        session.commit()
    return loan


def open_loan_of(session: Session, asset_id: int) -> Loan | None:
    return session.scalar(
        select(Loan).where(Loan.asset_id == asset_id, Loan.status == LoanStatus.OUT)
    )


def loan_detail(
    session: Session, user: Subject, loan_id: int, action: Action = Action.READ
) -> Loan:
    loan = policy.load_or_404(user, Loan, loan_id, session, action)
    return session.scalars(
        select(Loan)
        .options(
            joinedload(Loan.asset).joinedload(Asset.model),
            joinedload(Loan.ecole),
            joinedload(Loan.collectivite),
            joinedload(Loan.classroom),
        )
        .where(Loan.id == loan.id)
    ).one()
