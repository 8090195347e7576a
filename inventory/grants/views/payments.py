"""The payments' pages: record, edit and delete a request or money received."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import policy
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import payments
from inventory.grants.common import GrantError
from inventory.grants.forms import PaymentForm, VersionForm
from inventory.grants.models import Dossier, Payment, PaymentKind
from inventory.grants.views.blueprint import PAYMENT, bp
from inventory.grants.views.dossiers import dossier_page, load_finance
from inventory.web import allow, attach_error


# -- payments ------------------------------------------------------------------------------
def _payment_fields(form: PaymentForm) -> payments.PaymentFields:
    kind = form.kind.data or ""
    return payments.PaymentFields(
        kind=PaymentKind(kind)
        if kind in PaymentKind._value2member_map_
        else PaymentKind.INSTALMENT,
        requested_on=form.requested_on.data,
        requested_cents=form.requested.data,
        received_on=form.received_on.data,
        received_cents=form.received.data,
        reference=form.reference.data,
        over_aid_confirmed=bool(form.over_aid_confirmed.data),
    )


@bp.post("/<int:dossier_id>/versements")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def add_payment(dossier_id: int) -> Response | tuple[str, int]:
    dossier = load_finance(dossier_id)
    form = PaymentForm(prefix=PAYMENT)
    ask = False
    if form.validate_on_submit():
        try:
            payments.record_payment(db.session, current_user, dossier, _payment_fields(form))
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "kind")
            ask = isinstance(exc, payments.OverAidError)
        else:
            flash(_("Payment recorded."), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#versements")
    return dossier_page(dossier_id, payment_form=form, ask_over_aid=ask), 422


@bp.route("/versements/<int:payment_id>", methods=["GET", "POST"])
@allow(Action.FINANCE, on=(Payment, "payment_id"))
def edit_payment(payment_id: int) -> str | Response | tuple[str, int]:
    payment = policy.load_or_404(current_user, Payment, payment_id, db.session, Action.FINANCE)
    dossier = payment.dossier
    form = PaymentForm()
    status = 200
    ask = payment.over_aid_confirmed
    if request.method == "GET":
        form.kind.data = payment.kind.value
        form.requested_on.data = payment.requested_on
        form.requested.data = payment.requested_cents
        form.received_on.data = payment.received_on
        form.received.data = payment.received_cents
        form.reference.data = payment.reference
        form.over_aid_confirmed.data = payment.over_aid_confirmed
    elif form.validate_on_submit():
        try:
            payments.update_payment(db.session, current_user, payment, _payment_fields(form))
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "kind")
            ask = ask or isinstance(exc, payments.OverAidError)
            status = 422
        else:
            flash(_("Payment saved."), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#versements")
    else:
        status = 422
    return render_template(
        "grants/payment_form.html",
        form=form,
        payment=payment,
        dossier=dossier,
        delete_form=VersionForm(),
        ask_over_aid=ask or bool(form.over_aid_confirmed.data),
    ), status


@bp.post("/versements/<int:payment_id>/supprimer")
@allow(Action.FINANCE, on=(Payment, "payment_id"))
def delete_payment(payment_id: int) -> Response | tuple[str, int]:
    payment = policy.load_or_404(current_user, Payment, payment_id, db.session, Action.FINANCE)
    dossier_id = payment.dossier_id
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        payments.delete_payment(db.session, current_user, payment)
    except GrantError as exc:
        db.session.rollback()
        return dossier_page(dossier_id, error=str(exc.message)), 422
    flash(_("Payment deleted."), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier_id) + "#versements")
