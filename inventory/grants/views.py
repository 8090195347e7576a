"""Grant pages under /subventions: dossiers, expenses, payments, documents, the claim file,
reconciliation, and the schemes' administration."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from inventory.assets.lifecycle import STATUS_LABELS as ASSET_STATUS_LABELS
from inventory.assets.works import WORK_STATUS_LABELS
from inventory.core import exporting, policy, uploads
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import claim, services
from inventory.grants.aid import SchemeRules
from inventory.grants.forms import (
    DocumentForm,
    DossierFilterForm,
    DossierForm,
    DossierStartForm,
    ExpenseForm,
    FilterByCollectiviteForm,
    PaymentForm,
    SchemeForm,
    StatusForm,
    VersionForm,
)
from inventory.grants.models import (
    Dossier,
    DossierDocument,
    DossierStatus,
    Expense,
    FundingScheme,
    Payment,
    PaymentKind,
)
from inventory.grants.services import (
    DOCUMENT_KINDS,
    PAYMENT_KIND_LABELS,
    STATUS_LABELS,
    ConflictError,
    GrantError,
)
from inventory.orgs.models import Collectivite, SchoolNature
from inventory.web import allow, attach_error, int_arg, send_private, upload_dir

bp = Blueprint("grants", __name__, url_prefix="/subventions")
# The dossier page holds several forms: prefixes keep their fields' names and ids apart.
STATUS, RULES, PAYMENT, DOCUMENT = "status", "rules", "payment", "document"


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "dossier_status_labels": STATUS_LABELS,
        "payment_kind_labels": PAYMENT_KIND_LABELS,
        "document_kinds": DOCUMENT_KINDS,
    }


def _upload_dir() -> Path:
    return upload_dir("grants")


def _send_stored(path: Path | None, content_type: str, filename: str) -> Response:
    return send_private(
        path, content_type, filename, as_attachment=content_type == "application/pdf"
    )


# -- list ----------------------------------------------------------------------------------
@bp.get("")
@allow(Action.READ)
def dossiers() -> str:
    form = DossierFilterForm(request.args)
    form.status.choices = options(
        [("", _("All statuses")), *((s.value, label) for s, label in STATUS_LABELS.items())]
    )
    colls = services.dossier_collectivites(db.session, current_user)
    form.collectivite.choices = options([(0, _("All")), *((c.id, c.name) for c in colls)])
    status = request.args.get("status", "")
    filters = services.DossierFilters(
        status=DossierStatus(status) if status in DossierStatus._value2member_map_ else None,
        collectivite=int_arg("collectivite"),
    )
    page = services.list_dossiers(
        db.session, current_user, filters, int_arg("page") or 1, current_app.config["PAGE_SIZE"]
    )
    figures = {}
    for d in page.items:
        aid = services.dossier_aid(d)
        figures[d.id] = {
            "spent": sum(e.amount_ttc_cents for e in d.expenses),
            "aid": aid.aid_cents,
            "received": sum(p.received_cents or 0 for p in d.payments),
        }
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "grants/list.html",
        form=form,
        page=page,
        figures=figures,
        args=args,
        may_create=policy.allowed(current_user, Action.FINANCE),
    )


# -- new dossier ---------------------------------------------------------------------------
def _school_rows(
    form: DossierForm, ecoles: list[Any], covered: dict[int, tuple[int, int]], defaults: dict
) -> None:
    # The covered schools first, then the others; nursery schools last.
    ordered = sorted(
        ecoles, key=lambda e: (e.id not in covered, e.nature == SchoolNature.MATERNELLE, e.name)
    )
    for e in ordered:
        classes, pupils = covered.get(e.id) or defaults.get(e.id, (0, 0))
        form.schools.append_entry(
            {
                "ecole_id": str(e.id),
                "covered": e.id in covered,
                "classes": classes,
                "pupils": pupils,
            }
        )


def _planned_rows(form: DossierForm, rules: dict[str, Any], planned: dict[str, int]) -> None:
    for code, _label in services.volets_of(rules):
        form.planned.append_entry({"code": code, "amount": planned.get(code)})


def _dossier_fields(form: DossierForm) -> services.DossierFields:
    return services.DossierFields(
        title=form.title.data or "",
        reference=form.reference.data,
        convention_max_cents=form.convention_max.data,
        decision_on=form.decision_on.data,
        convention_signed_on=form.convention_signed_on.data,
        spending_deadline=form.spending_deadline.data,
        planned_cents={
            row.form.code.data: row.form.amount.data
            for row in form.planned
            if row.form.amount.data is not None
        },
    )


def _covers(form: DossierForm) -> list[services.SchoolCover]:
    out = []
    for row in form.schools:
        f = row.form
        if f.covered.data and str(f.ecole_id.data).isdigit():
            out.append(services.SchoolCover(int(f.ecole_id.data), f.classes.data, f.pupils.data))
    return out


@bp.route("/nouveau", methods=["GET", "POST"])
@allow(Action.FINANCE)
def new_dossier() -> str | Response | tuple[str, int]:
    colls = services.finance_collectivites(db.session, current_user)
    schemes = services.schemes(db.session, active_only=True)
    coll_id = int_arg("collectivite") or (colls[0].id if len(colls) == 1 else None)
    scheme_id = int_arg("scheme") or (schemes[0].id if len(schemes) == 1 else None)
    scheme = next((s for s in schemes if s.id == scheme_id), None)
    if coll_id is None or scheme is None:
        start = DossierStartForm(request.args)
        start.collectivite.choices = options([(c.id, c.name) for c in colls])
        start.scheme.choices = options([(s.id, s.name) for s in schemes])
        return render_template(
            "grants/dossier_start.html", start=start, colls=colls, schemes=schemes
        )
    coll = policy.load_or_404(current_user, Collectivite, coll_id, db.session, Action.FINANCE)
    ecoles = services.schools_of_collectivite(db.session, current_user, coll)
    defaults = services.school_defaults(db.session, [e.id for e in ecoles])
    form = DossierForm()
    status = 200
    if request.method == "GET":
        _school_rows(
            form,
            ecoles,
            {e.id: defaults[e.id] for e in ecoles} if len(ecoles) == 1 else {},
            defaults,
        )
        _planned_rows(form, scheme.rules, {})
        # The convention usually ends spending with the scheme's window.
        form.spending_deadline.data = services.SchemeDates.of(scheme.rules).spending_to
    elif form.validate_on_submit():
        try:
            dossier = services.create_dossier(
                db.session,
                current_user,
                collectivite=coll,
                scheme=scheme,
                fields=_dossier_fields(form),
                schools=_covers(form),
            )
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "title", {"schools": "schools", "scheme": "title"})
            status = 422
        else:
            flash(_("Dossier «%(title)s» created.", title=dossier.title), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id))
    else:
        status = 422
    return render_template(
        "grants/dossier_form.html",
        form=form,
        coll=coll,
        scheme=scheme,
        rules=scheme.rules,
        dossier=None,
        schools={e.id: e for e in ecoles},
        action=url_for("grants.new_dossier", collectivite=coll.id, scheme=scheme.id),
        error=None,
    ), status


# -- dossier page --------------------------------------------------------------------------
def _dossier_page(
    dossier_id: int,
    *,
    status_form: StatusForm | None = None,
    payment_form: PaymentForm | None = None,
    document_form: DocumentForm | None = None,
    error: str | None = None,
    ask_over_aid: bool = False,
) -> str:
    dossier = services.dossier_detail(db.session, current_user, dossier_id)
    summary = services.dossier_summary(dossier)
    changed = services.scheme_changed(dossier)
    may_finance = policy.can(current_user, Action.FINANCE, dossier, db.session)
    status_form = status_form or StatusForm(prefix=STATUS)
    status_form.status.choices = options(
        (s.value, STATUS_LABELS[s]) for s in services.next_statuses(dossier)
    )
    status_form.version.data = dossier.version
    apply_form = VersionForm(prefix=RULES)
    apply_form.version.data = dossier.version
    return render_template(
        "grants/dossier.html",
        dossier=dossier,
        summary=summary,
        preview=services.dossier_summary(dossier, dossier.scheme.rules) if changed else None,
        scheme_changed=changed,
        may_finance=may_finance,
        may_export=policy.allowed(current_user, Action.EXPORT),
        status_form=status_form,
        apply_form=apply_form,
        payment_form=payment_form or PaymentForm(prefix=PAYMENT),
        document_form=document_form or DocumentForm(prefix=DOCUMENT),
        delete_form=VersionForm(),
        volet_labels=dict(services.volets_of(dossier.rules)),
        history=services.dossier_history(db.session, current_user, dossier),
        error=error,
        asset_status_labels=ASSET_STATUS_LABELS,
        work_status_labels=WORK_STATUS_LABELS,
        ask_over_aid=ask_over_aid or bool(payment_form and payment_form.over_aid_confirmed.data),
        today=date.today(),
        window=services.window_text(summary.rules) if summary.rules else "",
    )


@bp.get("/<int:dossier_id>")
@allow(Action.READ, on=(Dossier, "dossier_id"))
def dossier(dossier_id: int) -> str:
    return _dossier_page(dossier_id)


def _load_finance(dossier_id: int) -> Dossier:
    return services.dossier_detail(db.session, current_user, dossier_id, Action.FINANCE)


@bp.route("/<int:dossier_id>/modifier", methods=["GET", "POST"])
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def edit_dossier(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = _load_finance(dossier_id)
    coll = dossier.collectivite
    ecoles = services.schools_of_collectivite(db.session, current_user, coll)
    defaults = services.school_defaults(db.session, [e.id for e in ecoles])
    form = DossierForm()
    status = 200
    error = None
    if request.method == "GET":
        form.version.data = dossier.version
        for name in (
            "title",
            "reference",
            "decision_on",
            "convention_signed_on",
            "spending_deadline",
        ):
            form[name].data = getattr(dossier, name)
        form.convention_max.data = dossier.convention_max_cents
        covered = {s.ecole_id: (s.classes, s.pupils) for s in dossier.schools}
        _school_rows(form, ecoles, covered, defaults)
        _planned_rows(form, dossier.rules, dossier.planned_cents or {})
    elif form.validate_on_submit():
        try:
            services.update_dossier(
                db.session,
                current_user,
                dossier,
                version=form.version.data,
                fields=_dossier_fields(form),
                schools=_covers(form),
            )
        except ConflictError as exc:
            db.session.rollback()
            dossier = _load_finance(dossier_id)
            error = str(exc.message)
            form.version.data = dossier.version  # the next save is made knowingly
            status = 409
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
            status = 422
        else:
            flash(_("Dossier saved."), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id))
    else:
        status = 422
    return render_template(
        "grants/dossier_form.html",
        form=form,
        coll=coll,
        scheme=dossier.scheme,
        rules=dossier.rules,
        dossier=dossier,
        schools={e.id: e for e in ecoles},
        action=url_for("grants.edit_dossier", dossier_id=dossier.id),
        error=error,
    ), status


@bp.post("/<int:dossier_id>/statut")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def change_status(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load_finance(dossier_id)
    form = StatusForm(prefix=STATUS)
    form.status.choices = options((s.value, STATUS_LABELS[s]) for s in DossierStatus)
    if not form.validate_on_submit():
        return _dossier_page(dossier_id, status_form=form), 422
    try:
        services.change_dossier_status(
            db.session,
            current_user,
            dossier,
            DossierStatus(form.status.data),
            version=form.version.data,
        )
    except ConflictError as exc:
        db.session.rollback()
        return _dossier_page(dossier_id, error=str(exc.message)), 409
    except GrantError as exc:
        db.session.rollback()
        return _dossier_page(dossier_id, error=str(exc.message)), 422
    flash(_("The dossier is now %(status)s.", status=STATUS_LABELS[dossier.status]), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier.id))


@bp.post("/<int:dossier_id>/regles")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def apply_rules(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load_finance(dossier_id)
    form = VersionForm(prefix=RULES)
    if not form.validate_on_submit():
        return _dossier_page(dossier_id), 422
    try:
        services.apply_current_rules(db.session, current_user, dossier, version=form.version.data)
    except ConflictError as exc:
        db.session.rollback()
        return _dossier_page(dossier_id, error=str(exc.message)), 409
    flash(
        _(
            "The current rules of the scheme (version %(version)s) now apply to this dossier.",
            version=dossier.scheme_version,
        ),
        "success",
    )
    return redirect(url_for("grants.dossier", dossier_id=dossier.id))


# -- expenses ------------------------------------------------------------------------------
def _expense_form_page(
    form: ExpenseForm, dossier: Dossier, expense: Expense | None, status: int, error: str | None
) -> tuple[str, int]:
    candidates = services.link_candidates(db.session, current_user, dossier)
    window = services.window_text(SchemeRules.from_data(dossier.rules))
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
    candidates = services.link_candidates(db.session, current_user, dossier)
    # The items this invoice paid for first, then the others.
    ordered = sorted(candidates, key=lambda c: c.key not in linked)
    for c in ordered:
        form.links.append_entry(
            {"item": c.key, "chosen": c.key in linked, "amount": linked.get(c.key)}
        )


def _expense_inputs(
    form: ExpenseForm,
) -> tuple[services.ExpenseFields, list[services.AllocationInput], list[services.LinkInput]]:
    fields = services.ExpenseFields(
        volet=form.volet.data or "",
        supplier=form.supplier.data or "",
        invoice_number=form.invoice_number.data or "",
        invoice_date=form.invoice_date.data,
        description=form.description.data,
        amount_ht_cents=form.amount_ht.data,
        amount_ttc_cents=form.amount_ttc.data,
    )
    allocations = [
        services.AllocationInput(
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
                services.LinkInput(
                    "asset" if kind == "a" else "work", int(ref), row.form.amount.data
                )
            )
    return fields, allocations, links


def _flash_saved(expense: Expense, message: str) -> None:
    """The invoice is saved; say so, and why it counts for no aid if its date is out."""
    problem = services.ineligible_expenses(expense.dossier).get(expense.id)
    if problem is None:
        flash(message, "success")
        return
    rules = SchemeRules.from_data(expense.dossier.rules)
    reason = services.date_reason(rules, problem, expense.invoice_date)
    flash(
        _(
            "%(saved)s It counts for no aid and is not claimed: %(reason)s.",
            saved=message,
            reason=reason,
        ),
        "warning",
    )


def _upload(form: ExpenseForm) -> services.Upload | None:
    file = form.invoice_file.data
    if not file or not getattr(file, "filename", ""):
        return None
    return services.Upload(file.filename, file.read(services.MAX_FILE_BYTES + 1))


@bp.route("/<int:dossier_id>/depenses/nouvelle", methods=["GET", "POST"])
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def new_expense(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = _load_finance(dossier_id)
    form = ExpenseForm()
    form.volet.choices = options(services.volets_of(dossier.rules))
    if request.method == "GET":
        _fill_expense_rows(form, dossier, None)
        return _expense_form_page(form, dossier, None, 200, None)
    if form.validate_on_submit():
        try:
            fields, allocations, links = _expense_inputs(form)
            expense = services.add_expense(
                db.session,
                current_user,
                dossier,
                fields,
                allocations=allocations,
                links=links,
                invoice=_upload(form),
                upload_dir=_upload_dir(),
            )
        except (GrantError, uploads.UploadError) as exc:
            db.session.rollback()
            dossier = _load_finance(dossier_id)
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
    expense = services.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    dossier = expense.dossier
    form = ExpenseForm()
    form.volet.choices = options(services.volets_of(dossier.rules))
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
            services.update_expense(
                db.session,
                current_user,
                expense,
                version=form.version.data,
                fields=fields,
                allocations=allocations,
                links=links,
                invoice=_upload(form),
                upload_dir=_upload_dir(),
            )
        except ConflictError as exc:
            db.session.rollback()
            expense = services.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
            form.version.data = expense.version  # the next save is made knowingly
            return _expense_form_page(form, expense.dossier, expense, 409, str(exc.message))
        except (GrantError, uploads.UploadError) as exc:
            db.session.rollback()
            expense = services.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
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
    expense = services.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    dossier_id = expense.dossier_id
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.delete_expense(
            db.session, current_user, expense, version=form.version.data, upload_dir=_upload_dir()
        )
    except ConflictError as exc:
        db.session.rollback()
        return _dossier_page(dossier_id, error=str(exc.message)), 409
    except GrantError as exc:
        db.session.rollback()
        return _dossier_page(dossier_id, error=str(exc.message)), 422
    flash(_("Invoice deleted."), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier_id) + "#depenses")


@bp.get("/depenses/<int:expense_id>/facture")
@allow(Action.READ, on=(Expense, "expense_id"))
def expense_invoice(expense_id: int) -> Response:
    expense = policy.load_or_404(current_user, Expense, expense_id, db.session)
    path = uploads.path_of(_upload_dir(), expense.stored_name)
    return _send_stored(
        path,
        uploads.content_type_of(expense.stored_name or ""),
        expense.filename or (expense.stored_name or ""),
    )


# -- payments ------------------------------------------------------------------------------
def _payment_fields(form: PaymentForm) -> services.PaymentFields:
    kind = form.kind.data or ""
    return services.PaymentFields(
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
    dossier = _load_finance(dossier_id)
    form = PaymentForm(prefix=PAYMENT)
    ask = False
    if form.validate_on_submit():
        try:
            services.record_payment(db.session, current_user, dossier, _payment_fields(form))
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "kind")
            ask = isinstance(exc, services.OverAidError)
        else:
            flash(_("Payment recorded."), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#versements")
    return _dossier_page(dossier_id, payment_form=form, ask_over_aid=ask), 422


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
            services.update_payment(db.session, current_user, payment, _payment_fields(form))
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "kind")
            ask = ask or isinstance(exc, services.OverAidError)
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
        services.delete_payment(db.session, current_user, payment)
    except GrantError as exc:
        db.session.rollback()
        return _dossier_page(dossier_id, error=str(exc.message)), 422
    flash(_("Payment deleted."), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier_id) + "#versements")


# -- documents -----------------------------------------------------------------------------
@bp.post("/<int:dossier_id>/documents")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def add_document(dossier_id: int) -> Response | tuple[str, int]:
    dossier = _load_finance(dossier_id)
    form = DocumentForm(prefix=DOCUMENT)
    if form.validate_on_submit():
        file = form.file.data
        upload = services.Upload(file.filename or "", file.read(services.MAX_FILE_BYTES + 1))
        try:
            services.add_document(
                db.session, current_user, dossier, form.kind.data or "", upload, _upload_dir()
            )
        except (GrantError, uploads.UploadError) as exc:
            db.session.rollback()
            attach_error(form, exc, "file")
        else:
            flash(_("Document added."), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#documents")
    return _dossier_page(dossier_id, document_form=form), 422


@bp.get("/documents/<int:document_id>")
@allow(Action.READ, on=(DossierDocument, "document_id"))
def document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, DossierDocument, document_id, db.session)
    path = uploads.path_of(_upload_dir(), doc.stored_name)
    return _send_stored(path, doc.content_type, doc.filename)


@bp.post("/documents/<int:document_id>/supprimer")
@allow(Action.FINANCE, on=(DossierDocument, "document_id"))
def delete_document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, DossierDocument, document_id, db.session, Action.FINANCE)
    dossier_id = doc.dossier_id
    if not VersionForm().validate_on_submit():
        abort(400)
    services.delete_document(db.session, current_user, doc, _upload_dir())
    flash(_("Document deleted."), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier_id) + "#documents")


# -- claim file and exports ----------------------------------------------------------------
def _filename(dossier: Dossier, suffix: str) -> str:
    ref = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (dossier.reference or ""))
    return f"demande-de-versement-{ref or dossier.id}.{suffix}"


@bp.get("/<int:dossier_id>/demande-de-versement.pdf")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def claim_pdf(dossier_id: int) -> Response:
    dossier = services.dossier_detail(db.session, current_user, dossier_id, Action.EXPORT)
    data = claim.claim_pdf(
        dossier,
        services.dossier_summary(dossier),
        services.item_rows(dossier, claimed_only=True),
    )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(dossier, "pdf")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _export(dossier_id: int, fmt: str) -> Response:
    dossier = services.dossier_detail(db.session, current_user, dossier_id, Action.EXPORT)
    headers, rows = claim.expense_table(dossier)
    item_headers, item_rows = claim.item_table(dossier)
    return exporting.download(
        fmt,
        _filename(dossier, fmt),
        headers,
        rows,
        sheet_title=_("Expenses"),
        extra_sheets=[exporting.Sheet(_("Items"), item_headers, item_rows)],
    )


@bp.get("/<int:dossier_id>/depenses.csv")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def expenses_csv(dossier_id: int) -> Response:
    return _export(dossier_id, exporting.CSV)


@bp.get("/<int:dossier_id>/depenses.xlsx")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def expenses_xlsx(dossier_id: int) -> Response:
    return _export(dossier_id, exporting.XLSX)


# -- reconciliation ------------------------------------------------------------------------
@bp.get("/rapprochement")
@allow(Action.READ)
def reconciliation() -> str:
    form = FilterByCollectiviteForm(request.args)
    colls = list(
        db.session.scalars(
            policy.visible(current_user, select(Collectivite), Collectivite)
            .where(Collectivite.ecoles.any())
            .order_by(Collectivite.name)
            .limit(500)
        )
    )
    form.collectivite.choices = options([(0, _("All")), *((c.id, c.name) for c in colls)])
    report = services.reconciliation(db.session, current_user, collectivite=int_arg("collectivite"))
    return render_template(
        "grants/reconciliation.html",
        form=form,
        report=report,
        asset_status_labels=ASSET_STATUS_LABELS,
        work_status_labels=WORK_STATUS_LABELS,
        deadline_days=services.DEADLINE_DAYS,
    )


# -- schemes -------------------------------------------------------------------------------
@bp.get("/dispositifs")
@allow(Action.ADMIN)
def schemes() -> str:
    schemes = services.schemes(db.session)
    return render_template(
        "grants/schemes.html",
        schemes=schemes,
        scheme_dates={s.id: services.SchemeDates.of(s.rules) for s in schemes},
        install_form=VersionForm(),
    )


@bp.post("/dispositifs/installer")
@allow(Action.ADMIN)
def install_presets() -> Response:
    if not VersionForm().validate_on_submit():
        abort(400)
    created = services.install_presets(db.session)
    if created:
        flash(_("Installed: %(codes)s.", codes=", ".join(created)), "success")
    else:
        flash(_("The shipped schemes were already installed."), "success")
    return redirect(url_for("grants.schemes"))


def _scheme_page(form: SchemeForm, scheme: FundingScheme | None, status: int) -> tuple[str, int]:
    return render_template("grants/scheme_form.html", form=form, scheme=scheme), status


def _save_scheme(form: SchemeForm, scheme: FundingScheme | None) -> FundingScheme:
    fields = services.SchemeFields(
        code=form.code.data or "",
        name=form.name.data or "",
        note=form.note.data,
        funding_mention=form.funding_mention.data,
        active=bool(form.active.data),
    )
    dates = services.SchemeDates(
        spending_from=form.spending_from.data,
        spending_to=form.spending_to.data,
        claim_deadline=form.claim_deadline.data,
    )
    rules = services.parse_rules(form.rules.data or "")
    return services.save_scheme(db.session, current_user, scheme, fields, rules, dates)


def _scheme_view(scheme: FundingScheme | None) -> str | Response | tuple[str, int]:
    form = SchemeForm()
    if request.method == "GET":
        if scheme is not None:
            for name in ("code", "name", "note", "funding_mention", "active"):
                form[name].data = getattr(scheme, name)
            dates = services.SchemeDates.of(scheme.rules)
            form.spending_from.data = dates.spending_from
            form.spending_to.data = dates.spending_to
            form.claim_deadline.data = dates.claim_deadline
            form.rules.data = json.dumps(
                services.rules_without_dates(scheme.rules), indent=2, ensure_ascii=False
            )
        else:
            form.rules.data = json.dumps(
                {
                    "vat_included": True,
                    "volets": [
                        {
                            "code": "equipement",
                            "label": "Équipement",
                            "tiers": [{"rate": "0.50", "up_to_cents": None}],
                        }
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        return _scheme_page(form, scheme, 200)
    if form.validate_on_submit():
        before = scheme.version if scheme is not None else None
        try:
            saved = _save_scheme(form, scheme)
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "rules")
        else:
            if before is not None and saved.version != before:
                flash(
                    _(
                        "Scheme saved; its rules are now version %(version)s. Existing dossiers "
                        "keep their rules until someone applies the new ones.",
                        version=saved.version,
                    ),
                    "success",
                )
            else:
                flash(_("Scheme saved."), "success")
            return redirect(url_for("grants.schemes"))
    return _scheme_page(form, scheme, 422)


@bp.route("/dispositifs/nouveau", methods=["GET", "POST"])
@allow(Action.ADMIN)
def new_scheme() -> str | Response | tuple[str, int]:
    return _scheme_view(None)


@bp.route("/dispositifs/<int:scheme_id>", methods=["GET", "POST"])
@allow(Action.ADMIN, on=(FundingScheme, "scheme_id"))
def edit_scheme(scheme_id: int) -> str | Response | tuple[str, int]:
    scheme = policy.load_or_404(current_user, FundingScheme, scheme_id, db.session, Action.ADMIN)
    return _scheme_view(scheme)


@bp.route("/dispositifs/<int:scheme_id>/referentiel", methods=["GET", "POST"])
@allow(Action.ADMIN, on=(FundingScheme, "scheme_id"))
def scheme_referentiel(scheme_id: int) -> str | Response:
    """The socle référentiel a scheme sets (its requirements are edited on its page)."""
    from inventory.assets.referentiels import all_referentiels
    from inventory.grants import referentiels
    from inventory.grants.forms import SchemeReferentielForm

    scheme = policy.load_or_404(current_user, FundingScheme, scheme_id, db.session, Action.ADMIN)
    form = SchemeReferentielForm()
    choices = all_referentiels(db.session)
    form.referentiel.choices = options([(0, _("None")), *((r.id, r.name) for r in choices)])
    if request.method == "GET":
        form.referentiel.data = scheme.referentiel_id or 0
    elif form.validate_on_submit():
        referentiels.set_referentiel(
            db.session, current_user, scheme, form.referentiel.data or None
        )
        flash(_("Scheme saved."), "success")
        return redirect(url_for("grants.edit_scheme", scheme_id=scheme.id))
    return render_template(
        "grants/scheme_referentiel.html", scheme=scheme, form=form, referentiels=choices
    )
