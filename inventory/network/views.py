"""The school's network pages: the "Réseau" tab (prefixes with their use, VLANs, Wi-Fi,
rooms' connection), a prefix (its address map, addresses, ranges, the next free address),
and the DHCP exports (Kea JSON, dnsmasq)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from inventory.assets.models import NetworkWork
from inventory.core import policy
from inventory.core.errors import DomainError
from inventory.core.forms import options
from inventory.core.importing import ImportFileError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.network import addresses, export, importing, plan, wifi
from inventory.network.forms import (
    AddressForm,
    AddressPlanForm,
    CoverageForm,
    PlanImportForm,
    PrefixForm,
    RangeForm,
    SocketForm,
    VlanForm,
    WifiForm,
)
from inventory.network.models import AddressStatus, IpAddress, Prefix, PrefixRole, WifiSecurity
from inventory.orgs.models import Collectivite, Ecole
from inventory.web import allow, attach_error, int_arg, share_labels

bp = Blueprint("network", __name__)
share_labels(
    bp,
    prefix_role_labels=plan.ROLE_LABELS,
    address_status_labels=addresses.STATUS_LABELS,
    wifi_security_labels=wifi.SECURITY_LABELS,
)
Page = tuple[str, int]


def _none(choices: list[tuple[int, str]]) -> list[Any]:
    return options([(0, "—"), *choices])


def _school_forms(ecole: Ecole, given: dict[str, FlaskForm]) -> dict[str, Any]:
    c = plan.choices(db.session, current_user, ecole)
    prefix_form = given.get("prefix_form") or PrefixForm(
        formdata=None, cidr=plan.suggested_prefix(db.session, ecole)
    )
    prefix_form.vlan_id.choices = _none(c.vlans)
    wifi_form = given.get("wifi_form") or WifiForm(formdata=None)
    wifi_form.wifi_vlan.choices = _none(c.vlans)
    coverage_form = given.get("coverage_form") or CoverageForm(formdata=None)
    coverage_form.asset_id.choices = options(c.access_points)
    coverage_form.covered_room.choices = options(c.rooms)
    socket_form = given.get("socket_form") or SocketForm(formdata=None)
    socket_form.socket_room.choices = options(c.rooms)
    socket_form.work_id.choices = _none(c.cabling)
    return {
        "prefix_form": prefix_form,
        "vlan_form": given.get("vlan_form") or VlanForm(formdata=None),
        "wifi_form": wifi_form,
        "coverage_form": coverage_form,
        "socket_form": socket_form,
    }


def _school_page(ecole_id: int, status: int = 200, **given: FlaskForm) -> Page:
    network = plan.school_network(db.session, current_user, ecole_id)
    may_edit = policy.can(current_user, Action.EDIT, network.ecole, db.session)
    forms = _school_forms(network.ecole, given) if may_edit else {}
    return render_template(
        "network/school.html",
        network=network,
        ecole=network.ecole,
        rooms=wifi.rooms(db.session, current_user, network.ecole),
        may_edit=may_edit,
        may_export=policy.allowed(current_user, Action.EXPORT),
        **forms,
    ), status


@bp.get("/ecoles/<int:ecole_id>/reseau")
@allow(Action.READ, on=(Ecole, "ecole_id"))
def school(ecole_id: int) -> Page:
    return _school_page(ecole_id)


def _school_write(
    ecole_id: int, name: str, form: FlaskForm, write: Callable[[Ecole], Any], done: str
) -> Page | BaseResponse:
    """Validate ``form``, run ``write`` on the school, commit; or the page with errors."""
    ecole = plan.editable_school(db.session, current_user, ecole_id)
    if form.validate_on_submit():
        try:
            write(ecole)
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, next(f.name for f in form if f.name != "csrf_token"))
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("network.school", ecole_id=ecole_id))
    return _school_page(ecole_id, 422, **{name: form})


@bp.post("/ecoles/<int:ecole_id>/reseau/prefixes")
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def add_prefix(ecole_id: int) -> Page | BaseResponse:
    form = PrefixForm()
    form.vlan_id.choices = []

    def write(ecole: Ecole) -> None:
        fields = plan.PrefixFields(
            cidr=form.cidr.data or "",
            role=PrefixRole(form.role.data),
            vlan_id=form.vlan_id.data or None,
            gateway=form.gateway.data,
            dns=(form.dns.data or "").split(","),
            description=form.description.data,
        )
        plan.add_prefix(db.session, current_user, ecole, fields)

    return _school_write(ecole_id, "prefix_form", form, write, _("Prefix recorded."))


@bp.post("/ecoles/<int:ecole_id>/reseau/vlans")
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def add_vlan(ecole_id: int) -> Page | BaseResponse:
    form = VlanForm()

    def write(ecole: Ecole) -> None:
        plan.add_vlan(
            db.session,
            current_user,
            ecole,
            form.vid.data or 0,
            form.name.data or "",
            form.group.data or "",
        )

    return _school_write(ecole_id, "vlan_form", form, write, _("VLAN recorded."))


@bp.post("/ecoles/<int:ecole_id>/reseau/wifi")
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def add_wifi(ecole_id: int) -> Page | BaseResponse:
    form = WifiForm()

    def write(ecole: Ecole) -> None:
        wifi.add_wifi(
            db.session,
            current_user,
            ecole,
            form.ssid.data or "",
            WifiSecurity(form.security.data),
            form.wifi_vlan.data or None,
        )

    return _school_write(ecole_id, "wifi_form", form, write, _("Wi-Fi network recorded."))


@bp.post("/ecoles/<int:ecole_id>/reseau/couverture")
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def cover_room(ecole_id: int) -> Page | BaseResponse:
    form = CoverageForm()

    def write(ecole: Ecole) -> None:
        wifi.cover_room(
            db.session, current_user, ecole, form.asset_id.data or 0, form.covered_room.data or 0
        )

    return _school_write(ecole_id, "coverage_form", form, write, _("Coverage recorded."))


@bp.post("/ecoles/<int:ecole_id>/reseau/prises")
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def add_socket(ecole_id: int) -> Page | BaseResponse:
    form = SocketForm()

    def write(ecole: Ecole) -> None:
        wifi.add_socket(
            db.session,
            current_user,
            ecole,
            form.socket_room.data or 0,
            form.label.data or "",
            form.work_id.data or None,
        )

    return _school_write(ecole_id, "socket_form", form, write, _("Socket recorded."))


@bp.post("/reseau/travaux/<int:work_id>/prises")
@allow(Action.EDIT, on=(NetworkWork, "work_id"))
def sockets_from_work(work_id: int) -> BaseResponse:
    """Finished cabling works: record a socket in each classroom they cover."""
    work = policy.load_or_404(current_user, NetworkWork, work_id, db.session, Action.EDIT)
    if FlaskForm().validate_on_submit():
        try:
            made = wifi.sockets_from_work(db.session, current_user, work)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("%(n)s sockets recorded.", n=len(made)), "success")
    return redirect(url_for("assets.work", work_id=work_id))


@bp.route("/ecoles/<int:ecole_id>/reseau/import", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def import_plan(ecole_id: int) -> Page:
    """Import the school's plan from a spreadsheet; the report row by row."""
    ecole = plan.editable_school(db.session, current_user, ecole_id)
    form = PlanImportForm()
    report, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = importing.import_plan(
                db.session, current_user, ecole, upload.read(), upload.filename or ""
            )
        except ImportFileError as exc:
            db.session.rollback()
            form.file.errors = [str(exc)]
            status = 422
    elif form.errors:
        status = 422
    return render_template("network/import.html", ecole=ecole, form=form, report=report), status


