"""Equipment spreadsheets: import (CSV/XLSX) with its template, and exports of any list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField

from inventory.assets import catalogue, importers, lifecycle, spreadsheet, tasks
from inventory.assets.lists import AssetFilters
from inventory.core import exporting, import_jobs, policy
from inventory.core.forms import options
from inventory.core.importing import ImportFileError
from inventory.core.policy import Action, Role, Scope
from inventory.extensions import db
from inventory.orgs.models import Collectivite
from inventory.web import allow

bp = Blueprint("assets_io", __name__)

FORMAT = "<any(csv, xlsx):fmt>"


def _timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _today() -> str:
    return datetime.now(_timezone()).date().isoformat()


@dataclass(frozen=True)
class _Reader:
    """What the policy needs of the signed-in user, kept for a body streamed after the
    request's database session is gone."""

    role: Role | None
    scope: Scope


@bp.get(f"/equipements/export.{FORMAT}")
@allow(Action.EXPORT)
def export(fmt: str) -> Response:
    filters = AssetFilters.of_list(request.args)
    reader = _Reader(current_user.role, current_user.scope)
    tz = _timezone()

    def rows() -> Any:
        # Runs while the body is sent (CSV), in the request's context.
        yield from spreadsheet.export_rows(db.session, reader, filters, tz=tz)

    return exporting.download(
        fmt,
        f"equipements-{_today()}.{fmt}",
        spreadsheet.export_headers(),
        rows(),
        sheet_title="Équipements",
        widths=spreadsheet.WIDTHS,
    )


@bp.get(f"/equipements/import/modele.{FORMAT}")
@allow(Action.EDIT)
def template(fmt: str) -> Response:
    help_sheet = exporting.Sheet(
        "Aide", spreadsheet.help_headers(), spreadsheet.help_rows(db.session), widths=(18, 40, 90)
    )
    return exporting.download(
        fmt,
        f"modele-import-equipements.{fmt}",
        spreadsheet.HEADERS,
        [spreadsheet.template_example()],
        sheet_title="Équipements",
        widths=spreadsheet.WIDTHS,
        extra_sheets=[help_sheet] if fmt == exporting.XLSX else [],
    )


class AssetImportForm(FlaskForm):
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "xlsx", "txt"], _l("Choose a CSV or XLSX file.")),
        ],
    )
    collectivite = SelectField(
        _l("Collectivité receiving the items without a school"),
        coerce=int,
        default=0,
        description=_l("New items whose row gives no UAI go to the storage of this collectivité."),
    )


@bp.route("/equipements/import", methods=["GET", "POST"])
@allow(Action.EDIT)
def import_assets() -> Any:
    form = AssetImportForm()
    stmt = select(Collectivite.id, Collectivite.name).order_by(Collectivite.name)
    choices = db.session.execute(policy.visible(current_user, stmt, Collectivite)).all()
    form.collectivite.choices = options([(0, _l("— none —")), *((c.id, c.name) for c in choices)])
    # A technician of one collectivité need not choose it.
    ask_collectivite = len(choices) != 1
    size = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    if size:
        form.file.description = _("At most %(size)s MB.", size=size)
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if import_jobs.too_large_for_a_request(data):
            job = tasks.queue_import(
                db.session,
                data,
                upload.filename or "",
                collectivite=form.collectivite.data or None,
                scope_of=choices[0].id if len(choices) == 1 else form.collectivite.data or None,
            )
            return redirect(url_for("jobs.progress", job_id=job.id))
        try:
            report = importers.import_assets(
                db.session,
                current_user,
                data,
                upload.filename or "",
                collectivite=form.collectivite.data or None,
            )
        except ImportFileError as exc:
            db.session.rollback()
            form.file.errors = [str(exc)]
    status = 422 if form.errors else 200
    return render_template(
        "assets/import.html",
        form=form,
        report=report,
        ask_collectivite=ask_collectivite,
        columns=spreadsheet.FIELDS,
        categories=catalogue.categories(db.session),
        statuses=[(s.value, label) for s, label in lifecycle.STATUS_LABELS.items()],
    ), status
