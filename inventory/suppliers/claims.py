"""Warranty claims, from the mail to the supplier to their answer: an item under warranty
is claimed for (the claim mailed to the supplier, kept in the item's maintenance), then
the claim is followed until the supplier repairs the item, replaces it or refuses;
the claims still awaiting an answer are listed, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from inventory.assets.models import Asset
from inventory.core import policy, versioning
from inventory.core.mail import send_mail
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.suppliers.directory import supplier_of_collectivite
from inventory.suppliers.maintenance import WorkFields, add_record
from inventory.suppliers.models import ClaimStatus, MaintenanceKind, MaintenanceRecord
from inventory.suppliers.rules import SupplierError, clean, conflict


def _conflict() -> Any:
    return conflict(
        _l(
            "Someone else saved this claim while you were editing it. "
            "Check your changes and save again."
        )
    )


def claim_warranty(
    session: Session,
    user: Subject,
    config: Any,
    asset: Asset,
    *,
    problem: str,
    day: date,
    supplier_id: int | None = None,
) -> MaintenanceRecord:
    """Open a warranty claim for ``asset`` with its supplier: the record (sent, awaiting
    the answer), and a mail to the supplier's address in the outbox (in the same
    transaction)."""
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    problem = (problem or "").strip()
    if not problem:
        raise SupplierError(_l("Describe the problem."), field="problem")
    supplier = supplier_of_collectivite(
        session, user, asset.collectivite_id, supplier_id or asset.supplier_id
    )
    if supplier is None:
        raise SupplierError(_l("Choose the supplier to send the claim to."), field="supplier")
    if not supplier.email:
        raise SupplierError(
            _l("The supplier has no email address: add it to the directory first."),
            field="supplier",
        )
    if asset.warranty_end is None or asset.warranty_end < day:
        raise SupplierError(_l("The item is not under warranty."), field="problem")
    fields = WorkFields(day, str(_l("Warranty claim")), under_warranty=True)
    record = add_record(session, user, asset, MaintenanceKind.CLAIM, fields, supplier=supplier)
    record.problem = problem
    record.claim_status = ClaimStatus.SENT
    model = asset.model
    lines = [
        str(
            _l(
                "Warranty claim for %(maker)s %(model)s, serial number %(serial)s, "
                "asset tag %(tag)s, under warranty until %(end)s.",
                maker=model.manufacturer.name,
                model=model.name,
                serial=asset.serial or "—",
                tag=asset.tag,
                end=asset.warranty_end.strftime("%d/%m/%Y"),
            )
        ),
        str(_l("Invoice: %(invoice)s", invoice=asset.invoice_number or "—")),
        str(_l("School: %(school)s", school=asset.ecole.name if asset.ecole else "—")),
        problem,
        str(
            _l(
                "Sent by %(who)s for %(owner)s.",
                who=getattr(user, "email", ""),
                owner=asset.collectivite.name,
            )
        ),
    ]
    subject = str(_l("Warranty claim — %(tag)s", tag=asset.tag))
    send_mail(session, config, supplier.email, subject, "\n\n".join(lines))
    session.commit()
    return record


@dataclass
class ClaimAnswer:
    """What the supplier answered a claim, as a person records it."""

    status: ClaimStatus
    answered_on: date | None
    reference: str | None = None
    answer: str | None = None

    def check(self, claim: MaintenanceRecord, today: date) -> ClaimAnswer:
        self.reference = clean(self.reference)
        if self.reference is not None and len(self.reference) > 60:
            raise SupplierError(
                _l("The supplier's reference is 60 characters at most."), field="reference"
            )
        self.answer = (self.answer or "").strip() or None
        if self.status is ClaimStatus.SENT:
            # Still awaiting: only the supplier's reference may be noted meanwhile.
            if self.answered_on is not None or self.answer:
                raise SupplierError(
                    _l("Choose what the supplier answered, or leave the day and answer empty."),
                    field="status",
                )
            return self
        if self.answered_on is None:
            raise SupplierError(_l("Give the day the supplier answered."), field="answered_on")
        if self.answered_on < claim.done_on:
            raise SupplierError(
                _l(
                    "The answer cannot come before the claim, sent on %(day)s.",
                    day=claim.done_on.strftime("%d/%m/%Y"),
                ),
                field="answered_on",
            )
        if self.answered_on > today:
            raise SupplierError(_l("The answer's day is still to come."), field="answered_on")
        if self.status is ClaimStatus.REFUSED and not self.answer:
            raise SupplierError(_l("Say why the supplier refused."), field="answer")
        return self


def claim_of(session: Session, user: Subject, record_id: int) -> MaintenanceRecord:
    """A warranty claim in the user's scope (404 otherwise, as for any record that is not
    a claim)."""
    claim = policy.load_or_404(user, MaintenanceRecord, record_id, session)
    if claim.kind is not MaintenanceKind.CLAIM:
        raise policy.Denied()  # a 404, as out of scope
    return claim


@guarded(_conflict)
def answer_claim(
    session: Session,
    user: Subject,
    claim: MaintenanceRecord,
    fields: ClaimAnswer,
    *,
    today: date,
    version: int | None = None,
) -> MaintenanceRecord:
    """Record what the supplier answered ``claim`` (or, still awaiting, their reference):
    the claim was loaded at ``version`` by the form."""
    if claim.kind is not MaintenanceKind.CLAIM:
        raise ValueError("only a warranty claim has an answer")
    if not policy.can(user, Action.EDIT, claim, session):
        raise policy.Denied()
    fields = fields.check(claim, today)
    check_version(claim, version, _conflict())
    # The change log files the record under its item's school and collectivité, which
    # MaintenanceRecord.audit_scope reads off the item only when it is loaded.
    claim.asset  # noqa: B018  (loaded here, if it is not yet)
    claim.claim_status = fields.status
    claim.claim_reference = fields.reference
    claim.answered_on = fields.answered_on
    claim.answer = fields.answer
    versioning.commit(session, _conflict())
    return claim


def open_claims(
    session: Session, user: Subject, *, page: int = 1, per_page: int = 50
) -> Page[MaintenanceRecord]:
    """The claims awaiting the supplier's answer in the user's scope, oldest first."""
    keys = (
        policy.visible(user, select(MaintenanceRecord.id), MaintenanceRecord)
        .where(
            MaintenanceRecord.kind == MaintenanceKind.CLAIM,
            MaintenanceRecord.claim_status == ClaimStatus.SENT,
        )
        .order_by(MaintenanceRecord.done_on, MaintenanceRecord.id)
    )
    rows = policy.visible(user, select(MaintenanceRecord), MaintenanceRecord).options(
        joinedload(MaintenanceRecord.asset).joinedload(Asset.ecole),
        joinedload(MaintenanceRecord.supplier),
    )
    return paginate(session, rows, page, per_page, key_stmt=keys)