@bp.get("/ecoles/<int:ecole_id>/reseau/kea.json")
@allow(Action.EXPORT, on=(Ecole, "ecole_id"))
def kea(ecole_id: int) -> Response:
    ecole = policy.load_or_404(current_user, Ecole, ecole_id, db.session)
    body = json.dumps(export.kea(db.session, current_user, ecole), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=kea-{ecole.uai}.json"},
    )


@bp.get("/ecoles/<int:ecole_id>/reseau/dnsmasq.conf")
@allow(Action.EXPORT, on=(Ecole, "ecole_id"))
def dnsmasq(ecole_id: int) -> Response:
    ecole = policy.load_or_404(current_user, Ecole, ecole_id, db.session)
    return Response(
        export.dnsmasq(db.session, current_user, ecole),
        mimetype="text/plain",
        headers={"Content-Disposition": f"attachment; filename=dnsmasq-{ecole.uai}.conf"},
    )


def _prefix_page(prefix_id: int, status: int = 200, **given: FlaskForm) -> Page:
    prefix = policy.load_or_404(current_user, Prefix, prefix_id, db.session)
    may_edit = policy.can(current_user, Action.EDIT, prefix, db.session)
    block = int_arg("block") or 0
    forms: dict[str, Any] = {}
    if may_edit:
        address_form = given.get("address_form") or AddressForm(formdata=None)
        c = plan.choices(db.session, current_user, prefix.ecole)
        address_form.asset_id.choices = _none(c.items)
        forms = {
            "address_form": address_form,
            "range_form": given.get("range_form") or RangeForm(formdata=None),
            "release_form": FlaskForm(),
        }
    usage = plan.prefix_usage(db.session, prefix)
    return render_template(
        "network/prefix.html",
        prefix=prefix,
        ecole=prefix.ecole,
        usage=usage,
        ranges=[plan.RangeView(r, plan.range_usage(db.session, r)) for r in prefix.ranges],
        cells=addresses.address_map(db.session, prefix, block),
        blocks=plan.block_count(prefix),
        block=block,
        rows=addresses.prefix_addresses(db.session, current_user, prefix),
        may_edit=may_edit,
        **forms,
    ), status


