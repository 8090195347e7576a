"""The claim file (PDF) and the expense lines (CSV, XLSX) of a dossier."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import exporting
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import claim
from inventory.grants.breakdown import dossier_summary
from inventory.grants.dossiers import dossier_detail
from inventory.grants.models import Dossier
from inventory.grants.views.blueprint import bp
from inventory.web import allow


# -- claim file and exports ----------------------------------------------------------------
def _filename(dossier: Dossier, suffix: str) -> str:
    ref = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (dossier.reference or ""))
    return f"demande-de-versement-{ref or dossier.id}.{suffix}"


@bp.get("/<int:dossier_id>/demande-de-versement.pdf")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def claim_pdf(dossier_id: int) -> Response:
    dossier = dossier_detail(db.session, current_user, dossier_id, Action.EXPORT)
    data = claim.claim_pdf(
        dossier,
        dossier_summary(dossier),
        claim.item_rows(dossier, claimed_only=True),
    )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(dossier, "pdf")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _export(dossier_id: int, fmt: str) -> Response:
    dossier = dossier_detail(db.session, current_user, dossier_id, Action.EXPORT)
    headers, rows = claim.expense_table(dossier)
    item_headers, item_rows = claim.item_table(dossier)
    return exporting.download(
        fmt,
        _filename(dossier, fmt),
        headers,
        rows,
        sheet_title=_("Expenses"),
        extra_sheets=[exporting.Sheet(_("Items"), item_headers, item_rows)],
    )


@bp.get("/<int:dossier_id>/depenses.csv")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def expenses_csv(dossier_id: int) -> Response:
    return _export(dossier_id, exporting.CSV)


@bp.get("/<int:dossier_id>/depenses.xlsx")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def expenses_xlsx(dossier_id: int) -> Response:
    return _export(dossier_id, exporting.XLSX)
