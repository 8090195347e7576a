"""Printing labels, the print log and single-label downloads. The URL a label carries
(``/q/<token>``) is served by the helpdesk, whose public page it opens."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets import lists
from inventory.assets.models import Asset
from inventory.core import addresses, policy, storage
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.labels import services, tasks, tokens
from inventory.labels.forms import PrintForm
from inventory.labels.models import PrintJob
from inventory.labels.render import render_png, render_svg
from inventory.orgs.models import Ecole
from inventory.web import allow

bp = Blueprint("labels", __name__)

# The equipment list's filters (its "print the labels" link carries them), plus a list of
# ids and a school's rooms.
FILTER_KEYS = (
    "q",
    "collectivite",
    "ecole",
    "classroom",
    "category",
    "status",
    "warranty",
    "missing_serial",
    "missing_socle",
    "ids",
    "salles",
)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filters(args: Any) -> lists.AssetFilters:
    # Read as the equipment list reads them, so that the labels are those of its items.
    return lists.AssetFilters.from_args(args)


def _selection(args: Any) -> dict[str, str]:
    return {k: args[k] for k in FILTER_KEYS if args.get(k)}


def _selected_ids(args: Any) -> tuple[list[int], list[int]]:
    """The selection's (asset ids, classroom ids), in scope, as the list shows them."""
    school = _int(args.get("salles"))
    if school:
        ecole = policy.load_or_404(current_user, Ecole, school, db.session)
        return [], [r.id for r in ecole.classrooms]
    return [a.id for a in lists.all_assets(db.session, current_user, _filters(args))], []


def _base() -> str:
    """The address the QR codes carry; without one (a production app with no BASE_URL)
    nothing is printed, and the user is told why."""
    base = addresses.base_url()
    if base is None:
        raise services.LabelError(addresses.MISSING)
    return base


def _batch(asset_ids: list[int], classroom_ids: list[int]) -> services.LabelBatch:
    base = _base()
    if classroom_ids:
        return services.classroom_labels(db.session, current_user, base, classroom_ids)
    return services.asset_labels(db.session, current_user, base, asset_ids)


def _form() -> PrintForm:
    form = PrintForm()
    form.format.choices = options((f.code, f.name) for f in services.formats(db.session))
    return form


@bp.route("/etiquettes", methods=["GET", "POST"])
@allow(Action.EDIT)
def print_page() -> Any:
    form = _form()
    args = request.values
    selection = _selection(args)
    if request.method == "POST" and form.validate_on_submit():
        try:
            fmt = services.format_by_code(db.session, form.format.data or "")
            skip = (form.start.data or 1) - 1
            preview = request.form.get("action") == "preview"
            if preview:
                batch = _batch(*_selected_ids(args))
                batch.labels[:] = batch.labels[: max(1, fmt.per_page - skip)]
                pdf = services.render_preview(fmt, batch, skip)
                db.session.commit()  # the tokens issued for the preview stay valid
                return _pdf(pdf, "apercu-etiquettes.pdf", inline=True)
            asset_ids, classroom_ids = _selected_ids(args)
            if len(asset_ids) + len(classroom_ids) > current_app.config.get(
                "LABEL_SYNC_LIMIT", 1000
            ):
                job = services.queue_print(
                    db.session, current_user, asset_ids, classroom_ids, fmt, skip, _base()
                )
                return redirect(url_for("jobs.progress", job_id=job.id))
            batch = _batch(asset_ids, classroom_ids)
            pdf = services.print_labels(db.session, current_user, batch, fmt, skip)
        except services.LabelError as exc:
            db.session.rollback()
            getattr(form, exc.field or "format").errors = [str(exc.message)]
        else:
            return _pdf(pdf, f"etiquettes-{fmt.code}.pdf")
    count = _count(args)
    status = 422 if form.errors else 200
    return render_template(
        "labels/print.html",
        form=form,
        selection=selection,
        count=count,
        formats=services.formats(db.session),
        base_missing=addresses.MISSING if addresses.base_url() is None else None,
    ), status


def _count(args: Any) -> int:
    return services.selection_count(
        db.session, current_user, _filters(args), _int(args.get("salles"))
    )


def _pdf(pdf: bytes, name: str, inline: bool = False) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    kind = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{kind}; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/etiquettes/travaux/<int:job_id>/fichier")
@allow(Action.EDIT, on=(PrintJob, "job_id"))
def job_file(job_id: int) -> Response:
    job = policy.load_or_404(current_user, PrintJob, job_id, db.session, Action.EDIT)
    if job.pending or not job.file_name:
        raise policy.Denied()
    response = storage.send_private(
        tasks.files_folder(),
        job.file_name,
        "application/pdf",
        f"etiquettes-{job.format_code}.pdf",
        as_attachment=True,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/etiquettes/historique")
@allow(Action.EDIT)
def history() -> str:
    return render_template("labels/history.html", jobs=services.print_log(db.session, current_user))


@bp.post("/etiquettes/historique/<int:job_id>")
@allow(Action.EDIT, on=(PrintJob, "job_id"))
def reprint(job_id: int) -> Response:
    job = policy.load_or_404(current_user, PrintJob, job_id, db.session, Action.EDIT)
    try:
        base = _base()
        if job.classroom_ids:
            batch = services.classroom_labels(db.session, current_user, base, job.classroom_ids)
        else:
            batch = services.asset_labels(db.session, current_user, base, job.asset_ids)
        fmt = services.format_by_code(db.session, job.format_code)
        pdf = services.print_labels(db.session, current_user, batch, fmt, 0)
    except services.LabelError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("labels.history"))
    return _pdf(pdf, f"etiquettes-{fmt.code}.pdf")


@bp.get("/equipements/<int:asset_id>/etiquette.<any(svg,png):fmt>")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def single(asset_id: int, fmt: str) -> Response:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    base = addresses.base_url()
    if base is None:
        title = _("Labels cannot be printed")
        message = addresses.MISSING
        page = render_template("errors/error.html", code=503, title=title, message=message)
        return Response(page, status=503, mimetype="text/html")
    batch = services.asset_labels(db.session, current_user, base, [asset.id])
    db.session.commit()
    label = batch.labels[0]
    if fmt == "svg":
        response = Response(render_svg(label), mimetype="image/svg+xml")
    else:
        response = Response(render_png(label), mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="{asset.tag}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/equipements/<int:asset_id>/etiquette/renouveler")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def renew(asset_id: int) -> Response:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    token = tokens.active_token(db.session, asset_id=asset.id)
    services.reissue_token(db.session, current_user, token)
    flash(
        _(
            "A new label code was issued: print the new label; the old one now says it "
            "has been replaced."
        ),
        "success",
    )
    return redirect(url_for("labels.print_page", ids=str(asset.id)))
