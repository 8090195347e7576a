"""An item's maintenance pages: link it to its supplier, record a repair, open a warranty
claim, plan visits and record them; and what comes to an end soon (échéances)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.assets.models import Asset
from inventory.assets.socle import paris_today
from inventory.changelog.services import history_of
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.suppliers import claims, contracts, directory, maintenance, subscriptions
from inventory.suppliers.alerts import DEFAULT_EXPIRY_DAYS, thresholds
from inventory.suppliers.forms import (
    ClaimAnswerForm,
    ClaimForm,
    LinkSupplierForm,
    MaintenanceForm,
    PlanForm,
)
from inventory.suppliers.models import ClaimStatus, MaintenancePlan, MaintenanceRecord
from inventory.suppliers.rules import SupplierError
from inventory.suppliers.views.blueprint import bp, supplier_options, version_of
from inventory.web import allow, attach_error, int_arg


def _asset(asset_id: int) -> Asset:
    return policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)


def _back(asset: Asset) -> Response:
    return redirect(url_for("assets.detail", asset_id=asset.id) + "#maintenance-title")


@bp.post("/equipements/<int:asset_id>/fournisseur")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def link_supplier(asset_id: int) -> Response:
    asset = _asset(asset_id)
    form = LinkSupplierForm()
    form.supplier.choices = supplier_options(asset.collectivite_id)
    if form.validate_on_submit():
        try:
            directory.link_item(db.session, current_user, asset, form.supplier.data or None)
        except SupplierError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            flash(_("Supplier saved."), "success")
    return _back(asset)


def maintenance_form(asset: Asset) -> MaintenanceForm:
    form = MaintenanceForm()
    form.prepare(
        asset,
        directory.suppliers_of(db.session, current_user, asset.collectivite_id),
        paris_today(),
    )
    return form


@bp.route("/equipements/<int:asset_id>/maintenance", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Asset, "asset_id"))
def record(asset_id: int) -> str | Response | tuple[str, int]:
    asset = _asset(asset_id)
    form = maintenance_form(asset)
    if form.validate_on_submit():
        try:
            maintenance.record_maintenance(db.session, current_user, asset, form.work_fields())
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "description", {"duration": "duration"})
        else:
            flash(_("Maintenance recorded."), "success")
            return _back(asset)
    status = 422 if form.errors else 200
    return render_template(
        "suppliers/maintenance_form.html",
        form=form,
        asset=asset,
        ticket_id=None,
        action_url=url_for("suppliers.record", asset_id=asset.id),
    ), status


@bp.route("/equipements/<int:asset_id>/garantie", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Asset, "asset_id"))
def claim(asset_id: int) -> str | Response | tuple[str, int]:
    asset = _asset(asset_id)
    form = ClaimForm()
    form.supplier.choices = supplier_options(asset.collectivite_id, _("Choose…"))
    if not form.is_submitted():
        form.supplier.data = asset.supplier_id or 0
    if form.validate_on_submit():
        try:
            claims.claim_warranty(
                db.session,
                current_user,
                current_app.config,
                asset,
                problem=form.problem.data or "",
                day=paris_today(),
                supplier_id=form.supplier.data or None,
            )
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "problem")
        else:
            flash(_("Warranty claim sent to the supplier."), "success")
            return _back(asset)
    status = 422 if form.errors else 200
    return render_template("suppliers/claim.html", form=form, asset=asset), status


@bp.get("/garanties")
@allow(Action.READ)
def open_claims() -> str:
    """The warranty claims awaiting their supplier's answer, oldest first."""
    waiting = claims.open_claims(
        db.session,
        current_user,
        page=int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("suppliers/claims.html", page=waiting, today=paris_today())


@bp.route("/garanties/<int:record_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(MaintenanceRecord, "record_id"))
def claim_answer(record_id: int) -> str | Response | tuple[str, int]:
    """A warranty claim: what was claimed and when, and where it stands; staff of the
    item record the supplier's answer."""
    claim = claims.claim_of(db.session, current_user, record_id)
    may_edit = policy.can(current_user, Action.EDIT, claim, db.session)
    form = ClaimAnswerForm()
    status, conflict = 200, None
    if request.method == "GET":
        form.status.data = (claim.claim_status or ClaimStatus.SENT).value
        form.answered_on.data = claim.answered_on
        form.reference.data = claim.claim_reference
        form.answer.data = claim.answer
        form.version.data = str(claim.version)
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        fields = claims.ClaimAnswer(
            status=ClaimStatus(form.status.data),
            answered_on=form.answered_on.data,
            reference=form.reference.data,
            answer=form.answer.data,
        )
        try:
            claims.answer_claim(
                db.session,
                current_user,
                claim,
                fields,
                today=paris_today(),
                version=version_of(form),
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
            form.version.data = str(claim.version)
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "status")
            status = 422
        else:
            flash(_("Claim saved."), "success")
            return redirect(url_for("suppliers.claim_answer", record_id=claim.id))
    else:
        status = 422
    return render_template(
        "suppliers/claim_answer.html",
        claim=claim,
        asset=claim.asset,
        form=form,
        may_edit=may_edit,
        conflict=conflict,
        history=history_of(db.session, current_user, claim),
    ), status


@bp.route("/equipements/<int:asset_id>/entretien", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Asset, "asset_id"))
def plan(asset_id: int) -> str | Response | tuple[str, int]:
    asset = _asset(asset_id)
    form = PlanForm()
    form.supplier.choices = supplier_options(asset.collectivite_id)
    if not form.is_submitted():
        form.supplier.data = asset.supplier_id or 0
        form.every_months.data = 12
    if form.validate_on_submit():
        fields = maintenance.PlanFields(
            title=form.title.data or "",
            every_months=form.every_months.data,
            next_due=form.next_due.data,
            supplier_id=form.supplier.data or None,
        )
        try:
            maintenance.plan_maintenance(db.session, current_user, asset, fields)
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
        else:
            flash(_("Planned maintenance recorded."), "success")
            return _back(asset)
    status = 422 if form.errors else 200
    return render_template("suppliers/plan_new.html", form=form, asset=asset), status


@bp.route("/entretiens/<int:plan_id>", methods=["GET", "POST"])
@allow(Action.EDIT, on=(MaintenancePlan, "plan_id"))
def visit(plan_id: int) -> str | Response | tuple[str, int]:
    item = policy.load_or_404(current_user, MaintenancePlan, plan_id, db.session, Action.EDIT)
    form = maintenance_form(item.asset)
    if not form.is_submitted():
        form.description.data = item.title
        form.supplier.data = item.supplier_id or item.asset.supplier_id or 0
        form.version.data = str(item.version)
    status, conflict = 200, None
    if form.validate_on_submit():
        try:
            maintenance.record_visit(
                db.session, current_user, item, form.work_fields(), version=version_of(form)
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
            form.version.data = str(item.version)
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "description", {"duration": "duration"})
            status = 422
        else:
            flash(
                _(
                    "Visit recorded; the next one is due on %(day)s.",
                    day=item.next_due.strftime("%d/%m/%Y"),
                ),
                "success",
            )
            return _back(item.asset)
    elif form.errors:
        status = 422
    return render_template(
        "suppliers/visit.html", form=form, plan=item, conflict=conflict, stop_form=FlaskForm()
    ), status


@bp.post("/entretiens/<int:plan_id>/arreter")
@allow(Action.EDIT, on=(MaintenancePlan, "plan_id"))
def stop(plan_id: int) -> Response:
    item = policy.load_or_404(current_user, MaintenancePlan, plan_id, db.session, Action.EDIT)
    if FlaskForm().validate_on_submit():
        maintenance.stop_plan(db.session, current_user, item)
        flash(_("Planned maintenance stopped."), "success")
    return _back(item.asset)


@bp.get("/echeances")
@allow(Action.READ)
def due() -> str:
    """What comes to an end soon, and the visits due: the page behind the alerts."""
    today = paris_today()
    days = max(thresholds(current_app.config, "EXPIRY_ALERT_DAYS", DEFAULT_EXPIRY_DAYS) or (90,))
    until = today + timedelta(days=days)
    return render_template(
        "suppliers/due.html",
        today=today,
        days=days,
        subscriptions=subscriptions.ending_subscriptions(db.session, current_user, until),
        contracts=contracts.ending_contracts(db.session, current_user, today, until),
        warranties=maintenance.warranties_ending(
            db.session, current_user, today=today, until=until
        ),
        plans=maintenance.due_plans(db.session, current_user, until=today + timedelta(days=30)),
    )
