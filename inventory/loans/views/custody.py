"""Lending an item, a loan's page and its return, its documents, the kits' scanning, and
the collectivité's conditions text."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets.models import Asset
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.errors import ConflictError
from inventory.core.forms import sent_version
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.loans import documents, scanning
from inventory.loans.custody import Borrower, check_in, check_out, loan_detail, open_loan_of
from inventory.loans.forms import LoanForm, ReturnForm, ScanForm, TermsForm
from inventory.loans.kits import kit_detail
from inventory.loans.lists import is_overdue
from inventory.loans.models import BorrowerKind, Condition, Kit, Loan
from inventory.loans.rules import LoanError
from inventory.loans.views.blueprint import bp, form_day
from inventory.orgs.models import Collectivite
from inventory.training.times import local_day
from inventory.web import allow, attach_error


def _rooms(ecole: Any) -> list[tuple[int, str]]:
    return [(0, "—")] + [(r.id, r.name) for r in ecole.classrooms]


@bp.route("/prets/materiel/<int:asset_id>/preter", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Asset, "asset_id"))
def lend(asset_id: int) -> Any:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    open_loan = open_loan_of(db.session, asset.id)
    if open_loan is not None:
        return redirect(url_for("loans.loan", loan_id=open_loan.id))
    form = LoanForm()
    form.classroom_id.choices = _rooms(asset.ecole) if asset.ecole else [(0, "—")]
    if request.method == "GET":
        form.starts_on.data = local_day(utcnow())
    if form.validate_on_submit():
        who = Borrower(
            kind=BorrowerKind(form.borrower_kind.data),
            classroom_id=form.classroom_id.data or None,
            staff_name=form.staff_name.data or "",
            pupil_first_name=form.pupil_first_name.data or "",
            pupil_class=form.pupil_class.data or "",
            guardian_name=form.guardian_name.data or "",
            guardian_contact=form.guardian_contact.data or "",
        )
        try:
            loan = check_out(
                db.session,
                current_user,
                asset,
                who,
                starts_on=form.starts_on.data,
                due_on=form.due_on.data,
                condition=Condition(form.condition_out.data),
            )
        except LoanError as exc:
            attach_error(form, exc, "borrower_kind", {"asset": "borrower_kind"})
        else:
            flash(_("Loan recorded: print the agreement to have it signed."), "success")
            return redirect(url_for("loans.loan", loan_id=loan.id))
    return render_template("loans/lend.html", asset=asset, form=form), 422 if form.errors else 200


def _loan_page(loan: Loan, form: ReturnForm, status: int = 200) -> Any:
    return (
        render_template(
            "loans/loan.html",
            loan=loan,
            form=form,
            overdue=is_overdue(loan),
            may_edit=policy.can(current_user, Action.EDIT, loan, db.session),
        ),
        status,
    )


@bp.get("/prets/<int:loan_id>")
@allow(Action.READ, on=(Loan, "loan_id"))
def loan(loan_id: int) -> Any:
    found = loan_detail(db.session, current_user, loan_id)
    form = ReturnForm()
    form.returned_on.data = local_day(utcnow())
    form.version.data = str(found.version)
    return _loan_page(found, form)


@bp.post("/prets/<int:loan_id>/retour")
@allow(Action.EDIT, on=(Loan, "loan_id"))
def give_back(loan_id: int) -> Any:
    found = loan_detail(db.session, current_user, loan_id, Action.EDIT)
    form = ReturnForm()
    if form.validate_on_submit():
        version = sent_version(form)
        try:
            check_in(
                db.session,
                current_user,
                found,
                version,
                returned_on=form.returned_on.data,
                condition=Condition(form.condition_in.data),
                notes=form.return_notes.data or "",
            )
        except ConflictError as exc:
            # Saved by someone else meanwhile: the page again, what was typed kept.
            attach_error(form, exc, "condition_in")
            return _loan_page(loan_detail(db.session, current_user, loan_id), form, 409)
        except LoanError as exc:
            attach_error(form, exc, "condition_in")
        else:
            flash(_("Return recorded."), "success")
            return redirect(url_for("loans.loan", loan_id=found.id))
    return _loan_page(found, form, 422)


def _pdf(body: bytes, name: str) -> Response:
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/prets/<int:loan_id>/convention.pdf")
@allow(Action.EDIT, on=(Loan, "loan_id"))  # it names the family: the school's staff only
def agreement(loan_id: int) -> Response:
    found = loan_detail(db.session, current_user, loan_id, Action.EDIT)
    text = documents.terms_text(db.session, found.collectivite_id)
    return _pdf(documents.agreement_pdf(found, text), f"convention-pret-{found.id}.pdf")


@bp.get("/prets/<int:loan_id>/recu.pdf")
@allow(Action.EDIT, on=(Loan, "loan_id"))
def receipt(loan_id: int) -> Response:
    found = loan_detail(db.session, current_user, loan_id, Action.EDIT)
    return _pdf(documents.receipt_pdf(found), f"recu-retour-{found.id}.pdf")


# -- scanning a kit out or in ---------------------------------------------------------------
def _seen(form: ScanForm) -> list[int]:
    try:
        values = json.loads(form.seen.data or "[]")
    except ValueError:
        return []
    return [v for v in values if isinstance(v, int)][:500] if isinstance(values, list) else []


@bp.route("/prets/kits/<int:kit_id>/scan/<any(sortie,retour):mode>", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Kit, "kit_id"))
def scan(kit_id: int, mode: str) -> Any:
    kit = kit_detail(db.session, current_user, kit_id, Action.EDIT)
    form = ScanForm()
    form.classroom_id.choices = _rooms(kit.ecole)
    seen, stranger = _seen(form), None
    status = 200
    if form.validate_on_submit():
        action = request.form.get("action", "scan")
        if action == "scan":
            seen, stranger = scanning.add_scan(
                db.session, current_user, kit, seen, form.code.data or ""
            )
            form.code.data = ""
        else:
            today = local_day(utcnow())
            try:
                if mode == "sortie":
                    who = Borrower(
                        BorrowerKind.CLASSROOM, classroom_id=form.classroom_id.data or None
                    )
                    made = scanning.check_out_kit(
                        db.session,
                        current_user,
                        kit,
                        seen,
                        who,
                        starts_on=today,
                        due_on=form_day(form.due_on.data) or today,
                    )
                    flash(_("%(n)d items checked out.", n=len(made)), "success")
                else:
                    back, missing = scanning.check_in_kit(
                        db.session,
                        current_user,
                        kit,
                        seen,
                        returned_on=today,
                        missing_lost=bool(form.missing_lost.data),
                    )
                    flash(_("%(n)d items returned, %(m)d missing.", n=back, m=missing), "success")
                return redirect(url_for("loans.kit", kit_id=kit.id))
            except LoanError as exc:
                attach_error(form, exc, "code")
                status = 422
    form.seen.data = json.dumps(seen)
    return (
        render_template(
            "loans/scan.html",
            kit=kit,
            form=form,
            mode=mode,
            count=scanning.count_scan(kit, seen),
            stranger=stranger,
        ),
        status,
    )


@bp.route("/prets/collectivites/<int:collectivite_id>/conditions", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Collectivite, "collectivite_id"))
def terms(collectivite_id: int) -> Any:
    group = policy.load_or_404(current_user, Collectivite, collectivite_id, db.session, Action.EDIT)
    current = documents.terms_of(db.session, group.id)
    form = TermsForm()
    if request.method == "GET":
        form.text.data = current.text if current else documents.default_terms()
        form.version.data = str(current.version) if current else ""
    if form.validate_on_submit():
        version = sent_version(form, None)
        try:
            documents.save_terms(db.session, current_user, group, form.text.data or "", version)
        except ConflictError as exc:
            attach_error(form, exc, "text")
            return render_template("loans/terms.html", group=group, form=form), 409
        except LoanError as exc:
            attach_error(form, exc, "text")
        else:
            flash(_("Conditions saved."), "success")
            return redirect(url_for("loans.terms", collectivite_id=group.id))
    return render_template("loans/terms.html", group=group, form=form)
