"""The dossiers' pages: the list, a new dossier, the dossier's page (its summary and the
forms it holds), its edit, its status and the scheme's current rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets.lifecycle import STATUS_LABELS as ASSET_STATUS_LABELS
from inventory.assets.works import WORK_STATUS_LABELS
from inventory.core import policy, saved_filters, sorting
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import schemes as funding
from inventory.grants.breakdown import dossier_aid, dossier_summary, scheme_changed
from inventory.grants.common import ConflictError, GrantError
from inventory.grants.dossiers import (
    DOSSIER_SORT,
    STATUS_LABELS,
    DossierFields,
    DossierFilters,
    SchoolCover,
    apply_current_rules,
    change_dossier_status,
    create_dossier,
    dossier_collectivites,
    dossier_detail,
    dossier_history,
    finance_collectivites,
    list_dossiers,
    next_statuses,
    school_defaults,
    schools_of_collectivite,
    update_dossier,
)
from inventory.grants.forms import (
    DocumentForm,
    DossierFilterForm,
    DossierForm,
    DossierStartForm,
    PaymentForm,
    StatusForm,
    VersionForm,
)
from inventory.grants.models import Dossier, DossierStatus
from inventory.grants.views.blueprint import DOCUMENT, PAYMENT, RULES, STATUS, bp
from inventory.orgs.models import Collectivite, SchoolNature
from inventory.web import allow, attach_error, int_arg


# -- list ----------------------------------------------------------------------------------
@bp.get("")
@allow(Action.READ)
def dossiers() -> str:
    form = DossierFilterForm(request.args)
    form.status.choices = options(
        [("", _("All statuses")), *((s.value, label) for s, label in STATUS_LABELS.items())]
    )
    colls = dossier_collectivites(db.session, current_user)
    form.collectivite.choices = options([(0, _("All")), *((c.id, c.name) for c in colls)])
    status = request.args.get("status", "")
    filters = DossierFilters(
        status=DossierStatus(status) if status in DossierStatus._value2member_map_ else None,
        collectivite=int_arg("collectivite"),
    )
    sort = DOSSIER_SORT.read(request.args.get("sort"))
    page = list_dossiers(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
        sort,
    )
    figures = {}
    for d in page.items:
        aid = dossier_aid(d)
        figures[d.id] = {
            "spent": sum(e.amount_ttc_cents for e in d.expenses),
            "aid": aid.aid_cents,
            "received": sum(p.received_cents or 0 for p in d.payments),
        }
    args = {k: v for k, v in request.args.items() if k not in {"page", "filter_name"} and v}
    return render_template(
        "grants/list.html",
        form=form,
        page=page,
        figures=figures,
        args=args,
        headers=sorting.headers(DOSSIER_SORT, sort),
        saved=saved_filters.filters_of(db.session, current_user, "dossiers"),
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
    for code, _label in funding.volets_of(rules):
        form.planned.append_entry({"code": code, "amount": planned.get(code)})


def _dossier_fields(form: DossierForm) -> DossierFields:
    return DossierFields(
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


def _covers(form: DossierForm) -> list[SchoolCover]:
    out = []
    for row in form.schools:
        f = row.form
        if f.covered.data and str(f.ecole_id.data).isdigit():
            out.append(SchoolCover(int(f.ecole_id.data), f.classes.data, f.pupils.data))
    return out


@bp.route("/nouveau", methods=["GET", "POST"])
@allow(Action.FINANCE)
def new_dossier() -> str | Response | tuple[str, int]:
    colls = finance_collectivites(db.session, current_user)
    schemes = funding.schemes(db.session, active_only=True)
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
    ecoles = schools_of_collectivite(db.session, current_user, coll)
    defaults = school_defaults(db.session, [e.id for e in ecoles])
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
        form.spending_deadline.data = funding.SchemeDates.of(scheme.rules).spending_to
    elif form.validate_on_submit():
        try:
            dossier = create_dossier(
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
def dossier_page(
    dossier_id: int,
    *,
    status_form: StatusForm | None = None,
    payment_form: PaymentForm | None = None,
    document_form: DocumentForm | None = None,
    error: str | None = None,
    ask_over_aid: bool = False,
) -> str:
    """The dossier's page; a refused post shows its form filled again (status, payment or
    document), or its error above the page."""
    dossier = dossier_detail(db.session, current_user, dossier_id)
    summary = dossier_summary(dossier)
    changed = scheme_changed(dossier)
    may_finance = policy.can(current_user, Action.FINANCE, dossier, db.session)
    status_form = status_form or StatusForm(prefix=STATUS)
    status_form.status.choices = options(
        (s.value, STATUS_LABELS[s]) for s in next_statuses(dossier)
    )
    status_form.version.data = dossier.version
    apply_form = VersionForm(prefix=RULES)
    apply_form.version.data = dossier.version
    return render_template(
        "grants/dossier.html",
        dossier=dossier,
        summary=summary,
        preview=dossier_summary(dossier, dossier.scheme.rules) if changed else None,
        scheme_changed=changed,
        may_finance=may_finance,
        may_export=policy.allowed(current_user, Action.EXPORT),
        status_form=status_form,
        apply_form=apply_form,
        payment_form=payment_form or PaymentForm(prefix=PAYMENT),
        document_form=document_form or DocumentForm(prefix=DOCUMENT),
        delete_form=VersionForm(),
        volet_labels=dict(funding.volets_of(dossier.rules)),
        history=dossier_history(db.session, current_user, dossier),
        error=error,
        asset_status_labels=ASSET_STATUS_LABELS,
        work_status_labels=WORK_STATUS_LABELS,
        ask_over_aid=ask_over_aid or bool(payment_form and payment_form.over_aid_confirmed.data),
        today=date.today(),
        window=funding.window_text(summary.rules) if summary.rules else "",
    )


@bp.get("/<int:dossier_id>")
@allow(Action.READ, on=(Dossier, "dossier_id"))
def dossier(dossier_id: int) -> str:
    return dossier_page(dossier_id)


def load_finance(dossier_id: int) -> Dossier:
    """The dossier with everything its page shows, for a finance write (404 otherwise)."""
    return dossier_detail(db.session, current_user, dossier_id, Action.FINANCE)


@bp.route("/<int:dossier_id>/modifier", methods=["GET", "POST"])
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def edit_dossier(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = load_finance(dossier_id)
    coll = dossier.collectivite
    ecoles = schools_of_collectivite(db.session, current_user, coll)
    defaults = school_defaults(db.session, [e.id for e in ecoles])
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
            update_dossier(
                db.session,
                current_user,
                dossier,
                version=form.version.data,
                fields=_dossier_fields(form),
                schools=_covers(form),
            )
        except ConflictError as exc:
            db.session.rollback()
            dossier = load_finance(dossier_id)
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
    dossier = load_finance(dossier_id)
    form = StatusForm(prefix=STATUS)
    form.status.choices = options((s.value, STATUS_LABELS[s]) for s in DossierStatus)
    if not form.validate_on_submit():
        return dossier_page(dossier_id, status_form=form), 422
    try:
        change_dossier_status(
            db.session,
            current_user,
            dossier,
            DossierStatus(form.status.data),
            version=form.version.data,
        )
    except ConflictError as exc:
        db.session.rollback()
        return dossier_page(dossier_id, error=str(exc.message)), 409
    except GrantError as exc:
        db.session.rollback()
        return dossier_page(dossier_id, error=str(exc.message)), 422
    flash(_("The dossier is now %(status)s.", status=STATUS_LABELS[dossier.status]), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier.id))


@bp.post("/<int:dossier_id>/regles")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def apply_rules(dossier_id: int) -> Response | tuple[str, int]:
    dossier = load_finance(dossier_id)
    form = VersionForm(prefix=RULES)
    if not form.validate_on_submit():
        return dossier_page(dossier_id), 422
    try:
        apply_current_rules(db.session, current_user, dossier, version=form.version.data)
    except ConflictError as exc:
        db.session.rollback()
        return dossier_page(dossier_id, error=str(exc.message)), 409
    flash(
        _(
            "The current rules of the scheme (version %(version)s) now apply to this dossier.",
            version=dossier.scheme_version,
        ),
        "success",
    )
    return redirect(url_for("grants.dossier", dossier_id=dossier.id))
