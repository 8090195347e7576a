"""The directory's pages: the suppliers, a supplier (its contacts, contracts, items), a
contract (its dates and the items it covers), the import of a suppliers' file."""

from __future__ import annotations

import re

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.changelog.services import history_of
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.importing import ImportFileError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.suppliers import contracts, directory, importer
from inventory.suppliers.forms import ContractForm, ImportForm, SupplierForm
from inventory.suppliers.models import Contract, ContractKind, Supplier
from inventory.suppliers.rules import SupplierError
from inventory.suppliers.views.blueprint import (
    bp,
    choose_collectivite,
    chosen_collectivite,
    version_of,
)
from inventory.web import allow, attach_error, int_arg


@bp.get("/fournisseurs")
@allow(Action.READ)
def index() -> str:
    q = (request.args.get("q") or "")[:100]
    page = directory.list_suppliers(
        db.session,
        current_user,
        q=q,
        page=int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "suppliers/index.html",
        page=page,
        q=q,
        args={"q": q} if q else {},
        may_edit=policy.allowed(current_user, Action.EDIT),
    )


def _fields(form: SupplierForm) -> directory.SupplierFields:
    return directory.SupplierFields(
        name=form.name.data or "",
        siret=form.siret.data,
        address=form.address.data,
        phone=form.phone.data,
        email=form.email.data,
        notes=form.notes.data,
    )


@bp.route("/fournisseurs/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new() -> str | Response | tuple[str, int]:
    owner = chosen_collectivite(Action.EDIT)
    if owner is None:
        return choose_collectivite("suppliers.new", _("New supplier"))
    form = SupplierForm()
    if form.validate_on_submit():
        try:
            supplier = directory.save_supplier(
                db.session, current_user, None, _fields(form), collectivite=owner
            )
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
        else:
            flash(_("Supplier «%(name)s» recorded.", name=supplier.name), "success")
            return redirect(url_for("suppliers.supplier", supplier_id=supplier.id))
    status = 422 if form.errors else 200
    return render_template("suppliers/new.html", form=form, owner=owner), status


@bp.route("/fournisseurs/<int:supplier_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(Supplier, "supplier_id"))
def supplier(supplier_id: int) -> str | Response | tuple[str, int]:
    item = directory.supplier_detail(db.session, current_user, supplier_id)
    may_edit = policy.can(current_user, Action.EDIT, item, db.session)
    form = SupplierForm(obj=item if request.method == "GET" else None)
    status, conflict = 200, None
    if request.method == "GET":
        form.version.data = str(item.version)
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        try:
            directory.save_supplier(
                db.session, current_user, item, _fields(form), version=version_of(form)
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
            form.version.data = str(item.version)
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
            status = 422
        else:
            flash(_("Supplier saved."), "success")
            return redirect(url_for("suppliers.supplier", supplier_id=item.id))
    else:
        status = 422
    return render_template(
        "suppliers/supplier.html",
        supplier=item,
        form=form,
        may_edit=may_edit,
        conflict=conflict,
        items=directory.items_of(db.session, current_user, item),
        history=history_of(db.session, current_user, item),
    ), status


def _contract_fields(form: ContractForm) -> contracts.ContractFields:
    try:
        kind = ContractKind(form.kind.data)
    except ValueError:
        raise SupplierError(_("Choose the kind of contract."), field="kind") from None
    return contracts.ContractFields(
        kind=kind,
        reference=form.reference.data or "",
        title=form.title.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        cost_per_year_cents=form.cost.data,
        notes=form.notes.data,
    )


def _tags(text: str | None) -> list[str]:
    return [t for t in re.split(r"[\s,;]+", text or "") if t]


@bp.route("/fournisseurs/<int:supplier_id>/contrats/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Supplier, "supplier_id"))
def new_contract(supplier_id: int) -> str | Response | tuple[str, int]:
    item = policy.load_or_404(current_user, Supplier, supplier_id, db.session, Action.EDIT)
    form = ContractForm()
    if form.validate_on_submit():
        try:
            contract = contracts.save_contract(
                db.session,
                current_user,
                None,
                _contract_fields(form),
                supplier=item,
                item_tags=_tags(form.items.data),
            )
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "reference", {"cost": "cost"})
        else:
            flash(_("Contract %(ref)s recorded.", ref=contract.reference), "success")
            return redirect(url_for("suppliers.contract", contract_id=contract.id))
    status = 422 if form.errors else 200
    return render_template("suppliers/contract_new.html", form=form, supplier=item), status


@bp.route("/contrats/<int:contract_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(Contract, "contract_id"))
def contract(contract_id: int) -> str | Response | tuple[str, int]:
    item = contracts.contract_detail(db.session, current_user, contract_id)
    may_edit = policy.can(current_user, Action.EDIT, item, db.session)
    form = ContractForm()
    status, conflict = 200, None
    if request.method == "GET":
        form.kind.data = item.kind.value
        for name in ("reference", "title", "starts_on", "ends_on", "notes"):
            form[name].data = getattr(item, name)
        form.cost.data = item.cost_per_year_cents
        form.items.data = " ".join(row.asset.tag for row in item.items)
        form.version.data = str(item.version)
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        try:
            contracts.save_contract(
                db.session,
                current_user,
                item,
                _contract_fields(form),
                item_tags=_tags(form.items.data),
                version=version_of(form),
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
            form.version.data = str(item.version)
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "reference")
            status = 422
        else:
            flash(_("Contract saved."), "success")
            return redirect(url_for("suppliers.contract", contract_id=item.id))
    else:
        status = 422
    return render_template(
        "suppliers/contract.html",
        contract=item,
        form=form,
        may_edit=may_edit,
        conflict=conflict,
        history=history_of(db.session, current_user, item),
    ), status


@bp.route("/fournisseurs/import", methods=["GET", "POST"])
@allow(Action.EDIT)
def import_suppliers() -> str | Response | tuple[str, int]:
    owner = chosen_collectivite(Action.EDIT)
    if owner is None:
        return choose_collectivite("suppliers.import_suppliers", _("Import suppliers"))
    form = ImportForm()
    report, error = None, None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else b""
        if not data:
            error = _("Choose a file.")
        else:
            try:
                report = importer.import_suppliers(
                    db.session, current_user, data, upload.filename or "", collectivite=owner
                )
            except ImportFileError as exc:
                db.session.rollback()
                error = str(exc)
    status = 422 if error or form.errors else 200
    return render_template(
        "suppliers/import.html", form=form, owner=owner, report=report, error=error
    ), status
