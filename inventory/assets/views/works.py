"""Network works pages, and the classrooms that miss the socle."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets import lists, places, socle
from inventory.assets import works as asset_works
from inventory.assets.forms import (
    PlaceFilterForm,
    WorkFilterForm,
    WorkForm,
)
from inventory.assets.lifecycle import AssetError
from inventory.assets.models import (
    NetworkWork,
    WorkKind,
    WorkStatus,
)
from inventory.assets.views.common import (
    _amount,
    _amount_text,
    _choose_place,
    _page,
    _per_page,
    _place_from_args,
    _school_choices,
    bp,
)
from inventory.changelog.services import history_of
from inventory.core import policy, saved_filters, sorting
from inventory.core.errors import ConflictError
from inventory.core.forms import options
from inventory.core.panels import panels
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow, attach_error, int_arg


# -- network works -------------------------------------------------------------------------
@bp.get("/travaux")
@allow(Action.READ)
def works() -> str:
    kind, status = request.args.get("kind", ""), request.args.get("status", "")
    filters = asset_works.WorkFilters(
        ecole=int_arg("ecole"),
        collectivite=int_arg("collectivite"),
        kind=WorkKind(kind) if kind in WorkKind._value2member_map_ else None,
        status=WorkStatus(status) if status in WorkStatus._value2member_map_ else None,
    )
    form = WorkFilterForm(request.args)
    choices = places.place_choices(
        db.session, current_user, collectivite=filters.collectivite, include=filters.ecole
    )
    every = _("All")
    form.collectivite.choices = options(
        [(0, every)] + [(c.id, c.name) for c in choices.collectivites]
    )
    form.ecole.choices = _school_choices(choices, every)
    sort = asset_works.WORK_SORT.read(request.args.get("sort"))
    page = asset_works.list_works(db.session, current_user, filters, _page(), _per_page(), sort)
    args = {k: v for k, v in request.args.items() if k not in {"page", "filter_name"} and v}
    return render_template(
        "assets/works.html",
        form=form,
        page=page,
        args=args,
        more_schools=choices.more,
        may_edit=policy.allowed(current_user, Action.EDIT),
        filters=filters,
        headers=sorting.headers(asset_works.WORK_SORT, sort),
        saved=saved_filters.filters_of(db.session, current_user, "works"),
    )


def _work_fields(form: WorkForm) -> asset_works.WorkFields:
    try:
        kind, status = WorkKind(form.kind.data), WorkStatus(form.status.data)
    except ValueError:
        raise AssetError(_l("Choose a kind and a status."), field="kind") from None
    return asset_works.WorkFields(
        kind=kind,
        title=form.title.data or "",
        status=status,
        contractor=(form.contractor.data or "").strip() or None,
        quote_cents=_amount(form.quote),
        invoice_cents=_amount(form.invoice),
        planned_start=form.planned_start.data,
        planned_end=form.planned_end.data,
        actual_start=form.actual_start.data,
        actual_end=form.actual_end.data,
        accepted_on=form.accepted_on.data,
        notes=(form.notes.data or "").strip() or None,
    )


def _work_values(work: NetworkWork) -> dict[str, Any]:
    return {
        "kind": work.kind.value,
        "title": work.title,
        "contractor": work.contractor or "",
        "quote": _amount_text(work.quote_cents),
        "invoice": _amount_text(work.invoice_cents),
        "planned_start": work.planned_start,
        "planned_end": work.planned_end,
        "actual_start": work.actual_start,
        "actual_end": work.actual_end,
        "status": work.status.value,
        "accepted_on": work.accepted_on,
        "notes": work.notes or "",
        "classrooms": [r.id for r in work.classrooms],
    }


@bp.route("/travaux/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new_work() -> str | Response | tuple[str, int]:
    place = _place_from_args(storage=False)
    if place is None:
        return _choose_place("assets.new_work", _("New network works"), storage=False)
    ecole = place.ecole
    assert ecole is not None
    form = WorkForm()
    rooms = places.classrooms_of(db.session, current_user, ecole.id)
    form.classrooms.choices = options((r.id, r.name) for r in rooms)
    if request.method == "GET" and place.classroom is not None:
        form.classrooms.data = [place.classroom.id]
    if form.validate_on_submit():
        try:
            work = asset_works.save_work(
                db.session,
                current_user,
                None,
                ecole=ecole,
                fields=_work_fields(form),
                classroom_ids=form.classrooms.data or [],
            )
        except (AssetError, ConflictError) as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
        else:
            flash(_("Works «%(title)s» recorded.", title=work.title), "success")
            return redirect(url_for("assets.work", work_id=work.id))
    status = 422 if form.errors else 200
    return render_template("assets/work_new.html", form=form, ecole=ecole), status


@bp.route("/travaux/<int:work_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(NetworkWork, "work_id"))
def work(work_id: int) -> str | Response | tuple[str, int]:
    item = asset_works.work_detail(db.session, current_user, work_id)
    may_edit = policy.can(current_user, Action.EDIT, item, db.session)
    form = WorkForm()
    form.classrooms.choices = options((r.id, r.name) for r in item.ecole.classrooms)
    status = 200
    conflict = None
    if request.method == "GET":
        for name, value in _work_values(item).items():
            form[name].data = value
        form.version.data = str(item.version)
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        version = form.version.data or ""
        try:
            asset_works.save_work(
                db.session,
                current_user,
                item,
                ecole=item.ecole,
                fields=_work_fields(form),
                classroom_ids=form.classrooms.data or [],
                version=int(version) if version.isdigit() else -1,
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict = exc.message
            form.version.data = str(item.version)
            status = 409
        except AssetError as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
            status = 422
        else:
            flash(_("Works saved."), "success")
            return redirect(url_for("assets.work", work_id=item.id))
    else:
        status = 422
    return render_template(
        "assets/work.html",
        work=item,
        form=form,
        may_edit=may_edit,
        conflict=conflict,
        history=history_of(db.session, current_user, item),
        panels=panels("assets.work", db.session, current_user, item),
    ), status


# -- socle ---------------------------------------------------------------------------------
@bp.get("/socle/classes-manquantes")
@allow(Action.READ)
def missing_socle() -> str:
    collectivite, ecole = int_arg("collectivite"), int_arg("ecole")
    form = PlaceFilterForm(request.args)
    choices = places.place_choices(
        db.session, current_user, collectivite=collectivite, include=ecole
    )
    every = _("All")
    form.collectivite.choices = options(
        [(0, every)] + [(c.id, c.name) for c in choices.collectivites]
    )
    form.ecole.choices = _school_choices(choices, every)
    page = lists.missing_socle_classrooms(
        db.session,
        current_user,
        collectivite=collectivite,
        ecole=ecole,
        page=_page(),
        per_page=_per_page(),
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "assets/missing_socle.html",
        form=form,
        page=page,
        args=args,
        more_schools=choices.more,
        statuses=socle.classroom_status(db.session, [r.id for r in page.items]),
        referentiel=socle.current_referentiel(db.session),
        may_edit=policy.allowed(current_user, Action.EDIT),
    )
