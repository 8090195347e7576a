"""End-of-life pages: a batch of ticked items retired with its disposal route and
certificate, a batch's page and its certificate, the register of retired items and its
export, a model's expected end of life."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets import catalogue, disposal, places
from inventory.assets.forms import EndOfLifeForm, RegisterFilterForm, RetireForm
from inventory.assets.lifecycle import AssetError
from inventory.assets.models import Disposal, DisposalRoute
from inventory.assets.views.common import _page, _per_page, _upload_dir, bp
from inventory.core import exporting, policy, uploads
from inventory.core.errors import ConflictError
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.core.storage import send_private
from inventory.extensions import db
from inventory.web import allow, attach_error, int_arg

CERTIFICATE_AREA = disposal.CERTIFICATE_AREA


def _ids(text: str | None) -> list[int]:
    return [int(v) for v in (text or "").split(",") if v.isdigit() and len(v) < 10][
        : disposal.BATCH_MAX
    ]


def _route(value: str | None) -> DisposalRoute | None:
    return DisposalRoute(value) if value in {r.value for r in DisposalRoute} else None


@bp.route("/equipements/sortie", methods=["GET", "POST"])
@allow(Action.EDIT)
def retire() -> str | Response | tuple[str, int]:
    """The ticked items of the list (``ids``), retired together."""
    form = RetireForm()
    if request.method == "GET":
        form.ids.data = request.args.get("ids", "")
        form.disposed_on.data = date.today()
    ids = _ids(form.ids.data)
    items = disposal.chosen_items(db.session, current_user, ids)
    if request.method == "POST" and form.validate_on_submit():
        upload = form.certificate.data
        data = upload.read(disposal.CERTIFICATE_MAX_BYTES + 1) if upload else None
        fields = disposal.DisposalFields(
            route=_route(form.route.data),
            disposed_on=form.disposed_on.data,
            organism=form.organism.data,
            organism_reference=form.organism_reference.data,
            note=form.note.data,
        )
        try:
            result = disposal.retire_batch(
                db.session,
                current_user,
                ids,
                fields,
                certificate=data or None,
                directory=_upload_dir().folder(CERTIFICATE_AREA),
                today=date.today(),
            )
        except (AssetError, uploads.UploadError, ConflictError) as exc:
            db.session.rollback()
            attach_error(form, exc, "route")
        else:
            return render_template("assets/retire_result.html", result=result)
    status = 422 if form.errors else 200
    return render_template("assets/retire.html", form=form, items=items), status


@bp.get("/equipements/sorties")
@allow(Action.READ)
def register() -> str:
    form = RegisterFilterForm(request.args)
    choices = places.filter_choices(db.session, current_user, limit=100)
    form.collectivite.choices = options([(0, _("All")), *choices.collectivites])
    filters = _register_filters()
    page = disposal.register_page(db.session, current_user, filters, _page(), _per_page())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("assets/register.html", form=form, page=page, args=args)


def _register_filters() -> disposal.RegisterFilters:
    route = request.args.get("route")
    return disposal.RegisterFilters(
        collectivite=int_arg("collectivite"),
        route=_route(route),
        year=int_arg("year"),
    )


@bp.get("/equipements/sorties/export.<any(csv,xlsx):fmt>")
@allow(Action.EXPORT)
def export_register(fmt: str) -> Response:
    rows = disposal.register_rows(db.session, current_user, _register_filters())
    return exporting.download(
        fmt,
        f"registre-sorties.{fmt}",
        disposal.register_headers(),
        rows,
        sheet_title=_("Retired items"),
    )


@bp.get("/equipements/sorties/<int:disposal_id>")
@allow(Action.READ, on=(Disposal, "disposal_id"))
def disposal_page(disposal_id: int) -> str:
    batch = disposal.load_disposal(db.session, current_user, disposal_id)
    return render_template("assets/disposal.html", batch=batch)


@bp.get("/equipements/sorties/<int:disposal_id>/certificat")
@allow(Action.READ, on=(Disposal, "disposal_id"))
def certificate(disposal_id: int) -> Response:
    batch = policy.load_or_404(current_user, Disposal, disposal_id, db.session)
    key = uploads.stored_key(batch.certificate_name)
    return send_private(
        _upload_dir().folder(CERTIFICATE_AREA),
        key,
        batch.certificate_type or "application/octet-stream",
        key or "",
    )


@bp.post("/equipements/modeles/<int:model_id>/fin-de-vie")
@allow(Action.ADMIN)
def model_end_of_life(model_id: int) -> Response:
    item = catalogue.model_detail(db.session, current_user, model_id).model
    form = EndOfLifeForm()
    if form.validate_on_submit():
        disposal.set_model_end_of_life(db.session, current_user, item, form.end_of_life.data)
        flash(_("Model %(name)s saved.", name=item.full_name), "success")
    else:
        flash(_("Give a date as 2031-06-30 or 30/06/2031."), "error")
    return redirect(url_for("assets.model", model_id=item.id))
