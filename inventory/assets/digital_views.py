"""Digital services pages: the list, a service (read, and edited by the staff who equip its
schools), a new one for a school or a collectivité."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.assets import digital, places
from inventory.assets.forms import DigitalServiceForm, ServiceFilterForm
from inventory.assets.models import DigitalService, ServiceKind
from inventory.assets.socle import paris_today
from inventory.changelog.services import history_of
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.forms import options
from inventory.core.panels import panels
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs.models import Collectivite, Ecole
from inventory.web import allow, attach_error, int_arg

bp = Blueprint("digital", __name__)


@bp.get("/services-numeriques")
@allow(Action.READ)
def index() -> str:
    kind = request.args.get("kind", "")
    filters = digital.ServiceFilters(
        collectivite=int_arg("collectivite"),
        ecole=int_arg("ecole"),
        kind=ServiceKind(kind) if kind in ServiceKind._value2member_map_ else None,
        running=request.args.get("running", "") in {"y", "1", "on", "true"},
    )
    form = ServiceFilterForm(request.args)
    choices = places.filter_choices(
        db.session, current_user, collectivite=filters.collectivite, limit=100
    )
    form.collectivite.choices = options([(0, _("All")), *choices.collectivites])
    today = paris_today()
    page = digital.list_services(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
        today=today,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "assets/services.html",
        form=form,
        page=page,
        args=args,
        today=today,
        ecole=places.visible_school(db.session, current_user, filters.ecole)
        if filters.ecole
        else None,
        may_edit=policy.allowed(current_user, Action.EDIT),
    )


def _fields(form: DigitalServiceForm) -> digital.ServiceFields:
    try:
        kind = ServiceKind(form.kind.data)
    except ValueError:
        raise digital.ServiceError(_("Choose the kind of service."), field="kind") from None
    return digital.ServiceFields(
        kind=kind,
        name=form.name.data or "",
        provider=form.provider.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        notes=form.notes.data,
    )


def _school_choices(form: DigitalServiceForm, owner_id: int, include: list[int]) -> None:
    schools = digital.school_choices(db.session, current_user, owner_id, include)
    form.schools.choices = options((e.id, f"{e.name} ({e.commune.name})") for e in schools)


@bp.route("/services-numeriques/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new() -> str | Response | tuple[str, int]:
    ecole: Ecole | None = None
    if ecole_id := int_arg("ecole"):
        ecole = policy.load_or_404(current_user, Ecole, ecole_id, db.session, Action.EDIT)
        owner = ecole.collectivite
        if owner is None:
            flash(_("This school has no owning collectivité."), "error")
            return redirect(url_for("orgs.school", ecole_id=ecole.id))
    elif coll_id := int_arg("collectivite"):
        owner = policy.load_or_404(current_user, Collectivite, coll_id, db.session, Action.EDIT)
    else:
        q = (request.args.get("q") or "")[:100]
        return render_template(
            "assets/choose_place.html",
            endpoint="digital.new",
            title=_("New digital service"),
            intro=_("Choose a school the service covers; you then choose the others."),
            q=q,
            choices=places.place_choices(db.session, current_user, q=q),
            storage=False,
        )
    form = DigitalServiceForm()
    _school_choices(form, owner.id, [ecole.id] if ecole else [])
    if request.method == "GET":
        form.schools.data = [ecole.id] if ecole else []
    elif form.validate_on_submit():
        try:
            service = digital.save_service(
                db.session,
                current_user,
                None,
                fields=_fields(form),
                ecole_ids=form.schools.data or [],
                collectivite=owner,
            )
        except digital.ServiceError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
        else:
            flash(_("Service «%(name)s» recorded.", name=service.name), "success")
            if ecole is not None:
                return redirect(url_for("orgs.school", ecole_id=ecole.id))
            return redirect(url_for("digital.service", service_id=service.id))
    status = 422 if form.errors else 200
    return render_template("assets/service_new.html", form=form, owner=owner, ecole=ecole), status


def _values(service: DigitalService) -> dict[str, Any]:
    return {
        "kind": service.kind.value,
        "name": service.name,
        "provider": service.provider or "",
        "starts_on": service.starts_on,
        "ends_on": service.ends_on,
        "notes": service.notes or "",
        "schools": [c.ecole_id for c in service.coverage],
    }


@bp.route("/services-numeriques/<int:service_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(DigitalService, "service_id"))
def service(service_id: int) -> str | Response | tuple[str, int]:
    item = digital.service_detail(db.session, current_user, service_id)
    may_edit = policy.can(current_user, Action.EDIT, item, db.session)
    form = DigitalServiceForm()
    _school_choices(form, item.collectivite_id, [c.ecole_id for c in item.coverage])
    status, conflict = 200, None
    if request.method == "GET":
        for name, value in _values(item).items():
            form[name].data = value
        form.version.data = str(item.version)
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        version = form.version.data or ""
        try:
            digital.save_service(
                db.session,
                current_user,
                item,
                fields=_fields(form),
                ecole_ids=form.schools.data or [],
                version=int(version) if version.isdigit() else -1,
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict = exc.message
            form.version.data = str(item.version)
            status = 409
        except digital.ServiceError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
            status = 422
        else:
            flash(_("Service saved."), "success")
            return redirect(url_for("digital.service", service_id=item.id))
    else:
        status = 422
    return render_template(
        "assets/service.html",
        service=item,
        form=form,
        may_edit=may_edit,
        conflict=conflict,
        delete_form=FlaskForm(),
        today=paris_today(),
        history=history_of(db.session, current_user, item),
        panels=panels("assets.service", db.session, current_user, item),
    ), status


@bp.post("/services-numeriques/<int:service_id>/supprimer")
@allow(Action.EDIT, on=(DigitalService, "service_id"))
def delete(service_id: int) -> Response:
    item = policy.load_or_404(current_user, DigitalService, service_id, db.session, Action.EDIT)
    if FlaskForm().validate_on_submit():
        name = item.name
        digital.delete_service(db.session, current_user, item)
        flash(_("Service «%(name)s» deleted.", name=name), "success")
        return redirect(url_for("digital.index"))
    return redirect(url_for("digital.service", service_id=service_id))
