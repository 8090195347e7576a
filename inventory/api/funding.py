"""/api/v1 the money of a dossier: its payments (requests and money received, money above
the computed aid only when confirmed) and the funding links of its invoices (which items
and works an expense paid for, and the candidates), through grants.payments and
grants.links under the pages' policy and versions."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.grants import ExpenseSchema, LinkSchema, PaymentSchema, Removal, expense_answer
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, Int, Text
from inventory.core import policy
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import dossiers, expenses, links, payments
from inventory.grants.links import LinkInput
from inventory.grants.models import Dossier, Expense, Payment, PaymentKind
from inventory.web import allow

PAYMENT_FIELDS = tuple(
    n for n in payments.PaymentFields.__dataclass_fields__ if n != "over_aid_confirmed"
)


class PaymentValues(Schema):
    """A payment; on a change, the fields not sent are kept."""

    kind = Text(validate=validate.OneOf([k.value for k in PaymentKind]))
    requested_on = fields.Date(allow_none=True)
    requested_cents = Int(allow_none=True)
    received_on = fields.Date(allow_none=True)
    received_cents = Int(allow_none=True)
    reference = Text(allow_none=True)
    over_aid_confirmed = fields.Boolean(
        metadata={
            "description": N_(
                "true: record money that takes the total received above the computed aid"
            )
        }
    )


class PaymentCreate(PaymentValues):
    kind = Text(required=True, validate=validate.OneOf([k.value for k in PaymentKind]))


class PaymentPatch(PaymentValues, common.Versioned):
    pass


class LinksChange(common.Versioned):
    links = fields.List(
        fields.Nested(LinkSchema),
        metadata={"description": N_("Every item the invoice paid for (the others are unlinked)")},
    )


class CandidateSchema(Schema):
    kind = Text(metadata={"description": N_("asset or work")})
    item_id = Int()
    label = Text()
    detail = Text()
    school = Text()
    price_cents = Int(allow_none=True)
    funded_cents = Int(metadata={"description": N_("Linked by every invoice")})
    left_cents = Int(allow_none=True, metadata={"description": N_("What its price leaves")})


SUMMARIES.update(
    {
        "post/dossiers/{dossier_id}/payments": _l(
            "Record a request for payment or money received (once the convention is "
            "signed); above the computed aid, send over_aid_confirmed."
        ),
        "get/payments/{payment_id}": _l("One payment; its ETag is its version."),
        "patch/payments/{payment_id}": _l("Change a payment; the fields not sent are kept."),
        "delete/payments/{payment_id}": _l("Remove a payment of a dossier not closed."),
        "put/expenses/{expense_id}/links": _l(
            "Say which items and works an invoice paid for (every link, the others removed)."
        ),
        "get/dossiers/{dossier_id}/link-candidates": _l(
            "The items and works an invoice of this dossier may be linked to."
        ),
    }
)


def _payment_fields(data: dict[str, Any], payment: Payment | None) -> payments.PaymentFields:
    values: dict[str, Any] = {n: None for n in PAYMENT_FIELDS}
    if payment is not None:
        values.update({n: getattr(payment, n) for n in PAYMENT_FIELDS})
    values.update({n: data[n] for n in PAYMENT_FIELDS if n in data})
    values["kind"] = PaymentKind(values["kind"])
    kept = payment.over_aid_confirmed if payment is not None else False
    confirmed = bool(data.get("over_aid_confirmed", kept))
    return payments.PaymentFields(**values, over_aid_confirmed=confirmed)


def _over_aid(error: payments.OverAidError) -> DomainError:
    """The confirmation a program sends is over_aid_confirmed."""
    return DomainError(str(error.message), field="over_aid_confirmed")


def _payment(payment_id: int, action: Action = Action.READ) -> Payment:
    return policy.load_or_404(current_user, Payment, payment_id, db.session, action)


@blp.route("/dossiers/<int:dossier_id>/payments", methods=["POST"], endpoint="add_payment")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
@common.scoped(Dossier, "dossier_id", Action.FINANCE)
@blp.arguments(PaymentCreate)
@blp.response(201, PaymentSchema)
@problems(403, 422)
@common.creates
def add_payment(data: dict[str, Any], dossier_id: int) -> Any:
    """Record a request for payment or money received (once the convention is signed);
    above the computed aid, send over_aid_confirmed."""
    dossier = dossiers.dossier_detail(db.session, current_user, dossier_id, Action.FINANCE)
    try:
        made = payments.record_payment(
            db.session, current_user, dossier, _payment_fields(data, None)
        )
    except payments.OverAidError as exc:
        raise _over_aid(exc) from None
    location = url_for("api_records.payment", payment_id=made.id)
    return common.created(_payment(made.id), location, made.version)


@blp.route("/payments/<int:payment_id>", methods=["GET"])
@blp.response(200, PaymentSchema)
@problems()
@allow(Action.READ, on=(Payment, "payment_id"))
def payment(payment_id: int) -> Any:
    """One payment; its ETag is its version."""
    found = _payment(payment_id)
    return found, 200, common.etag(found.version)


@blp.route("/payments/<int:payment_id>", methods=["PATCH"], endpoint="update_payment")
@allow(Action.FINANCE, on=(Payment, "payment_id"))
@common.scoped(Payment, "payment_id", Action.FINANCE)
@blp.arguments(PaymentPatch)
@blp.response(200, PaymentSchema)
@problems(403, 409, 412, 422, 428)
def update_payment(data: dict[str, Any], payment_id: int) -> Any:
    """Change a payment; the fields not sent are kept."""
    found = _payment(payment_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    try:
        payments.update_payment(
            db.session, current_user, found, _payment_fields(data, found), version=version
        )
    except payments.OverAidError as exc:
        raise _over_aid(exc) from None
    except ConflictError:
        raise common.reworded_conflict() from None
    found = _payment(payment_id)
    return found, 200, common.etag(found.version)


@blp.route("/payments/<int:payment_id>", methods=["DELETE"], endpoint="delete_payment")
@allow(Action.FINANCE, on=(Payment, "payment_id"))
@common.scoped(Payment, "payment_id", Action.FINANCE)
@blp.arguments(Removal)
@blp.response(204)
@problems(403, 409, 412, 422, 428)
def delete_payment(data: dict[str, Any], payment_id: int) -> Any:
    """Remove a payment of a dossier not closed."""
    found = _payment(payment_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    try:
        payments.delete_payment(db.session, current_user, found, version=version)
    except ConflictError:
        raise common.reworded_conflict() from None
    return "", 204


@blp.route("/expenses/<int:expense_id>/links", methods=["PUT"], endpoint="set_links")
@allow(Action.FINANCE, on=(Expense, "expense_id"))
@common.scoped(Expense, "expense_id", Action.FINANCE)
@blp.arguments(LinksChange)
@blp.response(200, ExpenseSchema)
@problems(403, 409, 412, 422, 428)
def set_links(data: dict[str, Any], expense_id: int) -> Any:
    """Say which items and works an invoice paid for (every link, the others removed)."""
    found = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    if "links" not in data:
        raise DomainError(
            _("Send every item the invoice paid for (an empty list: none)."), field="links"
        )
    try:
        expenses.relink_expense(
            db.session,
            current_user,
            found,
            [LinkInput(g["kind"], g["item_id"], g.get("amount_cents")) for g in data["links"]],
            version=version,
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return expense_answer(expense_id)


@blp.route("/dossiers/<int:dossier_id>/link-candidates", methods=["GET"])
@blp.response(200, CandidateSchema(many=True))
@problems()
@allow(Action.READ, on=(Dossier, "dossier_id"))
def link_candidates(dossier_id: int) -> Any:
    """The items and works an invoice of this dossier may be linked to."""
    dossier = dossiers.dossier_detail(db.session, current_user, dossier_id)
    return links.link_candidates(db.session, current_user, dossier)
