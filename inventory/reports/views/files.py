"""The files of the dashboards: the ministry's open-data shapes, and the evidence packs
(asked for here, made by a job, downloaded from the job's page)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import exporting, policy
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants.models import Dossier
from inventory.orgs.models import Collectivite
from inventory.reports import evidence, opendata
from inventory.reports.levels import Level, load_level
from inventory.reports.views.common import (
    bp,
    current_locale,
    today,
)
from inventory.web import allow


def _opendata(name: str) -> Response:
    fmt = request.args.get("format", exporting.CSV)
    if fmt not in exporting.FORMATS:
        abort(404)
    level, obj = Level.SCOPE, None
    raw_level, raw_id = request.args.get("niveau", ""), request.args.get("id", "")
    if raw_level:
        if raw_level not in Level._value2member_map_ or raw_level == Level.SCOPE.value:
            abort(404)
        if not raw_id.isdigit() or len(raw_id) > 9:
            abort(404)
        level = Level(raw_level)
        obj = load_level(db.session, current_user, level, int(raw_id))
    data = opendata.build(name, db.session, current_user, level, obj)
    suffix = "" if obj is None else f"-{level.value}-{obj.id}"
    return exporting.download(
        fmt,
        f"{name}{suffix}-{today()}.{fmt}",
        data.columns,
        data.rows,
        sheet_title=name[:31],
        csv_dialect=exporting.MINISTRY,  # ';' and dot decimals, as the ministry publishes
    )


@bp.get("/donnees-ouvertes")
@allow(Action.EXPORT)
def opendata_fields() -> str:
    """What each field of the open-data files holds, and where Socle takes it from."""
    endpoints = {
        opendata.COLLECTIVITES: "reports.opendata_collectivites",
        opendata.ECOLES: "reports.opendata_ecoles",
    }
    files = [(ds, endpoints[ds.name], endpoints[ds.name] + "_extended") for ds in opendata.DATASETS]
    return render_template("reports/opendata_fields.html", files=files)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-collectivites")
@allow(Action.EXPORT)
def opendata_collectivites() -> Response:
    return _opendata(opendata.COLLECTIVITES)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-ecoles")
@allow(Action.EXPORT)
def opendata_ecoles() -> Response:
    return _opendata(opendata.ECOLES)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-collectivites-etendu")
@allow(Action.EXPORT)
def opendata_collectivites_extended() -> Response:
    return _opendata(opendata.COLLECTIVITES_EXTENDED)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-ecoles-etendu")
@allow(Action.EXPORT)
def opendata_ecoles_extended() -> Response:
    return _opendata(opendata.ECOLES_EXTENDED)


def _ask_for_pack(subject: evidence.Subject) -> Response:
    """Queue the pack's job and follow it on its progress page (the form's token is
    checked for every POST by CSRFProtect)."""
    job = evidence.queue_pack(db.session, current_user, subject, current_locale())
    return redirect(url_for("jobs.progress", job_id=job.id))


@bp.post("/collectivite/<int:collectivite_id>/preuves")
@allow(Action.EXPORT, on=(Collectivite, "collectivite_id"))
def evidence_collectivite(collectivite_id: int) -> Response:
    coll = policy.load_or_404(
        current_user, Collectivite, collectivite_id, db.session, Action.EXPORT
    )
    return _ask_for_pack(evidence.Subject(coll))


@bp.post("/dossier/<int:dossier_id>/preuves")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def evidence_dossier(dossier_id: int) -> Response:
    dossier = policy.load_or_404(current_user, Dossier, dossier_id, db.session, Action.EXPORT)
    return _ask_for_pack(evidence.Subject(dossier.collectivite, dossier))
