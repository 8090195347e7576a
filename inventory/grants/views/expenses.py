"""The expenses' pages: record, edit and delete an invoice, split over the covered schools
and linked to the items it paid for; its file."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import policy, uploads
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import expenses
from inventory.grants import schemes as funding
from inventory.grants.aid import SchemeRules
from inventory.grants.common import MAX_FILE_BYTES, ConflictError, GrantError, Upload
from inventory.grants.forms import ExpenseForm, VersionForm
from inventory.grants.links import LinkInput, link_candidates
from inventory.grants.models import Dossier, Expense
from inventory.grants.views.blueprint import bp, grant_files, send_stored
from inventory.grants.views.dossiers import dossier_page, load_finance
from inventory.web import allow, attach_error


# -- expenses ------------------------------------------------------------------------------
def _expense_form_page(
    form: ExpenseForm, dossier: Dossier, expense: Expense | None, status: int, error: str | None
) -> tuple[str, int]:
    candidates = link_candidates(db.session, current_user, dossier)
    window = funding.window_text(SchemeRules.from_data(dossier.rules))
    if window:
        form.invoice_date.description = _(
            "The scheme pays for invoices dated %(window)s; any other date counts for no aid.",
            window=window,
        )
    return render_template(
        "grants/expense_form.html",
        form=form,
        dossier=dossier,
        expense=expense,
        candidates={c.key: c for c in candidates},
        schools={s.ecole_id: s.ecole for s in dossier.schools},
        error=error,
        delete_form=VersionForm(),
    ), status


def _fill_expense_rows(form: ExpenseForm, dossier: Dossier, expense: Expense | None) -> None:
    allocated = {a.ecole_id: a for a in expense.allocations} if expense else {}
    for s in dossier.schools:
        a = allocated.get(s.ecole_id)
        form.allocations.append_entry(
            {
                "ecole_id": str(s.ecole_id),
                "amount_ht": a.amount_ht_cents if a else None,
                "amount_ttc": a.amount_ttc_cents if a else None,
            }
        )
    linked = {}
    if expense:
        for link in expense.links:
            key = f"a:{link.asset_id}" if link.asset_id else f"w:{link.work_id}"
            linked[key] = link.amount_cents
    candidates = link_candidates(db.session, current_user, dossier)
    # The items this invoice paid for first, then the others.
    ordered = sorted(candidates, key=lambda c: c.key not in linked)
    for c in ordered:
        form.links.append_entry(
            {"item": c.key, "chosen": c.key in linked, "amount": linked.get(c.key)}
        )


def _expense_inputs(
    form: ExpenseForm,
) -> tuple[expenses.ExpenseFields, list[expenses.AllocationInput], list[LinkInput]]:
    fields = expenses.ExpenseFields(
        volet=form.volet.data or "",
        supplier=form.supplier.data or "",
        invoice_number=form.invoice_number.data or "",
        invoice_date=form.invoice_date.data,
        description=form.description.data,
        amount_ht_cents=form.amount_ht.data,
        amount_ttc_cents=form.amount_ttc.data,
    )
    allocations = [
        expenses.AllocationInput(
            int(row.form.ecole_id.data), row.form.amount_ht.data, row.form.amount_ttc.data
        )
        for row in form.allocations
        if str(row.form.ecole_id.data).isdigit()
    ]
    links = []
    for row in form.links:
        kind, _sep, ref = str(row.form.item.data or "").partition(":")
        if row.form.chosen.data and kind in ("a", "w") and ref.isdigit():
            links.append(
                LinkInput("asset" if kind == "a" else "work", int(ref), row.form.amount.data)
            )
    return fields, allocations, links


def _flash_saved(expense: Expense, message: str) -> None:
    """The invoice is saved; say so, and why it counts for no aid if its date is out."""
    problem = expenses.ineligible_expenses(expense.dossier).get(expense.id)
    if problem is None:
        flash(message, "success")
        return
    rules = SchemeRules.from_data(expense.dossier.rules)
    reason = funding.date_reason(rules, problem, expense.invoice_date)
    flash(
        _(
            "%(saved)s It counts for no aid and is not claimed: %(reason)s.",
            saved=message,
            reason=reason,
        ),
        "warning",
    )


def _upload(form: ExpenseForm) -> Upload | None:
    file = form.invoice_file.data
    if not file or not getattr(file, "filename", ""):
        return None
    return Upload(file.filename, file.read(MAX_FILE_BYTES + 1))


@bp.route("/<int:dossier_id>/depenses/nouvelle", methods=["GET", "POST"])
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def new_expense(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = load_finance(dossier_id)
    form = ExpenseForm()
    form.volet.choices = options(funding.volets_of(dossier.rules))
    if request.method == "GET":
        _fill_expense_rows(form, dossier, None)
        return _expense_form_page(form, dossier, None, 200, None)
    if form.validate_on_submit():
        try:
            fields, allocations, links = _expense_inputs(form)
            expense = expenses.add_expense(
                db.session,
                current_user,
                dossier,
                fields,
                allocations=allocations,
                links=links,
                invoice=_upload(form),
                upload_dir=grant_files(),
            )
        except (GrantError, uploads.UploadError) as exc:
            db.session.rollback()
            dossier = load_finance(dossier_id)
            if exc.field is None:
                return _expense_form_page(form, dossier, None, 422, str(exc.message))
            attach_error(form, exc, "supplier")
        else:
            _flash_saved(expense, _("Invoice %(number)s recorded.", number=expense.invoice_number))
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#depenses")
    return _expense_form_page(form, dossier, None, 422, None)


@bp.route("/depenses/<int:expense_id>", methods=["GET", "POST"])
@allow(Action.FINANCE, on=(Expense, "expense_id"))
def edit_expense(expense_id: int) -> str | Response | tuple[str, int]:
    expense = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    dossier = expense.dossier
    form = ExpenseForm()
    form.volet.choices = options(funding.volets_of(dossier.rules))
    if request.method == "GET":
        form.version.data = expense.version
        for name in ("volet", "supplier", "invoice_number", "invoice_date", "description"):
            form[name].data = getattr(expense, name)
        form.amount_ht.data = expense.amount_ht_cents
        form.amount_ttc.data = expense.amount_ttc_cents
        _fill_expense_rows(form, dossier, expense)
        return _expense_form_page(form, dossier, expense, 200, None)
    if form.validate_on_submit():
        try:
            fields, allocations, links = _expense_inputs(form)
            expenses.update_expense(
                db.session,
                current_user,
                expense,
                version=form.version.data,
                fields=fields,
                allocations=allocations,
                links=links,
                invoice=_upload(form),
                upload_dir=grant_files(),
            )
        except ConflictError as exc:
            db.session.rollback()
            expense = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
            form.version.data = expense.version  # the next save is made knowingly
            return _expense_form_page(form, expense.dossier, expense, 409, str(exc.message))
        except (GrantError, uploads.UploadError) as exc:
            db.session.rollback()
            expense = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
            if exc.field is None:
                return _expense_form_page(form, expense.dossier, expense, 422, str(exc.message))
            attach_error(form, exc, "supplier")
        else:
            _flash_saved(expense, _("Invoice %(number)s saved.", number=expense.invoice_number))
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#depenses")
    return _expense_form_page(form, expense.dossier, expense, 422, None)


@bp.post("/depenses/<int:expense_id>/supprimer")
@allow(Action.FINANCE, on=(Expense, "expense_id"))
def delete_expense(expense_id: int) -> Response | tuple[str, int]:
    expense = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    dossier_id = expense.dossier_id
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        expenses.delete_expense(
            db.session, current_user, expense, version=form.version.data, upload_dir=grant_files()
        )
    except ConflictError as exc:
        db.session.rollback()
        return dossier_page(dossier_id, error=str(exc.message)), 409
    except GrantError as exc:
        db.session.rollback()
        return dossier_page(dossier_id, error=str(exc.message)), 422
    flash(_("Invoice deleted."), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier_id) + "#depenses")


@bp.get("/depenses/<int:expense_id>/facture")
@allow(Action.READ, on=(Expense, "expense_id"))
def expense_invoice(expense_id: int) -> Response:
    expense = policy.load_or_404(current_user, Expense, expense_id, db.session)
    return send_stored(
        expense.stored_name,
        uploads.content_type_of(expense.stored_name or ""),
        expense.filename or (expense.stored_name or ""),
    )