@bp.get("/reseau/prefixes/<int:prefix_id>")
@allow(Action.READ, on=(Prefix, "prefix_id"))
def prefix(prefix_id: int) -> Page:
    return _prefix_page(prefix_id)


@bp.post("/reseau/prefixes/<int:prefix_id>/adresses")
@allow(Action.EDIT, on=(Prefix, "prefix_id"))
def add_address(prefix_id: int) -> Page | BaseResponse:
    """Record the address given, or (empty) the next free one."""
    item = policy.load_or_404(current_user, Prefix, prefix_id, db.session, Action.EDIT)
    form = AddressForm()
    form.asset_id.choices = []
    if form.validate_on_submit():
        who = addresses.Holder(
            asset_id=form.asset_id.data or None,
            holder=form.holder.data,
            mac=form.mac.data,
            hostname=form.hostname.data,
        )
        status = AddressStatus(form.status.data)
        try:
            if (form.address.data or "").strip():
                row = addresses.record_address(
                    db.session, current_user, item, form.address.data or "", status, who
                )
                db.session.commit()
            else:
                row = addresses.allocate_next(db.session, current_user, prefix_id, status, who)
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, "address")
        else:
            flash(_("Address %(address)s recorded.", address=row.address), "success")
            return redirect(url_for("network.prefix", prefix_id=prefix_id))
    return _prefix_page(prefix_id, 422, address_form=form)


@bp.post("/reseau/prefixes/<int:prefix_id>/plages")
@allow(Action.EDIT, on=(Prefix, "prefix_id"))
def add_range(prefix_id: int) -> Page | BaseResponse:
    item = policy.load_or_404(current_user, Prefix, prefix_id, db.session, Action.EDIT)
    form = RangeForm()
    if form.validate_on_submit():
        try:
            plan.add_range(
                db.session,
                current_user,
                item,
                form.start.data or "",
                form.end.data or "",
                form.description.data,
            )
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, "start")
        else:
            db.session.commit()
            flash(_("Range recorded."), "success")
            return redirect(url_for("network.prefix", prefix_id=prefix_id))
    return _prefix_page(prefix_id, 422, range_form=form)


@bp.post("/reseau/adresses/<int:address_id>/liberer")
@allow(Action.EDIT, on=(IpAddress, "address_id"))
def release(address_id: int) -> BaseResponse:
    row = policy.load_or_404(current_user, IpAddress, address_id, db.session, Action.EDIT)
    prefix_id = row.prefix_id
    if FlaskForm().validate_on_submit():
        text = row.address
        addresses.release(db.session, current_user, row)
        db.session.commit()
        flash(_("Address %(address)s released.", address=text), "success")
    return redirect(url_for("network.prefix", prefix_id=prefix_id))


@bp.route("/collectivites/<int:collectivite_id>/plan-adressage", methods=["GET", "POST"])
@allow(Action.READ, on=(Collectivite, "collectivite_id"))
def address_plan(collectivite_id: int) -> Page | BaseResponse:
    """A collectivité's address space: its aggregates and per-school template."""
    coll = policy.load_or_404(current_user, Collectivite, collectivite_id, db.session)
    may_edit = policy.can(current_user, Action.EDIT, coll, db.session)
    found = plan.address_plan(db.session, current_user, coll.id)
    form = AddressPlanForm()
    status = 200
    if request.method == "GET" and found is not None:
        form.aggregates.data = "\n".join(a.cidr for a in found.aggregates)
        form.school_template.data = found.school_template or ""
    elif request.method == "POST":
        if not may_edit:
            raise policy.Denied()
        if form.validate_on_submit():
            try:
                plan.set_address_plan(
                    db.session,
                    current_user,
                    coll,
                    (form.aggregates.data or "").splitlines(),
                    form.school_template.data,
                )
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc, "aggregates")
            else:
                db.session.commit()
                flash(_("Address plan saved."), "success")
                return redirect(url_for("network.address_plan", collectivite_id=coll.id))
        status = 422
    return render_template(
        "network/plan.html", collectivite=coll, plan=found, form=form, may_edit=may_edit
    ), status
