"""Payments: requests and money received once the convention is signed; money that takes
the total received above the computed aid needs the user's confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.grants.breakdown import dossier_aid
from inventory.grants.common import GrantError, commit, lost_race, money, require, stale_form
from inventory.grants.dossiers import PAYABLE_STATUSES, STATUS_LABELS
from inventory.grants.models import Dossier, DossierStatus, Payment, PaymentKind

PAYMENT_KIND_LABELS = {
    PaymentKind.ADVANCE: _l("advance"),
    PaymentKind.INSTALMENT: _l("instalment"),
    PaymentKind.BALANCE: _l("balance"),
}


@dataclass
class PaymentFields:
    kind: PaymentKind
    requested_on: date | None = None
    requested_cents: int | None = None
    received_on: date | None = None
    received_cents: int | None = None
    reference: str | None = None
    # The user confirms that this payment may take the money received above the aid.
    over_aid_confirmed: bool = False

    def check(self) -> PaymentFields:
        self.reference = (self.reference or "").strip()[:60] or None
        if self.requested_cents is None and self.received_cents is None:
            raise GrantError(
                _l("Give the amount requested or the amount received."), field="requested"
            )
        for cents, name in ((self.requested_cents, "requested"), (self.received_cents, "received")):
            if cents is not None and cents < 0:
                raise GrantError(_l("The amount cannot be negative."), field=name)
        if self.received_cents is not None and self.received_on is None:
            raise GrantError(_l("Give the date the money was received."), field="received_on")
        if self.received_on is not None and self.received_cents is None:
            raise GrantError(_l("Give the amount received."), field="received")
        if self.requested_cents is not None and self.requested_on is None:
            raise GrantError(_l("Give the date of the request."), field="requested_on")
        return self


class OverAidError(GrantError):
    """The payment would take the money received above the computed aid, unconfirmed."""


def _above_aid(dossier: Dossier, fields: PaymentFields, payment: Payment | None) -> bool:
    """Whether the money received, with this payment, goes above the dossier's computed aid;
    OverAidError when it does and the user has not confirmed it."""
    if not fields.received_cents:
        return False
    others = sum(p.received_cents or 0 for p in dossier.payments if p is not payment)
    received = others + fields.received_cents
    aid = dossier_aid(dossier).aid_cents
    if received <= aid:
        return False
    if not fields.over_aid_confirmed:
        raise OverAidError(
            _l(
                "With this payment, %(received)s would be received: %(above)s more than the "
                "aid computed from the eligible spending (%(aid)s). Check the amount and the "
                "invoices, or tick the confirmation to record it all the same.",
                received=money(received),
                above=money(received - aid),
                aid=money(aid),
            ),
            field="received",
        )
    return True


def record_payment(
    session: Session, user: Subject, dossier: Dossier, fields: PaymentFields
) -> Payment:
    """A request for payment, or money received, once the convention is signed. Money that
    takes the total received above the computed aid needs ``over_aid_confirmed``, which the
    payment keeps (and the change log shows)."""
    require(user, Action.FINANCE, dossier, session)
    if dossier.status not in PAYABLE_STATUSES:
        raise GrantError(
            _l(
                "The dossier is %(status)s: payments come once the convention is signed.",
                status=STATUS_LABELS[dossier.status],
            ),
            field="kind",
        )
    fields = fields.check()
    above = _above_aid(dossier, fields, None)
    values = {**fields.__dict__, "over_aid_confirmed": above}
    payment = Payment(dossier=dossier, **values)
    session.add(payment)
    session.commit()
    return payment


@guarded(lost_race)
def update_payment(
    session: Session,
    user: Subject,
    payment: Payment,
    fields: PaymentFields,
    *,
    version: int | None = None,
) -> Payment:
    """Change a payment; ``version``: the one it was read at (None: as loaded here)."""
    require(user, Action.FINANCE, payment, session)
    if payment.dossier.status == DossierStatus.CLOSED:
        raise GrantError(_l("The dossier is closed."), field="kind")
    check_version(payment, version, stale_form())
    fields = fields.check()
    above = _above_aid(payment.dossier, fields, payment)
    for key, value in {**fields.__dict__, "over_aid_confirmed": above}.items():
        setattr(payment, key, value)
    commit(session)
    return payment


@guarded(lost_race)
def delete_payment(
    session: Session, user: Subject, payment: Payment, *, version: int | None = None
) -> None:
    require(user, Action.FINANCE, payment, session)
    if payment.dossier.status == DossierStatus.CLOSED:
        raise GrantError(_l("The dossier is closed."))
    check_version(payment, version, stale_form())
    session.delete(payment)
    commit(session)
